"""The loss as a minimiser sees it, shared by every minimiser and by the fit result: choosing the
free parameters, the objective function with its exact derivatives (:class:`Objective`), an
``iminuit.Minuit`` set up for it, and setting parameter values after a fit.

The contract with a loss: ``loss.get_params()`` (the free parameters, in the order of its
parameter vector), ``loss.derivatives(point, order)`` (value, gradient and Hessian at a full
parameter vector, exact where the model allows), ``loss.point(values, order)`` (that vector from the
free parameters' values), ``loss.errordef`` and ``loss.derivative_order``.

>>> import numpy as np, nfit
>>> obs = nfit.Space("x", limits=(-3, 3))
>>> mu = nfit.Parameter("mu_objective", 0.1)
>>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs),
...                             data=nfit.Data.from_numpy(obs, np.array([-0.5, 0.2, 0.4])))
>>> [p.name for p in free_params(nll, ["mu_objective"])]
['mu_objective']
"""
from __future__ import annotations

import math

import numpy as np

from . import run
from .baseloss import BaseLoss, SimpleLoss
from .bounds import minuit_hessian, minuit_needs_curvature_term
from .numdiff import gradient as numerical_gradient
from .param import Parameter, floating_epoch, select

__all__ = ["Objective", "as_loss", "free_params", "loss_function", "make_minuit", "hessian_kind",
           "set_values", "keep_or_restore"]


def as_loss(loss, params):
    """A loss as given, or zfit's shorthand: a callable ``func(params)`` with ``params=`` (parameters,
    or numbers that become free ``autoparam_i`` parameters) and an ``errordef`` attribute becomes a
    :class:`~nfit.loss.SimpleLoss`."""
    if isinstance(loss, BaseLoss) or not callable(loss):
        return loss, params
    if params is None:
        raise ValueError("minimize: a callable loss needs params=, the parameters it depends on")
    errordef = getattr(loss, "errordef", None)
    if errordef is None:
        raise ValueError(f"minimize: cannot minimise {getattr(loss, '__name__', loss)!r}: set its errordef "
                         "attribute first (1 for a chi2, 0.5 for a negative log-likelihood), as zfit asks")
    return SimpleLoss(loss, params=params, errordef=errordef), None


def free_params(loss, params):
    """The loss's free parameters, or those of them named by ``params``."""
    floating = loss.get_params()
    if params is None:
        return floating
    return select(floating, params, "minimize", "a free parameter of the loss")


def loss_function(loss, params):
    """f(x) for the chosen free parameters; the other free ones stay at their current values."""
    floating = loss.get_params()
    if len(params) == len(floating) and all(a is b for a, b in zip(params, floating)):
        return loss.__call__
    index = np.array([floating.index(p) for p in params], dtype=np.intp)
    base = np.array([q.value() for q in floating])

    def function(x):
        full = base.copy()
        full[index] = x
        return loss(full)

    return function


def make_minuit(function, params, errordef, values=None, grad=None, hessian=None):
    """An ``iminuit.Minuit`` for ``function`` of ``params``: names, limits and step sizes set."""
    import iminuit

    values = [p.value() for p in params] if values is None else values
    names = [p.name for p in params]
    m = iminuit.Minuit(_Named(function, names), np.array(values, dtype=float), name=names, grad=grad,
                       hessian=hessian)
    m.errordef = errordef
    m.limits = [(-np.inf if p.lower is None else p.lower, np.inf if p.upper is None else p.upper) for p in params]
    m.errors = [p.step_size for p in params]
    return m


class _Named:
    """``function(x)`` with the names of its parameters where iminuit looks first (``_parameters``):
    without them, iminuit reads the function's signature on every ``Minuit(...)``, which costs
    more than the rest of setting it up."""

    __slots__ = ("function", "_parameters")

    def __init__(self, function, names):
        self.function = function
        self._parameters = dict.fromkeys(names)

    def __call__(self, x):
        return self.function(x)


