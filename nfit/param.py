"""Parameters: free, constant, and composed from others.

>>> import nfit
>>> mu = nfit.Parameter("mu", 5.28, 5.2, 5.35)
>>> mu.value()
5.28
>>> _ = mu.set_value(5.3); mu.value()
5.3
>>> s = nfit.Parameter("s", 0.02); k = nfit.param.ConstantParameter("k", 2.0)
>>> w = nfit.ComposedParameter("w", lambda p: p["s"] * p["k"], params={"s": s, "k": k})
>>> round(w.value(), 6)
0.04
"""
from __future__ import annotations

import copy
import math
import pickle
from collections.abc import Mapping

import numpy as np

from . import z
from .serial import Serializable
from .tensorlike import Scalar

__all__ = ["Parameter", "ConstantParameter", "ComposedParameter", "convert_to_parameter", "set_values",
           "floating_epoch"]

# a new object whenever a parameter is fixed or freed: what the free set was computed for (an object,
# not a count, so that a cache pickled in another process never matches this one's)
_floating_epoch = [object()]


def floating_epoch() -> object:
    """A token that changes whenever any parameter is fixed or freed (see :class:`nfit.layout.ParamLayout`).

    >>> p = Parameter("p_epoch", 1.0); before = floating_epoch()
    >>> p.floating = False
    >>> floating_epoch() is before
    False
    """
    return _floating_epoch[0]


