"""Minimisers: MINUIT (iminuit) and SciPy's, returning a :class:`~nfit.result.FitResult`.

>>> import nfit
>>> m = nfit.minimize.Minuit(tol=1e-3, mode=1)
>>> m.strategy, m.tol
(1, 0.001)
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from . import run
from .minimizers.base import EDM, BaseMinimizer, minimize_supports
from .minimizers.interface import ZfitMinimizer
from .minimizers.strategy import DefaultStrategy, DefaultToyStrategy, FailMinimizeNaN, ZfitStrategy
from .newton import MAX_COUPLED, MIN_EDM, coupled_params, newton_start
from .objective import (
    Objective,
    as_loss,
    free_params,
    hessian_kind,
    keep_or_restore,
    make_minuit,
    set_values,
)
from .result import STATUS as STATUS_TEXT
from .result import FitResult

__all__ = ["Minuit", "ScipyLBFGSB", "ScipyTrustConstr", "ScipyBFGS", "ScipyNewtonCG", "ScipyTrustNCG",
           "ScipyTrustKrylov", "ScipyDogleg", "ScipyTruncNC", "ScipySLSQP", "ScipyPowell", "ScipyNelderMead",
           "ScipyCOBYLA", "FitResult", "DefaultStrategy", "DefaultToyStrategy", "FailMinimizeNaN", "BaseMinimizer",
           "minimize_supports", "EDM", "ZfitMinimizer", "ZfitStrategy", "Objective", "make_minuit"]


_GRADIENTS = {None: "auto", True: "auto", "auto": "auto", "zfit": "exact", "exact": "exact", False: "minuit",
              "minuit": "minuit", "numdifftools": "numdifftools"}


def _gradient_choice(gradient):
    try:
        return _GRADIENTS[gradient]
    except (KeyError, TypeError):
        raise ValueError(f"Minuit: gradient={gradient!r}; choose 'auto', 'exact', 'minuit' or 'numdifftools'") from None


def _summary(minimizer, result, elapsed) -> None:
    """The line a minimiser prints after a fit from verbosity 1 on."""
    if minimizer.verbosity > 0:
        edm = f"edm={result.edm:.3g}, " if math.isfinite(result.edm) else ""
        print(f"{minimizer.name}: {'valid' if result.valid else 'INVALID'} minimum, fmin={result.fmin:.10g}, "
              f"{edm}{result.info['n_eval']} calls, {elapsed:.3g} s")


class Minuit(ZfitMinimizer):
    """MINUIT's MIGRAD through iminuit.

    Parameters
    ----------
    tol : float, optional
        Convergence: stop when the estimated distance to the minimum (EDM) is below ``tol``
        (zfit's meaning). Default: iminuit's own default (EDM < 2e-4 * errordef).
    mode : int, optional
        MINUIT strategy 0, 1 (default) or 2 (zfit's name for it).
    strategy : int or zfit strategy, optional
        An int is MINUIT's strategy (as ``mode``); a :class:`DefaultStrategy` or
        :class:`DefaultToyStrategy` (zfit's) says what a fit that ends on NaN does: raise
        :class:`FailMinimizeNaN`, or come back invalid (the default here, as in toys).
    gradient : str, bool or None
        ``"auto"`` (default, also None or True): the loss's exact gradient when every part of the
        model has derivatives, else MINUIT's own; ``"exact"``: the loss's gradient (numerical with
        a warning where a part has none); ``"minuit"`` (or False): MINUIT's numerical gradient;
        ``"numdifftools"``: a numdifftools gradient of the loss. With an exact gradient MINUIT is
        also handed the loss's Hessian (exact, or the exact gradient differentiated once).
    maxiter : int, optional
        Maximum number of function calls.
    verbosity : int
        As zfit: 0 silent; 1-5 a summary of the fit; MINUIT's own output from 2 on (its print level
        1 above 1, 2 above 6, 3 above 8).
    options : dict, optional
        zfit's options for iminuit: ``precision`` (the machine precision MINUIT assumes for the
        loss); ``pedantic`` is accepted and has no effect (as in zfit); anything else is an error.
    criterion : optional
        The convergence criterion: MINUIT's EDM, the only one supported (None, ``"edm"`` or zfit's
        ``EDM`` class); anything else is an error rather than ignored.
    use_minuit_grad : bool, optional
        zfit's older switch: True is ``gradient="minuit"``, False ``gradient="exact"``.
    newton : bool or None
        Where the loss has an exact Hessian, take guarded Newton steps on it before MIGRAD, so
        MIGRAD starts at (or near) the minimum and ends after one line search
        (:mod:`nfit.newton`). The minimum, its validity and the errors are still MIGRAD's and
        HESSE's. None (default): on where the gradient is the loss's exact one, the Hessian is
        exact, each event depends on at most :data:`nfit.newton.MAX_COUPLED` (8) free parameters
        (beyond that a Hessian pass costs more than the MIGRAD iterations it saves) and the EDM at
        the start values is at least :data:`nfit.newton.MIN_EDM` (100; from closer, MIGRAD alone
        is quicker). The choice depends on the model, the data and the start values only, never
        on the path, so the same fit gives the same numbers on every path. False: off; True: on
        wherever the Hessian is exact, and an error for a loss without one.

    After a fit, ``_minuit_minimizer`` is the ``iminuit.Minuit`` object that ran it (as in zfit).

    Example
    -------
    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", limits=(-4, 4))
    >>> mu = nfit.Parameter("mu_min", 0.2, -1, 1); sg = nfit.Parameter("sg_min", 1.3, 0.2, 3)
    >>> x = np.random.default_rng(3).normal(size=3000)
    >>> data = nfit.Data.from_numpy(obs=obs, array=x[np.abs(x) < 4])
    >>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sg, obs=obs), data=data)
    >>> result = Minuit().minimize(nll)
    >>> result.valid, abs(result.params[mu]["value"]) < 0.1
    (True, True)
    """

    def __init__(self, tol=None, mode=None, gradient=None, verbosity=0, options=None, maxiter=None,
                 criterion=None, strategy=None, name="Minuit", use_minuit_grad=None, newton=None):
        if use_minuit_grad is not None:
            if gradient is not None:
                raise ValueError("Minuit: give gradient= or use_minuit_grad=, not both")
            gradient = "minuit" if use_minuit_grad else "exact"
        self._minuit_minimizer = None
        self.nan_strategy = DefaultToyStrategy()
        if isinstance(strategy, ZfitStrategy) or (isinstance(strategy, type) and issubclass(strategy, ZfitStrategy)):
            self.nan_strategy = strategy() if isinstance(strategy, type) else strategy
            strategy = None
        if mode is not None and strategy is not None and mode != strategy:
            raise ValueError("Minuit: give mode (zfit's name) or strategy, not both")
        self.strategy = int(strategy if strategy is not None else (mode if mode is not None else 1))
        if self.strategy not in (0, 1, 2):
            raise ValueError(f"Minuit: strategy must be 0, 1 or 2, got {self.strategy}")
        if tol is not None and not tol > 0:
            raise ValueError(f"Minuit: tol must be positive, got {tol}")
        self.gradient = _gradient_choice(gradient)
        self.tol = tol
        self.verbosity = 0 if verbosity is None else int(verbosity)
        self.maxiter = maxiter
        self.name = name
        self.options = _minuit_options(options)
        self.criterion = _criterion(criterion)
        if newton not in (None, True, False):
            raise ValueError(f"Minuit: newton must be None, True or False, got {newton!r}")
        self.newton = newton

    def _make_minuit(self, loss, params, values, function, grad=None, hessian=None):
        m = make_minuit(function, params, loss.errordef, values, grad=grad, hessian=hessian)
        m.strategy = self.strategy
        m.print_level = _minuit_print_level(self.verbosity)
        if self.options.get("precision") is not None:
            m.precision = float(self.options["precision"])
        if self.tol is not None:
            # iminuit stops at EDM < 0.002 * tol * errordef; zfit's tol is the EDM itself
            m.tol = self.tol / (0.002 * loss.errordef)
        return m

    def minimize(self, loss, params=None, init=None) -> FitResult:
        """Minimise ``loss`` over its free parameters (or only ``params``); the parameters are
        left at the minimum. A fit that fails comes back with ``valid=False`` and a message."""
        if init is not None:
            init.update_params()
        loss, params = as_loss(loss, params)
        params = free_params(loss, params)
        if not params:
            raise ValueError("minimize: the loss has no free parameters")
        gradient = self.gradient
        if gradient == "auto":
            gradient = "exact" if loss.derivative_order >= 1 and run.get_autograd_mode() else "minuit"
        # a loss's first fit compiles one kernel: the Hessian kernel serves the gradients too
        single = gradient == "exact" and loss.hessian_serves_gradient()
        objective = Objective(loss, params, gradient_order=2 if single else 1)
        start = time.perf_counter()
        stage = self._newton_stage(loss, params, objective, gradient)
        migrad_start = stage.x if stage is not None and stage.steps else None  # else the parameters' values
        if gradient == "exact":
            m = self._make_minuit(loss, params, migrad_start, objective.value_remembering_gradient, objective.gradient,
                                  objective.positive_hessian)
        elif gradient == "numdifftools":
            m = self._make_minuit(loss, params, migrad_start, objective.value, objective.numerical_gradient)
        else:
            m = self._make_minuit(loss, params, migrad_start, objective.value)
        before = [p.value() for p in params]
        if stage is not None:
            objective.start_at(stage.x)
        m.migrad(ncall=self._migrad_calls(stage))
        elapsed = time.perf_counter() - start
        self._minuit_minimizer = m
        values = m.values[:]  # a list: each read of iminuit's view costs a call per parameter
        set_values(params, values)
        loss.mark_fitted()
        result = FitResult.from_minuit(loss, self, params, m, elapsed, values=values)
        result._objective = objective  # result.hesse() at the minimum reuses MIGRAD's last Hessian
        result.info.update(gradient=gradient, hessian=hessian_kind(loss) if gradient == "exact" else "minuit",
                           n_grad=m.ngrad, n_hessian=m.nhessian, n_nan=objective.n_nan)
        if stage is not None:
            # MIGRAD's first call, at its start, was the stage's last pass where that is remembered
            result.info["n_eval"] += stage.passes - objective.start_served
            result.info["newton"] = {"steps": stage.steps, "passes": stage.passes, "edm": stage.edm,
                                     "stopped": stage.reason}
        _summary(self, result, elapsed)
        keep_or_restore(params, before)
        self.nan_strategy.check(result)
        return result

    def _newton_stage(self, loss, params, objective, gradient):
        """Newton steps before MIGRAD (see ``newton``), or None where they are off."""
        exact = gradient == "exact" and loss.derivative_order >= 2
        if self.newton is True and not exact:
            raise ValueError(f"Minuit(newton=True): the loss {loss!r} has no exact Hessian (or the gradient is "
                             f"not the loss's: gradient={self.gradient!r}); use newton=None or False")
        if not exact or self.newton is False or (self.newton is None and coupled_params(loss, params) > MAX_COUPLED):
            return None
        # MIGRAD's goal: EDM below 0.002 * tol * errordef, with iminuit's default tol of 0.1
        edm_goal = self.tol if self.tol is not None else 2e-4 * loss.errordef
        max_passes = None if self.maxiter is None else max(1, int(self.maxiter) // 2)
        x0 = np.array([p.value() for p in params], dtype=float)
        stage = newton_start(objective.derivatives, x0, [p.lower for p in params], [p.upper for p in params],
                             edm_goal, max_passes=max_passes, min_edm=MIN_EDM if self.newton is None else 0.0)
        if self.verbosity > 1:
            print(f"{self.name}: {stage.steps} Newton steps ({stage.passes} passes) before MIGRAD, "
                  f"EDM {stage.edm:.3g}: {stage.reason}")
        return stage

    def _migrad_calls(self, stage):
        if self.maxiter is None or stage is None:
            return self.maxiter
        return max(1, int(self.maxiter) - stage.passes)

    @property
    def minimizer_options(self) -> dict:
        """The options as zfit reports them (MINUIT's strategy, the precision, the tolerance)."""
        return {"strategy": self.strategy, "tol": self.tol, **self.options}

    def copy(self):
        import copy

        return copy.copy(self)

    def create_evaluator(self, loss, params=None, strategy=None):
        """zfit's: the loss as a minimiser evaluates it (:class:`~nfit.minimizers.LossEval`)."""
        from .minimizers.base import LossEval

        params = free_params(loss, params)
        return LossEval(loss, params, strategy=strategy or self.nan_strategy, maxiter=self.maxiter)

    def create_criterion(self, loss, params=None):
        """zfit's: MINUIT's EDM criterion with this minimiser's ``tol`` (zfit's default 1e-3 if None)."""
        return EDM(tol=1e-3 if self.tol is None else self.tol, loss=loss, params=free_params(loss, params))

    def get_maxiter(self, n=None):
        return self.maxiter

    def __repr__(self):
        return f"<Minuit strategy={self.strategy} tol={self.tol}>"


def _minuit_options(options) -> dict:
    """zfit's ``options`` of its Minuit: ``precision`` (and ``pedantic``, without effect); else an error."""
    options = dict(options or {})
    unknown = sorted(set(options) - {"precision", "pedantic"})
    if "errordef" in options:
        raise ValueError("Minuit: errordef cannot be given in options; it is the loss's (loss.errordef)")
    if unknown:
        raise ValueError(f"Minuit: options {unknown} are not supported; supported: 'precision' (and 'pedantic', "
                         "which has no effect, as in zfit)")
    return options


def _criterion(criterion):
    """The convergence criterion: MINUIT's EDM only (None, "edm", or zfit's EDM class or instance)."""
    if criterion is None:
        return "edm"
    name = criterion if isinstance(criterion, str) else getattr(criterion, "__name__", type(criterion).__name__)
    if str(name).lower() != "edm":
        raise ValueError(f"criterion={criterion!r}: nfit's minimisers stop on MINUIT's EDM only "
                         "(criterion=None or 'edm'); another criterion is not implemented")
    return "edm"


def _minuit_print_level(verbosity) -> int:
    """zfit's mapping of its verbosity (0-10) to iminuit's print level."""
    return 3 if verbosity > 8 else 2 if verbosity > 6 else 1 if verbosity > 1 else 0


_SCIPY_GRADIENTS = {None: "loss", False: "loss", "zfit": "loss", "exact": "loss", True: "2-point",
                    "2-point": "2-point", "3-point": "3-point"}
_SCIPY_HESSIANS = {None: "loss", False: "loss", "zfit": "loss", "exact": "loss", True: "2-point",
                   "2-point": "2-point", "3-point": "3-point"}
# zfit's argument names for SciPy's method options
_SCIPY_OPTION_NAMES = {"init_trust_radius": "initial_trust_radius", "max_trust_radius": "max_trust_radius"}


class _Scipy(ZfitMinimizer):
    """A minimiser from scipy.optimize (see :class:`ScipyLBFGSB` and the others).

    ``tol`` is zfit's: the estimated distance to the minimum (EDM, as MINUIT's) a valid result must
    reach (default 1e-3, as in zfit). SciPy runs with tight tolerances of its own and, where the EDM
    is still above ``tol``, again from where it stopped (up to 5 times).
    ``gradient``: None or ``"zfit"`` (the loss's, exact where the model has one), ``"2-point"`` /
    ``"3-point"`` (SciPy's finite differences). ``hessian`` (methods that use one): the same choices,
    or a ``scipy.optimize.HessianUpdateStrategy`` (``BFGS``, ``SR1``) class or instance.
    Other keyword arguments are SciPy's options of the method (zfit's ``init_trust_radius`` included);
    one SciPy does not know is an error.
    """

    _method = None
    _uses_gradient = True
    _uses_hessian = None  # None: no Hessian; "optional"; "required"
    _bounds = True
    _tight = 1e-10  # SciPy's own tolerance on the first run

    def __init__(self, tol=None, gradient=None, hessian=None, verbosity=0, maxiter=None, name=None, options=None,
                 minimizer_options=None, strategy=None, criterion=None, **method_options):
        self.tol = 1e-3 if tol is None else float(tol)
        if not self.tol > 0:
            raise ValueError(f"{type(self).__name__}: tol must be positive, got {tol}")
        self.maxiter = maxiter
        self.verbosity = 0 if verbosity is None else int(verbosity)
        self.name = name or type(self).__name__
        self.options = dict(options or {}, **dict(minimizer_options or {}))
        for key, value in method_options.items():
            if value is not None:
                self.options[_SCIPY_OPTION_NAMES.get(key, key)] = value
        self.criterion = _criterion(criterion)
        self.nan_strategy = DefaultToyStrategy()
        if strategy is not None:
            self.nan_strategy = strategy() if isinstance(strategy, type) else strategy
            if not isinstance(self.nan_strategy, ZfitStrategy):
                raise TypeError(f"{self.name}: strategy must be DefaultStrategy or DefaultToyStrategy, "
                                f"got {strategy!r}")
        if gradient is not None and not self._uses_gradient:
            raise ValueError(f"{self.name}: SciPy's {self._method} uses no gradient; do not give gradient=")
        try:
            self.gradient = _SCIPY_GRADIENTS[gradient]
        except (KeyError, TypeError):
            raise ValueError(f"{self.name}: gradient={gradient!r}; use None or 'zfit' (the loss's gradient), True or "
                             "'2-point' or '3-point' (SciPy's finite differences)") from None
        self.hessian = self._hessian_choice(hessian)

    def _hessian_choice(self, hessian):
        from scipy.optimize import HessianUpdateStrategy

        if self._uses_hessian is None:
            if hessian is not None:
                raise ValueError(f"{self.name}: SciPy's {self._method} uses no Hessian; do not give hessian=")
            return None
        if isinstance(hessian, HessianUpdateStrategy) or (isinstance(hessian, type)
                                                           and issubclass(hessian, HessianUpdateStrategy)):
            return hessian
        try:
            return _SCIPY_HESSIANS[hessian]
        except (KeyError, TypeError):
            raise ValueError(f"{self.name}: hessian={hessian!r}; use None or 'zfit' (the loss's), '2-point', "
                             "'3-point', or a scipy.optimize.HessianUpdateStrategy such as BFGS") from None

    def minimize(self, loss, params=None, init=None) -> FitResult:
        """Minimise ``loss`` with scipy.optimize; see :class:`Minuit` for the meaning of arguments."""
        if init is not None:
            init.update_params()
        loss, params = as_loss(loss, params)
        params = free_params(loss, params)
        if not params:
            raise ValueError("minimize: the loss has no free parameters")
        x0 = np.array([p.value() for p in params])
        start = time.perf_counter()
        res, objective, edm, calls = None, Objective(loss, params), np.inf, 0
        tight, goal = self._tight, self.tol
        for _ in range(5):
            res = self._run(loss, params, objective, np.array([p.value() for p in params]), tight)
            calls += int(getattr(res, "nfev", 0))
            set_values(params, res.x)
            edm = self._edm(loss, objective, res.x)
            # an EDM below the loss's own rounding cannot be improved on: that is converged too
            goal = max(self.tol, 10 * np.finfo(float).eps * max(1.0, abs(float(res.fun))))
            if not (edm >= goal) or not np.isfinite(res.fun):  # below tol, or NaN: nothing to gain
                break
            tight *= 1e-2
        elapsed = time.perf_counter() - start
        res.nfev = calls
        result = FitResult.from_scipy(loss, self, params, res, elapsed)
        result.edm = float(edm)
        result.info["scipy_message"] = str(getattr(res, "message", ""))
        outside = [p.name for p, v in zip(params, res.x) if (p.lower is not None and v < p.lower)
                   or (p.upper is not None and v > p.upper)]
        # valid as in zfit: the EDM criterion decides where the loss has a gradient (SciPy's own stop
        # reports precision loss at a minimum its tolerance cannot resolve), SciPy's success elsewhere
        finite = bool(np.isfinite(res.fun) and np.all(np.isfinite(res.x)))
        converged = (edm < goal) if loss.derivative_order >= 1 else bool(res.success)
        status = 4 if not finite else 5 if outside else 0 if converged else 2
        result.valid = result.converged = status == 0
        result.status = status
        result.message = {0: "", 4: STATUS_TEXT[4], 2: f"EDM {edm:.3g} above tol {self.tol:g}: "
                          f"{result.info['scipy_message']}",
                          5: f"ended outside the limits of {outside} ({self._method} has no bounds)"}[status]
        result.info["message"] = result.message
        keep_or_restore(params, x0)
        numerical = self.gradient == "loss" and loss.derivative_order < 1
        result.info["gradient"] = None if not self._uses_gradient else "2-point" if numerical else self.gradient
        result.info["n_nan"] = objective.n_nan
        _summary(self, result, elapsed)
        self.nan_strategy.check(result)
        return result

    def _jac(self, loss, objective, x0, scale):
        """SciPy's ``jac``: the loss's gradient in step-size units, a finite-difference scheme, or None."""
        if not self._uses_gradient:
            return None
        if self.gradient == "loss":
            if loss.derivative_order < 1:
                return "2-point"

            def jac(u):
                return objective.gradient(x0 + u * scale) * scale

            return jac
        return self.gradient

    def _hess(self, loss, objective, x0, scale):
        if self.hessian is None:
            return None
        if self.hessian == "loss":
            def hess(u, *args):
                return objective.hessian(x0 + u * scale) * np.outer(scale, scale)

            return hess
        return self.hessian() if isinstance(self.hessian, type) else self.hessian

    def _run(self, loss, params, objective, x0, tol):
        from scipy.optimize import OptimizeWarning, minimize

        # work in units of each parameter's step size, so that yields and widths look alike
        scale = np.array([p.step_size for p in params])

        def scaled(u):
            return objective.value(x0 + u * scale)

        options = dict(self.options)
        if self.maxiter is not None:
            options["maxiter"] = self.maxiter
        kwargs = {"method": self._method, "tol": tol, "options": options}
        jac = self._jac(loss, objective, x0, scale)
        if jac is not None:
            kwargs["jac"] = jac
        hess = self._hess(loss, objective, x0, scale)
        if hess is not None:
            kwargs["hess"] = hess
        if self._bounds:
            kwargs["bounds"] = [(None if p.lower is None else (p.lower - x) / s,
                                 None if p.upper is None else (p.upper - x) / s) for p, x, s in zip(params, x0, scale)]
        if self.verbosity > 6:
            def callback(*args):
                u = args[0] if args and not hasattr(args[0], "x") else args[0].x
                print(f"{self.name}: loss {scaled(np.asarray(u)):.12g}")

            kwargs["callback"] = callback
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message="Unknown solver options", category=OptimizeWarning)
            try:
                res = minimize(scaled, np.zeros_like(x0), **kwargs)
            except OptimizeWarning as err:
                raise ValueError(f"{self.name}: {err} (not an option of SciPy's {self._method})") from None
        res.x = x0 + res.x * scale
        res.approx_gradient, res.approx_inv_hessian = _scipy_approximations(res, scale)
        return res

    def _edm(self, loss, objective, x) -> float:
        """MINUIT's estimated distance to the minimum at ``x`` (``g·H⁻¹·g / 2``); 0 where the loss has no
        gradient to estimate it with (the minimiser's own stop decides then)."""
        if loss.derivative_order < 1 or not np.all(np.isfinite(x)):
            return 0.0 if loss.derivative_order < 1 else np.inf
        with np.errstate(all="ignore"):
            gradient = objective.gradient(x)
            hessian = objective.hessian(x)
            # a parameter held at a limit by the gradient is not free to move: leave it out
            free = [i for i, (lo, hi) in enumerate(zip(objective.lowers, objective.uppers))
                    if not ((lo is not None and x[i] <= lo + 1e-9 * (abs(lo) + 1) and gradient[i] > 0)
                            or (hi is not None and x[i] >= hi - 1e-9 * (abs(hi) + 1) and gradient[i] < 0))]
            gradient, hessian = gradient[free], hessian[np.ix_(free, free)]
            try:
                edm = float(gradient @ np.linalg.solve(hessian, gradient)) / 2.0
            except np.linalg.LinAlgError:
                return np.inf
        return edm if np.isfinite(edm) and edm >= 0 else np.inf

    def __repr__(self):
        return f"<{self.name} tol={self.tol}>"


