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
"""
from __future__ import annotations

import numpy as np

__all__ = ["is_positive_definite", "solve", "inverse"]

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
        factor = _lapack.cholesky_lo(np.asarray(matrix, dtype=float), signature="d->d")
    return not np.isnan(factor).any()


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
