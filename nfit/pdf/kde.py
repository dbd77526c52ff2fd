"""Kernel density estimates: exact (a Gaussian per data point) and on a grid."""
from __future__ import annotations

import numpy as np

from ..data import Data
from ..kernels import kde as kernel
from .bandwidth import ADAPTIVE, RULE_FACTORS, adaptive, isj, mirror, rule_of_thumb
from .table import TablePDF, remembers_arguments


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


def _check_kernel(kernel, who):
    """zfit's ``kernel=`` takes a TensorFlow Probability distribution; nfit's kernels are Gaussian."""
    if kernel is None or kernel in ("gauss", "gaussian", "normal"):
        return
    name = getattr(kernel, "__name__", kernel)
    if name == "Normal":
        return
    raise NotImplementedError(f"{who}: kernel={name!r}: nfit's kernel density estimates use a Gaussian kernel "
                              "only (kernel=None)")


def _kernel_sum(points, widths, weights):
    """(points, inverse widths, weights scaled for ``kde.pdf``) of a Gaussian mixture."""
    w = np.ones(len(points)) if weights is None else np.asarray(weights, dtype=float)
    return points, 1.0 / widths, w / w.sum() / (widths * np.sqrt(2 * np.pi))


def pilot_density(x, weights, space, at=None):
    """The pilot estimate of the adaptive rules: the KDE with Silverman's bandwidth (zfit's rule),
    normalised over ``space``, at ``at`` (default: the data)."""
    h = np.full(len(x), rule_of_thumb(x, weights, RULE_FACTORS["silverman"]))
    points, inverse, scaled = _kernel_sum(x, h, weights)
    total = sum(kernel.integral(lo[0], hi[0], points, inverse, scaled) for lo, hi in space.boxes)
    return kernel.pdf_array(x if at is None else at, points, inverse, scaled) / total


def _bandwidths(x, weights, bandwidth, space, who="KDE1DimExact"):
    """One bandwidth per point: a number or array, or a rule's name (see :mod:`nfit.pdf.bandwidth`)."""
    if bandwidth is None:
        bandwidth = "adaptive_zfit"  # zfit's default
    if isinstance(bandwidth, str):
        if bandwidth in RULE_FACTORS:
            return np.full(len(x), rule_of_thumb(x, weights, RULE_FACTORS[bandwidth]))
        if bandwidth == "isj":
            return np.full(len(x), isj(x, weights)[0])
        if bandwidth in ADAPTIVE:
            return adaptive(bandwidth, x, weights, pilot_density(x, weights, space))
        raise ValueError(f"{who}: bandwidth {bandwidth!r}; use a number, one per point, or one of "
                         f"{sorted(RULE_FACTORS) + list(ADAPTIVE) + ['isj']}")
    h = np.broadcast_to(np.asarray(bandwidth, dtype=float), x.shape).copy()
    if np.any(~(h > 0)):
        raise ValueError(f"{who}: the bandwidth must be positive, got {bandwidth!r}")
    return h


def _padded(x, weights, bandwidth, padding, space):
    """The data (and weights, and a per-point bandwidth) with zfit's mirror ``padding`` at the space's limits."""
    if padding is None or padding is False:
        return x, weights, bandwidth
    lower, upper = space.limit1d
    per_point = isinstance(bandwidth, (list, tuple, np.ndarray)) and np.ndim(bandwidth) == 1 and len(bandwidth) > 1
    padded, padded_weights = mirror(x, weights, padding, lower, upper)
    if per_point:
        bandwidth = _mirrored_values(x, np.asarray(bandwidth, dtype=float), padding, lower, upper)
    return padded, padded_weights, bandwidth


def _mirrored_values(x, values, padding, lower, upper):
    """``values`` (one per point) arranged as :func:`mirror` arranges the points."""
    if padding is True:
        padding = 0.1
    if not isinstance(padding, dict):
        padding = {"lowermirror": padding, "uppermirror": padding}
    width = upper - lower
    parts = [values]
    if padding.get("lowermirror") is not None:
        parts.insert(0, values[x < lower + width * float(padding["lowermirror"])])
    if padding.get("uppermirror") is not None:
        parts.append(values[x > upper - width * float(padding["uppermirror"])])
    return np.concatenate(parts)


class KDE1DimExact(TablePDF):
    """Gaussian kernel density estimate with one kernel per data point, normalised over the space,
    as zfit's ``KDE1DimExact``.

    ``bandwidth``: a number (or one per point), or a rule: ``"adaptive_zfit"`` (the default, also
    ``"adaptive"``), ``"adaptive_geom"``, ``"adaptive_std"``, ``"scott"``, ``"silverman"``, ``"isj"``
    (see :mod:`nfit.pdf.bandwidth`). ``padding``: zfit's mirror padding, a fraction of the range
    (or ``{"lowermirror": a, "uppermirror": b}``) next to each limit whose points are mirrored across
    it, against the loss of density at the edges.

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

    @remembers_arguments
    def __init__(self, data, obs=None, bandwidth=None, weights=None, *, kernel=None, padding=None, extended=None,
                 norm=None, name="KDE1DimExact", label=None):
        _check_kernel(kernel, "KDE1DimExact")
        obs, x, weights = _points_and_weights(data, weights, obs, "KDE1DimExact")
        if obs.n_obs != 1:
            raise ValueError(f"KDE1DimExact needs a one-dimensional space, got {obs}")
        x, weights, bandwidth = _padded(x, weights, bandwidth, padding, obs)
        self.points = x
        self.padding = padding
        self.bandwidth = _bandwidths(x, weights, bandwidth, obs)
        self._set_table(x, self.bandwidth, weights)
        super().__init__(obs, {}, name=name, extended=extended, label=label, norm=norm)

    def _set_table(self, points, widths, weights):
        self.points, self._inverse_widths, self._weights = _kernel_sum(points, widths, weights)
        self._table = np.concatenate([self.points, self._inverse_widths, self._weights])
        self._size = len(self.points)

    def _values(self, x):
        return kernel.pdf_array(x, self.points, self._inverse_widths, self._weights)

    def _window(self, a, b):
        return kernel.integral(a, b, self.points, self._inverse_widths, self._weights)


class GaussianKDE1DimV1(KDE1DimExact):
    """zfit's older ``GaussianKDE1DimV1(obs, data, bandwidth, weights, truncate)``: as
    :class:`KDE1DimExact`; ``truncate=True`` cuts each kernel at the space's limits (each then has
    its full weight inside the space).

    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", limits=(0, 1))
    >>> kde = GaussianKDE1DimV1(obs, np.random.default_rng(2).uniform(size=300), truncate=True)
    >>> round(float(kde.integrate((0, 1))[0]), 9)
    1.0
    """

    @remembers_arguments
    def __init__(self, obs, data, bandwidth=None, weights=None, truncate=False, *, extended=None, norm=None,
                 name="GaussianKDE1DimV1", label=None):
        super().__init__(data, obs=obs, bandwidth=bandwidth, weights=weights, extended=extended, norm=norm,
                         name=name, label=label)
        self.truncate = bool(truncate)
        if self.truncate:
            inside = np.array([sum(kernel.integral(lo[0], hi[0], [p], [ih], [1.0]) for lo, hi in obs.boxes)
                               for p, ih in zip(self.points, self._inverse_widths)])
            inside = inside * self._inverse_widths / np.sqrt(2 * np.pi)  # each kernel's probability inside
            weights = self._weights * self.bandwidth * np.sqrt(2 * np.pi) / inside
            self._set_table(self.points, self.bandwidth, weights)
