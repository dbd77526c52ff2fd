"""Constraints: external knowledge about parameters, added to a loss.

>>> import nfit
>>> s = nfit.Parameter("s", 0.027)
>>> c = nfit.constraint.GaussianConstraint(params=[s], observation=[0.025], uncertainty=[0.001])
>>> round(c.value(), 6)
2.0
"""
from __future__ import annotations

import math

import numpy as np

from . import z
from .ad import as_dual
from .context import DualOps
from .kernels import poissonterm
from .param import convert_to_parameter

__all__ = ["GaussianConstraint", "PoissonConstraint", "LogNormalConstraint", "SimpleConstraint"]


class _Constraint:
    """What every constraint has: its parameters (``params``), the free ones among them, its value."""

    params: list = []

    def get_params(self, floating=True):
        found = []
        for p in self.params:
            for q in p.get_params(floating=floating):
                if q not in found:
                    found.append(q)
        return found

    def value(self) -> float:
        """The penalty at the parameters' current values."""
        return self.nll([p.value() for p in self.params])

    def __repr__(self):
        return f"<{type(self).__name__} params={[p.name for p in self.params]}>"


class GaussianConstraint(_Constraint):
    """A (multivariate) Gaussian penalty ``0.5 * r^T V^-1 r`` with ``r = params - observation``.

    Parameters
    ----------
    params : list of Parameter
    observation : list of float
        The measured values.
    uncertainty : list of float, optional
        Standard deviations (uncorrelated). Give this (or its alias ``sigma``, zfit's) or ``cov``.
    cov : array, optional
        Full covariance matrix, or (1-D) its diagonal, the variances.

    Example
    -------
    >>> import nfit
    >>> a = nfit.Parameter("a", 1.0); b = nfit.Parameter("b", 2.0)
    >>> c = GaussianConstraint([a, b], observation=[1.0, 1.0], cov=[[1.0, 0.0], [0.0, 4.0]])
    >>> c.value()
    0.125
    """

    def __init__(self, params, observation, uncertainty=None, cov=None, name="GaussianConstraint", *, sigma=None):
        if sigma is not None:  # zfit's alias
            if uncertainty is not None:
                raise ValueError(f"{name}: give uncertainty= or its alias sigma=, not both")
            uncertainty = sigma
        params = list(params) if isinstance(params, (list, tuple)) else [params]
        self.params = [convert_to_parameter(p) for p in params]
        self.name = name
        self.observation = np.atleast_1d(np.asarray(observation, dtype=float)).ravel()
        n = len(self.params)
        if self.observation.size != n:
            raise ValueError(f"{name}: {n} params but {self.observation.size} observations")
        if (uncertainty is None) == (cov is None):
            raise ValueError(f"{name}: give exactly one of uncertainty= or cov=")
        if uncertainty is not None:
            sigma = np.atleast_1d(np.asarray(uncertainty, dtype=float)).ravel()
            if sigma.size != n:
                raise ValueError(f"{name}: {n} params but {sigma.size} uncertainties")
            if not np.all(sigma > 0):
                bad = [self.params[i].name for i in np.flatnonzero(~(sigma > 0))]
                raise ValueError(f"{name}: uncertainty of {bad} must be positive, got {sigma.tolist()}")
            cov = np.diag(sigma**2)
        cov = np.asarray(cov, dtype=float)
        if cov.ndim == 1 and cov.size == n and n > 1:  # zfit: a 1-D cov is the diagonal (the variances)
            cov = np.diag(cov)
        cov = np.atleast_2d(cov)
        if cov.shape != (n, n):
            raise ValueError(f"{name}: covariance must be {n}x{n}, got {cov.shape}")
        if not np.allclose(cov, cov.T) or np.any(np.linalg.eigvalsh(cov) <= 0):
            raise ValueError(f"{name}: covariance must be symmetric and positive definite")
        self.covariance = cov
        self._inverse = np.linalg.inv(cov)

    def sample(self, n, *, rng=None) -> dict:
        """``n`` draws of the constrained values around the observation, ``{parameter: array}``
        (zfit's; hepstats starts its toy fits from them).

        >>> import nfit
        >>> c = GaussianConstraint(params=[nfit.Parameter("g_smp", 1.0)], observation=[1.0], uncertainty=[0.1])
        >>> [v.shape for v in c.sample(4, rng=1).values()]
        [(4,)]
        """
        draws = np.random.default_rng(rng).multivariate_normal(self.observation, self.covariance, size=int(n))
        return {p: draws[:, i] for i, p in enumerate(self.params)}

    def nll(self, values) -> float:
        """The penalty for parameter values ``values`` (in the order of ``params``)."""
        r = np.asarray(values, dtype=float) - self.observation
        return 0.5 * float(r @ self._inverse @ r)

    def _build(self, ctx):
        """The penalty as a :class:`nfit.ad.Dual` in a build context (fused into a compiled kernel)."""
        r = [ctx.param(p) - ctx.const(o) for p, o in zip(self.params, self.observation)]
        total = None
        for i in range(len(r)):
            for j in range(i, len(r)):
                weight = self._inverse[i, j] * (0.5 if i == j else 1.0)
                if weight == 0.0:
                    continue
                term = r[i] * r[j] * ctx.const(weight)
                total = term if total is None else total + term
        return total



