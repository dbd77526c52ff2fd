"""The loss machinery, and the unbinned losses: unbinned, extended, simultaneous, weighted, with constraints.

A loss is callable with an array of its free parameters' values (in ``get_params()`` order),
so it can be handed straight to ``iminuit.Minuit``; ``errordef`` is 0.5 (negative
log-likelihood).

>>> import numpy as np, nfit
>>> obs = nfit.Space("x", limits=(-5, 5))
>>> mu = nfit.Parameter("mu_doc", 0.0); sigma = nfit.Parameter("sigma_doc", 1.0, 0.1, 5)
>>> data = nfit.Data.from_numpy(obs=obs, array=np.random.default_rng(1).normal(size=1000))
>>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), data=data)
>>> [p.name for p in nll.get_params()], nll.errordef
(['mu_doc', 'sigma_doc'], 0.5)
"""
from __future__ import annotations

import contextlib
import itertools
import warnings

import numpy as np

from . import run
from .backends import LossProgram
from .data import Data
from .layout import ParamLayout
from .likelihood import Term
from .param import ComposedParameter, Parameter, ParamSet, fitted_values, floating_epoch, independent_params, select
from .pdf.base import BasePDF, model_params
from .tensorlike import numpy_result

__all__ = ["UnbinnedNLL", "ExtendedUnbinnedNLL", "BaseLoss", "SimpleLoss"]


def _as_data(data, model):
    """zfit takes a pandas DataFrame (the columns of the model's observables) or an array of events as
    the data of a loss: they become Data on the model's space; anything else is left as it is."""
    if getattr(model.space, "is_binned", False):
        return data
    if type(data).__name__ == "DataFrame" and hasattr(data, "columns"):
        return Data.from_pandas(data, obs=model.space)
    if isinstance(data, np.ndarray):
        return Data.from_numpy(model.space, data)
    return data


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


