"""Linear algebra on the few-by-few matrices of a fit (a Hessian, a covariance), on NumPy's LAPACK
gufuncs directly.

``np.linalg``'s functions check their arguments' types and shapes and open an error-state
context on every call, which for an 8 x 8 matrix takes longer than the algebra; a fit does this
a few dozen times. Here the arguments are already float64 square matrices (and vectors), so the
gufuncs are called as they are; where this NumPy has none, ``np.linalg`` does the work.

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

__all__ = ["is_positive_definite", "solve", "inverse", "solve_if_positive", "inverse_if_positive"]

try:
    from numpy.linalg import _umath_linalg as _lapack
except ImportError:  # pragma: no cover - a NumPy without them
    _lapack = None


def is_positive_definite(matrix) -> bool:
    """Whether the symmetric ``matrix`` has a Cholesky factor (its NaN entries: it has none)."""
    if _lapack is None:
        try:
            np.linalg.cholesky(matrix)
            return True
        except np.linalg.LinAlgError:
            return False
    with np.errstate(all="ignore"):  # a failed factor is NaN, and raises the FPU's invalid flag
        return _has_factor(np.asarray(matrix, dtype=float))


def _has_factor(matrix) -> bool:
    """Whether ``matrix`` has a Cholesky factor; called inside an error state that ignores "invalid".
    A factor that fails comes back all NaN, and a NaN entry of the (lower) triangle makes every
    later diagonal entry NaN: the last one tells."""
    if not matrix.size:
        return True
    return not math.isnan(_lapack.cholesky_lo(matrix, signature="d->d")[-1, -1])


def solve_if_positive(matrix, vector):
    """``matrix⁻¹ vector`` where the symmetric ``matrix`` is positive definite, else None (one
    error-state context for both steps: on a fit's small matrices it costs as much as the algebra)."""
    if _lapack is None:
        return solve(matrix, vector) if is_positive_definite(matrix) else None
    matrix = np.asarray(matrix, dtype=float)
    with np.errstate(all="ignore"):
        if not _has_factor(matrix):
            return None
        return _lapack.solve1(matrix, np.asarray(vector, dtype=float), signature="dd->d")


def inverse_if_positive(matrix):
    """``matrix⁻¹`` where the symmetric ``matrix`` is positive definite, else None."""
    if _lapack is None:
        return inverse(matrix) if is_positive_definite(matrix) else None
    matrix = np.asarray(matrix, dtype=float)
    with np.errstate(all="ignore"):
        return _lapack.inv(matrix, signature="d->d") if _has_factor(matrix) else None


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
