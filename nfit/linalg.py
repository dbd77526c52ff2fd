"""Linear algebra on the few-by-few matrices of a fit (a Hessian, a covariance), on LAPACK directly.

``np.linalg``'s functions check their arguments' types and shapes and open an error-state
context on every call, which for an 8 x 8 matrix takes longer than the algebra; a fit does this
a few dozen times. The tests and solves of symmetric positive definite matrices here call
LAPACK's Cholesky routines through SciPy's wrappers (``dpotrf``, ``dposv``: about 2 µs for an
8 x 8 matrix against 12 µs for the Cholesky test and solve through NumPy), and the general solve
and inverse NumPy's LAPACK gufuncs, without ``np.linalg``'s checks.

>>> import numpy as np
>>> a = np.array([[4.0, 1.0], [1.0, 3.0]])
>>> is_positive_definite(a), is_positive_definite(-a)
(True, False)
>>> np.allclose(a @ solve(a, np.array([1.0, 2.0])), [1.0, 2.0]), np.allclose(inverse(a) @ a, np.eye(2))
(True, True)
>>> solve_if_positive(-a, np.array([1.0, 2.0])) is None, inverse_if_positive(-a) is None
(True, True)
"""
from __future__ import annotations

import math

import numpy as np
from scipy.linalg.lapack import dposv, dpotrf

__all__ = ["is_positive_definite", "solve", "inverse", "solve_if_positive", "inverse_if_positive"]

try:
    from numpy.linalg import _umath_linalg as _lapack
except ImportError:  # pragma: no cover - a NumPy without them
    _lapack = None


def is_positive_definite(matrix) -> bool:
    """Whether the symmetric ``matrix`` has a Cholesky factor (its NaN entries: it has none)."""
    matrix = np.asarray(matrix, dtype=float)
    if not matrix.size:
        return True
    factor, info = dpotrf(matrix)
    return _factored(factor, info)


def _factored(factor, info) -> bool:
    """Whether LAPACK's Cholesky factorisation succeeded. LAPACK stops at a diagonal entry that is not
    positive, but a NaN elsewhere passes through: a NaN entry of the (upper) triangle makes every later
    diagonal entry of the factor NaN, so the last one tells."""
    return info == 0 and not math.isnan(factor[-1, -1])


def solve_if_positive(matrix, vector):
    """``matrix⁻¹ vector`` where the symmetric ``matrix`` is positive definite, else None (one
    LAPACK call, ``dposv``, factorises and solves)."""
    matrix = np.asarray(matrix, dtype=float)
    vector = np.asarray(vector, dtype=float)
    if not matrix.size:
        return vector.copy()
    factor, solution, info = dposv(matrix, vector)
    return solution if _factored(factor, info) else None


def inverse_if_positive(matrix):
    """``matrix⁻¹`` where the symmetric ``matrix`` is positive definite, else None."""
    matrix = np.asarray(matrix, dtype=float)
    if not matrix.size:
        return matrix.copy()
    factor, solution, info = dposv(matrix, np.eye(len(matrix)))
    return solution if _factored(factor, info) else None


def solve(matrix, vector) -> np.ndarray:
    """``matrix⁻¹ vector`` (NaN or inf entries where ``matrix`` is singular)."""
    if _lapack is None:
        try:
            return np.linalg.solve(matrix, vector)
        except np.linalg.LinAlgError:
            return np.full(np.shape(vector), np.nan)
    with np.errstate(all="ignore"):
        return _lapack.solve1(np.asarray(matrix, dtype=float), np.asarray(vector, dtype=float), signature="dd->d")


def inverse(matrix) -> np.ndarray:
    """``matrix⁻¹`` (NaN or inf entries where ``matrix`` is singular)."""
    if _lapack is None:
        try:
            return np.linalg.inv(matrix)
        except np.linalg.LinAlgError:
            return np.full(np.shape(matrix), np.nan)
    with np.errstate(all="ignore"):
        return _lapack.inv(np.asarray(matrix, dtype=float), signature="d->d")
