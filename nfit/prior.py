"""Priors on parameters (zfit's ``zfit.prior``), for Bayesian inference with :mod:`nfit.mcmc`.

A prior is a one-dimensional density. Given to a parameter (``Parameter(..., prior=...)`` or
``param.set_prior(...)``), it is truncated to the parameter's limits and renormalised there, as
zfit does. The densities are scipy.stats' (``log_pdf``, ``sample``).

>>> import nfit
>>> mu = nfit.Parameter("mu_prior", 1.0, 0.0, 3.0, prior=Normal(mu=1.0, sigma=2.0))
>>> round(float(mu.prior.pdf(1.0)), 6)  # the normal density renormalised to [0, 3]
0.374378
"""
from __future__ import annotations

import numpy as np


def _stats():
    """scipy.stats, imported on first use (it takes longer to import than the rest of nfit)."""
    from scipy import stats

    return stats

__all__ = ["Normal", "Uniform", "HalfNormal", "Gamma", "Beta", "LogNormal", "Cauchy", "Poisson", "Exponential",
           "StudentT", "KDE", "BasePrior"]


class BasePrior:
    """A prior: a scipy.stats distribution restricted to ``bounds`` (its support by default, cut to the
    limits of the parameter it is given to)."""

    _support = (-np.inf, np.inf)

    def __init__(self, distribution, bounds=None, name=None, **params):
        self._distribution = distribution
        self._params = params
        self._original_bounds = tuple(float(b) for b in (self._support if bounds is None else bounds))
        self.bounds = self._original_bounds
        self.name = name or type(self).__name__
        self.param = None

    # ------------------------------------------------------------------ the density
    @property
    def _mass(self) -> float:
        lo, hi = self.bounds
        return float(self._distribution.cdf(hi) - self._distribution.cdf(lo))

    def _inside(self, x):
        lo, hi = self.bounds
        return (x >= lo) & (x <= hi)

    def pdf(self, x):
        """The density at ``x``, zero outside the bounds."""
        x = np.asarray(x, dtype=float)
        return np.where(self._inside(x), self._distribution.pdf(x) / self._mass, 0.0)

    def log_pdf(self, x):
        """The log density at ``x``, ``-inf`` outside the bounds."""
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return np.where(self._inside(x), self._distribution.logpdf(x) - np.log(self._mass), -np.inf)

    def sample(self, n, rng=None):
        """``n`` draws within the bounds (by the inverse CDF)."""
        rng = np.random.default_rng(rng)
        lo, hi = self.bounds
        u = rng.uniform(self._distribution.cdf(lo), self._distribution.cdf(hi), size=int(n))
        return self._distribution.ppf(u)

    # ------------------------------------------------------------------ attaching to a parameter
    def _register_default_param(self, param):
        """Restrict the prior to ``param``'s limits (zfit adapts a prior to the parameter it is given to)."""
        lo, hi = self._original_bounds
        if param.lower is not None:
            lo = max(lo, param.lower)
        if param.upper is not None:
            hi = min(hi, param.upper)
        if not lo < hi:
            raise ValueError(f"prior {self.name}: it has no probability within the limits of {param.name!r}")
        self.bounds = (lo, hi)
        if not self._mass > 0:
            raise ValueError(f"prior {self.name}: it has no probability within the limits of {param.name!r}")
        self.param = param
        return self

    def __repr__(self):
        values = ", ".join(f"{k}={v:g}" for k, v in self._params.items())
        return f"<{type(self).__name__} prior {values} on [{self.bounds[0]:g}, {self.bounds[1]:g}]>"


def _positive(name, **values):
    for key, value in values.items():
        if not float(value) > 0:
            raise ValueError(f"{name} prior: {key} must be positive, got {value}")


class Normal(BasePrior):
    """A normal prior.

    >>> round(float(Normal(mu=0.0, sigma=1.0).pdf(0.0)), 6)
    0.398942
    """

    def __init__(self, mu, sigma, name=None):
        _positive("Normal", sigma=sigma)
        super().__init__(_stats().norm(mu, sigma), name=name, mu=mu, sigma=sigma)


