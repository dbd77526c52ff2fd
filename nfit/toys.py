"""Toy studies: generate from a model, fit, collect — in this process or on a Dask cluster.

Toy ``i`` draws its events from a generator seeded with ``(seed, i)``, so a toy's data do not depend
on which worker runs it or in which batch: a run on a cluster equals the same run in-process.

>>> import nfit
>>> obs = nfit.Space("x", limits=(-3, 3))
>>> mu = nfit.Parameter("mu_toys", 0.0, -1, 1)
>>> n = nfit.Parameter("n_toys", 500.0, 0, 5000)
>>> model = nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs, extended=n)
>>> result = run(model, 5, seed=1)
>>> result.n_toys, result.valid.all()
(5, np.True_)
"""
from __future__ import annotations

import contextlib
import math
import os
import sys
import time

import numpy as np

from .param import ComposedParameter, ConstantParameter
from .progress import bar
from .serial import builtin

__all__ = ["run", "ToyResult"]


def _free_params(model):
    return [p for p in model.get_params(floating=True) if not isinstance(p, (ConstantParameter, ComposedParameter))]


def _default_loss(model, data):
    from . import loss

    cls = loss.ExtendedUnbinnedNLL if model.is_extended else loss.UnbinnedNLL
    return cls(model=model, data=data)


def _run_toys(model, indices, nevents, loss, minimizer, seed, truth_values):
    """Fit the toys ``indices``; returns one record per toy (runs in-process or on a worker)."""
    from .minimize import Minuit

    params = _free_params(model)
    truth = dict(zip([p.name for p in params], truth_values))
    by_name = {p.name: p for p in params}
    for name, value in truth.items():
        by_name[name].set_value(value)
    count = nevents if nevents is not None else ("extended" if model.is_extended else None)
    if count is None:
        raise ValueError("toys.run: the model is not extended; give nevents")
    sampler = model.create_sampler(n=count, rng=np.random.default_rng([seed, 0]))
    nll = (loss or _default_loss)(model, sampler)
    minimizer = minimizer or Minuit()
    records = []
    for i in indices:
        for name, value in truth.items():
            by_name[name].set_value(value)
        sampler.resample(rng=np.random.default_rng([seed, int(i)]))
        record = {"toy": int(i), "nevents": sampler.nevents}
        try:
            result = minimizer.minimize(nll)
            result.hesse()
            record.update(valid=result.valid, fmin=result.fmin, message=result.message)
            for p in params:
                record[p.name] = result.params[p]["value"]
                record[p.name + "_error"] = result.params[p]["hesse"]["error"]
        except Exception as err:  # noqa: BLE001 - a failed toy is reported, not dropped
            record.update(valid=False, fmin=float("nan"), message=f"{type(err).__name__}: {err}")
            for p in params:
                record[p.name] = record[p.name + "_error"] = float("nan")
        records.append(record)
    for name, value in truth.items():
        by_name[name].set_value(value)
    return records


def run(model, n_toys, *, nevents=None, loss=None, minimizer=None, seed=0, workers=None, client=None,
        batch_size=None, progress=None):
    """Generate and fit ``n_toys`` toys of ``model`` at its current parameter values (the truth).

    Parameters
    ----------
    nevents : int, optional
        Events per toy; default: the yield of an extended model, Poisson-fluctuated.
    loss : callable ``(model, data) -> loss``, optional
        Default: ExtendedUnbinnedNLL for an extended model, else UnbinnedNLL.
    minimizer : optional
        Default: ``nfit.minimize.Minuit()``. Every toy is followed by HESSE.
    workers : int, optional
        Start a ``dask.distributed.LocalCluster`` with this many single-threaded worker processes.
    client : ``dask.distributed.Client``, optional
        Run on this cluster (any scheduler address works the same).
    progress : bool, optional
        A tqdm progress bar (default: on for 200 toys or more when tqdm is installed).
    """
    params = _free_params(model)
    truth = [p.value() for p in params]
    start = time.perf_counter()
    if client is None and workers is None:
        records = _in_process(model, n_toys, nevents, loss, minimizer, seed, truth, batch_size, progress)
    else:
        records = _on_dask(model, n_toys, nevents, loss, minimizer, seed, truth, workers, client, batch_size,
                           progress)
    elapsed = time.perf_counter() - start
    records.sort(key=lambda r: r["toy"])
    return ToyResult(records, {p.name: v for p, v in zip(params, truth)}, elapsed)




def _progress_bar(total, progress):
    return bar(total, progress, "toys")


