"""The result of a minimisation: values, validity, uncertainties (HESSE, MINOS), covariance.

>>> from nfit.result import FitResult
>>> FitResult.__name__
'FitResult'
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from . import linalg
from .numdiff import hessian
from .objective import Objective, hessian_kind, loss_function, make_minuit, set_values
from .param import select, values_set
from .progress import bar
from .serial import builtin

__all__ = ["FitResult"]

STATUS = {0: "converged", 1: "call limit reached", 2: "EDM above maximum",
          3: "covariance not accurate", 4: "loss is NaN or infinite", 5: "minimiser failed"}


class ParamResults(dict):
    """{Parameter: {"value": ..., "hesse": {...}, "errors": {...}}}, also indexable by name."""

    def __getitem__(self, key):
        if isinstance(key, str):
            for p in self:
                if p.name == key:
                    return dict.__getitem__(self, p)
            raise KeyError(f"no parameter named {key!r} in this result (has {[p.name for p in self]})")
        try:
            return dict.__getitem__(self, key)
        except KeyError:
            # a copy of the parameter (a result or a parameter unpickled on its own) finds it by name
            name = getattr(key, "name", None)
            for p in self:
                if name is not None and p.name == name:
                    return dict.__getitem__(self, p)
            raise KeyError(f"parameter {getattr(key, 'name', key)!r} is not part of this result") from None

    def __contains__(self, key):
        if isinstance(key, str):
            return any(p.name == key for p in self)
        return dict.__contains__(self, key) or any(p.name == getattr(key, "name", None) for p in self)


class _FrozenParams(dict):
    """The parameter results of a frozen fit result: keyed by name (a Parameter finds its own)."""

    def __getitem__(self, key):
        return dict.__getitem__(self, getattr(key, "name", key))

    def __contains__(self, key):
        return dict.__contains__(self, getattr(key, "name", key))


class FitResult:
    """What a minimiser returns.

    Attributes: ``valid``, ``converged``, ``status`` (0 is success), ``message``, ``fmin``,
    ``edm``, ``info`` (``n_eval``, ``minuit`` where used, ``gradient``, ``time``), ``params``
    (by Parameter or by name, each ``{"value": ...}``, filled by :meth:`hesse` and :meth:`errors`).

    Example
    -------
    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", limits=(-4, 4))
    >>> mu = nfit.Parameter("mu_res", 0.2, -1, 1); sg = nfit.Parameter("sg_res", 1.3, 0.2, 3)
    >>> x = np.random.default_rng(3).normal(size=3000)
    >>> data = nfit.Data.from_numpy(obs=obs, array=x[np.abs(x) < 4])
    >>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sg, obs=obs), data=data)
    >>> result = nfit.minimize.Minuit().minimize(nll)
    >>> _ = result.hesse()
    >>> 0.01 < result.params["mu_res"]["hesse"]["error"] < 0.03
    True
    """

    def __init__(self, loss, params, minimizer, valid, edm=None, fminopt=None, criterion=None, status=None,
                 converged=None, message=None, info=None, approx=None, niter=None, evaluator=None):
        """zfit's constructor, for minimisers written by users (see :class:`nfit.minimize.BaseMinimizer`):
        ``params`` maps each parameter to its value at the minimum; ``fminopt`` is the loss there
        (None: evaluated); ``approx`` a dict of ``gradient``, ``hessian``, ``inv_hessian`` there."""
        params = dict(params)
        param_list = list(params)
        if fminopt is None and loss is not None:
            with values_set(param_list, list(params.values())):
                fminopt = loss.value()
        valid = bool(valid)
        converged = valid if converged is None else bool(converged)
        status = (0 if valid else 5) if status is None else int(status)
        info = dict(info or {})
        if niter is not None:
            info.setdefault("n_eval", int(niter))
        if evaluator is not None:
            info.setdefault("n_eval", getattr(evaluator, "nfunc_eval", 0))
        info.setdefault("n_eval", 0)
        self._setup(loss, minimizer, param_list, list(params.values()), fminopt, np.nan if edm is None else edm,
                    valid, converged, status, message if message is not None else ("" if valid else STATUS[status]),
                    info)
        self.criterion = criterion
        self.approx = approx if isinstance(approx, Approximations) else Approximations(param_list, **(approx or {}))

    @classmethod
    def _create(cls, loss, minimizer, params, values, fmin, edm, valid, converged, status, message, info,
                minuit=None, approx=None):
        result = cls.__new__(cls)
        result._setup(loss, minimizer, params, values, fmin, edm, valid, converged, status, message, info, minuit)
        result.criterion = None
        result.approx = approx if approx is not None else Approximations(list(params))
        return result

    def _setup(self, loss, minimizer, params, values, fmin, edm, valid, converged, status, message, info,
               minuit=None):
        self.loss = loss
        self.minimizer = minimizer
        self._param_list = list(params)
        self.params = ParamResults((p, {"value": float(v)}) for p, v in zip(params, values))
        self.fmin = float(fmin)
        self.edm = float(edm)
        self.valid = bool(valid)
        self.converged = bool(converged)
        self.status = int(status)
        self.message = message
        self.info = dict(info)
        self.info.setdefault("message", message)
        self._minuit = minuit
        self._objective = None
        self._covariance = None
        self._frozen = False

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_minuit(cls, loss, minimizer, params, m, elapsed, values=None):
        """The result of MINUIT ``m``'s last MIGRAD; ``values``: ``m.values[:]`` where it was read already."""
        fm = m.fmin
        if values is None:
            values = m.values[:]  # a list (each read of the view costs a call per parameter)
        finite = math.isfinite(fm.fval) and all(map(math.isfinite, values))
        if not finite:
            status = 4
        elif fm.has_reached_call_limit:
            status = 1
        elif fm.is_above_max_edm:
            status = 2
        elif not fm.is_valid:
            status = 5
        else:
            status = 0
        valid = status == 0
        converged = finite and not fm.is_above_max_edm and not fm.has_reached_call_limit
        message = STATUS[status] if status else ""
        at_limit = [p.name for p in params if p.at_limit]
        info = {"n_eval": fm.nfcn, "minuit": m, "original": fm, "gradient": minimizer.gradient,
                "time": elapsed, "params_at_limit": at_limit}
        # MIGRAD's running estimate of the inverse Hessian (zfit's ``result.approx``), as it ended
        inverse = None if m.covariance is None else np.array(m.covariance) / (2.0 * loss.errordef)
        return cls._create(loss, minimizer, params, values, fm.fval, fm.edm, valid, converged, status,
                           message, info, minuit=m, approx=Approximations(list(params), inv_hessian=inverse))

    @classmethod
    def from_scipy(cls, loss, minimizer, params, res, elapsed):
        finite = np.isfinite(res.fun) and np.all(np.isfinite(res.x))
        status = 0 if (res.success and finite) else (4 if not finite else 5)
        message = "" if status == 0 else f"{STATUS[status]}: {res.message}"
        info = {"n_eval": int(getattr(res, "nfev", 0)), "original": res, "gradient": minimizer.gradient,
                "time": elapsed, "params_at_limit": [p.name for p in params if p.at_limit]}
        approx = Approximations(list(params), gradient=getattr(res, "approx_gradient", None),
                                inv_hessian=getattr(res, "approx_inv_hessian", None))
        return cls._create(loss, minimizer, params, res.x, res.fun, np.nan, status == 0, status == 0, status,
                           message, info, approx=approx)

    def __iter__(self):
        """The fitted values, in the order ``[q for m in loss.model for q in m.get_params()]`` (first
        occurrence; then any other fitted parameter, such as one only a constraint has): the order of
        ``loss.get_params()``, with which hepstats pairs them."""
        order = []
        for model in getattr(self.loss, "model", None) or []:
            for q in model.get_params():
                if q in self.params and q not in order:
                    order.append(q)
        order += [q for q in self._param_list if q not in order]
        return iter([self.params[q]["value"] for q in order])

    # ------------------------------------------------------------------ scipy's OptimizeResult names (zfit has them)
    @property
    def x(self) -> np.ndarray:
        """The fitted values, in the order of the parameters."""
        return np.array([self.params[p]["value"] for p in self._param_list])

    @property
    def fun(self) -> float:
        return self.fmin

    fminopt = fminfull = fun

    @property
    def success(self) -> bool:
        return self.valid

    @property
    def nfev(self) -> int:
        return int(self.info.get("n_eval", 0))

    @property
    def jac(self):
        return self.approx.gradient()

    @property
    def hess_inv(self):
        return self.approx.inv_hessian(invert=False)

    # ------------------------------------------------------------------ state
    @property
    def params_at_limit(self) -> bool:
        return bool(self.info.get("params_at_limit"))

    @property
    def values(self) -> dict:
        return {getattr(p, "name", p): d["value"] for p, d in self.params.items()}

    def __enter__(self):
        """``with result:`` sets the parameters to the fitted values and restores them at the end (zfit's)."""
        self._not_frozen()
        from .param import set_values as set_restorably

        self._restore = set_restorably(self._param_list, [self.params[p]["value"] for p in self._param_list])
        return self

    def __exit__(self, *exc):
        restore, self._restore = getattr(self, "_restore", None), None
        if restore is not None:
            restore.__exit__(*exc)
        return False

    def update_params(self):
        """Set every parameter of the result to its fitted value."""
        self._not_frozen()
        set_values(self._param_list, [self.params[p]["value"] for p in self._param_list])
        return self

    def _minuit_at_minimum(self):
        """A Minuit object positioned at this result's minimum (made if the minimiser was not MINUIT)."""
        if self._minuit is None:
            function = loss_function(self.loss, self._param_list)
            values = [self.params[p]["value"] for p in self._param_list]
            self._minuit = make_minuit(function, self._param_list, self.loss.errordef, values)
        return self._minuit

    def _error_scale(self) -> np.ndarray:
        """Rough parameter errors: from an earlier covariance, else MINUIT's, else step sizes."""
        if self._covariance is not None:
            return np.sqrt(np.abs(np.diag(self._covariance)))
        if self._minuit is not None and self._minuit.fmin is not None:
            return np.array(self._minuit.errors)
        return np.array([p.step_size for p in self._param_list])

    def _select(self, params):
        if params is None:
            return list(self._param_list)
        return select(self._param_list, params, "fit result", "part of this fit result")

    # ------------------------------------------------------------------ uncertainties
    def hesse(self, params=None, method=None, cl=None, name=None, weightcorr=None) -> dict:
        """Symmetric errors from the Hessian; fills ``params[p][name]`` with ``{"error", "cl",
        "weightcorr"}`` and returns those entries.

        ``method``: ``"auto"`` (default: the loss's own Hessian, exact where the model has second
        derivatives, else its exact gradient differentiated once; MINUIT's HESSE when the model
        has no derivatives or that Hessian is not positive definite), ``"minuit"`` (also
        ``"minuit_hesse"``: MINUIT's numerical HESSE) or ``"numdifftools"`` (also ``"hesse_np"``).
        ``cl``: the confidence level of the errors (default 0.683, one standard deviation).
        ``name``: where the errors go (default ``"hesse"``).
        ``weightcorr``: the covariance of a fit to weighted data (zfit's names): ``"asymptotic"``
        (the default for weighted data: ``H⁻¹ D H⁻¹``, ``D = sum_i w_i² g_i g_iᵀ``, Langenbruch,
        EPJC 82 (2022) 393), ``"sumw2"`` (``H⁻¹ sum w² / sum w``) or False (``H⁻¹``). Giving one for a
        loss without weights is an error.
        """
        self._not_frozen()
        weightcorr = _weightcorr_choice(weightcorr, self.loss, strict=True)
        name = "hesse" if name is None else name
        for entry in self.params.values():
            used = entry.get(name)
            if used is not None and "weightcorr" in used and used["weightcorr"] != weightcorr:
                raise NameError(f"hesse: the errors named {name!r} were computed with weightcorr="
                                f"{used['weightcorr']!r}; give another name for weightcorr={weightcorr!r}")
        cov = self._corrected(self._hesse_covariance(method), weightcorr)
        scale = _sigma_of(cl)
        level = 0.68268949 if cl is None else float(cl)
        variances = cov.diagonal().tolist()
        position = {id(p): i for i, p in enumerate(self._param_list)}
        out = {}
        for p in self._select(params):
            variance = variances[position[id(p)]]
            error = math.sqrt(variance) * scale if variance >= 0 else math.nan
            out[p] = dict.__getitem__(self.params, p)[name] = {"error": error, "cl": level, "weightcorr": weightcorr}
        return out

    def _hesse_covariance(self, method=None) -> np.ndarray:
        """``2 errordef H⁻¹`` at the minimum by ``method`` (see :meth:`hesse`), uncorrected for weights."""
        method = {None: "auto", "minuit_hesse": "minuit", "hesse_np": "numdifftools"}.get(method, method)
        if method not in ("auto", "minuit", "numdifftools", "approx"):
            raise ValueError(f"hesse: unknown method {method!r}; use 'auto', 'minuit_hesse', 'hesse_np' or 'approx'")
        cov, used = None, method
        if method == "approx":
            inverse = self.approx.inv_hessian(invert=True)
            if inverse is None:
                raise ValueError("hesse(method='approx'): the minimiser left no approximate Hessian for this result")
            cov = 2.0 * self.loss.errordef * inverse
        if method == "auto" and self.loss.derivative_order >= 1:
            objective = self._objective or Objective(self.loss, self._param_list)
            hess = objective.hessian(np.array([self.params[p]["value"] for p in self._param_list]))
            cov = self._inverse_without_flat(hess)
            used = hessian_kind(self.loss) if cov is not None else "minuit"
            if cov is None:
                self.info["hesse_warning"] = "the loss's Hessian is not positive definite; used MINUIT's HESSE"
        if cov is None and used in ("auto", "minuit"):
            if self._minuit is not None and self.info.get("gradient") == "minuit":
                m = self._minuit  # MINUIT's own state after MIGRAD: HESSE starts from its estimates
            else:
                values = [self.params[p]["value"] for p in self._param_list]
                m = make_minuit(loss_function(self.loss, self._param_list), self._param_list,
                                self.loss.errordef, values)
            m.hesse()
            used = "minuit"
            if m.covariance is None:  # HESSE failed: a flat direction, or a loss that is not finite here
                cov = np.full((len(self._param_list),) * 2, np.nan)
                self.info["hesse_warning"] = "MINUIT's HESSE failed (the Hessian is singular): errors are NaN"
                warnings.warn(f"hesse: {self.info['hesse_warning']}", stacklevel=3)
            else:
                cov = np.array(m.covariance)
                if not m.accurate:
                    self.info["hesse_warning"] = "covariance from HESSE is not accurate"
        elif used == "numdifftools":
            function = loss_function(self.loss, self._param_list)
            x0 = np.array([self.params[p]["value"] for p in self._param_list])
            hess = hessian(function, x0, self._error_scale())
            cov = self._inverse_without_flat(hess)
            if cov is None:  # not positive definite: its inverse all the same, as numdifftools gives it
                cov = 2.0 * self.loss.errordef * np.linalg.inv(hess)
        self._covariance = cov
        self.info["hesse_method"] = used
        self.update_params()
        return cov

    def _inverse_without_flat(self, hess):
        """``2 errordef H⁻¹``, where parameters the loss does not depend on (a zero row of ``H``, like the
        yield of an extended pdf in a non-extended fit) get NaN errors instead of a singular matrix."""
        inverse = _inverse_if_positive(hess, self.loss.errordef)
        if inverse is not None:  # a zero row makes the matrix singular: there is none
            return inverse
        flat = np.flatnonzero(~np.asarray(hess).any(axis=1)).tolist()
        if not flat:
            return None
        keep = [i for i in range(len(hess)) if i not in flat]
        sub = _inverse_if_positive(hess[np.ix_(keep, keep)], self.loss.errordef) if keep else np.zeros((0, 0))
        if sub is None:
            return None
        cov = np.full(hess.shape, np.nan)
        cov[np.ix_(keep, keep)] = sub
        names = [getattr(self._param_list[i], "name", self._param_list[i]) for i in flat]
        self.info["hesse_warning"] = f"the loss does not depend on {names}: their errors are NaN"
        warnings.warn(f"hesse: {self.info['hesse_warning']}", stacklevel=4)
        return cov

    def _corrected(self, cov, weightcorr) -> np.ndarray:
        """The covariance of a weighted fit from the uncorrected ``cov`` (see :meth:`hesse`)."""
        if not weightcorr:
            return cov
        hess_inverse = cov / (2.0 * self.loss.errordef)
        if weightcorr == "sumw2":
            sumw, sumw2 = self.loss.sum_weights()
            return hess_inverse * (sumw2 / sumw)
        self.update_params()
        floating = self.loss.get_params()
        index = [floating.index(p) for p in self._param_list]
        outer = self.loss.score_outer()[np.ix_(index, index)]
        keep = np.flatnonzero(np.isfinite(np.diag(hess_inverse)))  # parameters the loss depends on
        corrected = np.full(hess_inverse.shape, np.nan)
        block = np.ix_(keep, keep)
        corrected[block] = hess_inverse[block] @ outer[block] @ hess_inverse[block]
        return corrected

    def errors(self, params=None, name="errors", method=None, cl=None, sigma=1):
        """Asymmetric errors by MINOS. Returns ``(errors, new_result)`` like zfit: ``errors[p]`` has
        ``"lower"`` (negative) and ``"upper"``; ``new_result`` is None unless MINOS found a new minimum."""
        self._not_frozen()
        # zfit's "zfit_errors" finds the same interval (where the profiled loss rises by errordef times
        # the cl's quantile) by its own root finding; nfit finds it with MINOS for both names
        if method not in (None, "minuit_minos", "minos", "zfit_errors"):
            raise ValueError(f"errors: unknown method {method!r}; use 'minuit_minos' or 'zfit_errors'")
        if cl is not None:
            sigma = _sigma_of(cl)
        selected = self._select(params)
        if self.loss.is_weighted:
            warnings.warn("errors: MINOS profiles the weighted NLL; its intervals are not corrected for the "
                          "weights (use hesse(), whose default covariance is corrected)", stacklevel=2)
        m = self._minuit_at_minimum()
        fmin_before = m.fmin.fval if m.fmin is not None else self.fmin
        m.minos(*[p.name for p in selected], cl=sigma if sigma != 1 else None)
        out = {}
        for p in selected:
            me = m.merrors[p.name]
            self.params[p][name] = {"lower": float(me.lower), "upper": float(me.upper),
                                    "is_valid": bool(me.is_valid), "cl": sigma}
            out[p] = self.params[p][name]
        new_result = None
        if m.fmin is not None and m.fmin.fval < fmin_before - 1e-3 * self.loss.errordef:
            set_values(self._param_list, m.values)
            new_result = FitResult.from_minuit(self.loss, self.minimizer, self._param_list, m, 0.0)
        self.update_params()
        return out, new_result

    def profile(self, param, bounds=None, num=30, *, progress=None, client=None):
        """The profile likelihood of ``param``: at ``num`` values across ``bounds`` (default: the fitted
        value ± 2 HESSE errors) the other free parameters are refitted (MIGRAD, exact gradient where
        the model has one, each fit starting from its neighbour's minimum), and the loss minus this
        result's minimum is returned: ``(values, delta_nll)``. It crosses ``errordef`` (0.5 for an NLL)
        at the MINOS bounds. The parameters are left at this result's values. ``progress``: a progress
        bar (default: from 100 points on, where tqdm is installed). ``client``: a ``dask.distributed``
        Client (as for :func:`nfit.toys.run`) that scans one stretch of the values per worker, each
        outwards from its point nearest the minimum.

        Example
        -------
        >>> import numpy as np, nfit
        >>> obs = nfit.Space("x", -4, 4); mu = nfit.Parameter("mu_prof", 0.1, -1, 1)
        >>> x = np.random.default_rng(1).normal(size=400).clip(-3.9, 3.9)
        >>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs),
        ...                             data=nfit.Data.from_numpy(obs, x))
        >>> values, delta = nfit.minimize.Minuit().minimize(nll).profile(mu, num=5)
        >>> round(float(delta[2]), 6), bool(delta[0] > 1)
        (0.0, True)
        """
        self._not_frozen()
        (p,) = self._select(param)
        center = self.params[p]["value"]
        if bounds is None:
            hesse = self.params[p].get("hesse") or self.hesse(params=[p])[p]
            error = hesse["error"]
            if not np.isfinite(error) or error <= 0:
                raise ValueError(f"profile: {p.name!r} has no HESSE error to set the bounds from; give bounds=")
            bounds = (center - 2 * error, center + 2 * error)
        lo, hi = float(bounds[0]), float(bounds[1])
        if p.lower is not None:
            lo = max(lo, p.lower)
        if p.upper is not None:
            hi = min(hi, p.upper)
        if not lo < hi or int(num) < 2:
            raise ValueError(f"profile: bounds must be increasing within the limits and num at least 2, got "
                             f"({lo}, {hi}), {num}")
        values = np.linspace(lo, hi, int(num))
        if client is not None:
            return values, self._profile_on_cluster(client, p, values) - self.fmin
        others = [q for q in self._param_list if q is not p]
        fitted = [self.params[q]["value"] for q in self._param_list]
        nll = np.empty(len(values))
        invalid = []
        order = np.argsort(np.abs(values - center))  # outwards from the minimum: each fit starts near its neighbour
        starts = {}
        was_floating = p.floating
        progress_bar = bar(len(values), progress, f"profile of {p.name}", threshold=100)
        try:
            p.floating = False
            for i in order:
                if progress_bar is not None:
                    progress_bar.update(1)
                neighbour = min(starts, key=lambda j: abs(j - i)) if starts else None
                set_values(others, starts[neighbour] if neighbour is not None else [self.params[q]["value"]
                                                                                      for q in others])
                p.set_value(values[i])
                if others:  # the minimiser of this result refits the others
                    fit = self.minimizer.minimize(self.loss)
                    nll[i] = fit.fmin
                    starts[i] = [fit.params[q]["value"] for q in others]
                    if not fit.valid:
                        invalid.append(float(values[i]))
                else:
                    nll[i] = self.loss.value()
        finally:
            p.floating = was_floating
            set_values(self._param_list, fitted)
            if progress_bar is not None:
                progress_bar.close()
        if invalid:
            warnings.warn(f"profile of {p.name!r}: the refits at {invalid} are not valid", stacklevel=2)
        return values, nll - self.fmin

    def profile_to_dict(self, param, bounds=None, num=30, **kwargs) -> dict:
        """:meth:`profile` as JSON-able builtins: ``{"param", "values", "delta_nll", "errordef", "fmin"}``.

        >>> import json, numpy as np, nfit
        >>> obs = nfit.Space("x", -4, 4); mu = nfit.Parameter("mu_pdict", 0.1, -1, 1)
        >>> x = np.random.default_rng(1).normal(size=400).clip(-3.9, 3.9)
        >>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs),
        ...                             data=nfit.Data.from_numpy(obs, x))
        >>> d = json.loads(json.dumps(nfit.minimize.Minuit().minimize(nll).profile_to_dict(mu, num=5)))
        >>> d["param"], len(d["values"])
        ('mu_pdict', 5)
        """
        values, delta = self.profile(param, bounds=bounds, num=num, **kwargs)
        (p,) = self._select(param)
        return {"param": getattr(p, "name", p), "values": np.asarray(values).tolist(),
                "delta_nll": np.asarray(delta).tolist(), "errordef": float(self.loss.errordef),
                "fmin": float(self.fmin)}

    def _profile_on_cluster(self, client, p, values):
        """The profiled loss at ``values`` of ``p``, one stretch of values per worker of ``client``."""
        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        stretches = [chunk for chunk in np.array_split(np.arange(len(values)), n_workers) if len(chunk)]
        start = {q.name: self.params[q]["value"] for q in self._param_list}
        futures = [client.submit(_profile_stretch, self.loss, self.minimizer, p.name, values[idx], start, pure=False)
                   for idx in stretches]
        nll = np.empty(len(values))
        invalid = []
        for idx, future in zip(stretches, futures):
            stretch, bad = future.result()
            nll[idx] = stretch
            invalid += bad
        if invalid:
            warnings.warn(f"profile of {p.name!r}: the refits at {invalid} are not valid", stacklevel=3)
        return nll

    def plot_profile(self, param, bounds=None, num=30, ax=None, *, progress=None):
        """Draw :meth:`profile` with a line at ``errordef`` (the one-sigma crossing); returns the Axes."""
        import matplotlib.pyplot as plt

        values, delta = self.profile(param, bounds=bounds, num=num, progress=progress)
        ax = plt.gca() if ax is None else ax
        (p,) = self._select(param)
        ax.plot(values, delta, label=f"profile of {p.name}")
        ax.axhline(self.loss.errordef, color="grey", linestyle="--", label=f"errordef ({self.loss.errordef:g})")
        ax.set_xlabel(getattr(p, "label", p.name))
        ax.set_ylabel("loss - minimum")
        ax.legend()
        return ax

    def contour(self, param1, param2, cl=None, size=50):
        """The confidence contour of two parameters by MINOS (iminuit's ``mncontour``): ``size`` points
        ``(value1, value2)`` and the first again, closing the curve, where the loss, minimised over the
        other parameters, is ``errordef`` times
        the two-parameter chi-square quantile of ``cl`` above the minimum (``cl`` a probability,
        default 0.68; a number from 1 on counts standard deviations, as iminuit).

        Example
        -------
        >>> import numpy as np, nfit
        >>> obs = nfit.Space("x", -5, 5)
        >>> mu, sg = nfit.Parameter("mu_ct", 0.1, -1, 1), nfit.Parameter("sg_ct", 1.1, 0.5, 2)
        >>> x = np.random.default_rng(2).normal(size=500).clip(-4.9, 4.9)
        >>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sg, obs=obs),
        ...                             data=nfit.Data.from_numpy(obs, x))
        >>> nfit.minimize.Minuit().minimize(nll).contour(mu, sg, size=10).shape
        (11, 2)
        """
        self._not_frozen()
        first, second = self._select([param1, param2])
        if first is second:
            raise ValueError("contour: give two different parameters")
        m = self._minuit_at_minimum()
        if m.fmin is None:
            m.migrad()
        try:
            points = np.asarray(m.mncontour(first.name, second.name, cl=cl, size=int(size)))
        finally:
            self.update_params()
        return points

    def covariance(self, params=None, method=None, as_dict=False, weightcorr=None):
        """Covariance matrix of ``params`` (default: all) from the Hessian at the minimum (computed
        now if HESSE has not run, or by ``method``). For weighted data it is corrected by
        ``weightcorr`` (default ``"asymptotic"``; see :meth:`hesse`); without weights ``weightcorr``
        has no effect."""
        if self._frozen:
            if method is not None or weightcorr is not None:
                raise ValueError("covariance: a frozen result has only the covariance known when it was frozen "
                                 "(no method= or weightcorr=)")
            if self._covariance is None:
                raise ValueError("covariance: this result was frozen without a covariance")
            cov = self._covariance
        else:
            weightcorr = _weightcorr_choice(weightcorr, self.loss, strict=False)
            known = self._covariance is not None and method is None
            cov = self._covariance if known else self._hesse_covariance(method)
            cov = self._corrected(cov, weightcorr)
        selected = self._select(params)
        idx = [self._param_list.index(p) for p in selected]
        cov = cov[np.ix_(idx, idx)]
        if as_dict:
            return {(a, b): cov[i, j] for i, a in enumerate(selected) for j, b in enumerate(selected)}
        return cov

    def correlation(self, params=None, method=None, as_dict=False, weightcorr=None):
        """Correlation matrix of ``params``, from :meth:`covariance`."""
        cov = self.covariance(params, method, weightcorr=weightcorr)
        sd = np.sqrt(np.diag(cov))
        corr = cov / np.outer(sd, sd)
        if as_dict:
            selected = self._select(params)
            return {(a, b): corr[i, j] for i, a in enumerate(selected) for j, b in enumerate(selected)}
        return corr

    # ------------------------------------------------------------------ pickling
    def __getstate__(self):
        state = dict(self.__dict__)
        state["_minuit"] = state["_objective"] = None  # MINUIT's and the kernels' state stay in this process
        state["info"] = {k: v for k, v in self.info.items() if k not in ("minuit", "original")}
        return state

    # ------------------------------------------------------------------ freezing
    def _not_frozen(self):
        if self._frozen:
            raise RuntimeError("this fit result is frozen (freeze()): it has no loss left to compute "
                               "hesse(), errors() or update_params() with")

    def freeze(self):
        """As zfit's ``FitResult.freeze()``: keep the numbers, drop the loss, the minimiser and MINUIT's
        state, so that the result pickles small and holds no data. The parameters are then keyed by
        name; ``covariance()`` and ``correlation()`` keep working (from the covariance known now,
        computed first if HESSE has not run), ``hesse()`` and ``errors()`` do not. Returns the result.

        >>> import numpy as np, nfit
        >>> obs = nfit.Space("x", limits=(-3, 3)); mu = nfit.Parameter("mu_frz", 0.1, -1, 1)
        >>> x = np.random.default_rng(1).normal(size=500)
        >>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs),
        ...                             data=nfit.Data.from_numpy(obs, x[np.abs(x) < 3]))
        >>> frozen = nfit.minimize.Minuit().minimize(nll).freeze()
        >>> sorted(frozen.params), frozen.covariance().shape
        (['mu_frz'], (1, 1))
        """
        if self._frozen:
            return self
        try:
            self._covariance = self.covariance()  # the default one: corrected for weights where there are any
        except Exception:  # noqa: BLE001 - a result without a covariance freezes without one
            self._covariance = None
        self._limits = {p.name: (p.lower, p.upper) for p in self._param_list}
        self.params = _FrozenParams((p.name, d) for p, d in self.params.items())
        self._param_list = [p.name for p in self._param_list]
        self._minimizer_name = type(self.minimizer).__name__
        self._loss_name = getattr(self.loss, "name", None)
        self.loss = self.minimizer = self._minuit = self._objective = None
        self.approx.freeze()
        for key in ("minuit", "original"):
            self.info.pop(key, None)
        self._frozen = True
        return self

    # ------------------------------------------------------------------ export
    def to_dict(self) -> dict:
        """The result as JSON-able builtins: validity, minimum, the minimiser's information, per
        parameter its value, limits, HESSE and MINOS errors (where computed) and the covariance (known,
        or computed now; None where there is none). :meth:`from_dict` reads it back.

        >>> import json, numpy as np, nfit
        >>> obs = nfit.Space("x", limits=(-3, 3)); mu = nfit.Parameter("mu_dict", 0.1, -1, 1)
        >>> x = np.random.default_rng(1).normal(size=500)
        >>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs),
        ...                             data=nfit.Data.from_numpy(obs, x[np.abs(x) < 3]))
        >>> d = json.loads(json.dumps(nfit.minimize.Minuit().minimize(nll).to_dict()))
        >>> sorted(d["params"]["mu_dict"]), d["covariance"]["params"]
        (['lower', 'upper', 'value'], ['mu_dict'])
        """
        if self._frozen:
            cov = self._covariance
        else:
            try:
                cov = self.covariance()
            except Exception:  # noqa: BLE001 - a result without a covariance exports without one
                cov = None
        names = [getattr(p, "name", p) for p in self._param_list]
        params = {}
        for p, name in zip(self._param_list, names):
            entry = {k: builtin(v) for k, v in self.params[p].items()}
            limits = getattr(self, "_limits", {}).get(name) or (getattr(p, "lower", None), getattr(p, "upper", None))
            entry.setdefault("lower", builtin(limits[0]))
            entry.setdefault("upper", builtin(limits[1]))
            params[name] = entry
        info = {k: builtin(v) for k, v in self.info.items() if k not in ("minuit", "original")}
        minimizer = type(self.minimizer).__name__ if self.minimizer is not None else getattr(self, "_minimizer_name",
                                                                                              None)
        loss = getattr(self.loss, "name", None) if self.loss is not None else getattr(self, "_loss_name", None)
        return {"valid": bool(self.valid), "converged": bool(self.converged), "status": int(self.status),
                "message": str(self.message), "fmin": float(self.fmin), "edm": float(self.edm), "info": info,
                "minimizer": minimizer, "loss": loss, "params": params,
                "covariance": None if cov is None else {"params": names, "matrix": np.asarray(cov).tolist()}}

    @classmethod
    def from_dict(cls, d) -> FitResult:
        """A frozen result (parameters by name; ``covariance()``, ``correlation()``, ``valid``,
        ``fmin``, ...) from :meth:`to_dict`'s output."""
        names = list(d["params"])
        result = cls.__new__(cls)
        result._setup(None, None, names, [d["params"][n]["value"] for n in names], d["fmin"], d["edm"], d["valid"],
                      d["converged"], d["status"], d.get("message", ""), d.get("info", {}))
        result.params = _FrozenParams((n, {k: v for k, v in d["params"][n].items() if k not in ("lower", "upper")})
                                      for n in names)
        result._limits = {n: (d["params"][n].get("lower"), d["params"][n].get("upper")) for n in names}
        cov = d.get("covariance")
        if cov is not None:
            order = [cov["params"].index(n) for n in names]
            result._covariance = np.asarray(cov["matrix"], dtype=float)[np.ix_(order, order)]
        result._minimizer_name, result._loss_name = d.get("minimizer"), d.get("loss")
        result.criterion = None
        result.approx = Approximations(names)
        result._frozen = True
        return result

    # ------------------------------------------------------------------ printing
    def __str__(self):
        head = ["valid", "converged", "param at limit", "edm", "min value"]
        row = [str(self.valid), str(self.converged), str(self.params_at_limit), f"{self.edm:.2g}",
               f"{self.fmin:.10g}"]
        about = "(frozen)" if self._frozen else f"\n{self.loss!r}\nwith\n{self.minimizer!r}"
        lines = [f"FitResult of {about}\n", _table([head, row])]
        if self.message:
            lines.append(f"reason: {self.message}")
        names = ["name", "value  (rounded)"]
        extra = [k for k in ("hesse", "errors") if any(k in d for d in self.params.values())]
        names += extra + ["at limit"]
        rows = [names]
        for p, d in self.params.items():
            name = getattr(p, "name", p)
            row = [name, f"{d['value']:.6g}"]
            for k in extra:
                if k not in d:
                    row.append("")
                elif "error" in d[k]:
                    row.append(f"+/- {d[k]['error']:.2g}")
                else:
                    row.append(f"{d[k]['lower']:+.2g} {d[k]['upper']:+.2g}")
            row.append(str(p.at_limit) if hasattr(p, "at_limit") else str(name in self.info.get("params_at_limit", ())))
            rows.append(row)
        lines += ["", "Parameters", _table(rows)]
        return "\n".join(lines)

    def __repr__(self):
        n_eval = self.info.get("n_eval")
        return f"<FitResult valid={self.valid} fmin={self.fmin:.6g} edm={self.edm:.2g} n_eval={n_eval}>"


