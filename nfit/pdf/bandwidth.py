"""Kernel density estimates' inputs, as zfit defines them: bandwidth rules, mirror padding, binning
onto a grid, and the improved Sheather–Jones bandwidth (Botev, Grotowski, Kroese, Ann. Stat. 38
(2010) 2916).

Rules of thumb are zfit's: ``factor * min(std, IQR) * n**(-1/5)`` with factor 1.059 (``"scott"``)
or 0.9 (``"silverman"``). Adaptive rules start from a pilot estimate ``f`` (Silverman's bandwidth,
normalised over the space) and give each kernel its own width:

- ``"adaptive_zfit"`` (zfit's default, also ``"adaptive"``): ``h_scott * mean(sqrt f) / sqrt(f_i)``;
- ``"adaptive_geom"``: ``min(std, IQR) n**(-1/5) / sqrt(f_i / g)``, ``g`` the geometric mean of ``f``;
- ``"adaptive_std"``: ``1.059 sqrt(min(std, IQR) / f_i) n**(-1/5)``.

>>> import numpy as np
>>> x = np.random.default_rng(1).normal(size=1000)
>>> round(float(rule_of_thumb(x, None, 1.059) / (1.059 * np.std(x) * 1000 ** -0.2)), 12)
1.0
"""
from __future__ import annotations

import warnings

import numpy as np

RULE_FACTORS = {"scott": 1.059, "silverman": 0.9}
ADAPTIVE = ("adaptive", "adaptive_zfit", "adaptive_geom", "adaptive_std")


def _weighted_quantile(x, q, weights):
    order = np.argsort(x)
    x, w = x[order], weights[order]
    cumulative = (np.cumsum(w) - 0.5 * w) / np.sum(w)
    return float(np.interp(q, cumulative, x))


def min_std_or_iqr(x, weights) -> float:
    """``min(std, IQR)`` of the sample (weighted as frequencies); zfit's spread for its rules."""
    if weights is None:
        std = float(np.std(x))
        iqr = float(np.percentile(x, 75, method="nearest") - np.percentile(x, 25, method="nearest"))
        return min(std, iqr)
    mean = np.average(x, weights=weights)
    variance = float(np.average((x - mean) ** 2, weights=weights))
    if variance < 0:
        raise ValueError("KDE: the weighted variance is negative (negative weights?); give a bandwidth")
    iqr = _weighted_quantile(x, 0.75, weights) - _weighted_quantile(x, 0.25, weights)
    return min(np.sqrt(variance), iqr)


def rule_of_thumb(x, weights, factor) -> float:
    """``factor * min(std, IQR) * n**(-1/5)``, ``n`` the number of points."""
    return factor * min_std_or_iqr(x, weights) * len(x) ** (-0.2)


def adaptive(method, x, weights, pilot) -> np.ndarray:
    """Per-point bandwidths by zfit's adaptive ``method`` from ``pilot``, the pilot density at ``x``."""
    pilot = np.asarray(pilot, dtype=float)
    if not np.all(pilot > 0):
        raise ValueError("KDE: the pilot density is zero at some data point; give a bandwidth")
    n = float(np.sum(weights)) if weights is not None else float(len(x))
    if method in ("adaptive", "adaptive_zfit"):
        root = np.sqrt(pilot)
        return rule_of_thumb(x, weights, RULE_FACTORS["scott"]) / (root / np.mean(root))
    if method == "adaptive_geom":
        w = np.ones(len(x)) if weights is None else weights
        geometric = np.exp(np.sum(w * np.log(pilot)) / np.sum(w))
        return 1.0 / np.sqrt(pilot / geometric) * n ** (-0.2) * min_std_or_iqr(x, weights)
    if method == "adaptive_std":
        return np.sqrt(min_std_or_iqr(x, weights) / pilot) * n ** (-0.2) * RULE_FACTORS["scott"]
    raise ValueError(f"KDE: unknown adaptive bandwidth {method!r}; use one of {ADAPTIVE}")


def mirror(x, weights, padding, lower, upper):
    """zfit's ``padding``: data within ``fraction * (upper - lower)`` of a limit mirrored across it.
    ``padding`` is a fraction (both sides), True (0.1), False/None (none), or a dict with
    ``lowermirror`` and/or ``uppermirror``."""
    if padding is None or padding is False:
        return x, weights
    if padding is True:
        padding = 0.1
    if not isinstance(padding, dict):
        padding = {"lowermirror": padding, "uppermirror": padding}
    unknown = sorted(set(padding) - {"lowermirror", "uppermirror"})
    if unknown:
        raise ValueError(f"KDE: padding keys {unknown} unknown; use 'lowermirror' and/or 'uppermirror'")
    width = upper - lower
    parts, part_weights = [x], [weights]
    if padding.get("lowermirror") is not None:
        near = x < lower + width * float(padding["lowermirror"])
        parts.insert(0, 2 * lower - x[near])
        part_weights.insert(0, None if weights is None else weights[near])
    if padding.get("uppermirror") is not None:
        near = x > upper - width * float(padding["uppermirror"])
        parts.append(2 * upper - x[near])
        part_weights.append(None if weights is None else weights[near])
    return np.concatenate(parts), (None if weights is None else np.concatenate(part_weights))


