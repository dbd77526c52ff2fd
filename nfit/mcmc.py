"""Bayesian inference by Markov chain Monte Carlo (zfit's ``zfit.mcmc``): emcee's ensemble sampler over
the posterior ``exp(-loss) * prod(priors)``, and the samples it returns.

Every sampled parameter needs a prior (:mod:`nfit.prior`). emcee is an optional dependency
(``pip install nfit[mcmc]``).

>>> import numpy as np, nfit
>>> obs = nfit.Space("x", -5, 5)
>>> mu = nfit.Parameter("mu_mcmc", 0.0, -2, 2, prior=nfit.prior.Uniform())
>>> x = np.random.default_rng(1).normal(0.3, 1.0, 400)
>>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs), data=nfit.Data.from_numpy(obs, x))
>>> posterior = EmceeSampler(nwalkers=8).sample(nll, n_samples=300, n_warmup=100, rng=2)  # doctest: +SKIP
>>> abs(posterior.mean(mu) - x.mean()) < 0.05  # doctest: +SKIP
True
"""
from __future__ import annotations

import math

import numpy as np

__all__ = ["EmceeSampler", "PosteriorSamples"]


class EmceeSampler:
    """emcee's affine-invariant ensemble sampler, as zfit's ``EmceeSampler``.

    ``nwalkers`` (default: ``max(2 * n_params, 5)``, at least ``2 n_params``), ``n_samples`` and
    ``n_warmup`` (defaults for :meth:`sample`: 1000 and 200 steps per walker), ``moves`` and
    ``backend`` are emcee's; ``verbosity`` 7 prints the phases, 8 and more shows emcee's progress bar.
    """

    def __init__(self, nwalkers=None, *, n_samples=None, n_warmup=None, moves=None, backend=None,
                 name="EmceeSampler", verbosity=None):
        try:
            import emcee  # noqa: F401
        except ImportError:
            raise ImportError("EmceeSampler needs emcee: pip install emcee (or nfit[mcmc])") from None
        if nwalkers is not None and int(nwalkers) < 2:
            raise ValueError(f"EmceeSampler: nwalkers must be at least 2, got {nwalkers}")
        self.nwalkers = None if nwalkers is None else int(nwalkers)
        self.n_samples = 1000 if n_samples is None else int(n_samples)
        self.n_warmup = 200 if n_warmup is None else int(n_warmup)
        self.moves = moves
        self.backend = backend
        self.name = name
        self.verbosity = 0 if verbosity is None else int(verbosity)

    def _print(self, text, level=7):
        if self.verbosity >= level:
            print(f"{self.name}: {text}")

    def sample(self, loss, params=None, n_samples=None, n_warmup=None, init=None, *, rng=None):
        """Sample the posterior of ``params`` (default: the loss's free parameters; the others stay
        fixed): ``n_warmup`` steps per walker are discarded, ``n_samples`` kept. ``init`` (an earlier
        :class:`PosteriorSamples`) continues from its last walker positions."""
        import emcee

        params = list(loss.get_params()) if params is None else list(params)
        free = loss.get_params()
        unknown = [getattr(p, "name", p) for p in params if p not in free]
        if unknown:
            raise ValueError(f"{self.name}: {unknown} are not free parameters of the loss")
        missing = [p.name for p in params if getattr(p, "prior", None) is None]
        if missing:
            raise ValueError(f"{self.name}: parameters {missing} have no prior; give each one "
                             "(Parameter(..., prior=nfit.prior.Normal(...)) or param.set_prior(...))")
        n_samples = self.n_samples if n_samples is None else int(n_samples)
        n_warmup = (0 if init is not None else self.n_warmup) if n_warmup is None else int(n_warmup)
        if n_samples <= 0 or n_warmup < 0:
            raise ValueError(f"{self.name}: n_samples must be positive and n_warmup not negative")
        n_dims = len(params)
        nwalkers = self.nwalkers or max(2 * n_dims, 5)
        if nwalkers < 2 * n_dims:
            raise ValueError(f"{self.name}: emcee needs at least 2 walkers per parameter ({2 * n_dims}), "
                             f"got {nwalkers}")
        generator = np.random.default_rng(rng)
        index = [free.index(p) for p in params]
        base = np.array([q.value() for q in free])

        def log_probability(x):
            log_prior = 0.0
            for p, value in zip(params, x):
                log_prior += float(p.prior.log_pdf(value))
            if not math.isfinite(log_prior):
                return -np.inf
            point = base.copy()
            point[index] = x
            value = loss(point)
            return -value + log_prior if math.isfinite(value) else -np.inf

        start = self._start(params, nwalkers, init, generator)
        sampler = emcee.EnsembleSampler(nwalkers, n_dims, log_probability, moves=self.moves, backend=self.backend)
        sampler.random_state = np.random.RandomState(int(generator.integers(2 ** 31))).get_state()
        progress = self.verbosity >= 8
        state = start
        if n_warmup:
            self._print(f"warm-up: {n_warmup} steps of {nwalkers} walkers")
            state = sampler.run_mcmc(start, n_warmup, progress=progress)
            sampler.reset()
        self._print(f"sampling: {n_samples} steps of {nwalkers} walkers")
        state = sampler.run_mcmc(state, n_samples, progress=progress)
        chain = sampler.get_chain()  # (steps, walkers, params)
        info = {"state": state, "acceptance_fraction": float(np.mean(sampler.acceptance_fraction)),
                "nwalkers": nwalkers}
        return PosteriorSamples(chain, params, loss, self, n_warmup, n_samples, raw_result=sampler, info=info)

    def _start(self, params, nwalkers, init, generator):
        if init is not None:
            if not isinstance(init, PosteriorSamples):
                raise TypeError(f"{self.name}: init must be PosteriorSamples, got {type(init).__name__}")
            last = init.chain[-1]
            columns = [init._position(p) for p in params]
            picked = last[generator.integers(len(last), size=nwalkers)] if len(last) != nwalkers else last
            return picked[:, columns]
        start = np.empty((nwalkers, len(params)))
        for j, p in enumerate(params):
            values = p.value() + p.step_size * generator.standard_normal(nwalkers)
            lo, hi = p.prior.bounds
            inside = max(lo, -np.inf if p.lower is None else p.lower), min(hi, np.inf if p.upper is None else p.upper)
            span = inside[1] - inside[0]
            margin = 1e-6 * span if np.isfinite(span) else 1e-8
            start[:, j] = np.clip(values, inside[0] + margin, inside[1] - margin)
        return start


