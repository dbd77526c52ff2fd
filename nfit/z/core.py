"""The traceable math of :mod:`nfit.z`: symbolic expressions and the functions that build them."""
from __future__ import annotations

import math
import threading

import numpy as np

__all__ = [
    "Expr", "Symbol", "is_symbolic", "exp", "log", "sqrt", "erf", "erfc", "sin", "cos", "tan",
    "arctan", "atan", "tanh", "sinh", "cosh", "abs", "where", "pow", "square", "maximum",
    "minimum", "log1p", "expm1", "pi", "unstack_x", "asinh", "arcsinh", "power", "lgamma",
    "function", "constant", "convert_to_tensor", "py_function",
]

pi = math.pi

_trace_state = threading.local()


def tracing() -> bool:
    """Whether the calling thread is tracing a function into an expression right now."""
    return getattr(_trace_state, "depth", 0) > 0

_BINARY = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "**",
           "lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
_NUMPY_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
                 "pow": np.power, "lt": np.less, "le": np.less_equal, "gt": np.greater,
                 "ge": np.greater_equal, "eq": np.equal, "ne": np.not_equal}


class Expr:
    """A node of a traced expression: an operation and its arguments.

    ``op`` is ``"sym"`` (a named input), ``"const"``, a binary operator name (``"add"``...),
    ``"neg"``, ``"call"`` (a math function) or ``"where"``.
    """

    __slots__ = ("op", "args")
    __array_ufunc__ = None  # make NumPy hand arithmetic with arrays back to us

    def __init__(self, op, *args):
        self.op = op
        self.args = args

    # arithmetic builds the tree
    def _bin(self, op, other, reflected=False):
        other = as_expr(other)
        return Expr(op, other, self) if reflected else Expr(op, self, other)

    def __add__(self, o): return self._bin("add", o)
    def __radd__(self, o): return self._bin("add", o, True)
    def __sub__(self, o): return self._bin("sub", o)
    def __rsub__(self, o): return self._bin("sub", o, True)
    def __mul__(self, o): return self._bin("mul", o)
    def __rmul__(self, o): return self._bin("mul", o, True)
    def __truediv__(self, o): return self._bin("div", o)
    def __rtruediv__(self, o): return self._bin("div", o, True)
    def __pow__(self, o): return self._bin("pow", o)
    def __rpow__(self, o): return self._bin("pow", o, True)
    def __lt__(self, o): return self._bin("lt", o)
    def __le__(self, o): return self._bin("le", o)
    def __gt__(self, o): return self._bin("gt", o)
    def __ge__(self, o): return self._bin("ge", o)
    def __neg__(self): return Expr("neg", self)
    def __pos__(self): return self
    def __abs__(self): return Expr("call", "abs", self)

    def __eq__(self, o): return self._bin("eq", o)
    def __ne__(self, o): return self._bin("ne", o)
    __hash__ = object.__hash__

    def __bool__(self):
        raise TypeError(
            "a symbolic nfit value has no truth value: use z.where(cond, a, b) instead of if/else, "
            "so that the expression can be compiled"
        )

    def __float__(self):
        raise TypeError("a symbolic nfit value cannot be turned into a float while tracing")

    def value(self):
        return self

    # ------------------------------------------------------------------ inspection
    def symbols(self) -> set:
        if self.op == "sym":
            return {self.args[0]}
        if self.op == "const":
            return set()
        found = set()
        for a in self.args:
            if isinstance(a, Expr):
                found |= a.symbols()
        return found

    def to_code(self, names) -> str:
        """Python source for one scalar evaluation; ``names`` maps symbol keys to code."""
        op, args = self.op, self.args
        if op == "sym":
            return names[args[0]]
        if op == "const":
            return repr(float(args[0]))
        if op in _BINARY:
            return f"({args[0].to_code(names)} {_BINARY[op]} {args[1].to_code(names)})"
        if op == "neg":
            return f"(-{args[0].to_code(names)})"
        if op == "where":
            c, a, b = (x.to_code(names) for x in args)
            return f"({a} if {c} else {b})"
        if op == "call":
            fname, *rest = args
            code = ", ".join(x.to_code(names) for x in rest)
            return f"{_SCALAR_CODE[fname]}({code})"
        raise ValueError(f"unknown expression node {op!r}")

    def evaluate(self, values):
        """Evaluate with NumPy; ``values`` maps symbol keys to numbers or arrays."""
        op, args = self.op, self.args
        if op == "sym":
            return values[args[0]]
        if op == "const":
            return args[0]
        if op in _NUMPY_BINARY:
            return _NUMPY_BINARY[op](args[0].evaluate(values), args[1].evaluate(values))
        if op == "neg":
            return -args[0].evaluate(values)
        if op == "where":
            return np.where(*(x.evaluate(values) for x in args))
        if op == "call":
            fname, *rest = args
            return _NUMPY_FUNCS[fname](*(x.evaluate(values) for x in rest))
        raise ValueError(f"unknown expression node {op!r}")

    def apply(self, values, ops):
        """Evaluate with an operations object ``ops`` (``const``, ``binary``, ``neg``, ``call``,
        ``where``); symbols come from ``values``. Used to build derivatives (:mod:`nfit.ad`)."""
        op, args = self.op, self.args
        if op == "sym":
            return values[args[0]]
        if op == "const":
            return ops.const(args[0])
        if op in _BINARY:
            return ops.binary(op, args[0].apply(values, ops), args[1].apply(values, ops))
        if op == "neg":
            return ops.neg(args[0].apply(values, ops))
        if op == "where":
            return ops.where(*(x.apply(values, ops) for x in args))
        if op == "call":
            fname, *rest = args
            return ops.call(fname, *(x.apply(values, ops) for x in rest))
        if op == "node":  # another model evaluated inside a traced shape (see nfit.pdf.custom)
            payload, *rest = args
            return ops.node(payload, *(x.apply(values, ops) for x in rest))
        raise ValueError(f"unknown expression node {op!r}")

    def __repr__(self):
        try:
            return f"Expr({self.to_code(_ReprNames())})"
        except ValueError:  # a nested pdf's node has no code of its own
            return f"Expr({self.op})"


