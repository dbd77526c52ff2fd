"""Collects the generated source of one kernel: per-call prelude lines and per-event loop lines."""
from __future__ import annotations

import inspect


class Emitter:
    """Source builder handed to every node's ``_emit``.

    ``prelude`` lines run once per call (parameters, normalisation integrals, fractions);
    ``loop`` lines run once per event. Both return the local variable they assigned, so that a
    node composes its children by name. Constants such as range limits are read from the kernel's
    ``c`` array, never baked into the source, so that the source describes structure only.

    Example
    -------
    >>> em = Emitter(slot_code={})
    >>> em.loop("x * 2.0", "v"), em.lines_loop
    ('v0', ['v0 = x * 2.0'])
    """

    def __init__(self, slot_code: dict):
        self._slot_code = slot_code
        self.lines_prelude: list[str] = []
        self.lines_loop: list[str] = []
        self.constants: list[float] = []
        self.imports: dict = {}
        self.functions: dict = {}
        self._counter = 0

    def _name(self, prefix):
        name = f"{prefix}{self._counter}"
        self._counter += 1
        return name

    def param(self, p) -> str:
        """Code for the value of parameter ``p``."""
        try:
            return self._slot_code[p]
        except KeyError:
            raise KeyError(f"parameter {p.name!r} is not part of this kernel's layout") from None

    def const(self, value) -> str:
        self.constants.append(float(value))
        return f"c[{len(self.constants) - 1}]"

    def prelude(self, expr: str, prefix="t") -> str:
        name = self._name(prefix)
        self.lines_prelude.append(f"{name} = {expr}")
        return name

    def loop(self, expr: str, prefix="v") -> str:
        name = self._name(prefix)
        self.lines_loop.append(f"{name} = {expr}")
        return name

    def kernel_function(self, module, function: str) -> str:
        """Alias of ``module.function`` (a kernel's scalar math), jitted in the generated module."""
        if module.__name__ not in self.imports:
            self.imports[module.__name__] = f"_km{len(self.imports)}"
        key = (module.__name__, function)
        if key not in self.functions:
            self.functions[key] = f"{self.imports[module.__name__]}_{function}"
        return self.functions[key]

    def header(self) -> list[str]:
        lines = ["import math", "import numba", "import numpy as np"]
        for module, alias in self.imports.items():
            lines.append(f"import {module} as {alias}")
        for (module, function), alias in self.functions.items():
            jit = "numba.njit(error_model='numpy', inline='always')"
            lines.append(f"{alias} = {jit}({self.imports[module]}.{function})")
        return lines

    def kernel_modules(self) -> list:
        """The kernel modules used, for the signature (their source text is hashed)."""
        import sys

        return [sys.modules[m] for m in self.imports]


def source_of(module) -> str:
    return inspect.getsource(module)
