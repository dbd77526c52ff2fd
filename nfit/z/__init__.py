"""Math for custom shapes and composed parameters: ``z.exp``, ``z.log``, ``z.where``, ...

Each function works on plain numbers and NumPy arrays (the eager path) and on nfit's symbolic
values, so that the same Python function can be *traced* into an expression tree and fused into
a compiled kernel.

>>> from nfit import z
>>> float(z.exp(0.0)), float(z.where(1.0 > 0.0, 2.0, 3.0))
(1.0, 2.0)
>>> a = z.Symbol("a")
>>> (z.exp(a) * 2).to_code({"a": "p0"})
'(math.exp(p0) * 2.0)'
"""
from __future__ import annotations

from . import core, numpy, random
from .core import *  # noqa: F403 - the public math, listed in core.__all__
from .core import _NUMPY_FUNCS, _SCALAR_CODE, _trace_state, as_expr, tracing  # noqa: F401 - used across nfit

__all__ = [*core.__all__, "numpy", "random", "tracing"]  # noqa: F405
