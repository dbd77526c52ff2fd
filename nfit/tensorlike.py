"""Results that answer zfit's (TensorFlow's) ``.numpy()``: what nfit returns are NumPy arrays and
Python floats, and zfit scripts call ``.numpy()`` on them (``pdf.pdf(x).numpy()``,
``param.value().numpy()``). :class:`Array` and :class:`Scalar` are those same arrays and floats with
that one method more; everything else about them is NumPy's and Python's.

>>> import numpy as np
>>> a = as_result(np.array([1.0, 2.0]))
>>> a.numpy(), a * 2
(array([1., 2.]), array([2., 4.]))
>>> Scalar(0.5).numpy()
np.float64(0.5)
"""
from __future__ import annotations

import functools

import numpy as np

__all__ = ["Array", "Scalar", "as_result", "numpy_result"]


class Array(np.ndarray):
    """A NumPy array with zfit's ``.numpy()`` (the plain array). It prints as NumPy's arrays do."""

    def numpy(self) -> np.ndarray:
        return self.view(np.ndarray)

    def __repr__(self):
        return repr(self.view(np.ndarray))


class Scalar(float):
    """A float with zfit's ``.numpy()`` (a NumPy float64)."""

    __slots__ = ()

    def numpy(self) -> np.float64:
        return np.float64(self)


def as_result(value):
    """``value`` with ``.numpy()``: arrays as :class:`Array`, floats as :class:`Scalar`, the rest as is."""
    if isinstance(value, np.ndarray):
        return value if isinstance(value, Array) else value.view(Array)
    if isinstance(value, (float, np.floating)) and not isinstance(value, Scalar):
        return Scalar(value)
    return value


def numpy_result(method):
    """Decorate a public method so that its result answers ``.numpy()`` (see :func:`as_result`)."""

    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        return as_result(method(*args, **kwargs))

    return wrapper
