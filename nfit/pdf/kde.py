"""Kernel density estimates: exact (a Gaussian per data point) and on a grid."""
from __future__ import annotations

import numpy as np

from ..data import Data
from ..kernels import kde as kernel
from .table import TablePDF


def _points_and_weights(data, weights, obs, who):
    """The space (given, or the Data's), the points and the weights of a KDE's input."""
    if obs is None:
        if not isinstance(data, Data):
            raise ValueError(f"{who}: give obs=Space(...)")
        obs = data.space
    if isinstance(data, Data):
        if weights is None:
            weights = data.weights
        data = data.to_numpy()
    x = np.asarray(data, dtype=float).reshape(-1)
    if not np.all(np.isfinite(x)):
        raise ValueError("KDE: the data have NaN or infinite values")
    if weights is not None:
        weights = np.asarray(weights, dtype=float).reshape(-1)
        if weights.shape != x.shape or np.any(weights < 0) or not np.all(np.isfinite(weights)):
            raise ValueError("KDE: weights must be finite, non-negative and one per data point")
    if len(x) < 2:
        raise ValueError("KDE: needs at least two data points")
    return obs, x, weights


def _bandwidths(x, weights, bandwidth):
    if bandwidth is None or bandwidth == "scott":
        return np.full(len(x), kernel.scott(x, weights))
    if bandwidth == "silverman":
        return np.full(len(x), kernel.silverman(x, weights))
    if bandwidth == "adaptive":
        # Abramson's square-root law on a Silverman pilot estimate
        h = kernel.silverman(x, weights)
        w = np.full(len(x), 1.0 / len(x)) if weights is None else weights / weights.sum()
        pilot = kernel.pdf_array(x, x, np.full(len(x), 1.0 / h), w / (h * np.sqrt(2 * np.pi)))
        g = np.exp(np.average(np.log(pilot), weights=w))
        return h * np.sqrt(g / pilot)
    if isinstance(bandwidth, str):
        raise ValueError(f"KDE: bandwidth {bandwidth!r}; use a number, 'scott', 'silverman' or 'adaptive'")
    h = np.broadcast_to(np.asarray(bandwidth, dtype=float), x.shape).copy()
    if np.any(~(h > 0)):
        raise ValueError(f"KDE: the bandwidth must be positive, got {bandwidth!r}")
    return h


class KDE1DimExact(TablePDF):
    """Gaussian kernel density estimate with one kernel per data point, normalised over the space.

    ``bandwidth``: a number (or one per point), ``"scott"`` (default), ``"silverman"`` (both as
    scipy's ``gaussian_kde``) or ``"adaptive"`` (Abramson's square-root law).

    Example
    -------
    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", limits=(-5, 5))
    >>> kde = KDE1DimExact(np.random.default_rng(1).normal(size=500), obs=obs)
    >>> round(float(kde.integrate((-5, 5))[0]), 9)
    1.0
    """

    _kernel_module = kernel
    _kernel_function = "pdf"

    def __init__(self, data, obs=None, bandwidth=None, weights=None, *, extended=None, norm=None,
                 name="KDE1DimExact", label=None):
        obs, x, weights = _points_and_weights(data, weights, obs, "KDE1DimExact")
        self.points = x
        self.bandwidth = _bandwidths(x, weights, bandwidth)
        w = np.ones(len(x)) if weights is None else weights
        self._inverse_widths = 1.0 / self.bandwidth
        self._weights = w / w.sum() / (self.bandwidth * np.sqrt(2 * np.pi))
        self._table = np.concatenate([x, self._inverse_widths, self._weights])
        self._size = len(x)
        super().__init__(obs, {}, name=name, extended=extended, label=label, norm=norm)
        if self.n_obs != 1:
            raise ValueError(f"KDE1DimExact needs a one-dimensional space, got {obs}")

    def _values(self, x):
        return kernel.pdf_array(x, self.points, self._inverse_widths, self._weights)

    def _window(self, a, b):
        return kernel.integral(a, b, self.points, self._inverse_widths, self._weights)
