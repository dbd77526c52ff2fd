"""Shapes written as zfit writes them: a :class:`~nfit.pdf.BasePDF` subclass with ``_unnormalized_pdf``,
``_pdf`` or ``_log_pdf``, optionally ``_integrate`` or an integral registered with
``register_analytic_integral``.

The user's methods are *traced*: called once with symbolic observables and parameters, they become
:class:`nfit.z.Expr` trees that both paths evaluate with exact derivatives, and that the compiled
path fuses into its kernel. Other pdfs called inside (``self.pdfs[0].pdf(x)`` in a functor) become
nodes of the tree. A method that cannot be traced (it calls NumPy on its inputs or branches on
values) runs on the eager path only, with numerical derivatives; nfit says so once per class.

Normalisation: a registered integral or ``_integrate`` where the class has one, else quadrature
(adaptive in one observable, a product Gauss–Legendre grid in several).

>>> import nfit
>>> from nfit import z
>>> class Line(nfit.pdf.BasePDF):
...     def __init__(self, obs, slope, name="Line"):
...         super().__init__(obs, params={"slope": slope}, name=name)
...     @nfit.supports()
...     def _unnormalized_pdf(self, x, params):
...         return 1 + params["slope"] * x[0]
>>> line = Line(nfit.Space("x", 0, 1), slope=2.0)
>>> round(float(line.pdf([0.5])[0]), 12)  # (1 + 2 * 0.5) / 2
1.0
"""
from __future__ import annotations

import functools
import inspect
import threading
import warnings

import numpy as np

from .. import quadrature, z
from ..ad import Dual
from ..context import DualOps, MissingDerivative

DENSITY_METHODS = ("_pdf", "_log_pdf", "_unnormalized_pdf")  # zfit's order of preference

_trace_lock = threading.RLock()
_warned: set = set()


def supports(*, norm=None, multiple_limits=None):
    """zfit's decorator on ``_pdf``, ``_log_pdf``, ``_unnormalized_pdf`` and ``_integrate``.

    ``norm=True`` says the method normalises by itself (it gets the normalisation range as
    ``norm``); the default, ``False``, means it returns the unnormalised density, which nfit
    normalises. ``multiple_limits`` is accepted for zfit's sake: nfit always hands a method one
    box at a time.

    >>> import nfit
    >>> @nfit.supports(norm=True)
    ... def _pdf(self, x, norm, params):
    ...     return x[0]
    >>> _pdf._nfit_supports["norm"]
    True
    """
    if not (norm is None or isinstance(norm, (bool, str))):
        raise TypeError(f"supports: norm must be True, False, 'space' or 'norm', got {norm!r}")

    def decorate(func):
        func._nfit_supports = {"norm": bool(norm) if not isinstance(norm, str) else norm,
                               "multiple_limits": bool(multiple_limits)}
        return func

    return decorate


def density_method(cls):
    """The name of the density method a class defines as zfit's users do, or None."""
    for name in DENSITY_METHODS:
        if any(name in vars(k) for k in cls.__mro__):
            return name
    return None


class Columns:
    """What a user's method receives as ``x``: ``x[0]`` or ``x["name"]`` is a column (symbolic while
    traced, an array on the eager path); ``z.unstack_x(x)`` and ``x.unstack_x()`` give them all.

    >>> x = Columns([np.array([1.0, 2.0])], ("m",))
    >>> float(x["m"][1]), x.n_obs
    (2.0, 1)
    """

    def __init__(self, columns, obs=(), ctx=None):
        self._columns = list(columns)
        self.obs = tuple(obs)
        self._ctx = ctx  # the eager context a nested pdf evaluates in (see BasePDF.pdf)

    def __getitem__(self, index):
        if isinstance(index, tuple):  # x[:, 0] or x[..., 0], as in zfit code
            index = index[-1]
        if isinstance(index, str):
            if index not in self.obs:
                raise KeyError(f"no observable {index!r}; the shape has {list(self.obs)}")
            index = self.obs.index(index)
        return self._columns[index]

    def __len__(self):
        return len(self._columns)

    def __iter__(self):
        return iter(self._columns)

    @property
    def n_obs(self) -> int:
        return len(self._columns)

    @property
    def symbolic(self) -> bool:
        return z.is_symbolic(*self._columns)

    def unstack_x(self, obs=None):
        columns = self._columns if obs is None else [self[o] for o in ([obs] if isinstance(obs, str) else obs)]
        return columns[0] if len(columns) == 1 else list(columns)

    def value(self):
        """The events as an ``(n, n_obs)`` array (eager), or these columns again (traced)."""
        if self.symbolic:
            return self
        return np.column_stack([np.broadcast_to(c, np.shape(self._columns[0])) for c in self._columns])

    def select(self, obs) -> Columns:
        """The columns of the observables ``obs``, in that order."""
        return Columns([self[o] for o in obs], obs, self._ctx)


