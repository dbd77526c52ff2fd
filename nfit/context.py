"""What a model node sees while it builds its density: parameters as Duals, kernel calls, constants.

The same node code (``BasePDF._build``) runs against two contexts: :class:`nfit.eager.EagerContext`
(NumPy numbers, the eager path) and :class:`nfit.compile.emitter.CodeContext` (generated source,
the compiled path). Both derive from :class:`BuildContext`, which holds everything they share:
which parameters are free (and so carry derivatives), composed parameters, and the chain rule
through kernel functions.
"""
from __future__ import annotations

import numpy as np

from . import ad
from .ad import Dual
from .param import ComposedParameter


def dual_keys(d) -> list:
    """The components of Dual ``d`` in a fixed order: ``"v"``, the gradient's indices, the Hessian's pairs."""
    return ["v"] + sorted(d.g) + sorted(d.h)


def dual_components(d) -> list:
    """The numbers of Dual ``d`` in the order of :func:`dual_keys`."""
    return [d.v] + [d.g[k] for k in sorted(d.g)] + [d.h[k] for k in sorted(d.h)]


def dual_of(be, keys, values) -> Dual:
    """The Dual whose components, in the order of ``keys`` (see :func:`dual_keys`), are ``values``."""
    parts = dict(zip(keys, values))
    return Dual(be, parts["v"], {k: v for k, v in parts.items() if isinstance(k, int)},
                {k: v for k, v in parts.items() if isinstance(k, tuple)})


class Grid:
    """Functions tabulated at ``n`` points (a numerical convolution's tables): one row per component
    of a Dual — ``keys[r]`` is ``"v"``, a parameter index (first derivative) or an index pair (second)
    — in ``data``: a ``(rows, n)`` NumPy array on the eager path, the name of a flat array in
    generated code."""

    __slots__ = ("keys", "data", "n")

    def __init__(self, keys, data, n):
        self.keys, self.data, self.n = list(keys), data, int(n)

    def row(self, key) -> int:
        return self.keys.index(key)


def convolution_pairs(f: Grid, g: Grid, order: int):
    """The components of a product of ``f`` and ``g`` (here a convolution, bilinear like a product):
    the output keys and, for each, the (output row, row of ``f``, row of ``g``) pairs that add up to
    it by the product rule (value, gradient and, at ``order`` 2, Hessian)."""
    fr = {k: r for r, k in enumerate(f.keys)}
    gr = {k: r for r, k in enumerate(g.keys)}
    keys, pairs = ["v"], [(0, fr["v"], gr["v"])]
    first = sorted({k for k in list(fr) + list(gr) if isinstance(k, int)})
    for j in first:
        out = len(keys)
        keys.append(j)
        if j in fr:
            pairs.append((out, fr[j], gr["v"]))
        if j in gr:
            pairs.append((out, fr["v"], gr[j]))
    if order >= 2:
        for a, j in enumerate(first):
            for k in first[a:]:
                terms = []
                if (j, k) in fr:
                    terms.append((fr[(j, k)], gr["v"]))
                if (j, k) in gr:
                    terms.append((fr["v"], gr[(j, k)]))
                if j in fr and k in gr:
                    terms.append((fr[j], gr[k]))
                if k in fr and j in gr:
                    terms.append((fr[k], gr[j]))
                if terms:
                    out = len(keys)
                    keys.append((j, k))
                    pairs += [(out, fa, gb) for fa, gb in terms]
    return keys, pairs


class MissingDerivative(LookupError):
    """A kernel has no derivative function for the order asked."""