class BaseLoss:
    """A sum of negative log-likelihood terms, one per (model, data) pair, plus constraints."""

    errordef = 0.5
    _extended = False

    def __init__(self, model, data, constraints=None, options=None, *, mode=None, backend=None):
        models, datas = _as_list(model), _as_list(data)
        if len(models) != len(datas):
            raise ValueError(f"{type(self).__name__}: {len(models)} model(s) but {len(datas)} data set(s)")
        self._setup(models, datas, [self._extended] * len(models), _as_list(constraints or []), mode, backend)
        self._options = _loss_options(type(self).__name__, options)

    def create_new(self, model=None, data=None, constraints=None, options=None):
        """zfit's: a loss of the same kind with ``model``, ``data``, ``constraints`` or ``options``
        replaced (the others as in this one), as hepstats builds its toys' losses.

        Example
        -------
        >>> import numpy as np, nfit
        >>> obs = nfit.Space("x", -3, 3)
        >>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=obs),
        ...                             data=nfit.Data.from_numpy(obs, np.array([0.1])))
        >>> nll.create_new(data=nfit.Data.from_numpy(obs, np.array([0.2, 0.3]))).data[0].nevents
        2
        """
        return type(self)(model=self.model if model is None else model, data=self.data if data is None else data,
                          constraints=self.constraints if constraints is None else constraints,
                          options=self._options if options is None else options, mode=self._mode,
                          backend=self._backend)

    def add_constraints(self, constraints) -> None:
        """Add constraints to this loss (zfit's ``add_constraints``)."""
        new = self.create_new(constraints=list(self.constraints) + _as_list(constraints))
        self.__dict__.update(new.__dict__)

    @property
    def name(self) -> str:
        return type(self).__name__

    def _setup(self, models, datas, extended, constraints, mode, backend=None):
        for m in models:
            if not isinstance(m, BasePDF):
                raise TypeError(f"{type(self).__name__}: model must be an nfit pdf, got {m!r}")
        datas = [_as_data(d, m) for d, m in zip(datas, models)] if len(datas) == len(models) else datas
        terms = self._make_terms(models, datas, extended)
        self._setup_terms(terms, datas, constraints, mode, backend)

    def _make_terms(self, models, datas, extended) -> list:
        """The likelihood terms of (model, data) pairs: unbinned ones here; binned losses make
        :class:`nfit.binnedterm.BinnedTerm` instead."""
        from .pdf.base import _resolve_norm

        for d in datas:
            if not isinstance(d, Data):
                raise TypeError(f"{type(self).__name__}: data must be nfit.Data, got {d!r} (binned data: use "
                                "BinnedNLL, ExtendedBinnedNLL, BinnedChi2 or ExtendedBinnedChi2)")
        for m, d, ext in zip(models, datas, extended):
            missing = [o for o in m.obs if o not in d.obs]
            if missing:
                raise ValueError(f"{type(self).__name__}: data {d.name!r} has no observable(s) {missing} "
                                 f"that model {m.name!r} needs")
            if ext and not m.is_extended:
                raise ValueError(f"{type(self).__name__}: model {m.name!r} is not extended; give it a yield "
                                 "(extended=... or create_extended) or use UnbinnedNLL")
        norms = [_resolve_norm(m, _normalisation_range(type(self).__name__, m, d)) for m, d in zip(models, datas)]
        return [Term(m, norm, m.obs, d.has_weights, ext) for m, d, ext, norm in zip(models, datas, extended, norms)]

    def _setup_terms(self, terms, datas, constraints, mode, backend=None):
        self.model, self.data, self.constraints = [t.model for t in terms], list(datas), list(constraints)
        self._term_extended = [t.extended for t in terms]
        self._mode = None if mode is None else run.check_mode(mode)
        self._backend = None if backend is None else run.check_backend(backend)
        params = []
        for term in terms:
            roots = model_params(term.model)
            if term.extended and not term.binned:
                roots = roots + [term.model.get_yield()]
            for p in roots:
                _add_topological(params, p)
        for c in constraints:
            for p in c.params:
                _add_topological(params, p)
        self._layout = ParamLayout(params)
        self._terms = list(terms)
        self._check_data()
        self._program = LossProgram(self._terms, self._layout, self.constraints, self.data)
        self._n_events = self._program.n_events
        self._warned = set()
        self._fitted = False  # set by the first fit: see hessian_serves_gradient

    def _check_data(self):
        """Refuse data that would make the loss meaningless: a non-extended term without events, or
        whose weights sum to zero (its NLL would be 0 whatever the parameters)."""
        for term, d in zip(self._terms, self.data):
            if term.extended:
                continue
            if term.binned:
                if not d.samplesize > 0:
                    raise ValueError(f"{type(self).__name__}: binned data {d.name!r} sums to {d.samplesize}; a "
                                     f"non-extended binned fit of {term.model.name!r} needs a positive total")
                continue
            if d.nevents == 0:
                why = f" (all {d.n_dropped} events were outside {d.space})" if d.n_dropped else ""
                raise ValueError(f"{type(self).__name__}: data {d.name!r} has no events{why}; the likelihood of "
                                 f"model {term.model.name!r} would not depend on its parameters")
            if d.has_weights and not np.sum(d.weights) > 0:
                raise ValueError(f"{type(self).__name__}: the weights of data {d.name!r} sum to "
                                 f"{float(np.sum(d.weights))}; an unbinned fit needs a positive sum of weights")

    @property
    def _compiled_kernels(self) -> dict:
        """The kernels the backends keep for this loss (not pickled: they stay in their process)."""
        return self._program.kernels

    @property
    def _arrays(self) -> list:
        """The kernel's data arguments, read from the Data now (a sampler may have refilled them)."""
        return self._program.arrays_at(None)

    def _arrays_at(self, p) -> list:
        return self._program.arrays_at(p)

    # ------------------------------------------------------------------ description
    @property
    def mode(self) -> str:
        """The path this loss runs on now: its own ``mode=``, else the global one."""
        return self._mode or run.get_mode()

    @property
    def backend(self) -> str:
        """The backend of this loss's compiled kernels: its own ``backend=``, else the global one."""
        return self._backend or run.get_backend()

    @property
    def is_extended(self) -> bool:
        return all(self._term_extended)

    def get_params(self, floating=True, is_yield=None, extract_independent=True) -> list:
        """The loss's parameters: by default the free ones, in the order ``__call__`` takes them."""
        if floating is True and is_yield is None:
            return ParamSet(self._layout.floating)
        yields = set()
        for m in self.model:
            for p in m.get_params(floating=None, is_yield=True):
                yields.add(p)
        out = []
        for p in self._layout.independent:
            if floating is not None and p.floating != floating:
                continue
            if is_yield is not None and (p in yields) != is_yield:
                continue
            out.append(p)
        return ParamSet(out)

    # ------------------------------------------------------------------ values
    @numpy_result
    def value(self, params=None) -> float:
        """The loss at the parameters' current values (``params``: optional {param or name: value})."""
        p = self._point(params)
        value = self._evaluate(p)
        if not np.isfinite(value):
            raise FloatingPointError(self._diagnose(p, value))
        return value

    def __call__(self, x) -> float:
        """The loss at free-parameter values ``x`` (``get_params()`` order); never raises on NaN."""
        return self._evaluate(self._layout.vector(np.asarray(x, dtype=float)))

    # ------------------------------------------------------------------ the minimiser's contract
    def point(self, free_values=None, order=0) -> np.ndarray:
        """The loss's full parameter vector with the free parameters (``get_params()`` order) at
        ``free_values`` (default: their current values), room for derivatives of ``order``."""
        values = None if free_values is None else np.asarray(free_values, dtype=float)
        return self._layout.vector(values, order=order)

    def evaluate(self, point) -> float:
        """The loss at a parameter vector from :meth:`point` (NaN or inf where the model is; no raise)."""
        return self._evaluate(point)

    def derivatives(self, point, order=2):
        """``(value, gradient, Hessian)`` at a vector from :meth:`point`, by the free parameters: exact
        where the model has them (the Hessian is None for ``order`` 1, both None for 0)."""
        if order == 0:
            return self._evaluate(point), None, None
        return self._derivatives(point, order)

    def _settled_kernel(self, order):
        """The function ``p -> (value, gradient, Hessian)`` that :meth:`derivatives` of ``order`` runs
        now, where it stays the one while no parameter is fixed or freed (a minimiser may call it
        directly on each pass); None where :meth:`derivatives` decides on each call (numerical
        derivatives, a kernel still compiling on the default path, a loss with derivatives of its own)."""
        cls, own = type(self), self.__dict__
        if (cls.derivatives is not BaseLoss.derivatives or cls._derivatives is not BaseLoss._derivatives
                or cls._run is not BaseLoss._run or "derivatives" in own or "_derivatives" in own or "_run" in own):
            return None
        exact = self.derivative_order
        if order < 1 or exact < order:
            return None
        self._program.exact_order = exact
        kernel = self._backend_now().loss_kernel(self._program, order)
        return None if getattr(kernel, "provisional", False) else kernel

    def _point(self, params=None, order=0):
        p = self._layout.vector(order=order)
        params = fitted_values(params, among=self._layout.independent)  # a fit result: this loss's values
        if params:
            for key, val in params.items():
                p[self._slot_of(key)] = val
            self._layout.fill_python_composed(p, order)
        return p

    def _slot_of(self, key):
        (q,) = select(self._layout.independent, [key], type(self).__name__, "a parameter of this loss")
        return self._layout.slot[q]

    def _evaluate(self, p) -> float:
        """The value at parameter array ``p`` on this loss's path."""
        return self._run(p, 0)[0]

    def _backend_now(self):
        """The backend that runs this loss's kernels now (:func:`nfit.run.current_backend`)."""
        return run.current_backend(self._mode, self._backend)

    def _run(self, p, order):
        """(value, gradient or None, Hessian or None) at ``p`` from the kernel of ``order``."""
        return self._backend_now().loss_kernel(self._program, order)(p)

    def _kernel(self, order=0):
        """(function, constants, output buffer) of the compiled kernel of ``order``, compiled on first use."""
        kernel = self._backend_now().loss_kernel(self._program, order)
        return kernel.function, kernel.constants, kernel.out

    def hessian_serves_gradient(self) -> bool:
        """Whether a minimiser should take its gradients from the Hessian kernel, so that a fit compiles
        one kernel instead of two (a pass of the Hessian kernel costs about twice a gradient pass, a
        compilation a few thousand passes). True for a loss with exact Hessians that has not been
        fitted yet where its backend would have to compile the gradient kernel, and on the default
        (tiered) path while only the Hessian kernel is compiled
        (:meth:`nfit.backends.base.Backend.gradient_from_hessian`).

        Example
        -------
        >>> import numpy as np, nfit
        >>> obs = nfit.Space("x", -3, 3)
        >>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=obs),
        ...                             data=nfit.Data.from_numpy(obs, np.array([0.1])), mode="eager")
        >>> nll.hessian_serves_gradient()   # the eager path compiles nothing
        False
        """
        if self.derivative_order < 2:
            return False
        return self._backend_now().gradient_from_hessian(self._program, self._fitted)


    def mark_fitted(self) -> None:
        """Told by a minimiser after a fit: later fits compile their own gradient kernel
        (:meth:`hessian_serves_gradient`)."""
        self._fitted = True
        self._program.fitted = True

    @property
    def is_weighted(self) -> bool:
        """Whether some data set of the loss has weights (then HESSE corrects the covariance)."""
        return any(term.weighted for term in self._terms)

    def score_outer(self, point=None) -> np.ndarray:
        """``D = sum_i w_i² g_i g_iᵀ`` over the free parameters at ``point`` (a vector from
        :meth:`point` with ``order=1``; default: the current values), with one more row per
        constraint: the middle of the asymptotic covariance of a weighted fit
        (:func:`nfit.likelihood.score_outer`), in one pass over the events on either path."""
        return self._run(self.point(order=1) if point is None else point, "score")[2]


    def sum_weights(self):
        """(sum of w, sum of w²) over every event of the loss, each constraint counting as one event
        of weight 1 (zfit's convention for the ``sumw2`` correction)."""
        sumw = sumw2 = float(len(self.constraints))
        for d in self.data:
            if not isinstance(d, Data):
                continue
            sumw += d.sum_weights
            sumw2 += float(np.sum(d.weights ** 2)) if d.has_weights else d.nevents
        return sumw, sumw2

    def _derivatives(self, p, order):
        """(value, gradient, Hessian) at ``p`` by the free parameters, exact where the model allows."""
        exact = self.derivative_order
        self._program.exact_order = exact
        if exact >= order:
            return self._run(p, order)
        self._warn_numerical(order)
        return self._numerical_derivatives(p, order, exact)

    def _numerical_derivatives(self, p, order, exact):
        from .numdiff import gradient, hessian

        slots = self._layout.floating_slots()
        x0 = p[slots]
        scale = np.array([q.step_size for q in self._layout.floating])

        def at(x, k):
            q = p.copy()
            q[slots] = x
            self._layout.fill_python_composed(q, k)
            return q

        value = self._evaluate(p)
        if exact >= 1:
            grad = self._derivatives(at(x0, 1), 1)[1]
        else:
            grad = gradient(lambda x: self._evaluate(at(x, 0)), x0, scale)
        hess = None
        if order == 2:
            if exact >= 1:  # the exact gradient, differentiated once numerically
                n = len(x0)
                hess = np.empty((n, n))
                for j in range(n):
                    h = 1e-4 * scale[j]
                    e = np.zeros(n)
                    e[j] = h
                    up = self._derivatives(at(x0 + e, 1), 1)[1]
                    down = self._derivatives(at(x0 - e, 1), 1)[1]
                    hess[j] = (up - down) / (2 * h)
                hess = 0.5 * (hess + hess.T)
            else:
                hess = hessian(lambda x: self._evaluate(at(x, 0)), x0, scale)
        return value, grad, hess

    def _warn_numerical(self, order):
        if order in self._warned:
            return
        if order == 2 and self.model and min(m._derivative_order() for m in self.model) == 2:
            self._warned.add(order)  # every part has a Hessian; too many parameters to fuse it
            return
        self._warned.add(order)
        what = "gradient" if order == 1 else "Hessian"
        how = ("the exact gradient differentiated numerically" if order == 2 and self.derivative_order >= 1
               else "numerical derivatives of the loss")
        warnings.warn(f"{type(self).__name__}: a part of the model has no exact {what}; using {how}",
                      stacklevel=3)

    @property
    def derivative_order(self) -> int:
        """Highest order of exact derivatives: 2 (gradient and Hessian), 1 (gradient) or 0.

        A fused Hessian kernel grows with the square of the number of free parameters, and Numba's
        compile time faster than that; above ``EXACT_HESSIAN_MAX_PARAMS`` free parameters the Hessian
        is the exact gradient differentiated once numerically instead."""
        # asked on every pass over the data: the models' structure and the options are fixed, so the
        # answer changes only where a parameter is fixed or freed
        epoch = floating_epoch()
        known = self.__dict__.get("_derivative_order_now")
        if known is not None and known[0] is epoch:
            return known[1]
        order = self.__dict__.get("_model_derivative_order")
        if order is None:  # the models' own order: found once (it reads each shape's signature)
            order = self.__dict__["_model_derivative_order"] = min(m._derivative_order() for m in self.model)
        if order == 2 and len(self._layout.floating_ids) > EXACT_HESSIAN_MAX_PARAMS:
            order = 1
        options = getattr(self, "_options", {})
        if options.get("numgrad"):
            order = 0
        elif options.get("numhess"):
            order = min(order, 1)
        self._derivative_order_now = (epoch, order)
        return order

    def _select(self, params):
        floating = self._layout.floating
        if params is None:
            return list(range(len(floating)))
        return [floating.index(p) for p in select(floating, params, type(self).__name__)]

    @numpy_result
    def gradient(self, params=None) -> np.ndarray:
        """Gradient by the free parameters (or ``params``), at their current values."""
        return self.value_gradient(params)[1]

    def value_gradient(self, params=None):
        """(value, gradient) in one pass over the data."""
        index = self._select(params)
        value, grad, _ = self._derivatives(self._point(order=1), 1)
        return value, grad[index]

    gradients = gradient  # zfit's older names
    value_gradients = value_gradient

    @numpy_result
    def hessian(self, params=None) -> np.ndarray:
        """Hessian by the free parameters (or ``params``), at their current values."""
        return self.value_gradient_hessian(params)[2]

    def value_gradient_hessian(self, params=None):
        """(value, gradient, Hessian) in one pass over the data (exact where the model allows)."""
        index = self._select(params)
        value, grad, hess = self._derivatives(self._point(order=2), 2)
        return value, grad[index], hess[np.ix_(index, index)]

    def _diagnose(self, p, value) -> str:
        from .pdf.shape import KernelPDF

        problems = []

        def visit(node):
            if isinstance(node, KernelPDF):
                try:
                    node._check_values()
                except ValueError as err:
                    problems.append(str(err))
            for child in node._children():
                visit(child)

        for m in self.model:
            visit(m)
        values = ", ".join(f"{q.name}={p[self._layout.slot[q]]:.6g}" for q in self._layout.independent)
        reason = "; ".join(problems) if problems else "the density is zero or negative at some event"
        return f"{type(self).__name__} is {value} at {values}: {reason}"

    # ------------------------------------------------------------------ composition
    def __add__(self, other):
        if not isinstance(other, BaseLoss):
            return NotImplemented
        if getattr(other, "_func", None) is not None:
            raise TypeError("a loss from a function (SimpleLoss(func, ...)) cannot be added to another loss; "
                            "add the functions instead (zfit cannot add them either)")
        if self.errordef != other.errordef:
            raise ValueError(f"cannot add {type(self).__name__} (errordef {self.errordef}) and "
                             f"{type(other).__name__} (errordef {other.errordef}): a chi2 and a likelihood differ "
                             "by a factor 2; add losses of the same kind of statistic")
        cls = type(self) if type(self) is type(other) else SimpleLoss
        constraints = list(self.constraints) + [c for c in other.constraints if c not in self.constraints]
        mode = self._mode if self._mode == other._mode else None
        backend = self._backend if self._backend == other._backend else None
        loss = cls.__new__(cls)
        loss._setup_terms(self._terms + other._terms, self.data + other.data, constraints, mode, backend)
        loss._options = dict(self._options) if cls is type(self) else {}
        loss.errordef = self.errordef
        return loss

    def __repr__(self):
        return (f"<{type(self).__name__} model={[m.name for m in self.model]} "
                f"data={[d.name for d in self.data]} constraints={self.constraints}>")