def _scipy_approximations(res, scale):
    """SciPy's gradient and inverse Hessian at its minimum (where its method has them), back in the
    parameters' own units from the step-size units the minimisation ran in."""
    gradient = getattr(res, "grad", None)
    if gradient is None:
        gradient = getattr(res, "jac", None)
    try:
        gradient = np.asarray(gradient, dtype=float).reshape(-1) / scale if gradient is not None else None
        if gradient is not None and gradient.shape != scale.shape:
            gradient = None
    except (TypeError, ValueError):
        gradient = None
    inverse = getattr(res, "hess_inv", None)
    try:
        inverse = inverse.todense() if hasattr(inverse, "todense") else inverse
        inverse = np.asarray(inverse, dtype=float) * np.outer(scale, scale) if inverse is not None else None
        if inverse is not None and inverse.shape != (len(scale), len(scale)):
            inverse = None
    except (TypeError, ValueError):
        inverse = None
    return gradient, inverse


class ScipyLBFGSB(_Scipy):
    """SciPy's L-BFGS-B (bounded quasi-Newton); options such as ``maxcor``, ``maxls``.

    Example
    -------
    >>> ScipyLBFGSB().name
    'ScipyLBFGSB'
    """

    _method = "L-BFGS-B"


class ScipyTrustConstr(_Scipy):
    """SciPy's trust-constr (trust region with bounds), with the loss's Hessian by default.

    Example
    -------
    >>> ScipyTrustConstr(tol=1e-8).tol
    1e-08
    """

    _method = "trust-constr"
    _uses_hessian = "optional"
    _tight = 1e-12

    def __init__(self, tol=None, init_trust_radius=None, gradient=None, hessian=None, **kwargs):
        super().__init__(tol=tol, gradient=gradient, hessian=hessian, **kwargs)
        if init_trust_radius is not None:
            self.options["initial_tr_radius"] = init_trust_radius