def hessian_kind(loss):
    order = min(loss.derivative_order, 2)
    return "exact" if order >= 2 else ("exact gradient, differentiated numerically" if order == 1 else "numerical")


class Objective:
    """The loss as MINUIT sees it: a function of the chosen free parameters, with its gradient
    and Hessian. The value and the gradient come from one pass over the data, and the last few
    passes are remembered, so MINUIT's separate calls at one point cost one pass.

    Example
    -------
    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", limits=(-3, 3))
    >>> mu = nfit.Parameter("mu_obj", 0.1)
    >>> data = nfit.Data.from_numpy(obs, np.array([-0.5, 0.2, 0.4]))
    >>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs), data=data)
    >>> f = Objective(nll, [mu])
    >>> value = f.value_remembering_gradient(np.array([0.0]))
    >>> f.gradient(np.array([0.0])).shape
    (1,)
    """

    def __init__(self, loss, params, gradient_order=1):
        self.loss = loss
        self.gradient_order = gradient_order  # 2: gradients come from the Hessian kernel
        floating = loss.get_params()
        position = {id(q): i for i, q in enumerate(floating)}
        missing = [getattr(p, "name", p) for p in params if id(p) not in position]
        if missing:
            raise ValueError(f"{missing} are not free parameters of the loss (fixed since, or another loss's)")
        index = [position[id(p)] for p in params]
        self.index = np.array(index, dtype=np.intp)
        self._every = index == list(range(len(floating)))  # no selection to make
        self.base = np.array([q.value() for q in floating])
        self.lowers = [p.lower for p in params]
        self.uppers = [p.upper for p in params]
        self._recent = {}  # point -> (order, (value, gradient, hessian)): the last few passes
        self._start = None  # see start_at
        self._start_alias = None
        self._last_positive = None  # (point, matrix) of positive_hessian's last answer
        self._settled = {}  # order -> (floating epoch, kernel): see _derivatives
        self.n_nan = 0

    def _point(self, x, order):
        if self._every:
            return self.loss.point(x, order)
        full = self.base.copy()
        full[self.index] = x
        return self.loss.point(full, order)

    def _pass(self, x, order):
        """Value, gradient (order >= 1) and Hessian (order 2) of the full loss at ``x``. MINUIT comes
        back to points it has seen (a line search ending where it started; HESSE at MIGRAD's last
        point), so the last few passes are kept, keyed by the chosen parameters' values."""
        x = self._snapped(x)
        key = x.tobytes()  # the other parameters stay at this objective's base values
        seen = self._recent.get(key)
        if seen is None or seen[0] < order:
            seen = (order, self._derivatives(self._point(x, order), order))
            self._recent.pop(key, None)
            self._recent[key] = seen
            while len(self._recent) > _RECENT_PASSES:
                self._recent.pop(next(iter(self._recent)))
        return seen[1]

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_settled"] = {}  # a compiled kernel stays in its process; a copy finds its own
        return state

    def _derivatives(self, point, order):
        """The loss's derivatives at ``point``: through the kernel found on the first pass while it stays
        the loss's (:meth:`nfit.baseloss.BaseLoss._settled_kernel`), else through the loss."""
        epoch = floating_epoch()
        settled = self._settled.get(order)
        if settled is None or settled[0] is not epoch:
            kernel = self.loss._settled_kernel(order) if isinstance(self.loss, BaseLoss) else None
            if kernel is None:
                return self.loss.derivatives(point, order)
            settled = self._settled[order] = (epoch, kernel)
        return settled[1](point)

    def start_at(self, x):
        """MIGRAD starts at ``x`` (where the Newton stage ended, its pass remembered). MINUIT evaluates
        at its limit transform's round trip of ``x``, which differs from it by the rounding of numbers
        the size of the limits (39 units in the last place of a yield of 640 between 0 and 1e7): a
        point that close is served ``x``'s pass."""
        self._start = np.array(x, dtype=float)
        limits = self.__dict__.get("_limit_sizes")
        if limits is None:
            limits = self._limit_sizes = np.array([max(0.0 if lo is None else abs(lo), 0.0 if hi is None else abs(hi))
                                                   for lo, hi in zip(self.lowers, self.uppers)], dtype=float)
        self._start_tolerance = _START_ULPS * np.spacing(np.maximum(np.abs(self._start), limits))
        self._start_alias = None  # MIGRAD's spelling of the start, once its first call has shown it

    @property
    def start_served(self) -> bool:
        """Whether MIGRAD's start was served the pass remembered at :meth:`start_at`."""
        return self._start_alias is not None

    def _snapped(self, x):
        x = np.ascontiguousarray(x, dtype=float)
        start = self._start
        if start is None:
            return x
        if self._start_alias is not None:
            return start if x.tobytes() == self._start_alias else x
        # the first point MIGRAD asks for is its start
        if x.shape == start.shape and (np.abs(x - start) <= self._start_tolerance).all():
            self._start_alias = x.tobytes()
            return start
        self._start = None
        return x

    def value(self, x):
        return self._counted(self.loss.evaluate(self._point(self._snapped(x), 0)))

    def value_remembering_gradient(self, x):
        return self._counted(self._pass(x, self.gradient_order)[0])

    def _counted(self, value):
        if not math.isfinite(value):
            self.n_nan += 1  # what a zfit strategy decides on (DefaultStrategy raises)
        return value

    def gradient(self, x):
        gradient = self._pass(x, self.gradient_order)[1]
        return gradient.copy() if self._every else gradient[self.index]

    def numerical_gradient(self, x):
        scale = np.array([q.step_size for q in self.loss.get_params()])[self.index]
        return numerical_gradient(self.value, np.asarray(x, dtype=float), scale)

    def hessian(self, x):
        return self.derivatives(x)[2]

    def derivatives(self, x):
        """``(value, gradient, Hessian)`` by the chosen parameters at ``x``, from one pass (remembered).
        A NaN here is not counted in ``n_nan`` (the Newton steps that ask step back from it)."""
        value, gradient, hessian = self._pass(x, 2)
        if self._every:
            return value, gradient.copy(), hessian.copy()
        return value, gradient[self.index], hessian[np.ix_(self.index, self.index)]

    def positive_hessian(self, x):
        """The Hessian for MINUIT (see :mod:`nfit.bounds`): with the curvature of MINUIT's limit
        transforms added where the installed iminuit drops it, and positive definite in MINUIT's
        internal scale, so MIGRAD can start from it far from the minimum. At a minimum inside the
        limits it passes unchanged. MIGRAD asks for it at its start and again at its minimum, often
        one point: the last one is remembered."""
        x = self._snapped(x)
        key = x.tobytes()
        if self._last_positive is not None and self._last_positive[0] == key:
            return self._last_positive[1].copy()
        _, grad, hess = self.derivatives(x)
        matrix = minuit_hessian(hess, grad, x, self.lowers, self.uppers, correct=minuit_needs_curvature_term())
        self._last_positive = (key, matrix)
        return matrix.copy()


_RECENT_PASSES = 8
_START_ULPS = 8


def keep_or_restore(params, before):
    """Inside ``nfit.run.experimental_disable_param_update()`` the parameters go back to their values
    from before the fit (the result keeps the fitted ones)."""
    if not run.params_update_enabled():
        for p, v in zip(params, before):
            p._value = float(v)


def set_values(params, values):
    """Each parameter to its value, brought inside its limits (MINUIT's may be a rounding outside)."""
    for p, v in zip(params, values):
        lower, upper = p.lower, p.upper
        if lower is not None and v < lower:
            v = lower
        if upper is not None and v > upper:
            v = upper
        if type(p) is Parameter:
            p._value = p._checked(v)  # set_value without the context manager it returns
        else:
            p.set_value(v)


