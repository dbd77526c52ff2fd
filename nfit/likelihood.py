"""The negative log-likelihood of a loss, written once for both paths.

``nll(ctx, terms, constraints)`` builds the loss as a :class:`nfit.ad.Dual` (value, gradient,
Hessian) from a build context: the eager context sums NumPy arrays, the code context writes
the event loops of a kernel. For each (model, data) term::

    - sum_i w_i log f(x_i)                       (plain)
    nu - sum_i w_i log(nu f(x_i))                (extended; the same as nu - N log nu - sum_i w_i log f,
                                                  N the sum of weights)

plus the constraints' penalties.

``score_outer(ctx, terms, constraints)`` builds, in the same way, the matrix ``D = sum_i w_i² g_i
g_iᵀ`` of the asymptotically correct covariance of a weighted fit (Langenbruch, EPJC 82 (2022) 393),
``g_i`` the gradient of event ``i``'s log-density (extended: of ``log(nu f(x_i))``), with one more
row of weight 1 for each constraint's gradient (as zfit does). It comes back as the Hessian
entries ``h[(j, k)]`` of a Dual, so both paths write it like a Hessian.
"""
from __future__ import annotations

from dataclasses import dataclass

from .ad import Dual


@dataclass
class Term:
    """One (model, data) pair of an unbinned loss, as the likelihood sees it.

    A term names the data columns its kernel loop reads (``obs``, and the weights when
    ``weighted``) and builds its part of the loss in a context (:meth:`build`); a binned term
    (:class:`nfit.binnedterm.BinnedTerm`) does the same over bins."""

    model: object
    norm: object  # Space to normalise over
    obs: tuple
    weighted: bool
    extended: bool
    binned = False
    dynamic = False  # True where a column depends on the parameter values (see BinnedTerm)

    def arrays(self, data, values=None) -> list:
        """The kernel's data arguments of this term, in order (``values``: {parameter: value} of the
        point, for columns that depend on it)."""
        return [data.column(o) for o in self.obs] + ([data.weights] if self.weighted else [])

    def source(self, data, values=None):
        """What the eager context reads the columns from."""
        return data

    def size(self, data) -> int:
        return data.nevents

    def build(self, ctx, t) -> Dual:
        # extended: nu - sum log(nu f); the yield folds into the per-call coefficients of the shapes
        build = self.model._build_extended if self.extended else self.model._build
        summed = ctx.sum_over_events(t, lambda x: build(ctx, x, self.norm).log(), self.obs, self.weighted)
        if self.extended:
            return ctx.param(self.model.get_yield()) - summed
        return Dual(ctx.be, ctx.be.lift(0.0)) - summed


def nll(ctx, terms, constraints=()) -> Dual:
    total = Dual(ctx.be, ctx.be.lift(0.0))
    for t, term in enumerate(terms):
        total = total + term.build(ctx, t)
    for constraint in constraints:
        total = total + constraint._build(ctx)
    return total


def score_outer(ctx, terms, constraints=()) -> Dual:
    """``D = sum_i w_i² g_i g_iᵀ`` (plus one row per constraint) as the ``h`` entries of a Dual; the
    context must carry first derivatives (order 1)."""
    be = ctx.be
    outer = {}

    def add(key, value):
        outer[key] = be.add(outer[key], value) if key in outer else value

    for t, term in enumerate(terms):
        if term.binned:  # binned losses are not corrected for weights (as in zfit)
            continue
        build = term.model._build_extended if term.extended else term.model._build

        def outer_products(x, build=build, term=term):
            log_density = build(ctx, x, term.norm).log()
            keys = sorted(log_density.g)
            return Dual(be, log_density.v, {}, {(j, k): be.mul(log_density.g[j], log_density.g[k])
                                                 for a, j in enumerate(keys) for k in keys[a:]})

        summed = ctx.sum_over_events(t, outer_products, term.obs, term.weighted, weight_power=2)
        for key, value in summed.h.items():
            add(key, value)
    for constraint in constraints:
        penalty = constraint._build(ctx)
        keys = sorted(penalty.g)
        for a, j in enumerate(keys):
            for k in keys[a:]:
                add((j, k), be.mul(penalty.g[j], penalty.g[k]))
    return Dual(be, be.lift(0.0), {}, outer)