class ScipyBFGS(_Scipy):
    """SciPy's BFGS (unbounded quasi-Newton: a result outside a parameter's limits is invalid).

    >>> ScipyBFGS().name
    'ScipyBFGS'
    """

    _method = "BFGS"
    _bounds = False


class ScipyNewtonCG(_Scipy):
    """SciPy's Newton-CG with the loss's Hessian (unbounded).

    >>> ScipyNewtonCG(tol=1e-5).tol
    1e-05
    """

    _method = "Newton-CG"
    _uses_hessian = "optional"
    _bounds = False


class ScipyTrustNCG(_Scipy):
    """SciPy's trust-ncg: Newton conjugate-gradient trust region with the loss's Hessian (unbounded).

    >>> ScipyTrustNCG().name
    'ScipyTrustNCG'
    """

    _method = "trust-ncg"
    _uses_hessian = "required"
    _bounds = False


class ScipyTrustKrylov(_Scipy):
    """SciPy's trust-krylov with the loss's Hessian (unbounded).

    >>> ScipyTrustKrylov().name
    'ScipyTrustKrylov'
    """

    _method = "trust-krylov"
    _uses_hessian = "required"
    _bounds = False


class ScipyDogleg(_Scipy):
    """SciPy's dog-leg trust region with the loss's Hessian (positive definite; unbounded).

    >>> ScipyDogleg().name
    'ScipyDogleg'
    """

    _method = "dogleg"
    _uses_hessian = "required"
    _bounds = False