class Uniform(BasePrior):
    """A flat prior on ``[lower, upper]`` (default: the parameter's limits, which must then exist).

    >>> float(Uniform(lower=0, upper=4).pdf(1.0))
    0.25
    """

    def __init__(self, lower=None, upper=None, name=None):
        self._open = lower is None or upper is None
        lo = -np.inf if lower is None else float(lower)
        hi = np.inf if upper is None else float(upper)
        if not lo < hi:
            raise ValueError(f"Uniform prior: lower {lower} must be below upper {upper}")
        super().__init__(_stats().uniform(0, 1), bounds=(lo, hi), name=name, lower=lo, upper=hi)

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.where(self._inside(x), 1.0 / (self.bounds[1] - self.bounds[0]), 0.0)

    def log_pdf(self, x):
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x))

    def sample(self, n, rng=None):
        return np.random.default_rng(rng).uniform(*self.bounds, size=int(n))

    def _register_default_param(self, param):
        super()._register_default_param(param)
        if not np.all(np.isfinite(self.bounds)):
            raise ValueError(f"Uniform prior on {param.name!r}: give lower and upper, or limits to the parameter")
        return self

    @property
    def _mass(self):
        return 1.0


class HalfNormal(BasePrior):
    """A normal prior folded at ``mu`` (values above ``mu`` only).

    >>> round(float(HalfNormal(sigma=1.0).pdf(0.5)), 5)
    0.70413
    """

    def __init__(self, *, sigma, mu=0.0, name=None):
        _positive("HalfNormal", sigma=sigma)
        super().__init__(_stats().halfnorm(mu, sigma), bounds=(mu, np.inf), name=name, mu=mu, sigma=sigma)


class Gamma(BasePrior):
    """A gamma prior with shape ``alpha`` and rate ``beta``, shifted by ``mu``.

    >>> round(float(Gamma(alpha=2.0, beta=1.0).pdf(1.0)), 6)
    0.367879
    """

    def __init__(self, alpha, beta, mu=0.0, name=None):
        _positive("Gamma", alpha=alpha, beta=beta)
        super().__init__(_stats().gamma(alpha, loc=mu, scale=1.0 / beta), bounds=(mu, np.inf), name=name,
                         alpha=alpha, beta=beta, mu=mu)


class Beta(BasePrior):
    """A beta prior on ``[lower, upper]``.

    >>> round(float(Beta(alpha=2.0, beta=2.0, lower=0.0, upper=1.0).pdf(0.5)), 6)
    1.5
    """

    def __init__(self, alpha, beta, lower=0.0, upper=1.0, name=None):
        _positive("Beta", alpha=alpha, beta=beta)
        if not lower < upper:
            raise ValueError(f"Beta prior: lower {lower} must be below upper {upper}")
        super().__init__(_stats().beta(alpha, beta, loc=lower, scale=upper - lower), bounds=(lower, upper), name=name,
                         alpha=alpha, beta=beta, lower=lower, upper=upper)


class LogNormal(BasePrior):
    """A log-normal prior: ``log x`` is normal with mean ``mu`` and width ``sigma``.

    >>> round(float(LogNormal(mu=0.0, sigma=1.0).pdf(1.0)), 6)
    0.398942
    """

    def __init__(self, mu, sigma, name=None):
        _positive("LogNormal", sigma=sigma)
        super().__init__(_stats().lognorm(sigma, scale=np.exp(mu)), bounds=(0.0, np.inf), name=name, mu=mu, sigma=sigma)


class Cauchy(BasePrior):
    """A Cauchy prior at ``m`` with half width ``gamma``.

    >>> round(float(Cauchy(m=0.0, gamma=1.0).pdf(0.0)), 6)
    0.31831
    """

    def __init__(self, m, gamma, name=None):
        _positive("Cauchy", gamma=gamma)
        super().__init__(_stats().cauchy(m, gamma), name=name, m=m, gamma=gamma)


