"""Functions tabulated on a uniform grid: interpolation, exact integrals of the interpolant, and the
discrete correlation that a numerical convolution is made of.

A table holds ``rows`` functions side by side in one flat array: row ``r`` at the points
``x0 + i h``, ``i = 0 .. n - 1``, is ``table[r * n + i]``. Between the points a table is the local
Lagrange polynomial of ``degree`` (1 linear, 3 cubic, up to 5) through the ``degree + 1`` nearest
points. Its integral over any range is exact: three Gauss-Legendre nodes per grid cell integrate a
polynomial of degree 5 exactly.

The scalar functions are what compiled kernels call, one event at a time; the ``_array`` ones are the
same formulas over NumPy arrays, for the eager path.

>>> import numpy as np
>>> x = np.linspace(0.0, 1.0, 11)
>>> table = x ** 3
>>> round(float(interpolate(0.55, table, 0, 11, 0.0, 10.0, 3)), 12)   # a cubic is interpolated exactly
0.166375
>>> round(float(integral(0.0, 1.0, table, 0, 11, 0.0, 0.1, 3)), 12)
0.25
"""
import math

import numpy as np

_GL_NODES = (0.5 - 0.5 * math.sqrt(0.6), 0.5, 0.5 + 0.5 * math.sqrt(0.6))
_GL_WEIGHTS = (5.0 / 18.0, 8.0 / 18.0, 5.0 / 18.0)


def _start(s, n, degree):
    """First point of the stencil for the local coordinate ``s`` (in units of h from x0)."""
    start = int(math.floor(s)) - (degree - 1) // 2
    return min(max(start, 0), n - 1 - degree)


def _lagrange(t, k, degree):
    """The weight of stencil point ``k`` at the local coordinate ``t`` (0 for ``k > degree``)."""
    if k > degree:
        return 0.0
    weight = 1.0
    for m in range(degree + 1):
        if m != k:
            weight *= (t - m) / (k - m)
    return weight


def stencil(x, n, x0, inv_h, degree):
    """Where ``x`` falls on a grid of ``n`` points from ``x0`` (``inv_h`` = 1 / spacing): the first
    point of its stencil (as a float) and the Lagrange weights of the ``degree + 1`` points (six
    numbers, the unused ones 0), shared by every row of a table."""
    s = (x - x0) * inv_h
    start = _start(s, n, degree)
    t = s - start
    return (float(start), _lagrange(t, 0, degree), _lagrange(t, 1, degree), _lagrange(t, 2, degree),
            _lagrange(t, 3, degree), _lagrange(t, 4, degree), _lagrange(t, 5, degree))


def combine(table, row, n, degree, start, w0, w1, w2, w3, w4, w5):
    """Row ``row`` of ``table`` interpolated with a :func:`stencil`."""
    base = row * n + int(start)
    total = w0 * table[base] + w1 * table[base + 1]
    if degree >= 2:
        total += w2 * table[base + 2]
    if degree >= 3:
        total += w3 * table[base + 3]
    if degree >= 4:
        total += w4 * table[base + 4]
    if degree >= 5:
        total += w5 * table[base + 5]
    return total


def interpolate(x, table, row, n, x0, inv_h, degree):
    """Row ``row`` of ``table`` (``n`` points from ``x0``, ``inv_h`` = 1 / spacing) at ``x``."""
    start, w0, w1, w2, w3, w4, w5 = stencil(x, n, x0, inv_h, degree)
    return combine(table, row, n, degree, start, w0, w1, w2, w3, w4, w5)


def stencil_array(x, n, x0, inv_h, degree):
    """:func:`stencil` at every element of the array ``x``: the first points (integers) and the
    list of the ``degree + 1`` weight arrays."""
    s = (np.asarray(x, dtype=float) - x0) * inv_h
    start = np.clip(np.floor(s) - (degree - 1) // 2, 0, n - 1 - degree).astype(np.int64)
    t = s - start
    weights = []
    for k in range(degree + 1):
        weight = np.ones(s.shape)
        for m in range(degree + 1):
            if m != k:
                weight = weight * ((t - m) / (k - m))
        weights.append(weight)
    return start, weights


def combine_array(table, row, n, start, weights):
    """:func:`combine` over arrays, with a :func:`stencil_array`."""
    base = row * n + start
    total = weights[0] * table[base]
    for k in range(1, len(weights)):
        total = total + weights[k] * table[base + k]
    return total


def interpolate_array(x, table, row, n, x0, inv_h, degree):
    """:func:`interpolate` at every element of the array ``x``."""
    start, weights = stencil_array(x, n, x0, inv_h, degree)
    return combine_array(table, row, n, start, weights)


def integral(lower, upper, table, row, n, x0, h, degree):
    """The integral of the interpolated row from ``lower`` to ``upper`` (exact, cell by cell)."""
    sign = 1.0
    if upper < lower:
        lower, upper, sign = upper, lower, -1.0
    inv_h = 1.0 / h
    first = int(math.floor((lower - x0) * inv_h))
    last = int(math.floor((upper - x0) * inv_h))
    total = 0.0
    for cell in range(first, last + 1):
        a = max(lower, x0 + cell * h)
        b = min(upper, x0 + (cell + 1) * h)
        if b <= a:
            continue
        part = 0.0
        for q in range(3):
            part += _GL_WEIGHTS[q] * interpolate(a + (b - a) * _GL_NODES[q], table, row, n, x0, inv_h, degree)
        total += (b - a) * part
    return sign * total


def integral_array(lower, upper, table, row, n, x0, h, degree):
    """:func:`integral` for scalar ``lower`` and ``upper``, the cells at once."""
    sign = 1.0
    if upper < lower:
        lower, upper, sign = upper, lower, -1.0
    cells = np.arange(math.floor((lower - x0) / h), math.floor((upper - x0) / h) + 1)
    a = np.maximum(lower, x0 + cells * h)
    b = np.minimum(upper, x0 + (cells + 1) * h)
    width = np.maximum(b - a, 0.0)
    total = 0.0
    for node, weight in zip(_GL_NODES, _GL_WEIGHTS):
        values = interpolate_array(a + width * node, table, row, n, x0, 1.0 / h, degree)
        total += weight * np.dot(width, values)
    return sign * total


def correlate(f, nf, g, ng, c, off, npairs, nrows):
    """``out[r, i] += sum_j f[a, i + j] g[b, j]`` for the ``npairs`` triples ``(r, a, b)`` stored in
    ``c`` from ``off``: ``nrows`` rows of ``nf - ng + 1`` points, flat."""
    nout = nf - ng + 1
    out = np.zeros(nrows * nout)
    for p in range(npairs):
        r = int(c[off + 3 * p]) * nout
        a = int(c[off + 3 * p + 1]) * nf
        b = int(c[off + 3 * p + 2]) * ng
        for j in range(ng):  # the inner loop over i has no reduction in it, so it vectorises
            gj = g[b + j]
            for i in range(nout):
                out[r + i] += f[a + i + j] * gj
    return out