# ---------------------------------------------------------------------------- calling user methods
@functools.lru_cache(maxsize=None)
def _signature(func):
    try:
        return inspect.signature(func).parameters
    except (TypeError, ValueError):
        return {}


def _accepts(func, name) -> bool:
    params = _signature(getattr(func, "__func__", func))
    return name in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def call_density(pdf, method, x, params, norm):
    """Call the user's density method ``method`` with ``x``, the normalisation range (``False``: none)
    and the parameters, as the method's signature asks."""
    func = getattr(pdf, method)
    kwargs = {"params": params} if _accepts(func, "params") else {}
    if method == "_unnormalized_pdf":
        return func(x, **kwargs)
    names = list(_signature(getattr(func, "__func__", func)))
    if "norm" in names:
        kwargs["norm"] = norm
    elif "norm_range" in names:
        kwargs["norm_range"] = norm
    else:
        return func(x, norm, **kwargs)
    return func(x, **kwargs)


def call_integral(pdf, func, limits, params, *, bound=False):
    """Call an integral: the class's ``_integrate(limits, norm, options)`` (``bound``) or a function
    registered with ``register_analytic_integral`` (``func(x, limits, norm, params, model)``, any subset)."""
    if bound:
        kwargs = {"params": params} if _accepts(func, "params") else {}
        if _accepts(func, "options"):
            kwargs["options"] = {}
        return func(limits, False, **kwargs)
    offered = {"x": None, "limits": limits, "norm": None, "norm_range": None, "params": params, "model": pdf}
    return func(**{k: v for k, v in offered.items() if _accepts(func, k)})


def _as_value(result):
    """A user's return value as a scalar Expr or a float/array (a shape-(1,) array becomes a scalar)."""
    if isinstance(result, (list, tuple)) and len(result) == 1:
        result = result[0]
    if isinstance(result, np.ndarray) and result.dtype == object:
        return z.as_expr(result)
    return result


