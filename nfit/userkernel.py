"""Custom shapes from a scalar function: the ``@nfit.kernel`` decorator.

The function takes the observable first, then the parameters, and returns the unnormalised
density; write it with ``math`` or ``numpy`` functions on scalars (Numba compiles it into the
fused kernel; the eager path calls it with arrays where it can, else event by event). Attach a
closed-form integral with ``@k.integral`` and the partial derivatives with ``@k.gradient``; without
an integral the shape is normalised numerically (:mod:`nfit.quadrature`), without a gradient the
loss uses numerical derivatives.

>>> import nfit
>>> @nfit.kernel
... def breit_wigner(x, m, gamma):
...     return 1.0 / ((x - m) ** 2 + 0.25 * gamma ** 2)
>>> obs = nfit.Space("m", limits=(5.0, 5.6))
>>> bw = breit_wigner.pdf(obs=obs, m=5.28, gamma=0.05)
>>> round(float(bw.integrate((5.0, 5.6))[0]), 9)
1.0
"""
from __future__ import annotations

import hashlib
import inspect
import textwrap
import types

import numpy as np

__all__ = ["kernel", "Kernel", "lookup"]

_registry: dict = {}


def lookup(name):
    """The registered kernel called ``name`` (generated kernels find user kernels through this)."""
    try:
        return _registry[name]
    except KeyError:
        raise LookupError(
            f"the user kernel {name!r} is not defined in this process: define it (run its @nfit.kernel "
            "decorator) before building a loss that uses it"
        ) from None


def _source(func) -> str:
    """The function's source, then what compiled code bakes in besides it (:func:`_environment`):
    the kernel's part of the cache signature, so that a changed constant is a new kernel."""
    return _text(func) + "".join(_environment(func, {id(func)}))


def _text(func) -> str:
    try:
        return textwrap.dedent(inspect.getsource(func))
    except (OSError, TypeError):
        code = func.__code__
        return repr((code.co_code, code.co_consts, code.co_names)) + "\n"


def _environment(func, seen) -> list:
    """Lines describing the global names and closure variables ``func`` reads: Numba compiles their
    values in as constants (numbers, strings, tuples, arrays), and the functions it calls with them
    (their source and environment in turn)."""
    names = set()

    def collect(code):
        names.update(code.co_names)
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                collect(const)

    collect(func.__code__)
    namespace = getattr(func, "__globals__", {})
    lines = [_describe(name, namespace[name], seen, names) for name in sorted(names) if name in namespace]
    for name, cell in zip(func.__code__.co_freevars, func.__closure__ or ()):
        try:
            lines.append(_describe(name, cell.cell_contents, seen, names))
        except ValueError:  # an empty cell
            pass
    return lines


def _describe(name, value, seen, attributes=frozenset(), depth=0) -> str:
    """One line (or more) describing ``value`` as compiled code bakes it in. For a module, the
    attributes the function reads from it too (``cfg.FACTOR``: Numba freezes its value), by the
    names in the function's code, through nested modules."""
    plain = (bool, int, float, complex, str, bytes, type(None), np.generic)
    if isinstance(value, plain) or (isinstance(value, tuple) and all(isinstance(v, plain) for v in value)):
        return f"# {name} = {value!r}\n"
    if isinstance(value, np.ndarray):
        digest = hashlib.sha256(np.ascontiguousarray(value).tobytes()).hexdigest()
        return f"# {name} = array {value.dtype} {value.shape} {digest}\n"
    if isinstance(value, types.ModuleType):
        line = f"# {name} = module {value.__name__}\n"
        if depth < 3:
            for attribute in sorted(attributes):
                if attribute in vars(value):
                    line += _describe(f"{name}.{attribute}", vars(value)[attribute], seen, attributes, depth + 1)
        return line
    function = getattr(value, "py_func", value)  # a Numba dispatcher: its Python function
    if isinstance(function, types.FunctionType):
        if id(function) in seen:
            return f"# {name} = function {function.__qualname__}\n"
        seen.add(id(function))
        return (f"# {name} = function {function.__qualname__}:\n" + _text(function)
                + "".join(_environment(function, seen)))
    return f"# {name} = {type(value).__module__}.{type(value).__qualname__}\n"