class Approximations:
    """zfit's ``result.approx``: the gradient, Hessian and inverse Hessian a minimiser estimated on its
    way (MIGRAD's running inverse Hessian; SciPy's ``jac`` and ``hess_inv``), each None where unknown.

    >>> a = Approximations(["a", "b"], inv_hessian=np.diag([4.0, 1.0]))
    >>> a.hessian(invert=False) is None, a.hessian(invert=True).tolist()
    (True, [[0.25, 0.0], [0.0, 1.0]])
    """

    def __init__(self, params, gradient=None, hessian=None, inv_hessian=None):
        self.params = list(params)
        self._gradient = None if gradient is None else np.asarray(gradient, dtype=float).reshape(-1)
        self._hessian = None if hessian is None else np.asarray(hessian, dtype=float)
        self._inv_hessian = None if inv_hessian is None else np.asarray(inv_hessian, dtype=float)

    def gradient(self, params=None):
        return self._part(self._gradient, params)

    def hessian(self, invert=True):
        if self._hessian is None and invert and self._inv_hessian is not None:
            return np.linalg.inv(self._inv_hessian)
        return self._hessian

    def inv_hessian(self, invert=True):
        if self._inv_hessian is None and invert and self._hessian is not None:
            return np.linalg.inv(self._hessian)
        return self._inv_hessian

    def _part(self, vector, params):
        if vector is None or params is None:
            return vector
        params = params if isinstance(params, (list, tuple)) else [params]
        return vector[[self.params.index(p) for p in params]]

    def freeze(self):
        self.params = [getattr(p, "name", p) for p in self.params]
        return self