class Poisson(BasePrior):
    """A Poisson prior on a count, continuous in its value as zfit's (``lam^x e^-lam / Gamma(x + 1)``,
    normalised numerically over the bounds).

    >>> p = Poisson(lam=3.0)
    >>> round(float(p.pdf(3.0) / p.pdf(2.0)), 6)  # lam / 3
    1.0
    """

    _support = (0.0, np.inf)

    def __init__(self, lam, name=None):
        _positive("Poisson", lam=lam)
        self.lam = float(lam)
        super().__init__(None, name=name, lam=lam)
        self._norm = None

    def _log_density(self, x):
        from scipy.special import gammaln

        return x * np.log(self.lam) - self.lam - gammaln(x + 1.0)

    @property
    def _mass(self):
        if self._norm is None or self._norm[0] != self.bounds:
            from scipy.integrate import quad

            lo, hi = self.bounds
            hi_finite = min(hi, self.lam + 40 * np.sqrt(self.lam) + 40)
            value = quad(lambda t: np.exp(self._log_density(t)), lo, hi_finite, limit=200)[0]
            self._norm = (self.bounds, value)
        return self._norm[1]

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(invalid="ignore"):
            return np.where(self._inside(x), np.exp(self._log_density(np.maximum(x, 0.0))) / self._mass, 0.0)

    def log_pdf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(invalid="ignore"):
            return np.where(self._inside(x), self._log_density(np.maximum(x, 0.0)) - np.log(self._mass), -np.inf)

    def sample(self, n, rng=None):
        """Draws by accept-reject under the density's maximum (near ``lam``)."""
        rng = np.random.default_rng(rng)
        lo, hi = self.bounds
        hi = min(hi, self.lam + 40 * np.sqrt(self.lam) + 40)
        grid = np.linspace(lo, hi, 2001)
        top = 1.2 * float(self.pdf(grid).max())
        out = []
        while sum(len(o) for o in out) < n:
            x = rng.uniform(lo, hi, size=4 * int(n) + 16)
            out.append(x[rng.uniform(0, top, size=len(x)) < self.pdf(x)])
        return np.concatenate(out)[: int(n)]


class Exponential(BasePrior):
    """An exponential prior with rate ``lam`` on positive values.

    >>> round(float(Exponential(lam=2.0).pdf(0.0)), 6)
    2.0
    """

    def __init__(self, lam, name=None):
        _positive("Exponential", lam=lam)
        super().__init__(_stats().expon(scale=1.0 / lam), bounds=(0.0, np.inf), name=name, lam=lam)


class StudentT(BasePrior):
    """A Student's t prior with ``ndof`` degrees of freedom at ``mu``, scaled by ``sigma``.

    >>> round(float(StudentT(ndof=3, mu=0.0, sigma=1.0).pdf(0.0)), 6)
    0.367553
    """

    def __init__(self, ndof, mu, sigma, name=None):
        _positive("StudentT", ndof=ndof, sigma=sigma)
        super().__init__(_stats().t(ndof, mu, sigma), name=name, ndof=ndof, mu=mu, sigma=sigma)


class KDE(BasePrior):
    """A prior from samples (a posterior, for the next analysis): their Gaussian kernel density
    estimate (``bandwidth`` as :class:`nfit.pdf.KDE1DimExact`, default Scott's rule), normalised
    within the bounds.

    >>> import numpy as np
    >>> prior = KDE(np.random.default_rng(1).normal(size=2000))
    >>> 0.3 < float(prior.pdf(0.0)) < 0.5
    True
    """

    def __init__(self, samples, bandwidth=None, name=None):
        from .pdf.bandwidth import RULE_FACTORS, rule_of_thumb

        samples = np.asarray(samples, dtype=float).reshape(-1)
        if len(samples) < 2 or not np.all(np.isfinite(samples)):
            raise ValueError("KDE prior: needs at least two finite samples")
        if bandwidth is None or isinstance(bandwidth, str):
            factor = RULE_FACTORS.get(bandwidth or "scott")
            if factor is None:
                raise ValueError(f"KDE prior: bandwidth {bandwidth!r}; use a number, 'scott' or 'silverman'")
            bandwidth = rule_of_thumb(samples, None, factor)
        if not float(bandwidth) > 0:
            raise ValueError(f"KDE prior: the bandwidth must be positive, got {bandwidth}")
        self.samples, self.bandwidth = samples, float(bandwidth)
        super().__init__(_Mixture(samples, self.bandwidth), name=name, bandwidth=self.bandwidth)


class _Mixture:
    """Equal-weight Gaussian kernels, with scipy.stats' method names."""

    def __init__(self, centers, width):
        self.centers, self.width = centers, width

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.mean(_stats().norm.pdf(x[..., None], self.centers, self.width), axis=-1)

    def logpdf(self, x):
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x))

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        return np.mean(_stats().norm.cdf(x[..., None], self.centers, self.width), axis=-1)

    def ppf(self, u):
        from scipy.optimize import brentq

        lo, hi = self.centers.min() - 10 * self.width, self.centers.max() + 10 * self.width
        return np.array([brentq(lambda t: self.cdf(t) - q, lo, hi) for q in np.atleast_1d(u)])