class _PerParameter(_Constraint):
    """A constraint that is a sum of one penalty per parameter (each with its observation)."""

    def __init__(self, params, observation, name):
        params = list(params) if isinstance(params, (list, tuple)) else [params]
        self.params = [convert_to_parameter(p) for p in params]
        self.name = name
        self.observation = np.atleast_1d(np.asarray(observation, dtype=float)).ravel()
        if self.observation.size != len(self.params):
            raise ValueError(f"{name}: {len(self.params)} params but {self.observation.size} observations")



class PoissonConstraint(_PerParameter):
    """``-log Poisson(p; rate=observation)`` for each parameter ``p``, a count (continuous in ``p``:
    ``rate - p log(rate) + lgamma(p + 1)``), as zfit's. Exact derivatives on both paths.

    Example
    -------
    >>> import nfit
    >>> n = nfit.Parameter("n_pc", 2.0, 0, 20)
    >>> round(PoissonConstraint(n, observation=3.0).value(), 6)  # 3 - 2 log 3 + log 2
    1.495923
    """

    def __init__(self, params, observation, name="PoissonConstraint"):
        super().__init__(params, observation, name)
        if not np.all(self.observation > 0):
            raise ValueError(f"{name}: the observed rates must be positive, got {self.observation.tolist()}")

    def sample(self, n, *, rng=None) -> dict:
        """``n`` Poisson draws around each observed rate, ``{parameter: array}`` (zfit's)."""
        rng = np.random.default_rng(rng)
        return {p: rng.poisson(rate, size=int(n)).astype(float) for p, rate in zip(self.params, self.observation)}

    def nll(self, values) -> float:
        return float(sum(poissonterm.nll(rate, float(v)) for rate, v in zip(self.observation, values)))

    def _build(self, ctx):
        total = None
        for p, rate in zip(self.params, self.observation):
            term = ctx.call(poissonterm, "nll", [ctx.const(rate)], [ctx.param(p)])
            total = term if total is None else total + term
        return total


class LogNormalConstraint(_PerParameter):
    """``-log LogNormal(p; loc=observation, scale=uncertainty)`` for each parameter ``p``: ``log p`` is
    normal with mean ``observation`` and width ``uncertainty`` (zfit's convention).

    Example
    -------
    >>> import nfit, numpy as np
    >>> s = nfit.Parameter("s_lnc", 1.0, 0.1, 10)
    >>> round(LogNormalConstraint(s, observation=0.0, uncertainty=0.5).value(), 6)  # log(0.5 sqrt(2 pi))
    0.225791
    """

    def __init__(self, params, observation, uncertainty, name="LogNormalConstraint"):
        super().__init__(params, observation, name)
        self.uncertainty = np.broadcast_to(np.asarray(uncertainty, dtype=float).ravel(), self.observation.shape).copy()
        if not np.all(self.uncertainty > 0):
            raise ValueError(f"{name}: uncertainties must be positive, got {self.uncertainty.tolist()}")

    def sample(self, n, *, rng=None) -> dict:
        """``n`` log-normal draws, ``{parameter: array}`` (zfit's)."""
        rng = np.random.default_rng(rng)
        return {p: np.exp(rng.normal(mu, sd, size=int(n)))
                for p, mu, sd in zip(self.params, self.observation, self.uncertainty)}

    def nll(self, values) -> float:
        total = 0.0
        for v, mu, sd in zip(values, self.observation, self.uncertainty):
            if not v > 0:
                return math.inf
            total += math.log(v) + math.log(sd * math.sqrt(2 * math.pi)) + (math.log(v) - mu) ** 2 / (2 * sd * sd)
        return float(total)

    def _build(self, ctx):
        total = None
        for p, mu, sd in zip(self.params, self.observation, self.uncertainty):
            log_p = ctx.param(p).func("log")
            r = log_p - ctx.const(mu)
            term = log_p + r * r * ctx.const(0.5 / (sd * sd)) + ctx.const(math.log(sd * math.sqrt(2 * math.pi)))
            total = term if total is None else total + term
        return total


class SimpleConstraint(_Constraint):
    """A penalty from a function: ``func(params)`` returns the value added to the loss (the parameters
    read as numbers, or ``params[i]``). Written with :mod:`nfit.z` math it is traced into the kernel
    with exact derivatives; it must be traceable.

    Example
    -------
    >>> import nfit
    >>> a = nfit.Parameter("a_sc", 2.0)
    >>> SimpleConstraint(lambda params: (params[0] - 1.0) ** 2, params=[a]).value()
    1.0
    """

    def __init__(self, func, params, name="SimpleConstraint"):
        if not callable(func):
            raise TypeError(f"{name}: func must be callable, got {func!r}")
        keys = list(params) if isinstance(params, dict) else None  # zfit also passes a dict through
        params = list(params.values()) if keys is not None else (
            list(params) if isinstance(params, (list, tuple)) else [params])
        self.params = [convert_to_parameter(p) for p in params]
        self.func = func
        self.name = name
        symbols = [z.Symbol(p) for p in self.params]
        try:
            self._expr = z.as_expr(func(dict(zip(keys, symbols)) if keys is not None else symbols))
        except Exception as err:  # noqa: BLE001 - say what failed
            raise TypeError(f"{name}: func cannot be traced with nfit.z math ({type(err).__name__}: {err}); "
                            "write it with z.exp, z.where, ... so that the loss keeps exact derivatives") from None

    def nll(self, values) -> float:
        return float(self._expr.evaluate(dict(zip(self.params, [float(v) for v in values]))))

    def _build(self, ctx):
        inputs = {p: ctx.param(p) for p in self.params}
        return as_dual(ctx.be, self._expr.apply(inputs, DualOps(ctx.be)))
