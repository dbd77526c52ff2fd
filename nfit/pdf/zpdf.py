"""zfit-style custom shapes: subclass :class:`ZPDF`, list ``_PARAMS``, write ``_unnormalized_pdf``."""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from .. import quadrature, z
from ..ad import Dual
from ..context import DualOps, MissingDerivative
from .base import BasePDF
from .expr import eager_normalised_integral, normalised

_overrides = threading.local()


class _Columns:
    """What ``_unnormalized_pdf`` receives as ``x``: ``x[0]`` (or ``x["name"]``) is the first observable."""

    def __init__(self, columns, obs=()):
        self._columns = list(columns)
        self._obs = tuple(obs)

    def __getitem__(self, index):
        if isinstance(index, tuple):  # x[:, 0] or x[..., 0], as in zfit code
            index = index[-1]
        if isinstance(index, str):
            if index not in self._obs:
                raise KeyError(f"no observable {index!r}; the shape has {list(self._obs)}")
            index = self._obs.index(index)
        return self._columns[index]

    def __len__(self):
        return len(self._columns)

    def __iter__(self):
        return iter(self._columns)

    def unstack_x(self):
        return self._columns[0] if len(self._columns) == 1 else list(self._columns)


class ZPDF(BasePDF):
    """Base class for shapes written as Python with :mod:`nfit.z` math, as in zfit.

    Subclasses set ``_PARAMS`` (parameter names) and define ``_unnormalized_pdf(self, x)``, using
    ``x[0]`` (the first observable) and ``self.params[name]``. The function is *traced*: run once
    with symbolic values, it becomes an expression that the compiled path fuses into its kernel
    and that gives exact derivatives on both paths. The shape is normalised numerically
    (:mod:`nfit.quadrature`). A function that cannot be traced (it branches on values or calls
    NumPy directly) still runs on the eager path, called with arrays.

    Example
    -------
    >>> import nfit
    >>> from nfit import z
    >>> class CustomPDF(nfit.pdf.ZPDF):
    ...     _PARAMS = ['alpha']
    ...     def _unnormalized_pdf(self, x):
    ...         return z.exp(self.params['alpha'] * x[0])
    >>> obs = nfit.Space("x", limits=(0, 1))
    >>> pdf = CustomPDF(obs=obs, alpha=-1.0)
    >>> round(float(pdf.integrate((0, 1))[0]), 12)
    1.0
    """

    _PARAMS: list = []
    _N_OBS = None

    def __init__(self, obs, extended=None, norm=None, name=None, label=None, panels=None, **params):
        missing = [p for p in self._PARAMS if p not in params]
        unknown = [p for p in params if p not in self._PARAMS]
        if missing or unknown:
            raise TypeError(f"{type(self).__name__}: parameters are {list(self._PARAMS)}; "
                            f"missing {missing}, unknown {unknown}")
        super().__init__(obs, {k: params[k] for k in self._PARAMS}, name=name or type(self).__name__,
                         extended=extended, label=label, norm=norm)
        if self._N_OBS is not None and self.n_obs != self._N_OBS:
            raise ValueError(f"{type(self).__name__} needs {self._N_OBS} observable(s), got {self.obs}")
        self._panels = panels or quadrature.PANELS
        self._expr = None
        self._trace_error = None

    def _unnormalized_pdf(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define _unnormalized_pdf(self, x)")

    # ``self.params`` is what ``_unnormalized_pdf`` reads: the Parameters, or (while it is traced or
    # evaluated eagerly) symbols or numbers. Those are set for the calling thread only, so that two
    # threads evaluating one shape never see each other's values.
    @property
    def params(self):
        override = getattr(_overrides, "by_shape", {}).get(id(self))
        return self.__dict__["_params"] if override is None else override

    @params.setter
    def params(self, value):
        self.__dict__["_params"] = value

    @contextlib.contextmanager
    def _params_as(self, values):
        by_shape = _overrides.__dict__.setdefault("by_shape", {})
        saved = by_shape.get(id(self))
        by_shape[id(self)] = values
        try:
            yield
        finally:
            if saved is None:
                del by_shape[id(self)]
            else:
                by_shape[id(self)] = saved

    # ------------------------------------------------------------------ tracing
    def _traced(self):
        """The density as an :class:`nfit.z.Expr` of ``("x", i)`` and the parameters, or None."""
        if self._expr is None and self._trace_error is None:
            symbols = {k: z.Symbol(p) for k, p in self.params.items()}
            try:
                with self._params_as(symbols):
                    expr = z.as_expr(self._unnormalized_pdf(_Columns((z.Symbol(("x", i)) for i in range(self.n_obs)),
                                                                     self.obs)))
                self._expr = expr
            except Exception as err:  # noqa: BLE001 - any failure: the shape stays eager-only
                self._trace_error = err
        return self._expr

    def _derivative_order(self):
        return 2 if self._traced() is not None else 0

    def _inputs(self, ctx, columns):
        values = {p: ctx.param(p) for p in self.params.values()}
        values.update({("x", i): Dual(ctx.be, c) for i, c in enumerate(columns)})
        return values

    def _density(self, ctx, columns):
        expr = self._traced()
        if expr is not None:
            return expr.apply(self._inputs(ctx, columns), DualOps(ctx.be))
        if not hasattr(ctx, "p"):
            raise TypeError(
                f"{type(self).__name__}._unnormalized_pdf cannot be compiled: tracing it with nfit.z math "
                f"failed ({type(self._trace_error).__name__}: {self._trace_error}). Write it with z.exp, "
                "z.where, ... instead of NumPy calls and if/else, or use mode='eager' for this loss."
            )
        if ctx.be.order > 0:
            raise MissingDerivative(f"{type(self).__name__}._unnormalized_pdf (not traceable)")
        with self._params_as({k: ctx.param(p).v for k, p in self.params.items()}):
            value = self._unnormalized_pdf(_Columns(columns, self.obs))
        return Dual(ctx.be, np.asarray(value, dtype=float))

    def _build(self, ctx, x, norm, scale=None):
        if norm is not None and self.n_obs != 1:
            raise NotImplementedError(f"{type(self).__name__}: numerical normalisation is one-dimensional")
        return normalised(self, ctx, self._density(ctx, [x[o] for o in self.obs]), norm, scale)

    def _integral_dual(self, ctx, lower, upper):
        return ctx.quad_sum(lambda node: self._density(ctx, [node]), self._quad_nodes(lower, upper))

    def _normalised_integral(self, values, limits, norm):
        return eager_normalised_integral(self, limits, norm)
