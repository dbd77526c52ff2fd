"""Tabulated shapes: a histogram as a piecewise-constant density, and a binned kernel density
estimate (a Gaussian KDE of the binned data on a grid, interpolated linearly)."""
from __future__ import annotations

import numpy as np

from ..kernels import binned
from ..kernels import kde as kde_kernel
from .kde import _bandwidths, _points_and_weights
from .table import TablePDF


def _histogram_input(data):
    if hasattr(data, "values") and hasattr(data, "axes"):  # a hist.Hist or boost-histogram
        return np.asarray(data.values(), dtype=float), np.asarray(data.axes[0].edges, dtype=float)
    counts, edges = data
    return np.asarray(counts, dtype=float), np.asarray(edges, dtype=float)


class HistogramPDF(TablePDF):
    """A histogram as a density: constant in each bin, proportional to ``count / width``.

    ``data``: ``(counts, edges)`` (as ``numpy.histogram`` returns), or a ``hist.Hist``.

    Example
    -------
    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", limits=(0, 3))
    >>> h = HistogramPDF((np.array([1.0, 2.0, 1.0]), np.array([0.0, 1.0, 2.0, 3.0])), obs=obs)
    >>> float(h.pdf(np.array([1.5]))[0])
    0.5
    """

    _kernel_module = binned
    _kernel_function = "histogram"

    def __init__(self, data, obs=None, *, extended=None, norm=None, name="HistogramPDF", label=None):
        counts, edges = _histogram_input(data)
        if edges.ndim != 1 or counts.shape != (len(edges) - 1,) or np.any(np.diff(edges) <= 0):
            raise ValueError("HistogramPDF: need n counts and n + 1 increasing bin edges")
        if np.any(counts < 0) or not np.all(np.isfinite(counts)) or not counts.sum() > 0:
            raise ValueError("HistogramPDF: counts must be finite, non-negative and not all zero")
        if obs is None:
            raise ValueError("HistogramPDF: give obs=Space(...)")
        self.edges, self.counts = edges, counts
        self._densities = counts / np.diff(edges)
        self._table = np.concatenate([edges, self._densities])
        self._size = len(counts)
        super().__init__(obs, {}, name=name, extended=extended, label=label, norm=norm)

    def _values(self, x):
        return binned.histogram_array(x, self.edges, self._densities)

    def _window(self, a, b):
        return binned.histogram_integral_array(a, b, self.edges, self._densities)


class KDE1DimGrid(TablePDF):
    """Binned Gaussian kernel density estimate for large samples: the data are binned on a grid
    (``num_grid_points``), the KDE of the binned data is computed at the grid points and
    interpolated linearly in between.

    Example
    -------
    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", limits=(-5, 5))
    >>> kde = KDE1DimGrid(np.random.default_rng(1).normal(size=100_000), obs=obs)
    >>> round(float(kde.integrate((-5, 5))[0]), 9)
    1.0
    """

    _kernel_module = binned
    _kernel_function = "linear"

    def __init__(self, data, obs=None, bandwidth=None, weights=None, num_grid_points=1024, *, extended=None,
                 norm=None, name="KDE1DimGrid", label=None):
        obs, x, weights = _points_and_weights(data, weights, obs, "KDE1DimGrid")
        if bandwidth == "adaptive":
            raise ValueError("KDE1DimGrid: an adaptive bandwidth needs KDE1DimExact")
        h = float(_bandwidths(x, weights, bandwidth)[0])
        lo = min(x.min(), obs.lower) - 4 * h
        hi = max(x.max(), obs.upper) + 4 * h
        n = int(num_grid_points)
        grid = np.linspace(lo, hi, n)
        step = grid[1] - grid[0]
        # linear binning: each point shares its weight between its two neighbouring grid points
        w = np.ones(len(x)) if weights is None else weights
        u = (x - lo) / step
        i = np.clip(u.astype(int), 0, n - 2)
        f = u - i
        counts = np.bincount(i, w * (1 - f), minlength=n) + np.bincount(i + 1, w * f, minlength=n)
        keep = counts > 0
        values = kde_kernel.pdf_array(grid, grid[keep], np.full(keep.sum(), 1.0 / h),
                                      counts[keep] / counts.sum() / (h * np.sqrt(2 * np.pi)))
        self.grid, self.values, self.bandwidth = grid, values, h
        self._table = np.concatenate([[lo, step], values])
        self._size = n
        super().__init__(obs, {}, name=name, extended=extended, label=label, norm=norm)

    def _values(self, x):
        return binned.linear_array(x, self.grid[0], self.grid[1] - self.grid[0], self.values)

    def _window(self, a, b):
        return binned.linear_integral_array(a, b, self.grid[0], self.grid[1] - self.grid[0], self.values)