class PosteriorSamples:
    """Samples of the posterior (zfit's ``PosteriorSamples``): ``mean``, ``std``, ``credible_interval``,
    ``covariance``, ``get_samples`` by parameter (object or name); ``as_prior`` for a later analysis;
    ``with posterior:`` sets the parameters to their posterior means for the block.
    ``rhat`` (Gelman–Rubin over the walkers) and ``ess`` (effective sample size from emcee's
    autocorrelation time) say whether the chains converged (``converged``: R-hat < 1.1, ESS > 100).
    """

    def __init__(self, chain, params, loss, sampler, n_warmup, n_samples, raw_result=None, info=None):
        self.chain = np.asarray(chain, dtype=float)
        self.samples = self.chain.reshape(-1, self.chain.shape[-1])
        self._params = list(params)
        self.loss = loss
        self.sampler = sampler
        self.n_warmup = int(n_warmup)
        self.n_samples = int(n_samples)
        self.raw_result = raw_result
        self.info = dict(info or {})
        self._saved = None
        self._diagnose()

    # ------------------------------------------------------------------ lookup
    @property
    def params(self) -> list:
        return list(self._params)

    @property
    def param_names(self) -> list:
        return [p.name for p in self._params]

    def _position(self, param) -> int:
        if isinstance(param, (int, np.integer)):
            return int(param)
        name = getattr(param, "name", param)
        if name not in self.param_names:
            raise KeyError(f"{name!r} was not sampled; the posterior has {self.param_names}")
        return self.param_names.index(name)

    def _columns(self, params):
        single = params is not None and (isinstance(params, (str, int, np.integer)) or hasattr(params, "name"))
        chosen = self._params if params is None else ([params] if single else list(params))
        return [self._position(p) for p in chosen], single

    # ------------------------------------------------------------------ summaries
    def get_samples(self, params=None):
        """The samples (all walkers and steps) of ``params``: 1-D for one parameter, else 2-D."""
        columns, single = self._columns(params)
        return self.samples[:, columns[0]] if single else self.samples[:, columns]

    def mean(self, params=None):
        columns, single = self._columns(params)
        values = np.mean(self.samples[:, columns], axis=0)
        return float(values[0]) if single else values

    def std(self, params=None):
        columns, single = self._columns(params)
        values = np.std(self.samples[:, columns], axis=0, ddof=1)
        return float(values[0]) if single else values

    symerr = std

    def credible_interval(self, params=None, *, alpha=None, sigma=None):
        """The equal-tailed interval holding ``1 - alpha`` of the posterior (default 0.95; ``sigma``
        gives alpha as the normal's two-sided tail for that many standard deviations)."""
        from scipy import stats

        if sigma is not None:
            alpha = 2 * stats.norm.sf(float(sigma))
        alpha = 0.05 if alpha is None else float(alpha)
        if not 0 < alpha < 1:
            raise ValueError(f"credible_interval: alpha must be between 0 and 1, got {alpha}")
        columns, single = self._columns(params)
        chosen = self.samples[:, columns]
        lower = np.percentile(chosen, 100 * alpha / 2, axis=0)
        upper = np.percentile(chosen, 100 * (1 - alpha / 2), axis=0)
        return (float(lower[0]), float(upper[0])) if single else (lower, upper)

    def covariance(self, params=None):
        columns, single = self._columns(params)
        if len(self.samples) < 2:
            raise ValueError("covariance: needs at least two samples")
        if single:
            return float(np.var(self.samples[:, columns[0]], ddof=1))
        return np.atleast_2d(np.cov(self.samples[:, columns], rowvar=False))

    def as_prior(self, param):
        """A :class:`nfit.prior.KDE` prior from this posterior's samples of ``param``."""
        from .prior import KDE

        return KDE(self.get_samples(param), name=f"posterior_{getattr(param, 'name', param)}")

    def to_arviz(self):
        """An ArviZ ``InferenceData`` (walkers as chains); needs arviz installed."""
        try:
            import arviz as az
        except ImportError:
            raise ImportError("to_arviz needs arviz: pip install arviz") from None
        posterior = {name: self.chain[:, :, j].T for j, name in enumerate(self.param_names)}
        return az.from_dict(posterior=posterior)

    def summary(self) -> dict:
        """{name: {"mean", "std", "lower", "upper" (95 %), "rhat", "ess"}}."""
        lower, upper = self.credible_interval(list(range(len(self._params))))
        return {name: {"mean": float(self.mean(j)), "std": float(self.std(j)), "lower": float(lower[j]),
                       "upper": float(upper[j]), "rhat": float(self.rhat[j]), "ess": float(self.ess[j])}
                for j, name in enumerate(self.param_names)}

    # ------------------------------------------------------------------ convergence
    def _diagnose(self):
        self._valid = bool(np.all(np.isfinite(self.samples)))
        steps, walkers, _ = self.chain.shape
        if not self._valid or steps < 4 or walkers < 2:
            self.rhat = self.ess = None
            self._converged = False
            return
        within = np.mean(np.var(self.chain, axis=0, ddof=1), axis=0)
        between = steps * np.var(np.mean(self.chain, axis=0), axis=0, ddof=1)
        pooled = (steps - 1) / steps * within + between / steps
        self.rhat = np.sqrt(pooled / within)
        import emcee

        tau = emcee.autocorr.integrated_time(self.chain, quiet=True, tol=0)
        self.ess = steps * walkers / np.maximum(tau, 1.0)
        self._converged = bool(np.all(self.rhat < 1.1) and np.all(self.ess > 100))

    @property
    def valid(self) -> bool:
        return self._valid

    @property
    def converged(self) -> bool:
        return self._converged

    # ------------------------------------------------------------------ parameter values
    def update_params(self):
        """Set the sampled parameters to their posterior means."""
        for p, value in zip(self._params, self.mean()):
            p.set_value(float(value))
        return self

    def __enter__(self):
        self._saved = [p.value() for p in self._params]
        self.update_params()
        return self

    def __exit__(self, *exc):
        for p, value in zip(self._params, self._saved):
            p.set_value(value)
        return False

    def __str__(self):
        rows = [f"PosteriorSamples: {self.n_samples} steps x {self.chain.shape[1]} walkers "
                f"(after {self.n_warmup} warm-up), valid={self.valid}, converged={self.converged}"]
        lower, upper = self.credible_interval(list(range(len(self._params))))
        for j, name in enumerate(self.param_names):
            rhat = "" if self.rhat is None else f"  R-hat {self.rhat[j]:.3f}  ESS {self.ess[j]:.0f}"
            rows.append(f"  {name}: {self.mean(j):.6g} ± {self.std(j):.3g}  95% [{lower[j]:.6g}, {upper[j]:.6g}]"
                        f"{rhat}")
        return "\n".join(rows)

    __repr__ = __str__

    def __getstate__(self):
        state = dict(self.__dict__)
        state["raw_result"] = None  # emcee's sampler holds the loss's closure
        state["info"] = {k: v for k, v in self.info.items() if k != "state"}
        return state