class Kernel:
    """The math of one user shape: ``pdf`` and, when attached, ``integral`` and derivatives.

    It behaves like a module of ``nfit.kernels``: ``PARAMS``, ``pdf(x, *params)``,
    ``integral(lower, upper, *params)``, ``pdf_grad(x, *params)`` (value, then partials).
    """

    def __init__(self, func, n_obs=1):
        params = list(inspect.signature(func).parameters)
        if not isinstance(n_obs, int) or n_obs < 1:
            raise ValueError(f"@nfit.kernel {func.__name__}: n_obs must be a positive integer, got {n_obs!r}")
        if len(params) < n_obs:
            raise TypeError(f"@nfit.kernel {func.__name__}: the function needs the {n_obs} observable(s) as its first "
                            "argument(s)")
        self.n_obs = n_obs
        self.OBS = tuple(params[:n_obs])
        self.PARAMS = tuple(params[n_obs:])
        self.func_name = func.__name__
        self._user = {"pdf": func}
        self._functions = {"pdf": func}
        self._register()

    # ------------------------------------------------------------------ decorators
    def integral(self, func):
        """Attach ``integral(lower, upper, *params)``, the closed-form integral of the density
        (one observable; shapes in several are normalised numerically)."""
        if self.n_obs != 1:
            raise TypeError(f"{self.func_name}: a closed-form integral is for kernels of one observable; "
                            f"this one has {self.n_obs} and is normalised numerically")
        self._user["integral"] = func
        self._functions["integral"] = func
        self._register()
        return func

    def gradient(self, func):
        """Attach ``gradient(x, *params)``: the tuple of partial derivatives of the density by each
        parameter, in the order of the parameters."""
        self._user["gradient"] = func
        names = ", ".join(self._arguments())
        source = (f"def pdf_grad({names}):\n"
                  f"    d = gradient({names})\n"
                  f"    return (pdf({names}),) + tuple(d)\n") if len(self.PARAMS) > 1 else (
                  f"def pdf_grad({names}):\n"
                  f"    d = gradient({names})\n"
                  f"    return pdf({names}), d[0]\n")
        namespace = {"gradient": func, "pdf": self._user["pdf"], "tuple": tuple}
        exec(compile(source, f"<nfit kernel {self.func_name} gradient>", "exec"), namespace)
        namespace["pdf_grad"].inline_when_compiled = True  # glue: see jitmodule.jit_module
        self._functions["pdf_grad"] = namespace["pdf_grad"]
        self._functions["gradient"] = func  # jitted alongside, so that pdf_grad can call it
        self._register()
        return func

    def _arguments(self):
        """The function's argument names, renamed apart from the glue's own names."""
        return [f"_a{i}" for i in range(len(self.OBS) + len(self.PARAMS))]

    @property
    def source(self) -> str:
        return "\n".join(f"# {k}\n{_source(f)}" for k, f in sorted(self._user.items()))

    def _register(self):
        digest = hashlib.sha256(self.source.encode()).hexdigest()[:16]
        self.math = KernelMath(f"user_{self.func_name}_{digest}", self.PARAMS, dict(self._functions), self.source)
        _registry[self.math.__name__] = self.math

    def hessian(self, func):
        """Attach ``hessian(x, *params)``: the tuple of second partial derivatives of the density,
        upper triangle row by row (for parameters a, b: ``(aa, ab, bb)``). Needs ``gradient``."""
        if "gradient" not in self._user:
            raise ValueError(f"{self.func_name}: attach @{self.func_name}.gradient before the hessian")
        self._user["hessian"] = func
        names = ", ".join(self._arguments())
        source = (f"def pdf_hess({names}):\n"
                  f"    g = pdf_grad({names})\n"
                  f"    return g + tuple(hessian({names}))\n")
        namespace = {"hessian": func, "pdf_grad": self._functions["pdf_grad"], "tuple": tuple}
        exec(compile(source, f"<nfit kernel {self.func_name} hessian>", "exec"), namespace)
        namespace["pdf_hess"].inline_when_compiled = True
        self._functions["pdf_hess"] = namespace["pdf_hess"]
        self._functions["hessian"] = func
        self._register()
        return func

    # ------------------------------------------------------------------ making shapes
    def pdf(self, obs, *, extended=None, name=None, panels=None, **params):
        """A pdf with this kernel on ``obs``; ``params`` by the names of the function's arguments."""
        from .pdf.shape import KernelPDF
        from .space import Space

        missing = [p for p in self.PARAMS if p not in params]
        unknown = [p for p in params if p not in self.PARAMS]
        if missing or unknown:
            raise TypeError(f"{self.func_name}.pdf: parameters are {list(self.PARAMS)}; "
                            f"missing {missing}, unknown {unknown}")
        n_obs = obs.n_obs if isinstance(obs, Space) else len((obs,) if isinstance(obs, str) else obs)
        if n_obs != self.n_obs:
            raise ValueError(f"{self.func_name}.pdf: the kernel takes {self.n_obs} observable(s) {self.OBS}, obs has "
                             f"{n_obs} (for several, decorate with @nfit.kernel(n_obs={n_obs}))")
        if self.n_obs > 1:
            from .pdf.kernelnd import KernelPDFND

            if panels is not None:
                raise TypeError(f"{self.func_name}.pdf: panels= is for kernels of one observable")
            return KernelPDFND(obs, {k: params[k] for k in self.PARAMS}, kernel=self.math,
                               name=name or self.func_name, extended=extended)
        return KernelPDF(obs, {k: params[k] for k in self.PARAMS}, name=name or self.func_name,
                         extended=extended, kernel=self.math, panels=panels)

    def __call__(self, *args):
        return self._functions["pdf"](*args)

    def __repr__(self):
        return f"<nfit.kernel {self.func_name}({', '.join(('x',) + self.PARAMS)})>"


