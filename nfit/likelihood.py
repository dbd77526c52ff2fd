"""The negative log-likelihood of a loss, written once for both paths.

``nll(ctx, terms, constraints)`` builds the loss as a :class:`nfit.ad.Dual` (value, gradient,
Hessian) from a build context: the eager context sums NumPy arrays, the code context writes
the event loops of a kernel. For each (model, data) term::

    - sum_i w_i log f(x_i)                       (plain)
    nu - sum_i w_i log(nu f(x_i))                (extended; the same as nu - N log nu - sum_i w_i log f,
                                                  N the sum of weights)

plus the constraints' penalties.
"""
from __future__ import annotations

from dataclasses import dataclass

from .ad import Dual


@dataclass
class Term:
    """One (model, data) pair of a loss, as the likelihood sees it."""

    model: object
    norm: object  # Space to normalise over
    obs: tuple
    weighted: bool
    extended: bool


def nll(ctx, terms, constraints=()) -> Dual:
    total = Dual(ctx.be, ctx.be.lift(0.0))
    for t, term in enumerate(terms):
        x = ctx.columns(t, term.obs, term.weighted)
        if term.extended:
            # nu - sum log(nu f): the yield folds into the per-call coefficients of the shapes
            density = term.model._build_extended(ctx, x, term.norm)
            total = total - ctx.event_sum(t, density.log(), term.weighted) + ctx.param(term.model.get_yield())
        else:
            density = term.model._build(ctx, x, term.norm)
            total = total - ctx.event_sum(t, density.log(), term.weighted)
    for constraint in constraints:
        total = total + constraint._build(ctx)
    return total