def _profile_stretch(loss, minimizer, name, values, start):
    """The profiled loss at ``values`` of parameter ``name`` (a worker's part of a profile scan): the
    others refitted, starting from ``start`` ({name: value}) next to the minimum, then each from its
    neighbour. Returns the losses and the values whose refit was not valid."""
    params = {q.name: q for q in loss.get_params(floating=None)}
    p = params[name]
    others = [q for q in loss.get_params() if q is not p]
    center = start[name]
    order = np.argsort(np.abs(np.asarray(values) - center))
    nll, invalid, starts = np.empty(len(values)), [], {}
    was_floating = p.floating
    try:
        p.floating = False
        for i in order:
            neighbour = min(starts, key=lambda j: abs(j - i)) if starts else None
            set_values(others, starts[neighbour] if neighbour is not None else [start[q.name] for q in others])
            p.set_value(values[i])
            if others:
                fit = minimizer.minimize(loss)
                nll[i] = fit.fmin
                starts[i] = [fit.params[q]["value"] for q in others]
                if not fit.valid:
                    invalid.append(float(values[i]))
            else:
                nll[i] = loss.value()
    finally:
        p.floating = was_floating
        set_values([p] + others, [start[p.name]] + [start[q.name] for q in others])
    return nll, invalid




def _inverse_if_positive(hess, errordef):
    inverse = linalg.inverse_if_positive(hess)
    return None if inverse is None else 2.0 * errordef * inverse


