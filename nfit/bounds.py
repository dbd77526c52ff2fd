"""MINUIT's transform of bounded parameters, and the Hessian it must be handed.

MINUIT minimises a bounded parameter ``x`` in an internal coordinate ``u``: ``x = a + (b - a)/2
(sin u + 1)`` between two limits, ``x = a - 1 + sqrt(u² + 1)`` above a lower one and ``x = b + 1 -
sqrt(u² + 1)`` below an upper one. The chain rule gives the internal Hessian

    H_int[i, j] = x'_i H[i, j] x'_j + δ_ij x''_i g_i

with ``g`` the gradient in external coordinates. Minuit2 releases up to ROOT's fix (root#22700)
drop the second term when they convert a user's Hessian. Away from the minimum, and at a minimum
that lies on a limit (where ``g`` is not zero), MIGRAD then works with a wrong metric: the EDM
comes out in the hundreds and the fit is invalid although the numerical path converges.

:func:`minuit_hessian` hands MINUIT an external matrix whose plain conversion ``x' H x'`` equals
the full internal Hessian (made positive definite and damped far from the minimum), and
:func:`minuit_needs_curvature_term` finds out once per process, from a one-parameter probe,
whether the installed iminuit still needs it (so a fixed iminuit is not corrected twice).

>>> import numpy as np   # 100 (x - 0.8)² on [0, 1] at x = 0.75: x'² H + x'' g = 37.5 + 2.5
>>> hess = np.array([[200.0]]); grad = np.array([-10.0])
>>> h = minuit_hessian(hess, grad, np.array([0.75]), [0.0], [1.0], correct=True)
>>> round(float(h[0, 0] * first_derivative(0.75, 0.0, 1.0) ** 2), 6)   # the true internal Hessian
40.0
"""
from __future__ import annotations

import functools
import math

import numpy as np

from . import linalg

__all__ = ["first_derivative", "curvature_term", "minuit_hessian", "minuit_needs_curvature_term"]


def first_derivative(x, lower, upper) -> float:
    """|dx/du| of MINUIT's transform at the external value ``x`` (1 for a parameter without limits).
    The distances to the limits are floored at the spacing of doubles there: MINUIT keeps its
    internal coordinate a little inside the limit, so an external value exactly on it stands for that.

    >>> first_derivative(0.5, 0.0, 1.0)
    0.5
    """
    return float(_transform_terms(np.array([float(x)]), [lower], [upper], np.zeros(1))[0][0])


def curvature_term(x, lower, upper, gradient) -> float:
    """``g x'' / x'²``: what the external Hessian's diagonal needs so that MINUIT's first-order
    conversion gives the full internal Hessian.

    >>> curvature_term(0.5, 0.0, 1.0, 3.0)     # at the centre x'' = 0
    -0.0
    """
    return float(_transform_terms(np.array([float(x)]), [lower], [upper], np.array([float(gradient)]))[1][0])


def minuit_hessian(hess, grad, x, lowers, uppers, correct=True):
    """The external Hessian to hand MINUIT at ``x``.

    In MINUIT's internal coordinates (where it steps), the matrix is the full internal Hessian
    (:func:`curvature_term` added), made positive definite where it is not (far from the minimum:
    the absolute values of its eigenvalues, in the scale of its diagonal, so that no choice of units
    matters) and damped (Levenberg-Marquardt, on its diagonal) where the Newton step it implies would
    move a parameter with two limits by more than :data:`MAX_INTERNAL_STEP`: MINUIT's sine transform
    wraps around, and a long first step lands anywhere. Near a minimum the step is short and the
    matrix passes exact. ``correct=False`` (an iminuit that adds the curvature itself) hands the
    matrix without the curvature term.

    >>> import numpy as np
    >>> minuit_hessian(np.array([[-1.0]]), np.array([0.0]), np.array([0.0]), [None], [None])
    array([[1.]])
    """
    grad = np.asarray(grad, dtype=float)
    jac, curvature = _transform_terms(np.asarray(x, dtype=float), lowers, uppers, grad)
    exact = np.array(hess, dtype=float)
    exact.flat[::len(jac) + 1] += curvature  # the diagonal (np.diag and np.outer cost more than the algebra)
    scale = jac[:, None] * jac
    internal = exact * scale
    wrapping = [lo is not None and hi is not None for lo, hi in zip(lowers, uppers)]
    # near a minimum (the usual case) the matrix is positive definite and its step short: one solve tells
    step = linalg.solve_if_positive(internal, grad * jac)
    if step is not None and _short(step, wrapping):
        out = exact
    else:
        out = _damped(_positive(internal), grad * jac, wrapping) / scale
    return out if correct else out - np.diag(curvature)