class _Arithmetic:
    """Numbers-like behaviour: ``mu * 2`` uses the current value (a float), or builds a
    symbolic expression while a function is being traced."""

    def value(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def __float__(self):
        return float(self.value())

    def numpy(self):
        return np.float64(self.value())

    def __array__(self, dtype=None, copy=None):
        # np.array(param) is its value (hepstats reads values so)
        return np.asarray(self.value(), dtype=dtype)

    def _as_symbol(self):
        return z.Symbol(self)


def _arith(name):
    def method(self, *other):
        return getattr(float(self.value()), name)(*(float(o) if isinstance(o, _Arithmetic) else o
                                                     for o in other))
    method.__name__ = name
    return method


for _name in ("__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
              "__rtruediv__", "__pow__", "__rpow__", "__neg__", "__abs__", "__lt__", "__le__",
              "__gt__", "__ge__"):
    setattr(_Arithmetic, _name, _arith(_name))


class Parameter(_Arithmetic, Serializable):
    """A parameter of a model: free (floating) in a fit unless fixed.

    Parameters
    ----------
    name : str
        Unique name; fit results can be indexed by it.
    value : float
        Start value.
    lower, upper : float, optional
        Bounds. A value outside them is an error; MINUIT respects them.
    step_size : float, optional
        Initial step for the minimiser (default: a tenth of the distance to a bound or of the value).
    floating : bool
        False fixes the parameter in fits.

    Example
    -------
    >>> sigma = Parameter("sigma", 0.025, 0.005, 0.1)
    >>> sigma.floating = False
    >>> sigma.lower, sigma.upper, sigma.floating
    (0.005, 0.1, False)
    """

    def __init__(self, name, value, lower=None, upper=None, step_size=None, floating=True,
                 label=None, prior=None):
        if not isinstance(name, str) or not name:
            raise ValueError(f"Parameter name must be a non-empty string, got {name!r}")
        self.name = name
        self.label = label or name
        self.lower = None if lower is None else float(lower)
        self.upper = None if upper is None else float(upper)
        if self.lower is not None and self.upper is not None and not self.lower < self.upper:
            raise ValueError(f"Parameter {name!r}: lower bound {lower} is not below upper bound {upper}")
        self._value = self._checked(value)
        self._step_size = None if step_size is None else float(step_size)
        if self._step_size is not None and not self._step_size > 0:
            raise ValueError(f"Parameter {name!r}: step_size must be positive, got {step_size}")
        self._floating = bool(floating)  # a new parameter is in no loss yet: no free set to recompute
        self.prior = None
        self.set_prior(prior)

    @property
    def floating(self) -> bool:
        """Whether the parameter is free in a fit."""
        return self._floating

    @floating.setter
    def floating(self, value):
        self._floating = bool(value)
        _floating_epoch[0] = object()

    def set_prior(self, prior):
        """Give the parameter a prior (:mod:`nfit.prior`; None removes it), restricted to its limits.

        >>> import nfit
        >>> p = Parameter("p_prior", 1.0, 0.0, 2.0)
        >>> p.set_prior(nfit.prior.Uniform()); p.prior.bounds
        (0.0, 2.0)
        """
        if prior is not None:
            if not hasattr(prior, "_register_default_param"):
                raise TypeError(f"Parameter {self.name!r}: prior must be an nfit.prior distribution, got {prior!r}")
            prior = copy.copy(prior)._register_default_param(self)
        self.prior = prior

    def _checked(self, value) -> float:
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"Parameter {self.name!r}: value must be a number, got {value!r}") from None
        if not math.isfinite(value):
            raise ValueError(f"Parameter {self.name!r}: value must be finite, got {value}")
        if (self.lower is not None and value < self.lower) or (self.upper is not None and value > self.upper):
            raise ValueError(
                f"Parameter {self.name!r}: value {value} is outside its limits [{self.lower}, {self.upper}]"
            )
        return value

    def to_dict(self) -> dict:
        """zfit's dictionary of the parameter: name, value, limits, step size, floating, label.

        >>> Parameter("mu_dict_p", 1.5, 0, 3).to_dict()["max"]
        3.0
        """
        return _parameter_to_dict(self)

    @classmethod
    def from_dict(cls, d, registry=None):
        """The parameter of :meth:`to_dict`'s dictionary."""
        return parameter_from_dict(d, registry)

    def value(self) -> float:
        return Scalar(self._value)  # a float with zfit's .numpy(); inline: this runs in every fit's loop

    def set_value(self, value):
        """Set a new value (checked against the bounds), at once. As in zfit, the return value is also
        a context manager that puts the old value back on exit.

        >>> p = Parameter("p_set", 1.0)
        >>> with p.set_value(2.0):
        ...     p.value()
        2.0
        >>> p.value()
        1.0
        """
        old = self._value
        self._value = self._checked(value)
        return _Restore(self, old)

    assign = set_value

    @property
    def has_limits(self) -> bool:
        return self.lower is not None or self.upper is not None

    @property
    def at_limit(self) -> bool:
        """True when the value is within a small margin of a bound (as zfit)."""
        tol = 1e-4 * (abs(self._value) + 1e-3)
        return (self.lower is not None and self._value - self.lower < tol) or (
            self.upper is not None and self.upper - self._value < tol
        )

    @property
    def step_size(self) -> float:
        if self._step_size is not None:
            return self._step_size
        step = 0.1 * abs(self._value) if self._value != 0 else 0.1
        if self.lower is not None and self.upper is not None:
            step = min(step, 0.1 * (self.upper - self.lower))
        return step if step > 0 else 0.01

    @step_size.setter
    def step_size(self, value):
        self._step_size = None if value is None else float(value)

    stepsize = step_size  # zfit's other spelling

    @property
    def has_step_size(self) -> bool:
        """Whether a step size was given (else :attr:`step_size` is derived from the value and limits)."""
        return self._step_size is not None

    has_stepsize = has_step_size
    dtype = np.float64
    shape = ()

    def read_value(self) -> float:
        """zfit's (TensorFlow's) name for :meth:`value`."""
        return self.value()

    @property
    def params(self) -> dict:
        """A free parameter depends on no other (zfit's ``params`` of a parameter)."""
        return {}

    @property
    def independent(self) -> bool:
        return True

    def get_params(self, floating=True):
        return [self] if (floating is None or self.floating == floating) else []

    def randomize(self, minval=None, maxval=None, rng=None):
        """Set a uniformly random value within the given range (default: the bounds)."""
        rng = np.random.default_rng(rng)
        lo = self.lower if minval is None else minval
        hi = self.upper if maxval is None else maxval
        if lo is None or hi is None:
            raise ValueError(f"Parameter {self.name!r}: randomize needs a finite range")
        self.set_value(rng.uniform(lo, hi))
        return self._value

    def __repr__(self):
        flag = "" if self.floating else " fixed"
        return f"<Parameter {self.name!r} value={self._value:.6g}{flag}>"


class _Restore:
    """What ``set_value`` returns: used in a ``with`` statement, it restores the old value on exit."""

    __slots__ = ("param", "old")

    def __init__(self, param, old):
        self.param, self.old = param, old

    def __enter__(self):
        return self.param

    def __exit__(self, *exc):
        self.param._value = self.old
        return False

    def __repr__(self):
        return f"<value of {self.param.name!r} set; the old one was {self.old:.6g}>"


