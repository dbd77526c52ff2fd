"""Functions of observables that are not densities (zfit's ``zfit.func``): ``func(x)``, integrals, sums
and products, and ``as_pdf()`` to fit one as a shape.

A function written with :mod:`nfit.z` math is traced like a custom pdf when it becomes a pdf; its
parameters are read as ``self.params[name]`` (or ``params[name]`` when ``_func`` takes ``params``).

>>> import numpy as np, nfit
>>> obs = nfit.Space("x", 0, 2)
>>> line = nfit.func.SimpleFuncV1(obs=obs, func=lambda x: 1 + 2 * x[0])
>>> line.func(np.array([0.5])).tolist(), round(float(line.integrate((0, 2))[0]), 12)
([2.0], 6.0)
"""
from __future__ import annotations

import numpy as np

from .param import ParamSet, convert_to_parameter, independent_params
from .pdf.base import BasePDF
from .pdf.custom import Columns, _accepts
from .space import Space

__all__ = ["BaseFuncV1", "SimpleFuncV1", "ZFuncV1", "SumFunc", "ProdFunc"]


class BaseFuncV1:
    """Base of zfit's functions: subclasses write ``_func(self, x)`` (or ``_func(self, x, params)``).

    >>> import nfit
    >>> class Square(BaseFuncV1):
    ...     def _func(self, x):
    ...         return self.params["a"] * x[0] ** 2
    >>> sq = Square(obs=nfit.Space("x", 0, 3), params={"a": 2.0})
    >>> float(sq.func([3.0])[0])
    18.0
    """

    def __init__(self, obs=None, dtype=None, name="BaseFunc", params=None):
        if dtype is not None and np.dtype(dtype) != np.float64:
            raise TypeError(f"{name}: nfit computes in float64, got dtype={dtype!r}")
        if not isinstance(obs, Space):
            raise TypeError(f"{type(self).__name__} {name!r}: obs must be a Space, got {obs!r}")
        self.space = obs
        self.name = name
        self.params = {k: convert_to_parameter(v, name=f"{name}_{k}") for k, v in dict(params or {}).items()}

    @property
    def obs(self):
        return self.space.obs

    @property
    def n_obs(self):
        return self.space.n_obs

    def get_params(self, floating=True, is_yield=None, extract_independent=True):
        """The independent parameters of the function (``floating``: True, False or None for all)."""
        found = independent_params(list(self.params.values()))
        return ParamSet(p for p in found if floating is None or p.floating == floating)

    def _func(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define _func(self, x)")

    def _call(self, x, params):
        """``_func`` with the columns ``x`` and ``params`` (symbols while traced, else values)."""
        kwargs = {"params": params} if _accepts(self._func, "params") else {}
        return self._func(x, **kwargs)

    def func(self, x, name="value", *, params=None):
        """The function at ``x`` (an array of shape (n,) or (n, n_obs), Data, or a custom shape's
        columns), at the parameters' current values (or ``params``: {parameter or name: value})."""
        ctx = None
        if isinstance(x, Columns):
            columns = x.select(self.obs)
            if columns.symbolic:
                return self._call(columns, dict(self.params))
            ctx = x._ctx  # inside a custom shape on the eager path: the parameters' values there
            x = columns.value()
        from .evaluate import columns_of

        values = {k: (p.value() if ctx is None else float(ctx.param(p).v)) for k, p in self.params.items()}
        for key, value in dict(params or {}).items():
            name_ = getattr(key, "name", key)
            match = [k for k, p in self.params.items() if p.name == name_ or k == name_]
            if not match:
                known = [p.name for p in self.params.values()]
                raise ValueError(f"{self.name}: no parameter {name_!r}; it has {known}")
            values[match[0]] = float(value)
        columns = columns_of(x, self.obs)
        cols = Columns([columns[o] for o in self.obs], self.obs)
        with _params_as(self, values):
            result = self._call(cols, values)
        return np.broadcast_to(np.asarray(result, dtype=float), len(columns[self.obs[0]])).copy()

    value = func

    def integrate(self, limits, *, params=None):
        """The integral over ``limits`` (a Space or ``(lower, upper)``), numerically, as an array of shape (1,)."""
        from . import quadrature
        from .pdf.custom import product_nodes

        space = limits if isinstance(limits, Space) else Space(self.obs, limits=limits)
        total = 0.0
        for lo, hi in space.with_obs(self.obs).boxes:
            if self.n_obs == 1:
                x, w = quadrature.nodes(lo[0], hi[0])
                total += float(np.dot(w, self.func(x, params=params)))
            else:
                points, w = product_nodes(lo, hi)
                total += float(np.dot(w, self.func(points.T, params=params)))
        return np.array([total])

    def as_pdf(self):
        """The function as a pdf over its space (normalised there; traced where it uses nfit.z math)."""
        return _FuncPDF(self)

    def __add__(self, other):
        if isinstance(other, BaseFuncV1):
            return SumFunc([self, other])
        return NotImplemented

    def __mul__(self, other):
        if isinstance(other, BaseFuncV1):
            return ProdFunc([self, other])
        return NotImplemented

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r} obs={self.obs}>"