class ScipyTruncNC(_Scipy):
    """SciPy's TNC: truncated Newton with bounds.

    >>> ScipyTruncNC().name
    'ScipyTruncNC'
    """

    _method = "TNC"


class ScipySLSQP(_Scipy):
    """SciPy's SLSQP: sequential least squares programming with bounds.

    >>> ScipySLSQP().name
    'ScipySLSQP'
    """

    _method = "SLSQP"


class ScipyPowell(_Scipy):
    """SciPy's Powell: derivative-free, with bounds.

    >>> ScipyPowell().name
    'ScipyPowell'
    """

    _method = "Powell"
    _uses_gradient = False


class ScipyNelderMead(_Scipy):
    """SciPy's Nelder-Mead simplex: derivative-free, with bounds.

    >>> ScipyNelderMead().name
    'ScipyNelderMead'
    """

    _method = "Nelder-Mead"
    _uses_gradient = False


class ScipyCOBYLA(_Scipy):
    """SciPy's COBYLA: derivative-free, with bounds.

    >>> ScipyCOBYLA().name
    'ScipyCOBYLA'
    """

    _method = "COBYLA"
    _uses_gradient = False


# zfit's names for its SciPy minimisers (the ``V1`` spellings are the same classes there)
ScipyLBFGSBV1 = ScipyLBFGSB
ScipyTrustConstrV1 = ScipyTrustConstr
ScipyBFGSV1 = ScipyBFGS
ScipyNewtonCGV1 = ScipyNewtonCG
ScipyTrustNCGV1 = ScipyTrustNCG
ScipyTrustKrylovV1 = ScipyTrustKrylov
ScipyDoglegV1 = ScipyDogleg
ScipyTruncNCV1 = ScipyTruncNC
ScipySLSQPV1 = ScipySLSQP
ScipyPowellV1 = ScipyPowell
ScipyNelderMeadV1 = ScipyNelderMead
ScipyCOBYLAV1 = ScipyCOBYLA
ScipyBaseMinimizer = ScipyBaseMinimizerV1 = _Scipy

