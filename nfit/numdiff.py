"""Numerical derivatives of a loss by numdifftools, in coordinates scaled to each parameter's
uncertainty so that one step size suits every parameter.

>>> import numpy as np
>>> h = hessian(lambda x: x[0] ** 2 + 3 * x[0] * x[1], np.array([1.0, 2.0]), np.array([0.1, 0.1]))
>>> np.round(h, 6).tolist()
[[2.0, 3.0], [3.0, 0.0]]
"""
from __future__ import annotations

import numpy as np


def _scaled(derivative, function, x0, scale):
    import numdifftools as nd

    x0 = np.asarray(x0, dtype=float)
    scale = np.asarray(scale, dtype=float)

    def in_units_of_scale(u):
        return function(x0 + u * scale)

    method = getattr(nd, derivative)(in_units_of_scale, step=nd.MaxStepGenerator(base_step=0.1))
    return method(np.zeros_like(x0)), scale


def hessian(function, x0, scale) -> np.ndarray:
    """Hessian of ``function`` at ``x0``; ``scale`` is a rough size of each parameter's error."""
    h, scale = _scaled("Hessian", function, x0, scale)
    return np.atleast_2d(h) / np.outer(scale, scale)


def gradient(function, x0, scale) -> np.ndarray:
    """Gradient of ``function`` at ``x0``; ``scale`` as for :func:`hessian`.

    >>> gradient(lambda x: x[0] ** 2, np.array([3.0]), np.array([1.0])).round(6).tolist()
    [6.0]
    """
    g, scale = _scaled("Gradient", function, x0, scale)
    return np.atleast_1d(g) / scale
