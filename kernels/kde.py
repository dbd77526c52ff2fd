"""Gaussian kernel density estimates: the sum over kernel points, and bandwidth rules.

A KDE's points, inverse bandwidths and weights (each weight already divided by its bandwidth
and sqrt(2 pi) and by the total weight) sit side by side in one array ``c`` from offset ``off``.

>>> import numpy as np
>>> c = np.array([0.0, 1.0, 1.0 / np.sqrt(2 * np.pi)])
>>> round(float(pdf(0.0, c, 0, 1)), 6)
0.398942
"""
import math

import numpy as np

_SQRT_HALF = math.sqrt(0.5)


def pdf(x, c, off, n):
    total = 0.0
    for j in range(n):
        t = (x - c[off + j]) * c[off + n + j]
        total += c[off + 2 * n + j] * math.exp(-0.5 * t * t)
    return total


def pdf_array(x, points, inverse_widths, weights, chunk=2_000_000):
    """The same sum for an array of ``x``, in chunks that keep the temporary array bounded."""
    out = np.empty(len(x))
    step = max(1, chunk // max(1, len(points)))
    for start in range(0, len(x), step):
        t = (x[start:start + step, None] - points[None, :]) * inverse_widths[None, :]
        out[start:start + step] = np.exp(-0.5 * t * t) @ weights
    return out


def integral(lower, upper, points, inverse_widths, weights):
    """Integral of the (untruncated) estimate over [lower, upper]."""
    from math import erf

    total = 0.0
    for p, ih, w in zip(points, inverse_widths, weights):
        a, b = (lower - p) * ih * _SQRT_HALF, (upper - p) * ih * _SQRT_HALF
        total += w / ih * math.sqrt(0.5 * math.pi) * (erf(b) - erf(a))
    return total


def scott(x, weights):
    """Scott's rule (as scipy's gaussian_kde): sigma * n_eff**(-1/5)."""
    sigma = _weighted_std(x, weights)
    return sigma * _n_eff(weights, len(x)) ** (-0.2)


def silverman(x, weights):
    """Silverman's rule (as scipy's gaussian_kde): sigma * (n_eff * 3 / 4)**(-1/5)."""
    sigma = _weighted_std(x, weights)
    return sigma * (_n_eff(weights, len(x)) * 0.75) ** (-0.2)


def _n_eff(weights, n):
    if weights is None:
        return float(n)
    return weights.sum() ** 2 / (weights ** 2).sum()


def _weighted_std(x, weights):
    if weights is None:
        return float(np.std(x, ddof=1))
    mean = np.average(x, weights=weights)
    variance = np.average((x - mean) ** 2, weights=weights)
    n_eff = _n_eff(weights, len(x))
    return math.sqrt(variance * n_eff / (n_eff - 1.0))
