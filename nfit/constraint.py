"""Constraints: external knowledge about parameters, added to a loss.

>>> import nfit
>>> s = nfit.Parameter("s", 0.027)
>>> c = nfit.constraint.GaussianConstraint(params=[s], observation=[0.025], uncertainty=[0.001])
>>> round(c.value(), 6)
2.0
"""
from __future__ import annotations

import numpy as np

from .param import convert_to_parameter

__all__ = ["GaussianConstraint"]


class GaussianConstraint:
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

    def get_params(self, floating=True):
        found = []
        for p in self.params:
            for q in p.get_params(floating=floating):
                if q not in found:
                    found.append(q)
        return found

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

    def value(self) -> float:
        """The penalty at the parameters' current values."""
        return self.nll([p.value() for p in self.params])

    def __repr__(self):
        return f"<GaussianConstraint params={[p.name for p in self.params]}>"
