"""Densities tabulated on bins or grid points: piecewise constant (histograms) and piecewise linear
(binned kernel density estimates), each with its integral over a window.

A table sits in one array ``c`` from offset ``off``: for a histogram its ``n + 1`` edges, then
``n`` densities; for a grid its first point, its step, then ``n`` values.

>>> import numpy as np
>>> c = np.array([0.0, 1.0, 3.0, 0.5, 0.25])     # edges 0, 1, 3; densities 0.5, 0.25
>>> float(histogram(2.0, c, 0, 2)), histogram_integral_array(0.5, 2.0, c[:3], c[3:])
(0.25, 0.5)
"""
import numpy as np


def histogram(x, c, off, n):
    if x < c[off] or x > c[off + n]:
        return 0.0
    lo, hi = 0, n
    while hi - lo > 1:  # bisection: the bin whose lower edge is the last one <= x
        mid = (lo + hi) // 2
        if c[off + mid] <= x:
            lo = mid
        else:
            hi = mid
    return c[off + n + 1 + lo]


def histogram_array(x, edges, densities):
    index = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(densities) - 1)
    inside = (x >= edges[0]) & (x <= edges[-1])
    return np.where(inside, densities[index], 0.0)


def histogram_integral_array(a, b, edges, densities):
    lo = np.clip(edges[:-1], a, b)
    hi = np.clip(edges[1:], a, b)
    return float(np.sum(densities * (hi - lo)))


def linear(x, c, off, n):
    x0, step = c[off], c[off + 1]
    u = (x - x0) / step
    if u < 0.0 or u > n - 1:
        return 0.0
    i = min(int(u), n - 2)
    f = u - i
    return (1.0 - f) * c[off + 2 + i] + f * c[off + 3 + i]


def linear_array(x, x0, step, values):
    grid = x0 + step * np.arange(len(values))
    return np.interp(x, grid, values, left=0.0, right=0.0)


def linear_integral_array(a, b, x0, step, values):
    grid = x0 + step * np.arange(len(values))
    points = np.unique(np.concatenate([[a, b], grid[(grid > a) & (grid < b)]]))
    points = points[(points >= a) & (points <= b)]
    return float(np.trapezoid(np.interp(points, grid, values, left=0.0, right=0.0), points))


def piecewise_cdf(x, c, off, n):
    """The integral from the first knot to ``x`` of a density that is ``a_k + b_k (x - x_k)`` between
    knots ``x_k`` and ``x_{k+1}`` (a histogram: ``b = 0``; a linear interpolation: its slopes). The
    table: ``n + 1`` knots, the integral up to each knot, then ``n`` values ``a`` and ``n`` slopes ``b``."""
    if x <= c[off]:
        return 0.0
    if x >= c[off + n]:
        return c[off + 2 * n + 1]
    lo, hi = 0, n
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if c[off + mid] <= x:
            lo = mid
        else:
            hi = mid
    d = x - c[off + lo]
    return c[off + n + 1 + lo] + d * (c[off + 2 * n + 2 + lo] + 0.5 * d * c[off + 3 * n + 2 + lo])


def piecewise_cdf_table(knots, a, b):
    """The table :func:`piecewise_cdf` reads, from the knots, values ``a`` and slopes ``b``."""
    width = np.diff(knots)
    cum = np.concatenate([[0.0], np.cumsum(width * (a + 0.5 * b * width))])
    return np.concatenate([knots, cum, a, b])


def piecewise_cdf_array(x, table, n):
    """:func:`piecewise_cdf` for an array ``x``."""
    knots, cum, a, b = table[:n + 1], table[n + 1:2 * n + 2], table[2 * n + 2:3 * n + 2], table[3 * n + 2:]
    x = np.asarray(x, dtype=float)
    k = np.clip(np.searchsorted(knots, x, side="right") - 1, 0, n - 1)
    d = np.clip(x, knots[0], knots[-1]) - knots[k]
    return np.where(x >= knots[-1], cum[-1], np.where(x <= knots[0], 0.0, cum[k] + d * (a[k] + 0.5 * d * b[k])))