class BuildContext:
    """Base of the eager and the code-writing contexts; ``be`` is the numeric backend.

    ``writes_code`` says which: False for NumPy numbers (the eager path), True where numbers are
    names in generated source (and constants travel in the kernel's constants array)."""

    writes_code = False

    def __init__(self, be, layout):
        self.be = be
        self.layout = layout
        self._params = {}
        self._index = {p: j for j, p in enumerate(layout.floating)}

    # backends give the number for a parameter slot
    def sum_over_events(self, t, per_event, obs, weighted, weight_power=1):
        """``per_event(columns)`` (a per-event Dual built from term ``t``'s columns) summed over
        its events; the eager context does it in slices."""
        return self.event_sum(t, per_event(self.columns(t, obs, weighted)), weighted, weight_power)

    def slot_value(self, slot):  # pragma: no cover - abstract
        raise NotImplementedError

    def const(self, value):
        """A fixed number (a range limit) as a backend number."""
        return self.be.lift(value)

    def limit(self, value):
        """An integration limit as a backend number: a fixed number goes through :meth:`const`; a
        backend number (a bin edge of the bin loop) stays as it is."""
        if isinstance(value, (str, np.ndarray)):
            return value
        return self.const(value)

    def bin_quad(self, integrand, lower, upper, rule):
        """The integral of ``integrand(x)`` (a Dual) from ``lower`` to ``upper``, backend numbers
        that vary from bin to bin, by the quadrature ``rule`` = (nodes, weights) on [0, 1]."""
        raise NotImplementedError  # pragma: no cover - each context has its own

    # tables on a grid (numerical convolutions); each context has its own
    def grid_values(self, integrand, nodes, weights) -> Grid:
        """``weights[i] * integrand(nodes[i])`` (a Dual) at each node: one row per component."""
        raise NotImplementedError  # pragma: no cover

    def grid_correlate(self, f: Grid, g: Grid) -> Grid:
        """``out[i] = sum_j f[i + j] g[j]`` (``f.n - g.n + 1`` points), derivatives by the product rule."""
        raise NotImplementedError  # pragma: no cover

    def grid_interpolate(self, table: Grid, x, x0, h, degree) -> Dual:
        """The table (points ``x0 + i h``) interpolated at the events ``x`` (see nfit.kernels.grid)."""
        raise NotImplementedError  # pragma: no cover

    def grid_integral(self, table: Grid, lower, upper, x0, h, degree) -> Dual:
        """The exact integral of the interpolated table from ``lower`` to ``upper``."""
        raise NotImplementedError  # pragma: no cover

    def is_per_event(self, dual) -> bool:
        """Whether ``dual`` varies from event to event (a conditional parameter, an observable)."""
        raise NotImplementedError  # pragma: no cover

    def param(self, p) -> Dual:
        """The Dual of parameter ``p``: free ones carry a unit derivative in their own slot."""
        if p not in self._params:
            self._params[p] = self._make_param(p)
        return self._params[p]

    def _make_param(self, p) -> Dual:
        be = self.be
        if not isinstance(p, ComposedParameter):
            value = self.slot_value(self.layout.slot[p])
            j = self._index.get(p)
            if j is None or be.order == 0:
                return Dual(be, value)
            return Dual(be, value, {j: be.lift(1.0)})
        traced = p.traced()
        inputs = {q: self.param(q) for q in p.params.values()}
        if traced is not None:
            return ad.as_dual(be, traced.apply(inputs, DualOps(be)))
        # a Python function: value and derivatives by its inputs arrive in slots (see ParamLayout)
        slots = self.layout.composed_slots[p]
        args = [inputs[q] for q in p.params.values()]
        first = [self.slot_value(s) for s in slots["grad"]]
        second = {key: self.slot_value(s) for key, s in slots["hess"].items()}
        return ad.chain(be, self.slot_value(slots["value"]), args, first, second)

    def call(self, module, name, fixed, params) -> Dual:
        """``module.name(*fixed, *params)`` as a Dual, using ``name_grad`` / ``name_hess`` for the
        derivatives (each returns the value first, then the partials, then the upper triangle of
        second partials in row order)."""
        be = self.be
        order = be.order if any(not d.constant for d in params) else 0
        values = list(fixed) + [d.v for d in params]
        if order == 0:
            return Dual(be, be.call(module, name, values))
        suffix = "_grad" if order == 1 else "_hess"
        if not hasattr(module, name + suffix):
            raise MissingDerivative(f"{module.__name__}.{name}{suffix}")
        out = be.call(module, name + suffix, values)
        m = len(params)
        items = [be.item(out, i) for i in range(1 + m + (m * (m + 1) // 2 if order == 2 else 0))]
        second = {}
        if order == 2:
            pos = 1 + m
            for a in range(m):
                for b in range(a, m):
                    second[(a, b)] = items[pos]
                    pos += 1
        return ad.chain(be, items[0], params, items[1:1 + m], second)


class DualOps:
    """Operations for :meth:`nfit.z.Expr.apply` on Duals: traced functions get derivatives."""

    def __init__(self, be):
        self.be = be

    def const(self, value):
        return Dual(self.be, self.be.lift(value))

    def binary(self, op, a, b):
        a, b = ad.as_dual(self.be, a), ad.as_dual(self.be, b)
        if op == "add":
            return a + b
        if op == "sub":
            return a - b
        if op == "mul":
            return a * b
        if op == "div":
            return a / b
        if op == "pow":
            return a ** b
        return self.be.cmp(op, a.v, b.v)  # comparisons give plain (non-Dual) truth values

    def neg(self, a):
        return -a

    def call(self, fname, *args):
        if fname in ("maximum", "minimum"):
            a, b = args
            cond = self.be.cmp("gt" if fname == "maximum" else "lt", a.v, b.v)
            return ad.where(self.be, cond, a, b)
        return args[0].func(fname)

    def where(self, cond, a, b):
        return ad.where(self.be, cond, ad.as_dual(self.be, a), ad.as_dual(self.be, b))