def _short(step, wrapping) -> bool:
    """Whether ``step`` moves no wrapping coordinate by more than :data:`MAX_INTERNAL_STEP` (False on NaN)."""
    return all(abs(s) <= MAX_INTERNAL_STEP for s, wraps in zip(step.tolist(), wrapping) if wraps)


def _transform_terms(x, lowers, uppers, grad):
    """:func:`first_derivative` and :func:`curvature_term` of every parameter at once: between two
    limits ``x' = (b - a)/2 cos u``, above a lower one ``x' = u/sqrt(u² + 1)`` (below an upper one
    the same with the sign changed), written in the distances to the limits. (A loop over floats:
    for the few parameters of a fit it is faster than array operations.)"""
    n = len(x)
    jac, curvature = [1.0] * n, [0.0] * n
    for i, (lo, hi) in enumerate(zip(lowers, uppers)):
        if lo is None and hi is None:
            continue
        xi, gi = float(x[i]), float(grad[i])
        scale = max(abs(xi), 1.0, abs(lo) if lo is not None else 0.0, abs(hi) if hi is not None else 0.0)
        floor = 4 * math.ulp(scale)
        if lo is not None and hi is not None:
            below, above = max(xi - lo, floor), max(hi - xi, floor)
            jac[i] = math.sqrt(below * above)  # (b - a)/2 cos u
            curvature[i] = -gi * (below - above) / (2.0 * below * above)
        elif lo is not None:
            below = max(xi - lo, floor)
            jac[i] = math.sqrt(below * (below + 2.0)) / (below + 1.0)
            curvature[i] = gi / ((below + 1.0) * below * (below + 2.0))
        else:
            above = max(hi - xi, floor)
            jac[i] = math.sqrt(above * (above + 2.0)) / (above + 1.0)
            curvature[i] = -gi / ((above + 1.0) * above * (above + 2.0))
    return np.array(jac), np.array(curvature)


MAX_INTERNAL_STEP = 0.5  # radians of MINUIT's sine transform a Newton step may move a doubly bounded parameter


def _positive(matrix):
    """``matrix`` if it is positive definite, else its eigenvalues replaced by their absolute values
    (floored) in the scale of its diagonal."""
    if linalg.is_positive_definite(matrix):
        return matrix
    scale = np.sqrt(np.maximum(np.abs(np.diag(matrix)), 1e-300))
    unit = matrix / scale[:, None] / scale[None, :]
    values, vectors = np.linalg.eigh(0.5 * (unit + unit.T))
    values = np.maximum(np.abs(values), 1e-8 * np.max(np.abs(values)) + 1e-300)
    return ((vectors * values) @ vectors.T) * scale[:, None] * scale[None, :]


def _damped(matrix, gradient, wrapping):
    """``matrix`` plus ``lam`` times its diagonal, with the smallest ``lam`` (of a doubling sequence)
    for which the Newton step moves no wrapping coordinate by more than :data:`MAX_INTERNAL_STEP`."""
    if not any(wrapping):
        return matrix
    diagonal = np.diag(np.diag(matrix))
    lam = 0.0
    for _ in range(60):
        trial = matrix + lam * diagonal if lam else matrix
        if _short(linalg.solve(trial, gradient), wrapping):  # NaN where singular: never short enough
            return trial
        lam = 1e-3 if lam == 0.0 else 2.0 * lam
    return trial


@functools.lru_cache(maxsize=None)
def minuit_needs_curvature_term() -> bool:
    """Whether the installed iminuit converts a user's Hessian without the transform's curvature.

    Probe: (x - 2)² on [0, 1] at x = 0.75, HESSE with the exact Hessian. A correct conversion gives
    the external variance 2 x'² / (2 x'² + x'' g) = 0.375, the first-order one 1.0.

    >>> isinstance(minuit_needs_curvature_term(), bool)
    True
    """
    import iminuit

    m = iminuit.Minuit(lambda p: (p[0] - 2.0) ** 2, [0.75], grad=lambda p: np.array([2.0 * (p[0] - 2.0)]),
                       hessian=lambda p: np.array([[2.0]]))
    m.errordef = 1.0
    m.limits = [(0.0, 1.0)]
    m.print_level = 0
    m.hesse()
    if m.nhessian == 0:
        return False  # HESSE differentiated numerically (internally): nothing to learn, nothing dropped
    return bool(abs(m.covariance[0, 0] - 1.0) < 1e-6)