def _batches(n_toys, batch_size):
    return [list(range(s, min(n_toys, s + batch_size))) for s in range(0, n_toys, batch_size)]


def _in_process(model, n_toys, nevents, loss, minimizer, seed, truth, batch_size, progress):
    bar = _progress_bar(n_toys, progress)
    records = []
    for batch in _batches(n_toys, batch_size or max(1, min(n_toys, 50))):
        records += _run_toys(model, batch, nevents, loss, minimizer, seed, truth)
        if bar is not None:
            bar.update(len(batch))
    if bar is not None:
        bar.close()
    return records


def worker_threads(workers: int) -> int:
    """Threads for each of ``workers`` processes sharing this machine's cores (at least one).

    >>> worker_threads(10**6)
    1
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, cores // max(1, workers))


@contextlib.contextmanager
def dask_client(workers=None, client=None, who="toys.run"):
    """``client``, or a ``dask.distributed.LocalCluster`` of ``workers`` single-threaded worker processes
    started here (under the script's ``__main__`` guard) and closed at the end. Each worker's kernels
    get ``cores // workers`` threads (at least one), so that the workers together do not
    oversubscribe the cores."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ImportError(f"{who} on a cluster needs dask.distributed: pip install 'nfit[dist]'") from None
    if client is not None:
        yield client
        return
    _check_main_guard()
    threads = str(worker_threads(int(workers)))
    own = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True, dashboard_address=None,
                       env={"NUMBA_NUM_THREADS": threads, "OMP_NUM_THREADS": threads})
    client = Client(own)
    try:
        yield client
    finally:
        client.close()
        own.close()


MAX_BATCH = 100  # toys per task at most: a lost worker or a progress bar's step costs little


def dask_batch_size(n_toys, client) -> int:
    """Toys per task on ``client``'s cluster: about four tasks per worker, at most :data:`MAX_BATCH`.

    >>> class Client:
    ...     def scheduler_info(self):
    ...         return {"workers": {"a": {}, "b": {}}}
    >>> dask_batch_size(1000, Client()), dask_batch_size(20, Client())
    (100, 3)
    """
    n_workers = max(1, len(client.scheduler_info().get("workers", {})) or 1)
    return max(1, min(MAX_BATCH, math.ceil(n_toys / (4 * n_workers))))


def _on_dask(model, n_toys, nevents, loss, minimizer, seed, truth, workers, client, batch_size, progress):
    from dask.distributed import as_completed

    with dask_client(workers, client) as client:
        size = batch_size or dask_batch_size(n_toys, client)
        futures = [client.submit(_run_toys, model, batch, nevents, loss, minimizer, seed, truth, pure=False)
                   for batch in _batches(n_toys, size)]
        bar = _progress_bar(n_toys, progress)
        records = []
        for future in as_completed(futures):
            batch = future.result()
            records += batch
            if bar is not None:
                bar.update(len(batch))
        if bar is not None:
            bar.close()
        return records


_GUARD_ADVICE = ("nfit.toys.run(..., workers=N) starts worker processes, and each of them imports your script "
                 "anew: put the code that runs the toys under `if __name__ == \"__main__\":` (see Python's "
                 "multiprocessing guide), or pass client= a dask Client that you start under that guard, or run "
                 "without workers=")


def _check_main_guard():
    """Raise at once where starting worker processes would re-run the caller's script in each of
    them: a call from a script's top level outside ``if __name__ == "__main__":`` (dask would
    fail later with "Nanny failed to start"), or a call made while a worker imports the script."""
    import ast
    import inspect

    main = sys.modules.get("__main__")
    if getattr(main, "__name__", None) == "__mp_main__":  # a worker process importing the script
        raise RuntimeError(_GUARD_ADVICE)
    path = getattr(main, "__file__", None)
    if not path or not os.path.isfile(path):
        return  # an interactive session or a notebook: nothing is re-imported
    frame = inspect.currentframe()
    line = None
    while frame is not None:  # the outermost call from the script's own top level
        if frame.f_globals is vars(main) and frame.f_code.co_name == "<module>":
            line = frame.f_lineno
        frame = frame.f_back
    if line is None:
        return
    try:
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return
    for node in tree.body:
        if (isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) and "__main__" in ast.unparse(node.test)
                and node.lineno <= line <= node.end_lineno):
            return
    raise RuntimeError(f"{_GUARD_ADVICE} (called from {path}, line {line})")


