"""Where each parameter of a loss or model sits in the one float64 array a kernel receives.

Independent parameters (free or fixed) take the first slots. A composed parameter is either
*traced* (its function became an expression; a compiled kernel computes it itself) or evaluated
in Python each call and handed over in a slot of its own after the independent ones.
"""
from __future__ import annotations

import numpy as np

from .param import ComposedParameter


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
        for k, p in enumerate(self.python_composed):
            self.slot[p] = len(self.independent) + k
        self.size = len(self.independent) + len(self.python_composed)
        _check_unique_names(self.params)

    @property
    def floating(self) -> list:
        return [p for p in self.independent if p.floating]

    def floating_slots(self) -> np.ndarray:
        return np.array([self.slot[p] for p in self.floating], dtype=np.intp)

    def vector(self, floating_values=None) -> np.ndarray:
        """The kernel's parameter array: current values, free ones replaced by ``floating_values``."""
        p = np.empty(self.size)
        for i, q in enumerate(self.independent):
            p[i] = q.value()
        if floating_values is not None:
            p[self.floating_slots()] = floating_values
        if self.python_composed:
            self.fill_python_composed(p)
        return p

    def fill_python_composed(self, p: np.ndarray) -> None:
        if not self.python_composed:
            return
        values = self.values(p)
        for q in self.python_composed:
            p[self.slot[q]] = values[q]

    def values(self, p: np.ndarray) -> dict:
        """{parameter: value} for every parameter, composed ones computed from ``p``."""
        # NumPy floats: a zero width gives inf/nan as on the compiled path, not a Python exception
        values = {q: p[i] for i, q in enumerate(self.independent)}
        for q in self.composed:
            values[q] = np.float64(q._call({k: values[r] for k, r in q.params.items()}))
        return values


def _check_unique_names(params):
    from .param import ComposedParameter, ConstantParameter

    seen = {}
    for p in params:
        if isinstance(p, (ConstantParameter, ComposedParameter)):
            continue  # never free, so never looked up by name in a fit
        other = seen.setdefault(p.name, p)
        if other is not p:
            raise ValueError(
                f"two different parameters are both named {p.name!r}: give each parameter a unique name"
            )
