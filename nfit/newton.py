"""Newton steps on the loss's exact Hessian before MIGRAD.

MIGRAD is a variable-metric method: it starts from the Hessian it is given and then only updates an
estimate of it, evaluating the loss at two points of a line search per iteration. Where the loss
has an exact Hessian, a Newton step costs one pass over the data and converges quadratically, so
:func:`newton_start` walks to the minimum first and MIGRAD starts there: it finds its EDM below the
goal after one line search and ends. The minimum, its validity and the covariance are still
MIGRAD's and HESSE's; the Newton steps only choose where MIGRAD starts.

The steps are guarded. A step is taken only where the Hessian is positive definite, the whole
step stays inside every parameter's limits and the loss decreases (halving the step up to
:data:`MAX_HALVINGS` times); otherwise the stage stops and MIGRAD starts from the last accepted
point. A saddle, NaN: all are left to MIGRAD. A step that would leave the limits is halved until
it stays inside; where that happens at two iterates in a row, the minimum lies on a limit (or
beyond), which MIGRAD's transform of bounded parameters handles best from where the user started
it: MIGRAD then starts from the start values, as it would have without the stage. Below an EDM
of ``EDM_FRACTION`` times MIGRAD's goal one more step is taken, unguarded, so that MIGRAD's own
first step is within rounding and its line search ends at once.

:class:`nfit.minimize.Minuit` runs the stage by default where it pays: each event depends on at
most :data:`MAX_COUPLED` free parameters (:func:`coupled_params`) and the EDM at the start values
is at least :data:`MIN_EDM`; docs/reliability.md has the measurements.

>>> import numpy as np
>>> def derivatives(x):   # (x0 - 1)^4 + (x0 - 1)^2 + 3 (x1 + 2)^2
...     d = x - np.array([1.0, -2.0])
...     value = d[0] ** 4 + d[0] ** 2 + 3 * d[1] ** 2
...     gradient = np.array([4 * d[0] ** 3 + 2 * d[0], 6 * d[1]])
...     return value, gradient, np.diag([12 * d[0] ** 2 + 2, 6.0])
>>> stage = newton_start(derivatives, np.zeros(2), [None, None], [None, None], edm_goal=1e-6)
>>> np.round(stage.x, 6).tolist(), stage.reason
([1.0, -2.0], 'converged')
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import linalg

__all__ = ["NewtonStage", "newton_start", "coupled_params", "MAX_STEPS", "MAX_HALVINGS", "EDM_FRACTION",
           "POLISHED", "MAX_COUPLED", "MIN_EDM"]

MAX_STEPS = 25
MAX_HALVINGS = 4
# where the Newton decrement is this fraction of MIGRAD's EDM goal, the next step would not
# change what MIGRAD reports; stopping there saves MIGRAD's own iterations
EDM_FRACTION = 1e-6
# MIGRAD's line search at its start ends at once only where its step is within rounding of the
# parameters' values (about this EDM); from a little further out (1e-10, say) it tries up to 11
# points whose values differ only by the loss's rounding
POLISHED = 1e-12
# the Newton steps pay where a Hessian pass costs less than about two gradient passes: where each
# event depends on at most this many free parameters (a Hessian of at most 36 entries per event;
# measured on the compiled path: 20 % faster fits at 5 and 8 such parameters, 30 % slower at 12)
MAX_COUPLED = 8
# from closer to the minimum MIGRAD needs few iterations, and its gradient passes cost less than the
# Newton steps' Hessian passes (toys that start at the truth: EDM about half the number of parameters)
MIN_EDM = 100.0


@dataclass
class NewtonStage:
    """Where the Newton stage ended: the point ``x`` where MIGRAD starts (one whose derivatives
    were computed), the number of passes over the data it made, the steps that lead to ``x``, the
    EDM estimated at ``x`` (inf where it was not) and why it stopped."""

    x: np.ndarray
    passes: int
    steps: int
    edm: float
    reason: str


def coupled_params(loss, params) -> int:
    """The most free parameters (of ``params``) that one term's events depend on: the size of the
    Hessian block each event adds to (all of ``params`` for a loss without terms).

    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", -3, 3)
    >>> mu, sigma = nfit.Parameter("mu_cp", 0.0), nfit.Parameter("sigma_cp", 1.0)
    >>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs),
    ...                             data=nfit.Data.from_numpy(obs, np.array([0.1])))
    >>> coupled_params(nll, [mu])
    1
    """
    terms = getattr(loss, "_terms", None)
    if not terms:
        return len(params)
    # each term's parameters (the model's structure does not change; kept with the loss's kernels)
    per_term = loss._program.parts.get("term parameters")
    if per_term is None:
        per_term = loss._program.parts["term parameters"] = [
            {id(q) for q in term.model.get_params(floating=None)} for term in terms]
    return max(sum(id(p) in ids for p in params) for ids in per_term)


def _newton_step(gradient, hessian):
    """The Newton step ``H⁻¹ g`` and the EDM ``g·H⁻¹·g / 2``, or None where ``H`` is not positive definite.

    >>> _newton_step(np.array([2.0]), np.array([[4.0]])), _newton_step(np.array([2.0]), np.array([[-4.0]]))
    ((array([0.5]), 0.5), None)
    """
    step = linalg.solve_if_positive(hessian, gradient)
    if step is None:
        return None
    edm = float(gradient @ step) / 2.0
    # a NaN or an infinity in the step makes its product with the gradient one (0 * inf is NaN)
    return (step, edm) if math.isfinite(edm) else None


def _inside(x, lowers, uppers) -> bool:
    """Whether every ``x`` is strictly between its limits (lists, -inf and inf where there are none;
    Python's floats: for the few parameters of a fit, faster than NumPy's comparisons).

    >>> _inside(np.array([0.5, 7.0]), [0.0, -math.inf], [1.0, math.inf]), _inside(np.array([1.0]), [0.0], [1.0])
    (True, False)
    """
    return all(lower < v < upper for lower, v, upper in zip(lowers, x.tolist(), uppers))


def _finite(value, gradient, hessian) -> bool:
    return math.isfinite(value) and _all_finite(gradient) and _all_finite(hessian)


def _all_finite(a) -> bool:
    """Whether every entry is finite, by the sum of their squares: a NaN or an infinity makes it so,
    and so does an entry above 1e154, which is no number a Newton step could use either."""
    a = a.ravel()
    return math.isfinite(a @ a)


def newton_start(derivatives, x0, lowers, uppers, edm_goal, max_passes=None, min_edm=0.0) -> NewtonStage:
    """Damped Newton steps from ``x0`` with ``derivatives(x) -> (value, gradient, Hessian)`` until
    the EDM is below ``EDM_FRACTION * edm_goal``, and one step more where it is not below
    ``POLISHED * edm_goal`` (see the module's docstring for the guards).
    ``max_passes`` bounds the calls of ``derivatives``; where the EDM at ``x0`` is below ``min_edm``
    no step is taken (MIGRAD alone is quicker from there).

    >>> def derivatives(x):
    ...     return float((x[0] - 3) ** 2), np.array([2 * (x[0] - 3)]), np.array([[2.0]])
    >>> stage = newton_start(derivatives, np.array([0.0]), [0.0], [2.0], edm_goal=1e-4)  # minimum beyond the limit
    >>> stage.reason, stage.x.tolist()   # MIGRAD starts where the user did
    ('step leaves the limits', [0.0])
    """
    max_passes = MAX_STEPS * (MAX_HALVINGS + 1) if max_passes is None else int(max_passes)
    lowers = [-math.inf if v is None else float(v) for v in lowers]
    uppers = [math.inf if v is None else float(v) for v in uppers]
    x = np.array(x0, dtype=float)
    value, gradient, hessian = derivatives(x)
    passes, steps, pushed = 1, 0, False
    if not _finite(value, gradient, hessian):  # a step is taken only to a point where they are
        return NewtonStage(x, passes, steps, math.inf, "not finite")
    while True:
        newton = _newton_step(gradient, hessian)
        if newton is None:
            return NewtonStage(x, passes, steps, math.inf, "Hessian not positive definite")
        step, edm = newton
        if edm < EDM_FRACTION * edm_goal:
            if edm < POLISHED * edm_goal or passes >= max_passes:
                return NewtonStage(x, passes, steps, edm, "converged")
            # one more step, unguarded (the loss cannot tell points this close apart): MIGRAD's own
            # step from here is then too short for its line search to wander on the loss's rounding
            trial = x - step
            t_value, t_gradient, t_hessian = derivatives(trial)
            passes += 1
            polished = _newton_step(t_gradient, t_hessian) if _finite(t_value, t_gradient, t_hessian) else None
            if polished is not None and polished[1] < edm:
                return NewtonStage(trial, passes, steps + 1, polished[1], "converged")
            return NewtonStage(x, passes, steps, edm, "converged")
        if steps == 0 and edm < min_edm:
            return NewtonStage(x, passes, steps, edm, "close to the minimum")
        if steps >= MAX_STEPS:
            return NewtonStage(x, passes, steps, edm, "too many steps")
        fraction, halvings = 1.0, 0
        leaves = not _inside(x - step, lowers, uppers)
        if leaves:
            # once (far from the minimum, a step overshoots): halved until it stays inside; twice in a
            # row: the minimum lies on or beyond a limit
            while halvings < MAX_HALVINGS and not _inside(x - fraction * step, lowers, uppers):
                fraction, halvings = fraction / 2, halvings + 1
            if pushed or not _inside(x - fraction * step, lowers, uppers):
                return NewtonStage(np.array(x0, dtype=float), passes, 0, math.inf, "step leaves the limits")
        pushed = leaves
        # the quadratic model predicts a decrease of 2 edm for the full step; where that is below
        # the rounding of the loss's value, a small rise is rounding and the step is taken
        slack = 64 * math.ulp(abs(value)) * max(1.0, math.sqrt(x.size))
        for _ in range(halvings, MAX_HALVINGS + 1):
            if passes >= max_passes:
                return NewtonStage(x, passes, steps, edm, "call limit")
            trial = x - fraction * step
            t_value, t_gradient, t_hessian = derivatives(trial)
            passes += 1
            # Armijo's condition on the decrease, 1e-4 of what the gradient predicts
            if _finite(t_value, t_gradient, t_hessian) and t_value <= value - 1e-4 * fraction * 2 * edm + slack:
                break
            fraction /= 2
        else:
            return NewtonStage(x, passes, steps, edm, "no decrease along the step")
        x, value, gradient, hessian = trial, t_value, t_gradient, t_hessian
        steps += 1
