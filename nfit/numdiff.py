"""Numerical derivatives of a loss by numdifftools, in coordinates scaled to each parameter's
uncertainty so that one step size suits every parameter.

>>> import numpy as np
>>> h = hessian(lambda x: x[0] ** 2 + 3 * x[0] * x[1], np.array([1.0, 2.0]), np.array([0.1, 0.1]))
>>> np.round(h, 6).tolist()
[[2.0, 3.0], [3.0, 0.0]]
"""
from __future__ import annotations

import numpy as np


def hessian(function, x0, scale) -> np.ndarray:
    """Hessian of ``function`` at ``x0``; ``scale`` is a rough size of each parameter's error."""
    import numdifftools as nd

    x0 = np.asarray(x0, dtype=float)
    scale = np.asarray(scale, dtype=float)

    def scaled(u):
        return function(x0 + u * scale)

    h = np.atleast_2d(nd.Hessian(scaled, step=nd.MaxStepGenerator(base_step=0.1))(np.zeros_like(x0)))
    return h / np.outer(scale, scale)


def gradient(function, x0, scale) -> np.ndarray:
    """Gradient of ``function`` at ``x0``; ``scale`` as for :func:`hessian`."""
    import numdifftools as nd

    x0 = np.asarray(x0, dtype=float)
    scale = np.asarray(scale, dtype=float)

    def scaled(u):
        return function(x0 + u * scale)

    g = np.atleast_1d(nd.Gradient(scaled, step=nd.MaxStepGenerator(base_step=0.1))(np.zeros_like(x0)))
    return g / scale
