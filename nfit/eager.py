"""The eager path: model trees evaluated with NumPy, vectorised over events.

:class:`NumpyBackend` does the arithmetic of :class:`nfit.ad.Dual` on floats and arrays;
:class:`EagerContext` hands a model's nodes their parameters for one parameter point.

>>> import numpy as np, nfit
>>> from nfit.layout import ParamLayout
>>> mu = nfit.Parameter("mu_eager", 0.0); obs = nfit.Space("x", limits=(-3, 3))
>>> g = nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs)
>>> layout = ParamLayout(nfit.pdf.base.model_params(g))
>>> ctx = EagerContext(layout, layout.vector(), order=1)
>>> d = g._build(ctx, {"x": np.array([0.5])}, obs)
>>> round(float(d.g[0][0] / d.v[0]), 6)   # d log f / d mu at x = 0.5 (the normalisation is symmetric)
0.5
"""
from __future__ import annotations

import numpy as np

from .ad import Dual
from .allocator import EVENTS_TO_KEEP, keep_eager_temporaries
from .context import BuildContext, Grid, convolution_pairs, dual_components, dual_keys, dual_of
from .kernels import grid
from .z import _NUMPY_FUNCS

_CMP = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal,
        "eq": np.equal, "ne": np.not_equal}


class NumpyBackend:
    """Dual arithmetic on NumPy floats and arrays, up to derivative order ``order``."""

    def __init__(self, order=0):
        self.order = order

    @staticmethod
    def lift(value):
        return np.float64(value)

    @staticmethod
    def add(a, b):
        return a + b

    @staticmethod
    def sub(a, b):
        return a - b

    @staticmethod
    def mul(a, b):
        return a * b

    @staticmethod
    def div(a, b):
        return a / b

    @staticmethod
    def neg(a):
        return -a

    @staticmethod
    def pow(a, b):
        return a ** b

    @staticmethod
    def func(name, x):
        return _NUMPY_FUNCS[name](x)

    @staticmethod
    def where(cond, a, b):
        return np.where(cond, a, b)

    @staticmethod
    def cmp(op, a, b):
        return _CMP[op](a, b)

    @staticmethod
    def call(module, name, args):
        if hasattr(module, "array_call"):  # a user kernel, perhaps written for scalars only
            return module.array_call(name, args)
        function = getattr(module, name)
        scalar_only = name.startswith("integral") or name in getattr(module, "SCALAR_FUNCTIONS", ())
        if scalar_only and any(np.ndim(a) > 0 for a in args):
            # the closed-form integrals are scalar code (they branch on the tails); over the bins
            # of a binned pdf they run once per bin
            return _vectorised(function)(*args)
        return function(*args)

    @staticmethod
    def item(out, i):
        return out[i]


_VECTORISED = {}


def _vectorised(function):
    if function not in _VECTORISED:
        _VECTORISED[function] = np.vectorize(function)
    return _VECTORISED[function]