def convert_to_parameters(values, names=None) -> list:
    """zfit's: each of ``values`` as a parameter (Parameters pass through; numbers become constants).

    >>> [p.value() for p in convert_to_parameters([1.0, 2.0])]
    [1.0, 2.0]
    """
    values = values if isinstance(values, (list, tuple)) else [values]
    names = [None] * len(values) if names is None else list(names)
    return [convert_to_parameter(v, name=n) for v, n in zip(values, names)]


def is_fit_result(x) -> bool:
    """Whether ``x`` is a fit result (zfit passes results where values are asked for)."""
    return hasattr(x, "params") and hasattr(x, "fmin")


def fitted_values(params, among=None):
    """``params`` as {parameter: value}: a fit result gives its fitted values (zfit passes results as
    ``params=``), only those of the parameters named as in ``among`` where it is given; anything else
    (a mapping) is returned as it is."""
    if not is_fit_result(params):
        return params
    values = {p: d["value"] for p, d in params.params.items()}
    if among is not None:
        names = {q.name for q in among}
        values = {p: v for p, v in values.items() if getattr(p, "name", p) in names}
    return values


def set_values(params, values=None, allow_partial=None):
    """Set the values of ``params`` (a list, or a dict {param: value}) at once, as zfit's
    ``zfit.param.set_values``: ``values`` is a sequence in the order of ``params``, a dict keyed by
    the parameters or their names, or a fit result (its fitted values). Returns a context manager
    that restores the old values on exit.

    Example
    -------
    >>> a = Parameter("a_sv", 1.0); b = Parameter("b_sv", 2.0)
    >>> with set_values([a, b], [3.0, 4.0]):
    ...     a.value(), b.value()
    (3.0, 4.0)
    >>> a.value(), b.value()
    (1.0, 2.0)
    """
    if values is None and is_fit_result(params):  # set_values(result)
        params, values = list(params.params), params
    if isinstance(params, Mapping) and values is None:
        params, values = list(params), list(params.values())
    params = list(params) if isinstance(params, (list, tuple)) else [params]
    if is_fit_result(values):
        fitted = values.params
        chosen = [p for p in params if p in fitted]
        missing = [p.name for p in params if p not in fitted]
        if missing and not allow_partial:
            raise ValueError(f"set_values: the fit result has no value for {missing} (allow_partial=True skips them)")
        params, values = chosen, [fitted[p]["value"] for p in chosen]
    elif isinstance(values, Mapping):
        found = []
        for p in params:
            if p in values:
                found.append(values[p])
            elif p.name in values:
                found.append(values[p.name])
            elif allow_partial:
                found.append(None)
            else:
                raise ValueError(f"set_values: no value for parameter {p.name!r}")
        params, values = [p for p, v in zip(params, found) if v is not None], [v for v in found if v is not None]
    else:
        values = np.atleast_1d(np.asarray(values, dtype=float)).tolist()
        if len(values) != len(params):
            raise ValueError(f"set_values: {len(values)} value(s) for {len(params)} parameter(s)")
    old = [p.value() for p in params]
    checked = [p._checked(v) for p, v in zip(params, values)]  # nothing is set unless every value is valid
    for p, v in zip(params, checked):
        p._value = v
    return _RestoreMany([_Restore(p, o) for p, o in zip(params, old)])


class _RestoreMany:
    __slots__ = ("restores",)

    def __init__(self, restores):
        self.restores = restores

    def __enter__(self):
        return [r.param for r in self.restores]

    def __exit__(self, *exc):
        for r in self.restores:
            r.__exit__()
        return False


def _parameter_to_dict(p) -> dict:
    return {"type": "Parameter", "name": p.name, "value": float(p.value()), "min": p.lower, "max": p.upper,
            "stepsize": float(p.step_size), "floating": bool(p.floating), "label": p.label}


def parameter_from_dict(d, registry=None):
    """A Parameter (or ConstantParameter) from zfit's dictionary; ``registry`` ({name: Parameter})
    makes one name one object within a model."""
    registry = {} if registry is None else registry
    if d["name"] in registry:
        return registry[d["name"]]
    if d.get("type") == "ConstantParameter":
        p = ConstantParameter(d["name"], d["value"])
    elif d.get("type") == "Parameter":
        p = Parameter(d["name"], d["value"], d.get("min"), d.get("max"), step_size=d.get("stepsize"),
                      floating=d.get("floating", True), label=d.get("label"))
    else:
        raise ValueError(f"not a parameter's dictionary (type {d.get('type')!r}): {d!r}")
    registry[d["name"]] = p
    return p


