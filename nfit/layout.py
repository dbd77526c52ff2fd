"""Where each parameter of a loss or model sits in the one float64 array a kernel receives.

Independent parameters (free or fixed) take the first slots. A composed parameter is either
*traced* (its function became an expression; a kernel computes it, and its derivatives, itself)
or a plain Python function: then its value, its first and its second derivatives by its direct
inputs are computed in Python once per call (central differences of that function alone) and
handed over in slots of their own after the independent ones.
"""
from __future__ import annotations

import numpy as np

from .param import ComposedParameter, floating_epoch, model_params


class ParamLayout:
    """Slots for the parameters ``params`` (topologically ordered: inputs before composed).

    Example
    -------
    >>> import nfit
    >>> a = nfit.Parameter("a", 1.0); b = nfit.Parameter("b", 2.0, floating=False)
    >>> layout = ParamLayout([a, b])
    >>> layout.vector().tolist(), [p.name for p in layout.floating]
    ([1.0, 2.0], ['a'])
    """

    def __init__(self, params):
        self.params = list(params)
        self.independent = [p for p in self.params if not isinstance(p, ComposedParameter)]
        self.composed = [p for p in self.params if isinstance(p, ComposedParameter)]
        self.python_composed = [p for p in self.composed if p.traced() is None]
        self.slot = {p: i for i, p in enumerate(self.independent)}
        self.composed_slots = {}
        size = len(self.independent)
        for p in self.python_composed:
            m = len(p.params)
            grad = list(range(size + 1, size + 1 + m))
            pairs = [(a, b) for a in range(m) for b in range(a, m)]
            hess = {pair: size + 1 + m + i for i, pair in enumerate(pairs)}
            self.slot[p] = size
            self.composed_slots[p] = {"value": size, "grad": grad, "hess": hess}
            size += 1 + m + len(pairs)
        self.size = size
        _check_unique_names(self.params)

    @property
    def floating(self) -> list:
        """The free parameters now (a parameter can be fixed or freed after a loss is built)."""
        return list(self._free()[1])

    @property
    def floating_ids(self) -> tuple:
        """The ``id`` of each free parameter now: what a kernel of derivatives is made for."""
        return self._free()[2]

    def _free(self):
        # asked on every pass over the data: recomputed only after some parameter was fixed or freed
        epoch = floating_epoch()
        known = self.__dict__.get("_free_now")
        if known is None or known[0] is not epoch:
            free = tuple(p for p in self.independent if p.floating)
            known = self._free_now = (epoch, free, tuple(map(id, free)), len(free) == len(self.independent))
        return known  # (epoch, the free parameters, their ids, whether every independent one is free)

    def floating_slots(self) -> np.ndarray:
        return np.array([self.slot[p] for p in self._free()[1]], dtype=np.intp)

    def vector(self, floating_values=None, order=0) -> np.ndarray:
        """The kernel's parameter array: current values, free ones replaced by ``floating_values``;
        ``order`` > 0 also fills the derivatives of Python-function composed parameters."""
        if floating_values is not None and self.size == len(self.independent) and self._free()[3]:
            # every slot is a free parameter's (a fit's every pass): the values are the vector
            p = np.array(floating_values, dtype=float)
            if p.shape != (self.size,):
                self._wrong_shape(floating_values)
            return p
        values = [q.value() for q in self.independent]
        if self.size > len(values):
            values += [0.0] * (self.size - len(values))
        p = np.array(values, dtype=float)
        if floating_values is not None:
            slots = self.floating_slots()
            if np.shape(floating_values) != slots.shape:
                self._wrong_shape(floating_values)
            p[slots] = floating_values
        if self.python_composed:
            self.fill_python_composed(p, order)
        return p

    def _wrong_shape(self, floating_values):
        names = [q.name for q in self.floating]
        raise ValueError(f"expected {len(names)} value(s), one for each free parameter {names}, "
                         f"got an array of shape {np.shape(floating_values)}")

    def fill_python_composed(self, p: np.ndarray, order=0) -> None:
        if not self.python_composed:
            return
        values = self.values(p)
        for q in self.python_composed:
            slots = self.composed_slots[q]
            p[slots["value"]] = values[q]
            if order >= 1:
                inputs = np.array([values[r] for r in q.params.values()], dtype=float)
                grad, hess = _numerical_derivatives(q, inputs, order)
                p[slots["grad"]] = grad
                for (a, b), s in slots["hess"].items():
                    p[s] = hess[a, b]

    def values(self, p: np.ndarray) -> dict:
        """{parameter: value} for every parameter, composed ones computed from ``p``."""
        # NumPy floats: a zero width gives inf/nan as on the compiled path, not a Python exception
        values = {q: p[i] for i, q in enumerate(self.independent)}
        for q in self.composed:
            values[q] = np.float64(q._call({k: values[r] for k, r in q.params.items()}))
        return values


def _numerical_derivatives(q, x, order):
    """Central differences of composed parameter ``q``'s own function at its inputs ``x``."""
    keys = list(q.params)

    def f(v):
        return float(q._call(dict(zip(keys, v))))

    m = len(x)
    h1 = 1e-6 * np.maximum(1.0, np.abs(x))
    grad = np.empty(m)
    for a in range(m):
        e = np.zeros(m)
        e[a] = h1[a]
        grad[a] = (f(x + e) - f(x - e)) / (2 * h1[a])
    hess = np.zeros((m, m))
    if order >= 2:
        h2 = 1e-4 * np.maximum(1.0, np.abs(x))
        f0 = f(x)
        for a in range(m):
            ea = np.zeros(m)
            ea[a] = h2[a]
            hess[a, a] = (f(x + ea) - 2 * f0 + f(x - ea)) / h2[a] ** 2
            for b in range(a + 1, m):
                eb = np.zeros(m)
                eb[b] = h2[b]
                hess[a, b] = hess[b, a] = (f(x + ea + eb) - f(x + ea - eb) - f(x - ea + eb) + f(x - ea - eb)) / (
                    4 * h2[a] * h2[b])
    return grad, hess


def _check_unique_names(params):
    from .param import ConstantParameter

    seen = {}
    for p in params:
        if isinstance(p, (ConstantParameter, ComposedParameter)):
            continue  # never free, so never looked up by name in a fit
        other = seen.setdefault(p.name, p)
        if other is not p:
            raise ValueError(
                f"two different parameters are both named {p.name!r}: give each parameter a unique name"
            )


def current_values(model) -> dict:
    """{parameter: current float value} for every parameter (independent and composed) of a model."""
    layout = ParamLayout(model_params(model))
    return layout.values(layout.vector())