_WEIGHTCORR = {"asymptotic": "asymptotic", "sumw2": "sumw2", "false": False, "none": False}


def _weightcorr_choice(weightcorr, loss, strict):
    """The weight correction asked for: "asymptotic", "sumw2" or False. None is "asymptotic" for a
    loss with weights, else False; with ``strict`` a correction asked for a loss without weights
    is an error (as zfit's hesse has it)."""
    if weightcorr is None:
        return "asymptotic" if loss.is_weighted else False
    if weightcorr is False:
        return False
    key = getattr(weightcorr, "value", weightcorr)  # zfit's WeightCorr enum
    if key is True:
        key = "asymptotic"
    choice = _WEIGHTCORR.get(str(key).lower()) if isinstance(key, (str, bool)) else None
    if choice is None and key is not False:
        raise ValueError(f"weightcorr={weightcorr!r} is unknown; use 'asymptotic', 'sumw2' or False")
    if choice and not loss.is_weighted:
        if strict:
            raise ValueError(f"weightcorr={weightcorr!r}: a weight correction is only available for weighted "
                             "likelihoods, and this loss has no weighted data")
        return False
    return choice


def _sigma_of(cl) -> float:
    """The number of standard deviations of a two-sided interval of confidence level ``cl``."""
    if cl is None:
        return 1.0
    if not 0 < cl < 1:
        raise ValueError(f"cl must lie between 0 and 1, got {cl}")
    from scipy.stats import chi2

    return float(np.sqrt(chi2.ppf(cl, 1)))


def _table(rows) -> str:
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    out = [fmt.format(*rows[0]), "  ".join("-" * w for w in widths)]
    out += [fmt.format(*r) for r in rows[1:]]
    return "\n".join(out)