class UnbinnedNLL(BaseLoss):
    """Unbinned negative log-likelihood, ``-sum_i w_i log f(x_i)`` over all (model, data) pairs.

    Parameters
    ----------
    model : pdf or list of pdfs
    data : Data or list of Data (one per model: a simultaneous fit)
    constraints : constraint or list, optional
    mode : "compiled" or "eager", optional
        This loss's path; default: the global one (:func:`nfit.run.set_mode`).
    backend : "numba" or "cuda", optional
        Where this loss's compiled kernels run; default: the global one (:func:`nfit.run.set_backend`).

    Example
    -------
    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", limits=(0, 1))
    >>> model = nfit.pdf.Uniform(low=0.0, high=1.0, obs=obs)
    >>> data = nfit.Data.from_numpy(obs=obs, array=np.array([0.1, 0.5]))
    >>> UnbinnedNLL(model=model, data=data).value()
    0.0
    """

    _extended = False


class ExtendedUnbinnedNLL(BaseLoss):
    """Extended unbinned NLL: ``nu - N log(nu) - sum_i w_i log f(x_i)`` per (model, data) pair.

    Every model must be extended (have a yield ``nu``); ``N`` is the (weighted) event count.

    Example
    -------
    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", limits=(0, 1))
    >>> model = nfit.pdf.Uniform(low=0.0, high=1.0, obs=obs, extended=2.0)
    >>> data = nfit.Data.from_numpy(obs=obs, array=np.array([0.1, 0.5]))
    >>> round(ExtendedUnbinnedNLL(model=model, data=data).value(), 6)
    0.613706
    """

    _extended = True