class _params_as:
    """``self.params`` of a function read as numbers while it is evaluated eagerly."""

    def __init__(self, function, values):
        self.function, self.values = function, values

    def __enter__(self):
        self.saved = self.function.params
        self.function.params = dict(self.values)

    def __exit__(self, *exc):
        self.function.params = self.saved


class SimpleFuncV1(BaseFuncV1):
    """A function from a Python callable ``func(x)`` (or ``func(self, x)``); ``**params`` its parameters.

    >>> import nfit
    >>> f = SimpleFuncV1(obs=nfit.Space("x", 0, 1), func=lambda self, x: self.params["k"] * x[0], k=3.0)
    >>> float(f.func([2.0])[0])
    6.0
    """

    def __init__(self, obs, func, name="Function", **params):
        if not callable(func):
            raise TypeError(f"SimpleFuncV1: func must be callable, got {func!r}")
        super().__init__(obs=obs, name=name, params=params)
        self._value_func = func

    def _func(self, x):
        import inspect

        try:
            takes_self = len(inspect.signature(self._value_func).parameters) >= 2
        except (TypeError, ValueError):
            takes_self = False
        return self._value_func(self, x) if takes_self else self._value_func(x)  # zfit allows both


class ZFuncV1(BaseFuncV1):
    """zfit's functions by parameter names: subclasses list ``_PARAMS`` and write ``_func(self, x)``.

    >>> import nfit
    >>> class Lin(ZFuncV1):
    ...     _PARAMS = ["a"]
    ...     def _func(self, x):
    ...         return self.params["a"] * x[0]
    >>> float(Lin(obs=nfit.Space("x", 0, 1), a=2.0).func([0.5])[0])
    1.0
    """

    _PARAMS: list = []

    def __init__(self, obs, name="ZFunc", **params):
        missing = [p for p in self._PARAMS if p not in params]
        unknown = [p for p in params if p not in self._PARAMS]
        if missing or unknown:
            raise TypeError(f"{type(self).__name__}: parameters are {self._PARAMS}; "
                            f"missing {missing}, unknown {unknown}")
        super().__init__(obs=obs, name=name, params=params)


class _Combined(BaseFuncV1):
    def __init__(self, funcs, obs=None, name=None):
        funcs = list(funcs)
        if len(funcs) < 2 or not all(isinstance(f, BaseFuncV1) for f in funcs):
            raise TypeError(f"{type(self).__name__}: needs at least two nfit functions")
        super().__init__(obs=obs or funcs[0].space, name=name or type(self).__name__)
        self.funcs = funcs

    def get_params(self, floating=True, is_yield=None, extract_independent=True):
        found = ParamSet()
        for f in self.funcs:
            found = found | f.get_params(floating)
        return found

    def _parts(self, x):
        return [f.func(x) for f in self.funcs]


class SumFunc(_Combined):
    """The sum of functions.

    >>> import nfit
    >>> obs = nfit.Space("x", 0, 1)
    >>> f = SimpleFuncV1(obs=obs, func=lambda x: x[0]) + SimpleFuncV1(obs=obs, func=lambda x: 2 * x[0])
    >>> float(f.func([1.0])[0])
    3.0
    """

    def _func(self, x):
        return sum(self._parts(x))


class ProdFunc(_Combined):
    """The product of functions."""

    def _func(self, x):
        out = 1.0
        for part in self._parts(x):
            out = out * part
        return out


class _FuncPDF(BasePDF):
    """A function as an unnormalised density (``BaseFuncV1.as_pdf``)."""

    def __init__(self, function):
        self.function = function
        params = {p.name: p for p in function.get_params(floating=None)}
        super().__init__(function.space, params, name=f"{function.name}_pdf")

    def _unnormalized_pdf(self, x):
        return self.function.func(x)