class ToyResult:
    """The toys of :func:`run`, in order: values, errors, validity, fmin, and pulls.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(-3, 3))
    >>> mu = nfit.Parameter("mu_toyres", 0.0, -1, 1); n = nfit.Parameter("n_toyres", 400.0, 0, 4000)
    >>> res = run(nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs, extended=n), 4, seed=2)
    >>> sorted(res.pull_summary()["mu_toyres"])
    ['mean', 'mean_error', 'width', 'width_error']
    """

    def __init__(self, records, truth, elapsed):
        self.records = records
        self.truth = dict(truth)
        self.elapsed = elapsed
        self.valid = np.array([bool(r["valid"]) for r in records])
        self.fmin = np.array([r["fmin"] for r in records], dtype=float)
        self.nevents = np.array([r["nevents"] for r in records])
        self.failed = [(r["toy"], r["message"]) for r in records if not r["valid"]]

    @property
    def n_toys(self) -> int:
        return len(self.records)

    @property
    def toys_per_second(self) -> float:
        return self.n_toys / self.elapsed if self.elapsed > 0 else float("inf")

    def _name(self, param):
        name = getattr(param, "name", param)
        if name not in self.truth:
            raise KeyError(f"no parameter {name!r} in these toys (have {list(self.truth)})")
        return name

    def to_dict(self) -> dict:
        """The toys as JSON-able builtins: ``{"truth", "elapsed", "records"}`` (one record per toy:
        its number, events, validity, minimum, message, and each parameter's value and error).

        >>> import json, nfit
        >>> obs = nfit.Space("x", limits=(-3, 3))
        >>> mu = nfit.Parameter("mu_td", 0.0, -1, 1)
        >>> toys = nfit.toys.run(nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs), 2, nevents=100, seed=1)
        >>> again = ToyResult.from_dict(json.loads(json.dumps(toys.to_dict())))
        >>> bool((again.values("mu_td") == toys.values("mu_td")).all())
        True
        """
        return {"truth": {k: float(v) for k, v in self.truth.items()}, "elapsed": float(self.elapsed),
                "records": [{k: builtin(v) for k, v in r.items()} for r in self.records]}

    @classmethod
    def from_dict(cls, d) -> ToyResult:
        """A ToyResult from :meth:`to_dict`'s output."""
        return cls([dict(r) for r in d["records"]], d["truth"], d["elapsed"])

    def values(self, param) -> np.ndarray:
        return np.array([r[self._name(param)] for r in self.records], dtype=float)

    def errors(self, param) -> np.ndarray:
        return np.array([r[self._name(param) + "_error"] for r in self.records], dtype=float)

    def pulls(self, param, valid_only=True) -> np.ndarray:
        """(fitted - truth) / HESSE error for each (valid) toy."""
        name = self._name(param)
        pulls = (self.values(name) - self.truth[name]) / self.errors(name)
        return pulls[self.valid] if valid_only else pulls

    def pull_summary(self) -> dict:
        """Per parameter: the pulls' mean and width with their statistical uncertainties."""
        out = {}
        for name in self.truth:
            p = self.pulls(name)
            n = len(p)
            width = float(np.std(p, ddof=1)) if n > 1 else float("nan")
            out[name] = {"mean": float(np.mean(p)) if n else float("nan"),
                         "mean_error": width / math.sqrt(n) if n > 1 else float("nan"),
                         "width": width,
                         "width_error": width / math.sqrt(2 * (n - 1)) if n > 1 else float("nan")}
        return out

    def to_pandas(self):
        import pandas as pd

        frame = pd.DataFrame(self.records)
        for name in self.truth:
            frame[name + "_pull"] = (frame[name] - self.truth[name]) / frame[name + "_error"]
        return frame

    def plot_pulls(self, param, ax=None, bins=30):
        """Histogram of the pulls of ``param`` with the standard normal drawn over it (matplotlib)."""
        import matplotlib.pyplot as plt

        p = self.pulls(param)
        ax = ax or plt.subplots()[1]
        ax.hist(p, bins=bins, range=(-5, 5), histtype="step", label=f"{len(p)} toys")
        x = np.linspace(-5, 5, 200)
        ax.plot(x, len(p) * (10 / bins) * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi), label="N(0, 1)")
        s = self.pull_summary()[self._name(param)]
        ax.set_title(f"{self._name(param)}: mean {s['mean']:.3f}±{s['mean_error']:.3f}, "
                     f"width {s['width']:.3f}±{s['width_error']:.3f}")
        ax.set_xlabel("pull")
        ax.legend()
        return ax

    def __repr__(self):
        return f"<ToyResult {self.n_toys} toys, {int(self.valid.sum())} valid, {self.toys_per_second:.1f} toys/s>"
