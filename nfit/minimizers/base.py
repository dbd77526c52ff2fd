"""zfit's base class for minimisers written by users, with its evaluator and convergence criterion.

A subclass writes ``_minimize(self, loss, params, init)``: it asks ``self.create_evaluator()`` for
the loss's value, gradient and Hessian (exact where the model has them), checks
``self.create_criterion()`` for convergence and returns a :class:`~nfit.result.FitResult`.

>>> import numpy as np, nfit
>>> class Newton(nfit.minimize.BaseMinimizer):
...     @nfit.minimize.minimize_supports(init=False)
...     def _minimize(self, loss, params, init):
...         evaluator, criterion = self.create_evaluator(), self.create_criterion()
...         x = np.array([p.value() for p in params])
...         while True:
...             value, gradient = evaluator.value_gradient(x)
...             result = nfit.result.FitResult(loss=loss, params=dict(zip(params, x)), minimizer=self,
...                                            valid=True, edm=None, fminopt=value, criterion=criterion,
...                                            approx={"gradient": gradient})
...             if criterion.converged(result):
...                 return result
...             x = x - np.linalg.solve(evaluator.hessian(x), gradient)
>>> a = nfit.Parameter("a_newton", 0.0)
>>> def chi2(params):
...     return (params[0] - 2.0) ** 2
>>> chi2.errordef = 1.0
>>> result = Newton(tol=1e-6).minimize(chi2, params=[a])
>>> result.valid, round(result.params[a]["value"], 6)
(True, 2.0)
"""
from __future__ import annotations

import copy
import math

import numpy as np

from ..objective import Objective, as_loss, free_params, keep_or_restore, set_values
from ..param import values_set
from ..result import FitResult
from .interface import ZfitMinimizer
from .strategy import DefaultStrategy, DefaultToyStrategy, FailMinimizeNaN, ZfitStrategy


class MaximumIterationReached(RuntimeError):
    """The evaluator was asked for more evaluations than the minimiser's ``maxiter``."""


def minimize_supports(*, init=False):
    """zfit's decorator on ``_minimize``: ``init=True`` says it uses a previous result given as
    ``init`` (its values and approximations); with False, nfit sets the parameters to ``init``'s
    values and calls ``_minimize`` with ``init=None``.

    >>> @minimize_supports(init=True)
    ... def _minimize(self, loss, params, init):
    ...     pass
    >>> _minimize._nfit_init_support
    True
    """
    if init not in (True, False, "same"):
        raise ValueError(f"minimize_supports: init must be True, False or 'same', got {init!r}")

    def decorate(func):
        func._nfit_init_support = init
        return func

    return decorate


class ConvergenceCriterion:
    """Decides convergence from a result: ``converged(result)`` is ``calculate(result) < tol``;
    the last value is kept in ``last_value``."""

    def __init__(self, tol, loss, params, name=None):
        self.tol = float(tol)
        self.loss = loss
        self.params = list(params)
        self.name = name or type(self).__name__
        self.last_value = None

    def converged(self, result) -> bool:
        return self.calculate(result) < self.tol

    def calculate(self, result) -> float:
        self.last_value = float(self._calculate(result))
        return self.last_value

    def _calculate(self, result) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def __repr__(self):
        return f"<{self.name} tol={self.tol} last={self.last_value}>"


class EDM(ConvergenceCriterion):
    """MINUIT's estimated distance to the minimum, ``g·H⁻¹·g / 2``, from the result's approximations
    where it has them, else from the loss's gradient and Hessian at the result's values.

    >>> import nfit
    >>> b = nfit.Parameter("b_edm", 1.0)
    >>> loss = nfit.loss.SimpleLoss(lambda params: (params[0] - 3.0) ** 2, params=[b], errordef=1.0)
    >>> result = nfit.result.FitResult(loss=loss, params={b: 1.0}, minimizer=None, valid=False)
    >>> round(EDM(tol=1e-3, loss=loss, params=[b]).calculate(result), 6)  # g = -4, H = 2
    4.0
    """

    def __init__(self, tol, loss, params, name="edm"):
        super().__init__(tol, loss, params, name)

    def _calculate(self, result) -> float:
        params = list(result.params)
        values = [result.params[p]["value"] for p in params]
        gradient = result.approx.gradient()
        inverse = result.approx.inv_hessian(invert=True)
        with values_set(params, values):
            if gradient is None:
                gradient = result.loss.gradient(params)
            hessian = result.loss.hessian(params) if inverse is None else None
        gradient = np.asarray(gradient, dtype=float)
        try:
            step = inverse @ gradient if inverse is not None else np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            return 999_999.0
        edm = float(gradient @ step) / 2.0
        return edm if edm >= 0 and math.isfinite(edm) else 999_999.0


