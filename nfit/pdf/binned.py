"""Binned kernel density estimates: a Gaussian KDE of the binned data on a grid, interpolated linearly."""
from __future__ import annotations

import numpy as np

from ..kernels import binned
from ..kernels import kde as kde_kernel
from .bandwidth import ADAPTIVE, RULE_FACTORS, adaptive, bin_1d, grid_1d, isj, rule_of_thumb
from .kde import _bandwidths, _check_kernel, _kernel_sum, _padded, _points_and_weights
from .table import TablePDF, remembers_arguments


class _GridKDE(TablePDF):
    """A density tabulated on an even grid and interpolated linearly (exactly integrable)."""

    _kernel_module = binned
    _kernel_function = "linear"

    def _set_grid(self, nodes, values):
        self._x0, self._step = float(nodes[0]), float(nodes[1] - nodes[0])
        self.values = np.asarray(values, dtype=float)
        self._table = np.concatenate([[self._x0, self._step], self.values])
        self._size = len(self.values)

    def _values(self, x):
        return binned.linear_array(x, self._x0, self._step, self.values)

    def _cdf_table(self):
        knots = self._x0 + self._step * np.arange(len(self.values))
        return binned.piecewise_cdf_table(knots, self.values[:-1], np.diff(self.values) / self._step)

    def _window(self, a, b):
        return binned.linear_integral_array(a, b, self._x0, self._step, self.values)


def _grid_input(data, weights, obs, padding, who):
    obs, x, weights = _points_and_weights(data, weights, obs, who)
    if obs.n_obs != 1:
        raise ValueError(f"{who} needs a one-dimensional space, got {obs}")
    x, weights, _ = _padded(x, weights, None, padding, obs)
    return obs, x, weights


def _table_nodes(centers, widths, obs, num_grid_points):
    """An even table over the space and the kernels' reach, four nodes per grid point."""
    reach = 5 * float(np.max(widths))
    lo = min(float(centers[0]), obs.lower) - reach
    hi = max(float(centers[-1]), obs.upper) + reach
    return np.linspace(lo, hi, 4 * int(num_grid_points) + 1)


def _extended_to(obs, grid, values):
    """The grid continued with its step to cover the space, the values held constant beyond its ends
    (zfit interpolates so: its estimate is the edge value outside the grid)."""
    step = grid[1] - grid[0]
    below = max(0, int(np.ceil((grid[0] - obs.lower) / step)))
    above = max(0, int(np.ceil((obs.upper - grid[-1]) / step)))
    nodes = grid[0] + step * np.arange(-below, len(grid) + above)
    return nodes, np.concatenate([np.full(below, values[0]), values, np.full(above, values[-1])])


class KDE1DimGrid(_GridKDE):
    """Gaussian kernel density estimate for large samples, as zfit's ``KDE1DimGrid``: the data are
    binned onto ``num_grid_points`` (default 1024) grid points (``binning_method`` ``"linear"``,
    the default, or ``"simple"``), and a kernel sits on each grid point, weighted by its bin.
    ``bandwidth``: a number or ``"scott"``, ``"silverman"``, ``"adaptive_zfit"`` (default, also
    ``"adaptive"``) or ``"adaptive_geom"`` (one width per grid point). The estimate is tabulated on
    a four times finer grid and interpolated linearly (relative accuracy about 1e-5).

    Example
    -------
    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", limits=(-5, 5))
    >>> kde = KDE1DimGrid(np.random.default_rng(1).normal(size=100_000), obs=obs)
    >>> round(float(kde.integrate((-5, 5))[0]), 9)
    1.0
    """

    @remembers_arguments
    def __init__(self, data, obs=None, bandwidth=None, weights=None, num_grid_points=None, *, kernel=None,
                 padding=None, binning_method=None, extended=None, norm=None, name="KDE1DimGrid", label=None):
        _check_kernel(kernel, "KDE1DimGrid")
        if isinstance(bandwidth, str) and bandwidth in ("isj", "adaptive_std"):
            raise ValueError(f"KDE1DimGrid: bandwidth {bandwidth!r} is not supported on a grid (as in zfit); "
                             "use KDE1DimISJ or KDE1DimExact")
        obs, x, weights = _grid_input(data, weights, obs, padding, "KDE1DimGrid")
        n = min(len(x), 1024 if num_grid_points is None else int(num_grid_points))
        self.binning_method = "linear" if binning_method is None else binning_method
        self.grid = grid_1d(x, n)
        self.grid_weights = bin_1d(self.binning_method, x, self.grid, weights)
        keep = self.grid_weights > 0
        bandwidth = "adaptive_zfit" if bandwidth is None else bandwidth
        if isinstance(bandwidth, str) and bandwidth in ADAPTIVE:
            # zfit's pilot: this grid's estimate with Silverman's width, at the grid points
            silverman = np.full(int(keep.sum()), rule_of_thumb(x, weights, RULE_FACTORS["silverman"]))
            points, inverse, scaled = _kernel_sum(self.grid[keep], silverman, self.grid_weights[keep])
            total = sum(kde_kernel.integral(lo[0], hi[0], points, inverse, scaled) for lo, hi in obs.boxes)
            pilot = kde_kernel.pdf_array(self.grid, points, inverse, scaled) / total
            self.bandwidth = adaptive(bandwidth, self.grid, self.grid_weights * len(x), pilot)
        else:
            self.bandwidth = _bandwidths(x, weights, bandwidth, obs, "KDE1DimGrid")[0]
        widths = np.broadcast_to(self.bandwidth, self.grid.shape)
        points, inverse, scaled = _kernel_sum(self.grid[keep], widths[keep], self.grid_weights[keep])
        nodes = _table_nodes(self.grid, widths[keep], obs, n)
        self._set_grid(nodes, kde_kernel.pdf_array(nodes, points, inverse, scaled))
        super().__init__(obs, {}, name=name, extended=extended, label=label, norm=norm)