class ConstantParameter(Parameter):
    """A parameter that never floats.

    Example
    -------
    >>> c = ConstantParameter("c", 1.0)
    >>> c.value(), c.floating
    (1.0, False)
    """

    def __init__(self, name, value):
        super().__init__(name, value, floating=False)

    def to_dict(self) -> dict:
        """zfit's dictionary of the parameter (``to_json``, ``to_yaml`` as well; ``from_dict`` back)."""
        return {"type": "ConstantParameter", "name": self.name, "value": float(self.value()), "floating": False,
                "label": self.label}

    @property
    def floating(self):
        return False

    @floating.setter
    def floating(self, value):
        if value:
            raise ValueError(f"ConstantParameter {self.name!r} cannot float")

    def set_value(self, value):
        raise ValueError(f"ConstantParameter {self.name!r} cannot change its value")

    assign = set_value

    def __repr__(self):
        return f"<ConstantParameter {self.name!r} value={self._value:.6g}>"


class ComposedParameter(_Arithmetic):
    """A parameter computed from others by a function.

    ``func`` receives ``params`` as given: a dict is passed as one dict, a list is unpacked into
    positional arguments, a single parameter is passed alone. The function is traced with
    :mod:`nfit.z` math so that a compiled kernel computes it itself; a function that cannot be
    traced (it calls NumPy directly, branches on values) still works: it is then evaluated in
    Python once per loss call and handed to the kernel as a number.

    Example
    -------
    >>> a = Parameter("a", 2.0); b = Parameter("b", 3.0)
    >>> ComposedParameter("ab", lambda a, b: a * b, params=[a, b]).value()
    6.0
    """

    def __init__(self, name, func, params=None, unit=None, label=None, dtype=None, unpack_params=None):
        if not callable(func):
            raise TypeError(f"ComposedParameter {name!r}: func must be callable")
        self.name = name
        self.label = label or name
        self.func = func
        if params is None:
            params = {}
        if isinstance(params, Mapping):
            # zfit: a dict goes to func as one dict, or unpacked as keyword arguments with unpack_params=True
            self._style, self.params = ("kwargs" if unpack_params else "dict"), dict(params)
        elif isinstance(params, (list, tuple)):
            if unpack_params is False:
                raise ValueError(f"ComposedParameter {name!r}: a list of params is unpacked into the arguments "
                                 "of func; give a dict to pass them as one")
            self._style, self.params = "list", {str(i): p for i, p in enumerate(params)}
        else:
            self._style, self.params = "single", {"0": params}
        for key, p in self.params.items():
            if not isinstance(p, (Parameter, ComposedParameter)):
                self.params[key] = convert_to_parameter(p, name=f"{name}_{key}")
        self._traced = None

    def _call(self, inputs: dict):
        try:
            if self._style == "dict":
                return self.func(inputs)
            if self._style == "kwargs":
                return self.func(**inputs)
            if self._style == "list":
                return self.func(*inputs.values())
            return self.func(inputs["0"])
        except Exception as err:
            values = ", ".join(f"{p.name}={float(v) if isinstance(v, (float, np.floating)) else v!r}"
                               for p, v in zip(self.params.values(), inputs.values()))
            message = f"ComposedParameter {self.name!r}: its function raised {type(err).__name__} at {values}: {err}"
            try:
                named = type(err)(message)
            except Exception:  # an exception type that takes other arguments
                named = RuntimeError(message)
            raise named from err

    def value(self) -> float:
        return Scalar(self._call({k: p.value() for k, p in self.params.items()}))

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_traced"] = None
        try:
            pickle.dumps(self.func)
        except Exception as err:  # a lambda or a local function: by value, where cloudpickle is there
            try:
                import cloudpickle
            except ImportError:
                raise TypeError(f"ComposedParameter {self.name!r}: its function {self.func!r} cannot be pickled "
                                f"({err}); define it at module level, or install cloudpickle") from None
            state["func"] = _ByValue(cloudpickle.dumps(self.func))
        return state

    def __setstate__(self, state):
        if isinstance(state.get("func"), _ByValue):
            state["func"] = pickle.loads(state["func"].payload)
        self.__dict__.update(state)

    @property
    def floating(self) -> bool:
        return False

    @property
    def independent(self) -> bool:
        return False

    def get_params(self, floating=True):
        """The independent parameters this one depends on."""
        found = []
        for p in self.params.values():
            for q in p.get_params(floating=floating):
                if q not in found:
                    found.append(q)
        return found

    def traced(self):
        """The function as an expression of its inputs' symbols, or None if it cannot be traced."""
        if self._traced is None:
            try:
                expr = self._call({k: z.Symbol(p) for k, p in self.params.items()})
                expr = z.as_expr(expr)
            except Exception:  # any failure means: evaluate in Python instead
                expr = False
            self._traced = expr
        return None if self._traced is False else self._traced

    def set_value(self, value):
        raise ValueError(f"ComposedParameter {self.name!r} is computed; it cannot be set")

    def __repr__(self):
        return f"<ComposedParameter {self.name!r} value={self.value():.6g}>"


