"""Numerical normalisation: composite Gauss–Legendre quadrature on fixed nodes.

A range is cut into ``PANELS`` equal panels with ``ORDER`` Gauss–Legendre nodes each, the two end
panels cut again geometrically (``GRADED`` levels) for densities with an edge at an end. The nodes
are fixed by the range alone (not by parameter values), so a compiled kernel takes them as
constants and the same sum gives the integral's derivatives (it is a weighted sum of the
integrand's Duals). With 64 panels of 16 nodes, smooth shapes integrate to about 1e-13 relative;
a peak narrower than a panel (range / 64) needs ``panels=`` raised on the shape.

>>> import numpy as np
>>> x, w = nodes(0.0, np.pi)
>>> round(float(np.dot(w, np.sin(x))), 12)
2.0
"""
from __future__ import annotations

import functools

import numpy as np

PANELS = 64
ORDER = 16


GRADED = 12  # levels of geometric refinement toward each end of the range


@functools.lru_cache(maxsize=256)
def _nodes(lower, upper, panels, order):
    t, w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(lower, upper, panels + 1)
    # the end panels are cut geometrically (by 4 each level): a density with a square-root or
    # logarithmic edge at an end of the range (ARGUS at its endpoint) integrates accurately too
    width = edges[1] - edges[0]
    left = lower + width * 0.25 ** np.arange(1, GRADED + 1)
    right = upper - width * 0.25 ** np.arange(1, GRADED + 1)
    edges = np.unique(np.concatenate([edges, left, right]))
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    x = (mid[:, None] + half[:, None] * t[None, :]).ravel()
    weights = (half[:, None] * w[None, :]).ravel()
    x.flags.writeable = False
    weights.flags.writeable = False
    return x, weights


def nodes(lower, upper, panels=PANELS, order=ORDER):
    """Quadrature nodes and weights on ``[lower, upper]`` (read-only arrays)."""
    return _nodes(float(lower), float(upper), int(panels), int(order))