class KernelMath:
    """The module-like face of a user kernel, as the model layer and the lowering see it:
    ``PARAMS``, ``pdf``, and ``integral`` / ``pdf_grad`` when the user attached them."""

    def __init__(self, name, params, functions, source):
        self.__name__ = name
        self.PARAMS = params
        self.source = source
        self._functions = functions

    def kernel_functions(self) -> dict:
        return dict(self._functions)

    def __reduce__(self):
        # by reference, as pickle treats functions: the decorated name in its module
        func = self._functions["pdf"]
        found = _resolve(func.__module__, func.__qualname__)
        if not isinstance(found, Kernel) or found.math.__name__ != self.__name__:
            import pickle

            raise pickle.PicklingError(
                f"the user kernel {func.__qualname__!r} cannot be pickled: define it with @nfit.kernel at the top "
                f"level of a module (and attach its integral and derivatives there), so that {func.__module__}."
                f"{func.__qualname__} is the kernel")
        return _kernel_math, (func.__module__, func.__qualname__)

    def __getattr__(self, name):
        functions = self.__dict__.get("_functions", {})
        if name in functions:
            return functions[name]
        raise AttributeError(name)

    def array_call(self, name, args):
        """Call ``name`` with NumPy arrays: directly when the function handles arrays, else
        event by event (a function with ``if`` or ``math`` on scalars)."""
        func = self._functions[name]
        try:
            out = func(*args)
            if isinstance(out, tuple) or np.shape(out) == np.broadcast_shapes(*(np.shape(a) for a in args)):
                return out
        except (TypeError, ValueError):
            pass
        return np.vectorize(func)(*args)


def _resolve(module, qualname):
    import importlib
    import sys

    try:
        found = sys.modules.get(module) or importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return found


def _kernel_math(module, qualname):
    """The math of the kernel ``module.qualname`` (unpickling a pdf that uses it)."""
    found = _resolve(module, qualname)
    if not isinstance(found, Kernel):
        raise LookupError(f"the user kernel {module}.{qualname} is not defined in this process")
    return found.math


def kernel(func=None, *, n_obs=1):
    """Decorator: a scalar function ``f(x, *params)`` becomes a shape usable everywhere;
    ``@kernel(n_obs=2)`` for ``f(x, y, *params)``, a shape in two observables (normalised
    numerically over boxes and over function limits).

    Example
    -------
    >>> @kernel
    ... def line(x, a):
    ...     return 1.0 + a * x
    >>> @line.integral
    ... def _(lower, upper, a):
    ...     return (upper - lower) + 0.5 * a * (upper ** 2 - lower ** 2)
    >>> line.PARAMS
    ('a',)
    >>> @kernel(n_obs=2)
    ... def plane(x, y, a, b):
    ...     return 1.0 + a * x + b * y
    >>> plane.OBS, plane.PARAMS
    (('x', 'y'), ('a', 'b'))
    """
    if func is None:
        return lambda f: Kernel(f, n_obs)
    return Kernel(func, n_obs)