class KDE1DimFFT(_GridKDE):
    """Gaussian kernel density estimate by a fast convolution on a grid, as zfit's ``KDE1DimFFT``:
    the binned data convolved with the kernel (``scipy.signal.fftconvolve``), interpolated
    linearly between the ``num_grid_points`` (default 1024) grid points. ``bandwidth``: a number,
    ``"scott"`` or ``"silverman"`` (default). ``support``: the kernel's reach in bandwidths (default
    ``6``, beyond it the kernel counts as zero); ``fft_method``: ``"conv1d"`` (the default, direct
    or FFT as fastest) or ``"fft"``.

    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", limits=(-5, 5))
    >>> kde = KDE1DimFFT(np.random.default_rng(1).normal(size=50_000), obs=obs)
    >>> round(float(kde.integrate((-5, 5))[0]), 9)
    1.0
    """

    @remembers_arguments
    def __init__(self, data, *, obs=None, bandwidth=None, kernel=None, num_grid_points=None, binning_method=None,
                 support=None, fft_method=None, padding=None, weights=None, extended=None, norm=None,
                 name="KDE1DimFFT", label=None):
        from scipy.signal import convolve

        _check_kernel(kernel, "KDE1DimFFT")
        if fft_method not in (None, "conv1d", "fft"):
            raise ValueError(f"KDE1DimFFT: fft_method {fft_method!r}; use 'conv1d' or 'fft'")
        obs, x, weights = _grid_input(data, weights, obs, padding, "KDE1DimFFT")
        bandwidth = "silverman" if bandwidth is None else bandwidth
        if isinstance(bandwidth, str) and bandwidth not in RULE_FACTORS:
            raise ValueError(f"KDE1DimFFT: bandwidth {bandwidth!r}; use a number, 'scott' or 'silverman'")
        self.bandwidth = float(_bandwidths(x, weights, bandwidth, obs, "KDE1DimFFT")[0])
        n = min(len(x), 1024 if num_grid_points is None else int(num_grid_points))
        self.binning_method = "linear" if binning_method is None else binning_method
        self.grid = grid_1d(x, n)
        counts = bin_1d(self.binning_method, x, self.grid, weights)
        step = self.grid[1] - self.grid[0]
        # zfit's reach: support bandwidths, by default 1.2 times the space's width (in bandwidths)
        support = 1.2 * obs.area() if support is None else float(support)
        reach = int(min(np.floor(support * self.bandwidth / step), n))
        offsets = np.arange(-reach, reach + 1) * step
        kernel_values = np.exp(-0.5 * (offsets / self.bandwidth) ** 2) / (self.bandwidth * np.sqrt(2 * np.pi))
        density = convolve(counts, kernel_values, mode="same", method="fft" if fft_method == "fft" else "auto")
        self._set_grid(*_extended_to(obs, self.grid, np.clip(density, 0.0, None)))
        super().__init__(obs, {}, name=name, extended=extended, label=label, norm=norm)


class KDE1DimISJ(_GridKDE):
    """The improved Sheather–Jones kernel density estimate (Botev et al. 2010), as zfit's
    ``KDE1DimISJ``: the density solved on a grid of ``num_grid_points`` (default 1024) and
    interpolated linearly; its bandwidth is ``self.bandwidth``.

    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", limits=(-5, 5))
    >>> kde = KDE1DimISJ(np.random.default_rng(1).normal(size=20_000), obs=obs)
    >>> round(float(kde.integrate((-5, 5))[0]), 9)
    1.0
    """

    @remembers_arguments
    def __init__(self, data, *, obs=None, padding=None, num_grid_points=None, binning_method=None, weights=None,
                 extended=None, norm=None, name="KDE1DimISJ", label=None):
        obs, x, weights = _grid_input(data, weights, obs, padding, "KDE1DimISJ")
        self.binning_method = "linear" if binning_method is None else binning_method
        n = 1024 if num_grid_points is None else int(num_grid_points)
        self.bandwidth, self.grid, density = isj(x, weights, n, self.binning_method)
        self._set_grid(*_extended_to(obs, self.grid, density))
        super().__init__(obs, {}, name=name, extended=extended, label=label, norm=norm)