def grid_1d(x, num_grid_points, absolute_boundary=0.0, relative_boundary=0.05):
    """zfit's grid: ``num_grid_points`` from the data's range widened by
    ``max(relative_boundary * range, absolute_boundary)`` on each side."""
    lo, hi = float(np.min(x)), float(np.max(x))
    border = max(relative_boundary * (hi - lo), absolute_boundary)
    return np.linspace(lo - border, hi + border, int(num_grid_points))


def bin_1d(method, x, grid, weights=None):
    """The data's weight on the grid points, summing to one: ``"linear"`` shares each point between
    its two neighbours by distance; ``"simple"`` (zfit's) gives it to the lower one, only the part
    beyond the middle going up."""
    if method not in ("linear", "simple"):
        raise ValueError(f"KDE: binning_method {method!r}; use 'linear' or 'simple'")
    if method == "simple" and weights is None:  # zfit: a histogram with one bin per grid point
        counts = np.histogram(x, bins=len(grid), range=(grid[0], grid[-1]))[0].astype(float)
        return counts / counts.sum()
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    w = w / np.sum(w)
    step = (grid[-1] - grid[0]) / (len(grid) - 1)
    u = (x - grid[0]) / step
    i = np.clip(np.floor(u).astype(int), 0, len(grid) - 1)
    f = u - i
    if method == "simple":
        f = np.where(f > 0.5, f, 0.0)
    counts = np.bincount(i, w * (1 - f), minlength=len(grid))
    counts += np.roll(np.bincount(i, w * f, minlength=len(grid)), 1)
    return counts


def _fixed_point(t, n, squared, coefficients):
    """Botev et al.'s ``t - xi gamma^[l](t)`` for the improved Sheather–Jones bandwidth (l = 7)."""
    ell = 7
    f = 0.5 * np.pi ** (2 * ell) * np.sum(squared ** ell * coefficients * np.exp(-squared * np.pi ** 2 * t))
    for s in range(ell - 1, 1, -1):
        k0 = np.prod(np.arange(1, 2 * s, 2)) / np.sqrt(2 * np.pi)
        const = (1 + 0.5 ** (s + 0.5)) / 3
        time = (2 * const * k0 / (n * f)) ** (2 / (3 + 2 * s))
        f = 0.5 * np.pi ** (2 * s) * np.sum(squared ** s * coefficients * np.exp(-squared * np.pi ** 2 * time))
    return t - (2 * n * np.sqrt(np.pi) * f) ** (-0.4)


def isj(x, weights=None, num_grid_points=1024, binning_method="linear"):
    """The improved Sheather–Jones bandwidth (zfit's grid and conventions), and the ISJ density on
    the grid: returns ``(bandwidth, grid, density)``.

    >>> x = np.random.default_rng(2).normal(size=5000)
    >>> h, grid, density = isj(x)
    >>> 0.05 < h < 0.3, round(float(np.sum(density) * (grid[1] - grid[0])), 3)
    (True, 1.0)
    """
    from scipy.fft import dct, idct
    from scipy.optimize import brentq

    x = np.asarray(x, dtype=float)
    grid = grid_1d(x, num_grid_points, 6.0, 0.5)
    spread = float(np.max(x) - np.min(x))
    n = float(len(np.unique(x)))
    transformed = dct(bin_1d(binning_method, x, grid, weights), type=2)
    squared = np.arange(1, len(grid), dtype=float) ** 2
    coefficients = transformed[1:] ** 2 / 4

    def equation(t):
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return _fixed_point(t, n, squared, coefficients)

    right = 1e-11 + 0.01 * (min(max(n, 50.0), 1050.0) - 50) / 1000
    while right < 1.0 and not equation(right) > 0:
        right *= 2.0
    if equation(right) > 0:
        t_star = brentq(equation, 0.0, right, xtol=2e-12)
    else:  # too few points for the fixed point: Botev et al.'s own fallback
        warnings.warn(f"KDE: the improved Sheather-Jones equation has no root for {int(n)} distinct points; "
                      "using Botev et al.'s fallback t = 0.28 n^(-2/5)", stacklevel=3)
        t_star = 0.28 * n ** (-0.4)
    smoothed = transformed * np.exp(-np.arange(len(grid), dtype=float) ** 2 * np.pi ** 2 * t_star / 2)
    density = idct(smoothed, type=2) / (grid[-1] - grid[0])
    density = np.where(density > 0, density, 0.0)
    density /= np.sum(density) * (grid[1] - grid[0])
    return float(np.sqrt(t_star) * spread), grid, density
