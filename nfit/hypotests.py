"""hepstats' frequentist calculator with its toys on a Dask cluster.

hepstats (``pip install hepstats``) drives nfit's losses, samplers and minimizers unmodified; its
``FrequentistCalculator`` generates and fits its toys one after the other in this process.
:class:`FrequentistCalculator` here is hepstats' own, with one change where asked (``workers=`` or
``client=``): the toys of each ``generate_and_fit_toys`` call are cut into batches that hepstats' own
code generates and fits on the cluster's workers, each batch from its own seed, and the batches'
results are joined into the calculator's toy results. Without ``workers`` and ``client`` it is
hepstats' calculator exactly.

>>> import nfit
>>> from nfit.hypotests import FrequentistCalculator
>>> obs = nfit.Space("x", limits=(0, 10))
>>> lam = nfit.Parameter("lam_ht", -0.5, -2, 0)
>>> n_sig, n_bkg = nfit.Parameter("nsig_ht", 10, -20, 200), nfit.Parameter("nbkg_ht", 200, 0, 1000)
>>> model = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=5.0, sigma=0.3, obs=obs, extended=n_sig),
...                          nfit.pdf.Exponential(lam=lam, obs=obs, extended=n_bkg)])
>>> loss = nfit.loss.ExtendedUnbinnedNLL(model, model.sample(210, rng=1))
>>> calculator = FrequentistCalculator(loss, nfit.minimize.Minuit(), ntoysnull=20, ntoysalt=20)
>>> calculator.minimizer.verbosity
0
"""
from __future__ import annotations

import pickle
import weakref

import numpy as np

try:
    from hepstats.hypotests.calculators import FrequentistCalculator as _HepstatsFrequentist
    from hepstats.hypotests.toyutils import ToyResult
    from hepstats.utils.fit.sampling import base_sample, base_sampler
except ImportError:  # pragma: no cover - hepstats is optional
    _HepstatsFrequentist = None

__all__ = ["FrequentistCalculator"]


def _toy_batch(payload: bytes, ntoys: int, seed):
    """Generate and fit ``ntoys`` toys with hepstats' own calculator (on a worker): the fit result,
    minimizer, sampler functions and POIs arrive in one pickle, so that they share their parameters."""
    from .sampling import set_seed
    from .z import random as zrandom

    bestfit, minimizer, sampler, sample, ntoysnull, ntoysalt, poigen, poieval = pickle.loads(payload)
    np.random.seed(np.random.SeedSequence(seed).generate_state(1)[0])  # hepstats draws toy sizes from here
    set_seed(np.random.SeedSequence([*seed, 1]))
    zrandom.set_seed(np.random.SeedSequence([*seed, 2]))
    calculator = _HepstatsFrequentist(bestfit, minimizer, ntoysnull=ntoysnull, ntoysalt=ntoysalt, sampler=sampler,
                                      sample=sample)
    calculator.generate_and_fit_toys(ntoys, poigen, poieval)
    toys = calculator.get_toyresult(poigen, poieval)
    return toys.bestfit, toys.nll_bestfit, [toys.nlls[p] for p in toys.poieval]


if _HepstatsFrequentist is not None:

    class FrequentistCalculator(_HepstatsFrequentist):
        """hepstats' ``FrequentistCalculator`` (same arguments), whose toys run on a Dask cluster where
        ``workers`` (a ``LocalCluster`` of that many single-threaded processes, started at the first toys
        and kept until :meth:`close`, the end of a ``with`` block, or the calculator's end) or ``client``
        (any ``dask.distributed.Client``) is given; ``batch_size`` toys per task (default: about four
        tasks per worker, at most 100, as :func:`nfit.toys.run`), ``seed`` for the batches' generators,
        ``progress`` a bar over the toys (tqdm; default on).

        Example
        -------
        >>> FrequentistCalculator.__mro__[1].__module__
        'hepstats.hypotests.calculators.frequentist_calculator'
        """

        def __init__(self, input, minimizer, ntoysnull=100, ntoysalt=100, sampler=base_sampler, sample=base_sample,
                     *, workers=None, client=None, batch_size=None, seed=0, progress=None):
            super().__init__(input, minimizer, ntoysnull=ntoysnull, ntoysalt=ntoysalt, sampler=sampler, sample=sample)
            if workers is not None and (int(workers) != workers or workers < 1):
                raise ValueError(f"FrequentistCalculator: workers must be a positive integer, got {workers!r}")
            if batch_size is not None and (int(batch_size) != batch_size or batch_size < 1):
                raise ValueError(f"FrequentistCalculator: batch_size must be a positive integer, got {batch_size!r}")
            self._workers, self._client, self._own = workers, client, None
            self._batch_size, self._seed, self._progress, self._calls = batch_size, int(seed), progress, 0

        def _dask_client(self):
            if self._client is None:
                from .toys import dask_client

                own = dask_client(self._workers, who="FrequentistCalculator")
                self._client = own.__enter__()
                self._own = weakref.finalize(self, own.__exit__, None, None, None)  # runs once: here or at close()
            return self._client

        def close(self):
            """Close the cluster this calculator started (``workers=``); a ``client`` given stays open."""
            if self._own is not None:
                own, self._own, self._client = self._own, None, None
                own()

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.close()

        def generate_and_fit_toys(self, ntoys, poigen, poieval):
            if self._workers is None and self._client is None:
                return super().generate_and_fit_toys(ntoys, poigen, poieval)
            from dask.distributed import as_completed

            from .progress import bar

            try:
                existing = self.get_toyresult(poigen, poieval)
                poieval = existing.poieval
            except KeyError:
                existing = None
            payload = pickle.dumps((self.bestfit, self.minimizer, self._sampler, self._sample, self._ntoysnull,
                                    self._ntoysalt, poigen, poieval))
            self._calls += 1
            parts = {}
            from .toys import dask_batch_size

            client = self._dask_client()
            size = self._batch_size or dask_batch_size(int(ntoys), client)
            sizes = [min(size, int(ntoys) - start) for start in range(0, int(ntoys), size)]
            futures = {client.submit(_toy_batch, payload, n, (self._seed, self._calls, k), pure=False): k
                       for k, n in enumerate(sizes)}
            progress = bar(int(ntoys), True if self._progress is None else self._progress, "toys")
            for future in as_completed(futures):
                parts[futures[future]] = future.result()
                if progress is not None:
                    progress.update(sizes[futures[future]])
            if progress is not None:
                progress.close()
            ordered = [parts[k] for k in range(len(sizes))]
            if existing is None:
                existing = ToyResult(poigen, poieval)
                self.add_toyresult(existing)
            existing.add_entries(bestfit=np.concatenate([b for b, _, _ in ordered]),
                                 nll_bestfit=np.concatenate([n for _, n, _ in ordered]),
                                 nlls={p: np.concatenate([nl[j] for _, _, nl in ordered])
                                       for j, p in enumerate(poieval)})
            return None

else:  # pragma: no cover

    class FrequentistCalculator:
        def __init__(self, *args, **kwargs):
            raise ImportError("nfit.hypotests needs hepstats: pip install hepstats")