class _ByValue:
    """A function pickled by value (cloudpickle's bytes, loadable with plain pickle)."""

    def __init__(self, payload: bytes):
        self.payload = payload


_constant_counter = [0]


def convert_to_parameter(value, name=None) -> Parameter | ComposedParameter:
    """Parameters pass through; numbers become a :class:`ConstantParameter`."""
    if isinstance(value, (Parameter, ComposedParameter)):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"expected a Parameter or a number for {name or 'a parameter'}, got {value!r}") from None
    _constant_counter[0] += 1
    return ConstantParameter(name or f"const_{_constant_counter[0]}", number)


class ParamSet(list):
    """What ``get_params()`` returns: a list of parameters in a fixed order (the order a loss takes
    them), with set operations as zfit's ordered set has them (``-``, ``|``, ``&`` keep this order).

    >>> a, b = Parameter("a_set", 1.0), Parameter("b_set", 2.0)
    >>> [p.name for p in ParamSet([a, b]) - {a}]
    ['b_set']
    """

    def __sub__(self, other):
        other = list(other)
        return ParamSet(p for p in self if p not in other)

    def __or__(self, other):
        return ParamSet(list(self) + [p for p in other if p not in self])

    def __and__(self, other):
        other = list(other)
        return ParamSet(p for p in self if p in other)

    __ror__ = __or__
    __rand__ = __and__

    def __rsub__(self, other):
        return ParamSet(p for p in other if p not in self)

    def union(self, *others):
        out = ParamSet(self)
        for other in others:
            out = out | other
        return out

    def difference(self, *others):
        out = ParamSet(self)
        for other in others:
            out = out - other
        return out

    def intersection(self, *others):
        out = ParamSet(self)
        for other in others:
            out = out & other
        return out


def independent_params(params) -> list:
    """The independent parameters (floating or fixed) behind ``params``, in first-seen order."""
    found = []
    for p in params:
        for q in ([p] if p.independent else p.get_params(floating=None)):
            if q not in found:
                found.append(q)
    return found


def select(available, keys, who, what="a free parameter"):
    """The parameters among ``available`` named by ``keys`` (Parameters or names), in the order asked;
    an unknown one is an error naming it, ``who`` asks and what it is not. The one parameter lookup of
    the loss, the minimisers and the fit result.

    >>> a, b = Parameter("a_sel", 1.0), Parameter("b_sel", 2.0)
    >>> [p.name for p in select([a, b], ["b_sel", a], "example")]
    ['b_sel', 'a_sel']
    """
    keys = keys if isinstance(keys, (list, tuple)) else [keys]
    chosen = []
    for key in keys:
        name = getattr(key, "name", key)
        match = [q for q in available if q is key or getattr(q, "name", q) == name]
        if not match:
            raise ValueError(f"{who}: unknown parameter {name!r}: {name!r} is not {what} "
                             f"({[getattr(q, 'name', q) for q in available]})")
        chosen.append(match[0])
    return chosen


def model_params(model) -> list:
    """Every parameter object a model tree uses (``model._all_params()``, composed ones with their inputs),
    in first-seen order."""
    found = []

    def visit(p):
        if p in found:
            return
        if isinstance(p, ComposedParameter):
            for q in p.params.values():
                visit(q)
        found.append(p)

    for p in model._all_params():
        visit(p)
    return found


class values_set:
    """Parameters set to ``values`` inside a ``with`` block, restored after.

    >>> a = Parameter("a_values_set", 1.0)
    >>> with values_set([a], [2.0]):
    ...     a.value()
    2.0
    """

    def __init__(self, params, values):
        self.params, self.values = params, values

    def __enter__(self):
        self.saved = [p.value() for p in self.params]
        for p, v in zip(self.params, self.values):
            p._value = float(v)

    def __exit__(self, *exc):
        for p, v in zip(self.params, self.saved):
            p._value = v


assign_values = set_values  # zfit's other name