# ---------------------------------------------------------------------------- the shape's state
class CustomShape:
    """The traces of one pdf's user methods and how to evaluate them in a build context."""

    def __init__(self, pdf):
        self.pdf = pdf
        self.method = density_method(type(pdf))
        flags = getattr(getattr(type(pdf), self.method), "_nfit_supports", {})
        self.norm_support = flags.get("norm", False) if self.method != "_unnormalized_pdf" else False
        self._traces = {}
        self._failures = {}
        self._order = None  # derivative_order's answer: it depends on the traces only, which are kept

    # ------------------------------------------------------------------ tracing
    def _trace(self, key, call):
        """The Expr that ``call(x, params)`` returns with symbolic inputs (cached), or None."""
        if key in self._traces:
            return self._traces[key]
        with _trace_lock:
            if key in self._traces:
                return self._traces[key]
            pdf = self.pdf
            symbols = {k: z.Symbol(p) for k, p in pdf.params.items()}
            x = Columns([z.Symbol(("x", i)) for i in range(pdf.n_obs)], pdf.obs)
            z._trace_state.depth = getattr(z._trace_state, "depth", 0) + 1
            try:
                with pdf._params_as(symbols), np.errstate(all="ignore"):
                    expr = z.as_expr(_as_value(call(x, symbols)))
            except Exception as err:  # noqa: BLE001 - any failure: this part runs eagerly
                expr = None
                self._failures[key] = err
                _explain_once(pdf, key, err)
            finally:
                z._trace_state.depth -= 1
            self._traces[key] = expr
            return expr

    def _evaluate(self, ctx, key, call, columns, what):
        """``call`` traced and applied in ``ctx`` (a Dual), or called with numbers on the eager path."""
        expr = self._trace(key, call)
        if expr is not None:
            return z.as_expr(expr).apply(Inputs(ctx, columns), NodeOps(ctx))
        from ..eager import EagerContext

        pdf = self.pdf
        if not isinstance(ctx, EagerContext):
            err = self._failures.get(key)
            raise TypeError(
                f"{type(pdf).__name__}.{what} cannot be compiled: tracing it with nfit.z math failed "
                f"({type(err).__name__}: {err}). Write it with z.exp, z.where, znp.* ... instead of NumPy calls "
                "on its inputs and if/else on values, or use mode='eager' for this loss."
            )
        if ctx.be.order > 0:
            raise MissingDerivative(f"{type(pdf).__name__}.{what} (not traceable)")
        values = {k: ctx.param(p).v for k, p in pdf.params.items()}
        x = Columns([np.asarray(c, dtype=float) for c in columns], pdf.obs, ctx)
        with pdf._params_as(values):
            result = _as_value(call(x, values))
        return Dual(ctx.be, np.asarray(result, dtype=float))

    # ------------------------------------------------------------------ the density
    def _density_call(self, norm):
        method, pdf = self.method, self.pdf
        log = method == "_log_pdf"

        if norm is None:  # unnormalised: a method that normalises itself gets the pdf's own range
            norm = pdf.norm if self.norm_support else False

        def call(x, params):
            value = call_density(pdf, method, x, params, norm)
            return z.exp(value) if log else value

        return call

    def density(self, ctx, columns, norm=None) -> Dual:
        """The user's density at ``columns`` (normalised over ``norm`` only where it normalises itself)."""
        key = ("density", norm)
        return self._evaluate(ctx, key, self._density_call(norm), columns, self.method)

    def normalises_itself(self, norm) -> bool:
        if norm is None or self.norm_support is False:
            return False
        if self.norm_support == "space":
            return norm == self.pdf.space
        if self.norm_support == "norm":
            return norm == self.pdf.norm
        return True

    def build(self, ctx, x, norm, scale):
        pdf = self.pdf
        columns = [x[o] for o in pdf.obs]
        if self.normalises_itself(norm):
            value = self.density(ctx, columns, norm)
            return value if scale is None else value * scale
        value = self.density(ctx, columns)
        if norm is not None:
            integral = self.integral(ctx, norm)
            scale = 1.0 / integral if scale is None else scale / integral
        return value if scale is None else value * scale

    # ------------------------------------------------------------------ integrals
    def integral(self, ctx, space) -> Dual:
        """The integral of the unnormalised density over ``space`` (a union of boxes, or a region
        with function limits)."""
        if space.has_function_limits and space.n_obs > 1:
            return self.region_quadrature(ctx, space)
        total = None
        for lo, hi in space.with_obs(self.pdf.obs).boxes:
            part = self.box_integral(ctx, lo, hi)
            total = part if total is None else total + part
        return total

    def box_integral(self, ctx, lo, hi) -> Dual:
        pdf = self.pdf
        from ..space import Space

        box = Space(pdf.obs, limits=(lo, hi))
        if "_integrate" in _user_defined(type(pdf)):
            def call(x, params):
                return call_integral(pdf, pdf._integrate, box, params, bound=True)

            return self._evaluate(ctx, ("integrate", lo, hi), call, [], "_integrate")
        registered = pdf._registered_integral(box)
        if registered is not None:
            def call(x, params):
                return call_integral(pdf, registered, box, params)

            return self._evaluate(ctx, ("analytic", lo, hi), call, [], registered.__name__)
        return self.quadrature(ctx, lo, hi)

    def quadrature(self, ctx, lo, hi, norm=None) -> Dual:
        pdf = self.pdf
        if pdf.n_obs == 1:
            nodes = pdf._quad_nodes(lo[0], hi[0])
            return ctx.quad_sum(lambda node: self.density(ctx, [node], norm), nodes)
        points, weights = product_nodes(lo, hi)
        return ctx.quad_sum(lambda nodes: self.density(ctx, list(nodes), norm), (points, weights))

    def region_quadrature(self, ctx, space, norm=None) -> Dual:
        """The integral over a region with function limits, on its quadrature nodes
        (:func:`nfit.region.nodes`, fixed by the region alone)."""
        return grid_integral(ctx, lambda x: self.density(ctx, list(x), norm), space, self.pdf.obs)

    def derivative_order(self) -> int:
        """2 where every part needed for a fit over the pdf's norm traces, else 0 (eager only).

        Found once: a loss asks on every pass, and finding it traces and integrates the shape."""
        if self._order is None:
            self._order = self._find_derivative_order()
        return self._order

    def _find_derivative_order(self) -> int:
        pdf = self.pdf
        norm = pdf.norm
        key_norm = norm if self.normalises_itself(norm) else None
        if self._trace(("density", key_norm), self._density_call(key_norm)) is None:
            return 0
        if key_norm is None and norm.has_limits:
            from ..eager import at_current_values

            try:  # traces the integrals (cached), at the current values
                self.integral(at_current_values(pdf), norm)
            except (TypeError, MissingDerivative):
                return 0
            if any(v is None for k, v in self._traces.items() if k[0] in ("integrate", "analytic")):
                return 0
        return 2