class LossEval:
    """The loss as a minimiser sees it: value, gradient and Hessian at arrays of parameter values
    (each call also sets the parameters to them, as zfit does), counting calls, stopping at
    ``maxiter`` and handing NaNs to the strategy.

    >>> import nfit
    >>> c = nfit.Parameter("c_eval", 0.0)
    >>> loss = nfit.loss.SimpleLoss(lambda params: (params[0] - 1.0) ** 2, params=[c], errordef=1.0)
    >>> evaluator = LossEval(loss, [c])
    >>> value, gradient = evaluator.value_gradient([3.0])
    >>> value, round(float(gradient[0]), 5), evaluator.nfunc_eval
    (4.0, 4.0, 1)
    """

    def __init__(self, loss, params, strategy=None, do_print=False, maxiter=None, numpy_converter=None):
        self.loss = loss
        self.params = list(params)
        self.strategy = strategy
        self.do_print = bool(do_print)
        self.maxiter = maxiter
        self.numpy_converter = numpy_converter
        self._objective = Objective(loss, self.params)
        self.nfunc_eval = self.ngrad_eval = self.nhess_eval = 0

    @property
    def niter(self) -> int:
        return max(self.nfunc_eval, self.ngrad_eval, self.nhess_eval)

    @property
    def maxiter_reached(self) -> bool:
        return self.maxiter is not None and self.niter > self.maxiter

    def _at(self, values) -> np.ndarray:
        x = np.array([float(v.value()) if hasattr(v, "value") else float(v) for v in np.ravel(values)])
        set_values(self.params, x)
        return x

    def _check(self, value):
        if self.maxiter_reached:
            raise MaximumIterationReached(f"more than maxiter={self.maxiter} evaluations of the loss")
        if not math.isfinite(value):
            if isinstance(self.strategy, DefaultStrategy) or self.strategy is DefaultStrategy:
                raise FailMinimizeNaN(f"the loss is {value} at {[p.value() for p in self.params]}")
        if self.do_print:
            print(f"loss {value!r} at {[p.value() for p in self.params]}")

    def value(self, values) -> float:
        x = self._at(values)
        self.nfunc_eval += 1
        value = self._objective.value(x)
        self._check(value)
        return value

    def gradient(self, values) -> np.ndarray:
        return self.value_gradient(values)[1]

    def value_gradient(self, values):
        x = self._at(values)
        self.nfunc_eval += 1
        self.ngrad_eval += 1
        if self.loss.derivative_order >= 1:
            value = self._objective.value_remembering_gradient(x)
            gradient = self._objective.gradient(x)
        else:
            value, gradient = self._objective.value(x), self._objective.numerical_gradient(x)
        self._check(value)
        return value, np.asarray(gradient, dtype=float)

    def hessian(self, values) -> np.ndarray:
        x = self._at(values)
        self.nhess_eval += 1
        hessian = self._objective.hessian(x)
        self._check(float(np.sum(hessian)))
        return hessian


