"""Likelihood losses: unbinned, extended, simultaneous, weighted, with constraints.

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

import numpy as np

from . import run
from .compile.lower import Term
from .data import Data
from .layout import ParamLayout
from .param import ComposedParameter, Parameter
from .pdf.base import BasePDF, model_params

__all__ = ["UnbinnedNLL", "ExtendedUnbinnedNLL", "BaseLoss", "SimpleLoss"]


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


class BaseLoss:
    """A sum of negative log-likelihood terms, one per (model, data) pair, plus constraints."""

    errordef = 0.5
    _extended = False

    def __init__(self, model, data, constraints=None, options=None, *, mode=None):
        models, datas = _as_list(model), _as_list(data)
        if len(models) != len(datas):
            raise ValueError(f"{type(self).__name__}: {len(models)} model(s) but {len(datas)} data set(s)")
        self._setup(models, datas, [self._extended] * len(models), _as_list(constraints or []), mode)

    @classmethod
    def _from_parts(cls, models, datas, extended, constraints, mode):
        loss = cls.__new__(cls)
        loss._setup(models, datas, extended, constraints, mode)
        return loss

    def _setup(self, models, datas, extended, constraints, mode):
        for m in models:
            if not isinstance(m, BasePDF):
                raise TypeError(f"{type(self).__name__}: model must be an nfit pdf, got {m!r}")
        for d in datas:
            if not isinstance(d, Data):
                raise TypeError(f"{type(self).__name__}: data must be nfit.Data, got {d!r}")
        for m, d, ext in zip(models, datas, extended):
            missing = [o for o in m.obs if o not in d.obs]
            if missing:
                raise ValueError(f"{type(self).__name__}: data {d.name!r} has no observable(s) {missing} "
                                 f"that model {m.name!r} needs")
            if ext and not m.is_extended:
                raise ValueError(f"{type(self).__name__}: model {m.name!r} is not extended; give it a yield "
                                 "(extended=... or create_extended) or use UnbinnedNLL")
        self.model, self.data, self.constraints = list(models), list(datas), list(constraints)
        self._term_extended = list(extended)
        self._mode = None if mode is None else run.check_mode(mode)
        params = []
        for m, ext in zip(models, extended):
            roots = model_params(m)
            if ext:
                roots = roots + [m.get_yield()]
            for p in roots:
                _add_topological(params, p)
        for c in constraints:
            for p in c.params:
                _add_topological(params, p)
        self._layout = ParamLayout(params)
        self._terms = [
            Term(m, d.space.with_obs(m.obs), m.obs, d.has_weights, ext)
            for m, d, ext in zip(models, datas, extended)
        ]
        self._arrays = []
        for m, d in zip(models, datas):
            self._arrays += [d.column(o) for o in m.obs]
            if d.has_weights:
                self._arrays.append(d.weights)
        self._n_events = sum(d.nevents for d in datas)
        self._compiled = None
        self._constraint_slots = [
            np.array([self._layout.slot[p] for p in c.params], dtype=np.intp)
            if all(p in self._layout.slot for p in c.params) else None
            for c in constraints
        ]

    # ------------------------------------------------------------------ description
    @property
    def mode(self) -> str:
        """The path this loss runs on now: its own ``mode=``, else the global one."""
        return self._mode or run.get_mode()

    @property
    def is_extended(self) -> bool:
        return all(self._term_extended)

    def get_params(self, floating=True, is_yield=None, extract_independent=True) -> list:
        """The loss's parameters: by default the free ones, in the order ``__call__`` takes them."""
        if floating is True and is_yield is None:
            return self._layout.floating
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
        return out

    # ------------------------------------------------------------------ values
    def value(self, params=None) -> float:
        """The loss at the parameters' current values (``params``: optional {param or name: value})."""
        p = self._layout.vector()
        if params:
            for key, val in params.items():
                p[self._slot_of(key)] = val
            self._layout.fill_python_composed(p)
        value = self._evaluate(p)
        if not np.isfinite(value):
            raise FloatingPointError(self._diagnose(p, value))
        return value

    def __call__(self, x) -> float:
        """The loss at free-parameter values ``x`` (``get_params()`` order); never raises on NaN."""
        p = self._layout.vector(np.asarray(x, dtype=float))
        return self._evaluate(p)

    def _slot_of(self, key):
        for q in self._layout.independent:
            if q is key or q.name == key:
                return self._layout.slot[q]
        name = getattr(key, "name", key)
        raise ValueError(f"{type(self).__name__}: unknown parameter {name!r}; "
                         f"the loss has {[q.name for q in self._layout.independent]}")

    def _evaluate(self, p) -> float:
        if self.mode == "eager":
            total = self._eager_nll(p)
        else:
            total = self._compiled_nll(p)
        return total + self._constraint_nll(p)

    def _constraint_nll(self, p) -> float:
        if not self.constraints:
            return 0.0
        total, values = 0.0, None
        for c, slots in zip(self.constraints, self._constraint_slots):
            if slots is not None:
                total += c.nll(p[slots])
            else:
                values = values or self._layout.values(p)
                total += c.nll([values[q] for q in c.params])
        return total

    def _eager_nll(self, p) -> float:
        values = self._layout.values(p)
        total = 0.0
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            for term, data in zip(self._terms, self.data):
                columns = {o: data.column(o) for o in term.obs}
                density = term.model._eval(values, columns, term.norm)
                logs = np.log(np.broadcast_to(density, (data.nevents,)))
                if term.weighted:
                    total -= float(np.dot(data.weights, logs))
                    count = data.sum_weights
                else:
                    total -= float(np.sum(logs))
                    count = data.nevents
                if term.extended:
                    nu = values[term.model.get_yield()]
                    total += nu - count * np.log(nu)
        return float(total)

    def _kernel(self):
        """(compiled function, constants) for this loss, compiling on first use."""
        if self._compiled is None:
            from . import cache
            from .compile.lower import lower_nll

            lowered = lower_nll(self._terms, self._layout)
            constants = np.array(lowered.constants, dtype=np.float64)
            kernel = cache.load(lowered, "nll")
            parallel = self._n_events >= run.get_parallel_threshold()
            p = self._layout.vector()
            function = kernel.function(parallel, (p, constants, *self._arrays))
            self._compiled = (function, constants)
        return self._compiled

    def _compiled_nll(self, p) -> float:
        function, constants = self._kernel()
        return function(p, constants, *self._arrays)

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

    # ------------------------------------------------------------------ derivatives (numerical for now)
    def gradient(self, params=None) -> np.ndarray:
        """Gradient with respect to the free parameters, by numdifftools."""
        import numdifftools as nd

        x0 = np.array([q.value() for q in self.get_params()])
        return np.atleast_1d(nd.Gradient(self.__call__)(x0))

    def value_gradient(self, params=None):
        return self.value(params), self.gradient(params)

    # ------------------------------------------------------------------ composition
    def __add__(self, other):
        if not isinstance(other, BaseLoss):
            return NotImplemented
        cls = type(self) if type(self) is type(other) else SimpleLoss
        constraints = list(self.constraints) + [c for c in other.constraints if c not in self.constraints]
        mode = self._mode if self._mode == other._mode else None
        return cls._from_parts(self.model + other.model, self.data + other.data,
                               self._term_extended + other._term_extended, constraints, mode)

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
    """A sum of losses of different kinds (made by ``loss_a + loss_b``)."""


def _add_topological(found: list, p) -> None:
    if p in found:
        return
    if isinstance(p, ComposedParameter):
        for q in p.params.values():
            _add_topological(found, q)
    elif not isinstance(p, Parameter):
        raise TypeError(f"not a parameter: {p!r}")
    found.append(p)