class SimpleLoss(BaseLoss):
    """A loss from a Python function, as zfit's ``SimpleLoss(func, params, errordef)``; also what
    ``loss_a + loss_b`` of two different kinds of loss makes.

    ``func(params)`` returns the loss; it is called after the parameters have been set to the point
    asked for (a parameter used as a number gives its value). Its derivatives are numerical.

    Example
    -------
    >>> import nfit
    >>> a = nfit.Parameter("a_simple", 1.0); b = nfit.Parameter("b_simple", 2.0)
    >>> loss = SimpleLoss(lambda params: (params[0] - 3) ** 2 + (params[1] + 1) ** 2, params=[a, b], errordef=1.0)
    >>> result = nfit.minimize.Minuit().minimize(loss)
    >>> round(a.value(), 4), round(b.value(), 4)
    (3.0, -1.0)
    """

    _func = None
    _gradient_func = None
    _hessian_func = None

    def __init__(self, func, params=None, errordef=None, gradient=None, hessian=None):
        if not callable(func):
            raise TypeError(f"SimpleLoss: func must be callable, got {func!r}")
        if params is None:
            raise ValueError("SimpleLoss: give params=, the parameters func depends on")
        for what, f in (("gradient", gradient), ("hessian", hessian)):
            if f is not None and not callable(f):
                raise TypeError(f"SimpleLoss: {what} must be callable (of the params, as func), got {f!r}")
        params = list(params) if isinstance(params, (list, tuple)) else [params]
        params = [p if isinstance(p, (Parameter, ComposedParameter)) else _auto_parameter(p) for p in params]
        errordef = getattr(func, "errordef", None) if errordef is None else errordef
        if errordef is None:
            raise ValueError("SimpleLoss: give errordef= (0.5 for a negative log-likelihood, 1 for a chi2)")
        self._func = func
        self._gradient_func = gradient
        self._hessian_func = hessian
        # a plain function's derivatives are numerical, as nothing else is expected: no warning then
        self._warned = {1, 2} if gradient is None else {1}
        self._options = {}
        self.errordef = float(errordef)
        self._params = params
        self.model, self.data, self.constraints = [], [], []
        self._terms, self._term_extended = [], []
        self._mode = self._backend = None
        self._layout = ParamLayout(independent_params(params))
        self._program = LossProgram([], self._layout, [], [])
        self._n_events = 0
        self._fitted = False

    def _evaluate(self, p) -> float:
        if self._func is None:
            return super()._evaluate(p)
        with self._values_at(p):
            return float(self._func(self._params))

    @contextlib.contextmanager
    def _values_at(self, p):
        """The parameters set to the point ``p`` while the user's functions run."""
        values = self._layout.values(p)
        saved = [q._value for q in self._layout.independent]
        for q in self._layout.independent:
            q._value = float(values[q])
        try:
            yield
        finally:
            for q, v in zip(self._layout.independent, saved):
                q._value = v

    def _derivatives(self, p, order):
        if self._func is None or order > self.derivative_order:
            return super()._derivatives(p, order)
        floating = self._layout.floating
        index = [self._params.index(q) for q in floating]
        with self._values_at(p):
            value = float(self._func(self._params))
            grad = np.asarray(self._gradient_func(self._params), dtype=float).reshape(-1)[index] if order else None
            hess = None
            if order == 2:
                hess = np.asarray(self._hessian_func(self._params), dtype=float)[np.ix_(index, index)]
        return value, grad, hess

    @property
    def derivative_order(self) -> int:
        if self._func is not None:
            given = 0 if self._gradient_func is None else (2 if self._hessian_func is not None else 1)
            if given and any(q not in self._params for q in self._layout.floating):
                return 0  # derivatives by parameters the user's gradient does not list
            return given
        return super().derivative_order

    def hessian_serves_gradient(self) -> bool:
        return False if self._func is not None else super().hessian_serves_gradient()

    def create_new(self, func=None, params=None, errordef=None, **kwargs):
        """zfit's: a SimpleLoss with ``func``, ``params`` or ``errordef`` replaced."""
        if self._func is None:
            return super().create_new(**kwargs)
        if kwargs:
            raise TypeError(f"SimpleLoss.create_new: unexpected argument(s) {sorted(kwargs)}")
        return SimpleLoss(self._func if func is None else func, self._params if params is None else params,
                          self.errordef if errordef is None else errordef, gradient=self._gradient_func,
                          hessian=self._hessian_func)


    @property
    def is_weighted(self) -> bool:
        return False if self._func is not None else super().is_weighted

    @numpy_result
    def value(self, params=None) -> float:
        if self._func is None:
            return super().value(params)
        return self._evaluate(self._point(params))

    def __add__(self, other):
        if self._func is not None or getattr(other, "_func", None) is not None:
            raise TypeError("SimpleLoss from a function: add the functions instead (zfit cannot add them either)")
        return super().__add__(other)

    def __repr__(self):
        if self._func is not None:
            name = getattr(self._func, "__name__", self._func)
            return f"<SimpleLoss func={name!r} params={[p.name for p in self._params]}>"
        return super().__repr__()


