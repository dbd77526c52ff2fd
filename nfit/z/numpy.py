"""zfit's ``z.numpy`` (``import nfit.z.numpy as znp``): NumPy's names, traceable where it matters.

The functions of :mod:`nfit.z` (``exp``, ``log``, ``sqrt``, ``where``, ``maximum``, ...) work on
symbolic values too, so a custom shape written with them is traced into the fused kernel. Every other
name is NumPy's own (``znp.linspace``, ``znp.sum``, ``znp.asarray``, ...): fine on numbers and arrays;
given a symbolic value (while a shape is being traced) it raises, the tracing stops, and the shape
runs on the eager path, which nfit says once.

>>> import nfit.z.numpy as znp
>>> float(znp.exp(0.0)), znp.linspace(0, 1, 3).tolist()
(1.0, [0.0, 0.5, 1.0])
"""
from __future__ import annotations

import numpy as _np

from . import core as _z

_TRACEABLE = {
    "exp": _z.exp, "log": _z.log, "sqrt": _z.sqrt, "sin": _z.sin, "cos": _z.cos, "tan": _z.tan,
    "arctan": _z.atan, "tanh": _z.tanh, "sinh": _z.sinh, "cosh": _z.cosh, "abs": _z.abs,
    "absolute": _z.abs, "where": _z.where, "maximum": _z.maximum, "minimum": _z.minimum,
    "log1p": _z.log1p, "expm1": _z.expm1, "arcsinh": _z.asinh, "power": _z.pow, "square": _z.square,
    "pi": _z.pi, "e": _np.e, "inf": _np.inf, "nan": _np.nan, "float64": _np.float64,
}
_PASS_SYMBOLS = {"asarray", "array", "asanyarray"}  # the identity on a symbolic value


def _numpy_function(name):
    function = getattr(_np, name)
    if not callable(function) or isinstance(function, type):
        return function

    def wrapped(*args, **kwargs):
        if _z.is_symbolic(*args, *kwargs.values()):
            if name in _PASS_SYMBOLS and len(args) == 1:
                return args[0]
            raise TypeError(f"znp.{name} cannot be traced into a compiled kernel; use nfit.z math "
                            "(znp.exp, znp.where, ...) or evaluate the shape on the eager path")
        return function(*args, **kwargs)

    wrapped.__name__ = name
    wrapped.__doc__ = f"NumPy's ``{name}``, refusing symbolic values (see the module's docstring)."
    return wrapped


def __getattr__(name):
    if name in _TRACEABLE:
        return _TRACEABLE[name]
    if name.startswith("__") or not hasattr(_np, name):
        raise AttributeError(f"module 'nfit.z.numpy' has no attribute {name!r} (nor has NumPy)")
    value = _made.get(name)
    if value is None:
        value = _made[name] = _numpy_function(name)
    return value


_made: dict = {}  # wrapped NumPy functions, made on first use (kept apart from the module's namespace)


def __dir__():
    return sorted(set(dir(_np)) | set(_TRACEABLE))