class _ReprNames(dict):
    def __missing__(self, key):
        return getattr(key, "name", str(key))


def Symbol(key) -> Expr:
    """A named symbolic input (a parameter, an observable) for tracing."""
    return Expr("sym", key)


def as_expr(value) -> Expr:
    if isinstance(value, Expr):
        return value
    if hasattr(value, "_as_symbol"):
        return value._as_symbol()
    if isinstance(value, (bool, int, float, np.floating, np.integer)) or (
        isinstance(value, np.ndarray) and value.size == 1 and value.dtype != object
    ):  # a one-element array: zfit's integrals read limits as arrays of shape (1,)
        return Expr("const", float(np.asarray(value).reshape(())))
    if isinstance(value, np.ndarray) and value.size == 1:
        return as_expr(value.reshape(())[()])
    raise TypeError(f"cannot use {type(value).__name__} inside a traced nfit expression")


def is_symbolic(*values) -> bool:
    return any(isinstance(v, Expr) or hasattr(v, "_as_symbol") for v in values)


def _erf(x):
    if np.ndim(x) == 0:
        return math.erf(float(x))
    from scipy.special import erf as _scipy_erf

    return _scipy_erf(x)


def _lgamma(x):
    from scipy.special import gammaln

    return gammaln(x)


def _erfc(x):
    if np.ndim(x) == 0:
        return math.erfc(float(x))
    from scipy.special import erfc as _scipy_erfc

    return _scipy_erfc(x)


_NUMPY_FUNCS = {
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "erf": _erf, "erfc": _erfc, "sin": np.sin,
    "cos": np.cos, "tan": np.tan, "atan": np.arctan, "tanh": np.tanh, "sinh": np.sinh,
    "cosh": np.cosh, "abs": np.abs, "maximum": np.maximum, "minimum": np.minimum,
    "log1p": np.log1p, "expm1": np.expm1, "asinh": np.arcsinh, "lgamma": _lgamma,
}
_SCALAR_CODE = {
    "exp": "math.exp", "log": "math.log", "sqrt": "math.sqrt", "erf": "math.erf",
    "erfc": "math.erfc", "sin": "math.sin", "cos": "math.cos", "tan": "math.tan",
    "atan": "math.atan", "tanh": "math.tanh", "sinh": "math.sinh", "cosh": "math.cosh",
    "abs": "abs", "maximum": "max", "minimum": "min", "log1p": "math.log1p", "expm1": "math.expm1",
    "asinh": "math.asinh", "lgamma": "math.lgamma",
}


def _function(fname):
    numpy_func = _NUMPY_FUNCS[fname]

    def func(*args):
        if is_symbolic(*args):
            return Expr("call", fname, *(as_expr(a) for a in args))
        return numpy_func(*args)

    func.__name__ = fname
    func.__doc__ = f"``{fname}`` on numbers, arrays or symbolic values."
    return func


exp = _function("exp")
log = _function("log")
sqrt = _function("sqrt")
erf = _function("erf")
erfc = _function("erfc")
sin = _function("sin")
cos = _function("cos")
tan = _function("tan")
atan = arctan = _function("atan")
tanh = _function("tanh")
sinh = _function("sinh")
cosh = _function("cosh")
abs = _function("abs")  # noqa: A001 - zfit spells it so
maximum = _function("maximum")
minimum = _function("minimum")
log1p = _function("log1p")
expm1 = _function("expm1")
asinh = arcsinh = _function("asinh")
lgamma = _function("lgamma")


def pow(x, y):  # noqa: A001
    """``x ** y`` on numbers, arrays or symbolic values."""
    return x ** y


power = pow


def square(x):
    """``x * x``."""
    return x * x


def unstack_x(x):
    """The observables' columns of ``x`` (as zfit's ``z.unstack_x``): one column alone, else a list."""
    return x.unstack_x() if hasattr(x, "unstack_x") else x


def where(cond, a, b):
    """``a`` where ``cond`` holds, else ``b`` (elementwise); compiles to a branch."""
    if is_symbolic(cond, a, b):
        return Expr("where", as_expr(cond), as_expr(a), as_expr(b))
    return np.where(cond, a, b)


# ---------------------------------------------------------------------- zfit's z API around the math
def function(func=None, **options):
    """zfit's ``@z.function`` (a TensorFlow graph decorator there): nothing to do here, as nfit traces
    or compiles a model's functions itself. Works with and without arguments.

    >>> @function
    ... def twice(x):
    ...     return 2 * x
    >>> twice(3.0)
    6.0
    """
    if func is None:
        return lambda f: f
    return func


def constant(value, dtype=None):
    """A constant, as a NumPy float64 array (a scalar for a number), like zfit's ``z.constant``.

    >>> constant(2)
    np.float64(2.0)
    """
    array = np.asarray(value, dtype=np.float64 if dtype is None else dtype)
    return array[()] if array.ndim == 0 else array


convert_to_tensor = constant


def py_function(func, inp, Tout=None, name=None):  # noqa: N803 - zfit's (TensorFlow's) spelling
    """zfit's ``z.py_function``: call the Python function ``func`` on the inputs ``inp``.

    >>> py_function(lambda a, b: a + b, [1.0, 2.0])
    3.0
    """
    return func(*inp)