_OPTIONS = ("numgrad", "numhess", "subtr_const")


def _loss_options(who, options) -> dict:
    """zfit's loss ``options``: ``numgrad`` (True: numerical derivatives for the minimiser),
    ``numhess`` (True: a numerical Hessian, the exact gradient differentiated; zfit's default, nfit's
    is the exact Hessian) and ``subtr_const`` (zfit subtracts a constant for its float precision;
    nfit's sums are compensated, so it changes nothing here). Anything else is an error."""
    options = dict(options or {})
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise ValueError(f"{who}: options {unknown} are not supported; supported: {list(_OPTIONS)}")
    return options


_auto_counter = itertools.count()


def _auto_parameter(value):
    """zfit's ``minimize(func, params=[2.0, ...])``: a number becomes a free ``autoparam_i``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"SimpleLoss: params must be Parameters or numbers, got {value!r}") from None
    return Parameter(f"autoparam_{next(_auto_counter)}", number)


def _normalisation_range(kind, model, data):
    """The range a term normalises its model over: the model's own ``norm=`` if it was given, else
    the data's space, which must lie inside the model's (events outside it are not the model's)."""
    from .space import within

    explicit = model._norm is not None
    outer = model.norm
    if not outer.has_limits:
        return data.space.with_obs(model.obs)
    inner = data.space.with_obs(model.obs)
    if not within(inner, outer):
        where = "its normalisation range" if explicit else "its space"
        raise ValueError(
            f"{kind}: data {data.name!r} lies on {inner}, which reaches beyond {where} {outer} of model "
            f"{model.name!r}: events outside it would enter the likelihood. Build the data on the model's "
            f"space (Data.from_numpy(obs=model.space, ...) drops the events outside) or widen the model's space")
    return outer if explicit else inner


def _add_topological(found: list, p) -> None:
    if p in found:
        return
    if isinstance(p, ComposedParameter):
        for q in p.params.values():
            _add_topological(found, q)
    elif not isinstance(p, Parameter):
        raise TypeError(f"not a parameter: {p!r}")
    found.append(p)


EXACT_HESSIAN_MAX_PARAMS = 12