class EagerContext(BuildContext):
    """Parameters at the point ``p`` (the kernel's parameter array) as NumPy Duals."""

    def __init__(self, layout, p, order=0, datas=()):
        super().__init__(NumpyBackend(order), layout)
        self.p = p
        self.datas = list(datas)

    def slot_value(self, slot):
        return np.float64(self.p[slot])

    def quad_sum(self, integrand, nodes):
        """The integral of ``integrand(x)`` (a Dual) by quadrature on ``nodes`` = (x, weights); ``x``
        of shape ``(n_obs, n)`` (several observables) hands the integrand one row per observable."""
        x, w = nodes
        d = integrand(x)
        return Dual(self.be, np.dot(w, np.broadcast_to(d.v, w.shape)),
                    {j: np.dot(w, np.broadcast_to(v, w.shape)) for j, v in d.g.items()},
                    {jk: np.dot(w, np.broadcast_to(v, w.shape)) for jk, v in d.h.items()})

    def bin_quad(self, integrand, lower, upper, rule):
        t, w = rule
        lower, upper = np.broadcast_arrays(np.asarray(lower, dtype=float), np.asarray(upper, dtype=float))
        width = (upper - lower).reshape(-1, 1)
        x = (lower.reshape(-1, 1) + width * t).reshape(-1)
        d = integrand(x)

        def total(v):
            return (np.broadcast_to(v, x.shape).reshape(width.shape[0], t.size) @ w) * width[:, 0]

        return Dual(self.be, total(d.v), {j: total(v) for j, v in d.g.items()},
                    {jk: total(v) for jk, v in d.h.items()})

    def grid_values(self, integrand, nodes, weights):
        nodes, weights = np.asarray(nodes, dtype=float), np.asarray(weights, dtype=float)
        d = integrand(nodes)
        keys = dual_keys(d)
        rows = [np.broadcast_to(x, nodes.shape) * weights for x in dual_components(d)]
        return Grid(keys, np.array(rows), nodes.size)

    def grid_correlate(self, f, g):
        keys, pairs = convolution_pairs(f, g, self.be.order)
        out = np.zeros((len(keys), f.n - g.n + 1))
        for r, a, b in pairs:
            out[r] += np.correlate(f.data[a], g.data[b], "valid")
        return Grid(keys, out, out.shape[1])

    def grid_interpolate(self, table, x, x0, h, degree):
        start, weights = grid.stencil_array(x, table.n, x0, 1.0 / h, degree)
        flat = table.data.reshape(-1)
        return dual_of(self.be, table.keys, [grid.combine_array(flat, r, table.n, start, weights)
                                              for r in range(len(table.keys))])

    def grid_integral(self, table, lower, upper, x0, h, degree):
        flat = table.data.reshape(-1)

        def one(r):
            if np.ndim(lower) == 0 and np.ndim(upper) == 0:
                return grid.integral_array(float(lower), float(upper), flat, r, table.n, x0, h, degree)
            lo, hi = np.broadcast_arrays(np.asarray(lower, dtype=float), np.asarray(upper, dtype=float))
            return np.array([grid.integral_array(a, b, flat, r, table.n, x0, h, degree)
                             for a, b in zip(lo.ravel(), hi.ravel())]).reshape(lo.shape)

        return dual_of(self.be, table.keys, [one(r) for r in range(len(table.keys))])

    def is_per_event(self, dual):
        return any(np.ndim(x) > 0 for x in dual_components(dual))

    CHUNK = 1 << 16  # events per slice of a term's sum: the per-event arrays stay a few MB

    _window = None  # (term, slice) while a term's events are summed in slices

    def _events(self, t):
        return self._window[1] if self._window is not None and self._window[0] == t else slice(None)

    def columns(self, t, obs, weighted):
        rows = self._events(t)
        return {o: self.datas[t].column(o)[rows] for o in obs}

    def sum_over_events(self, t, per_event, obs, weighted, weight_power=1):
        """``per_event(columns)`` summed over term ``t``'s events, ``CHUNK`` events at a time: a
        pass over 1e8 events holds one slice's value, gradient and Hessian arrays, not all of them
        (the per-call parts, such as a normalisation, are computed again for each slice)."""
        n = self.datas[t].nevents
        if n >= EVENTS_TO_KEEP:
            keep_eager_temporaries()  # each pass's arrays again without mapping their pages anew
        total = None
        for start in range(0, max(n, 1), self.CHUNK):
            self._window = (t, slice(start, start + self.CHUNK))
            try:
                part = super().sum_over_events(t, per_event, obs, weighted, weight_power)
            finally:
                self._window = None
            total = part if total is None else total + part
        return total

    def event_sum(self, t, dual, weighted, weight_power=1):
        """Sum a per-event Dual over term ``t``'s events (weighted by ``w ** weight_power``),
        component by component."""
        data = self.datas[t]
        rows = self._events(t)
        weights = data.weights[rows] if weighted and data.weights is not None else None
        if weights is not None and weight_power != 1:
            weights = weights ** weight_power
        size = len(range(*rows.indices(data.nevents)))

        def total(x):
            x = np.broadcast_to(x, (size,))
            return np.dot(weights, x) if weights is not None else np.sum(x)

        return Dual(self.be, total(dual.v), {j: total(x) for j, x in dual.g.items()},
                    {jk: total(x) for jk, x in dual.h.items()})


def at_current_values(model) -> EagerContext:
    """An eager context with the parameters of ``model`` (a pdf or function) at their current values:
    the one way nfit evaluates a node's integrals and tables outside a loss.

    Example
    -------
    >>> import numpy as np, nfit
    >>> g = nfit.pdf.Gauss(mu=0.0, sigma=2.0, obs=nfit.Space("x", -1, 1))
    >>> float(g._build(at_current_values(g), {"x": np.array([2.0])}, None).v[0])   # exp(-1/2), unnormalised
    0.6065306597126334
    """
    from .layout import ParamLayout
    from .param import model_params

    layout = ParamLayout(model_params(model))
    return EagerContext(layout, layout.vector())