def _user_defined(cls) -> set:
    """Names of the zfit methods that ``cls`` or a user's base defines (nfit's own bases excluded)."""
    found = set()
    for k in cls.__mro__:
        if k.__module__.startswith("nfit."):
            continue
        found |= {n for n in ("_integrate",) if n in vars(k)}
    return found


def _explain_once(pdf, key, err):
    name = type(pdf).__name__
    what = key[0]
    if (name, what) in _warned:
        return
    _warned.add((name, what))
    warnings.warn(
        f"{name}: its {'density' if what == 'density' else 'integral'} could not be traced with nfit.z math "
        f"({type(err).__name__}: {err}); it runs on the eager path only (NumPy, numerical derivatives). "
        "Use z./znp. functions and z.where instead of NumPy calls and if/else to have it compiled.",
        stacklevel=4,
    )


def grid_integral(ctx, density, space, obs) -> Dual:
    """``density(columns)`` (a Dual from one row per observable of ``obs``) integrated over
    ``space``: on the region's own nodes where it has function limits (:func:`nfit.region.nodes`),
    else on a product grid over each box (:func:`product_nodes`)."""
    space = space.with_obs(obs)
    if space.has_function_limits and space.n_obs > 1:
        from ..region import nodes

        return ctx.quad_sum(density, nodes(space))
    total = None
    for lo, hi in space.boxes:
        part = ctx.quad_sum(density, product_nodes(lo, hi))
        total = part if total is None else total + part
    return total


def product_nodes(lo, hi):
    """A product Gauss–Legendre grid over the box ``[lo, hi]`` (several observables): points of
    shape ``(n_obs, n)`` and weights. Each axis has 8 panels of 16 nodes in 2 dimensions, 4 of 10
    in 3, 2 of 8 beyond: exact for polynomials of those degrees per panel, about 1e-10 for
    smooth shapes that vary on the scale of the box.

    >>> x, w = product_nodes((0.0, 0.0), (1.0, 2.0))
    >>> x.shape, round(float(w.sum()), 12)
    ((2, 16384), 2.0)
    """
    d = len(lo)
    panels, order = quadrature.grid_panels(d)
    t, wt = np.polynomial.legendre.leggauss(order)
    axes = []
    for a, b in zip(lo, hi):
        edges = np.linspace(a, b, panels + 1)
        half, mid = 0.5 * np.diff(edges), 0.5 * (edges[1:] + edges[:-1])
        axes.append(((mid[:, None] + half[:, None] * t).ravel(), (half[:, None] * wt).ravel()))
    grids = np.meshgrid(*[a[0] for a in axes], indexing="ij")
    weights = np.ones(())
    for _, w in axes:
        weights = np.multiply.outer(weights, w)
    return np.stack([g.ravel() for g in grids]), weights.ravel()


# ---------------------------------------------------------------------------- evaluating traces
class Inputs(dict):
    """Values of a trace's symbols: the observables' columns, and any parameter asked for."""

    def __init__(self, ctx, columns):
        super().__init__({("x", i): Dual(ctx.be, c) for i, c in enumerate(columns)})
        self.ctx = ctx

    def __missing__(self, key):
        value = self.ctx.param(key)
        self[key] = value
        return value


class NodeOps(DualOps):
    """Expression operations in a build context: nested pdfs build their own nodes."""

    def __init__(self, ctx):
        super().__init__(ctx.be)
        self.ctx = ctx

    def node(self, payload, *columns):
        model, norm, kind = payload
        if any(not c.constant for c in columns):
            raise NotImplementedError(
                f"pdf {model.name!r} is evaluated inside a custom shape at points that depend on parameters; "
                "nfit evaluates nested pdfs at the events only")
        x = dict(zip(model.obs, (c.v for c in columns)))
        value = model._build(self.ctx, x, norm)
        return value.func("log") if kind == "log" else value


def nested(model, x: Columns, norm, kind="pdf"):
    """``model.pdf(x)`` called inside a user's method: a node of the trace, or (eager) its values."""
    columns = x.select(model.obs)
    if columns.symbolic:
        return z.Expr("node", (model, norm, kind), *(z.as_expr(c) for c in columns))
    if x._ctx is None:
        return None  # plain arrays: the caller evaluates as usual
    ctx = x._ctx
    value = model._build(ctx, {o: c for o, c in zip(model.obs, columns)}, norm).v
    return np.log(value) if kind == "log" else value