class BaseMinimizer(ZfitMinimizer):
    """Base class of minimisers written by users, as zfit's ``zfit.minimize.BaseMinimizer``: subclasses
    write ``_minimize(self, loss, params, init)`` (see the module's example).

    ``tol`` (default 1e-3) is the criterion's threshold; ``criterion`` a class like :class:`EDM`;
    ``strategy`` nfit's/zfit's NaN strategy (default: an invalid result); ``maxiter`` the most
    evaluations (default ``"auto"``: 3000 per parameter); ``minimizer_options`` a dict kept for the
    subclass.
    """

    def __init__(self, tol=None, verbosity=None, criterion=None, strategy=None, minimizer_options=None,
                 maxiter=None, name=None):
        self.tol = 1e-3 if tol is None else float(tol)
        if not self.tol > 0:
            raise ValueError(f"{type(self).__name__}: tol must be positive, got {tol}")
        self.verbosity = 0 if verbosity is None else int(verbosity)
        self.criterion = EDM if criterion is None else criterion
        if not (isinstance(self.criterion, type) and issubclass(self.criterion, ConvergenceCriterion)):
            raise TypeError(f"{type(self).__name__}: criterion must be a ConvergenceCriterion class such as EDM, "
                            f"got {criterion!r}")
        strategy = DefaultToyStrategy() if strategy is None else strategy
        self.strategy = strategy() if isinstance(strategy, type) else strategy
        if not isinstance(self.strategy, ZfitStrategy):
            raise TypeError(f"{type(self).__name__}: strategy must be DefaultStrategy or DefaultToyStrategy, "
                            f"got {strategy!r}")
        self.minimizer_options = dict(minimizer_options or {})
        if not (maxiter is None or maxiter == "auto" or callable(maxiter) or int(maxiter) > 0):
            raise ValueError(f"{type(self).__name__}: maxiter must be a positive number, 'auto' or a function")
        self._maxiter = "auto" if maxiter is None else maxiter
        self.name = name or type(self).__name__
        self._state = None

    # ------------------------------------------------------------------ the work
    def minimize(self, loss, params=None, init=None):
        """Minimise ``loss`` (or a callable with ``errordef``) over ``params``; see :class:`ZfitMinimizer`."""
        loss, params = as_loss(loss, params)
        params = free_params(loss, params)
        if init is not None and not self._uses_init(init):
            init.update_params()
            init = None
        before = [p.value() for p in params]
        self._state = {"loss": loss, "params": params, "init": init}
        try:
            result = self._minimize(loss, params, init)
        except MaximumIterationReached as stop:
            result = FitResult(loss=loss, params={p: p.value() for p in params}, minimizer=self, valid=False,
                               converged=False, status=1, message=f"call limit reached: {stop}",
                               criterion=self._state.get("criterion"))
        finally:
            state, self._state = self._state, None
        if not isinstance(result, FitResult):
            raise TypeError(f"{type(self).__name__}._minimize must return a FitResult, got {type(result).__name__}")
        evaluator = state.get("evaluator")
        if evaluator is not None:
            result.info["n_eval"] = max(result.info.get("n_eval", 0), evaluator.niter)
        set_values(result._param_list, [result.params[p]["value"] for p in result._param_list])
        keep_or_restore(params, before)
        self.strategy.check(result)
        return result

    def _uses_init(self, init) -> bool:
        support = getattr(type(self)._minimize, "_nfit_init_support", False)
        return support is True or (support == "same" and type(init.minimizer) is type(self))

    def _minimize(self, loss, params, init):
        raise NotImplementedError(f"{type(self).__name__} must define _minimize(self, loss, params, init)")

    # ------------------------------------------------------------------ helpers for _minimize
    def _from_state(self, key, value):
        if value is not None:
            return value
        if self._state is None:
            raise ValueError(f"{key} must be given outside minimize()")
        return self._state[key]

    def create_evaluator(self, loss=None, params=None, numpy_converter=None, strategy=None) -> LossEval:
        """The :class:`LossEval` of the loss being minimised (or of ``loss`` and ``params``)."""
        loss, params = self._from_state("loss", loss), self._from_state("params", params)
        evaluator = LossEval(loss, params, strategy=strategy or self.strategy, do_print=self.verbosity > 9,
                             maxiter=self.get_maxiter(len(params)), numpy_converter=numpy_converter)
        if self._state is not None:
            self._state["evaluator"] = evaluator
        return evaluator

    def create_criterion(self, loss=None, params=None) -> ConvergenceCriterion:
        """The convergence criterion (``criterion(tol=..., loss=..., params=...)``) for this minimisation."""
        loss, params = self._from_state("loss", loss), self._from_state("params", params)
        criterion = self.criterion(tol=self.tol, loss=loss, params=params)
        if self._state is not None:
            self._state["criterion"] = criterion
        return criterion

    def get_maxiter(self, n=None):
        if n is None:
            n = len(self._from_state("params", None))
        maxiter = self._maxiter
        if callable(maxiter):
            return int(maxiter(n))
        return 3000 * n if maxiter == "auto" else int(maxiter)

    @property
    def maxiter(self):
        return self.get_maxiter()

    def copy(self):
        return copy.copy(self)

    def __repr__(self):
        return f"<{type(self).__name__} {self.name} tol={self.tol}>"
