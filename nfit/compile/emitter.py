"""Writing kernel source: the code backend of :class:`nfit.ad.Dual` and the build context.

Numbers are names of local variables (or literals). Every operation writes one assignment and
returns the new name; an operation on any per-event name is itself per-event and goes into the
event loop, everything else runs once per call. Constants such as range limits are read from the
kernel's ``c`` array, never written into the source, so that the source describes structure only.

>>> be = CodeBackend(order=0)
>>> x = be.event("e0")
>>> y = be.mul(be.add(x, "a0"), "1.0")
>>> be.loop_lines
['t0 = e0 + a0']
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass

import numpy as np

from ..ad import Dual
from ..context import BuildContext
from ..z import _SCALAR_CODE

_LOCAL = re.compile(r"\b(?:[tkbaz]\d+|e\d+_\d+|x\d+_\d+|w\d+|s\d+)\b")
CHUNK = 2048  # events per chunk of the event loop
MAX_CHUNKS = 256
_CMP = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}


def _literal(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


class CodeBackend:
    """Dual arithmetic that writes scalar Python/Numba source."""

    def __init__(self, order=0):
        self.order = order
        self.scalar_lines: list[str] = []
        self.loop_lines: list[str] = []
        self.per_event: set = set()
        self.loop_inputs: dict = {}
        self.constants: list[float] = []
        self.imports: dict = {}
        self.user_kernels: dict = {}
        self.functions: dict = {}
        self._counter = 0
        self._written: dict = {}

    def event(self, name):
        """Declare ``name`` a per-event value (an observable of the current event)."""
        self.per_event.add(name)
        return name

    def _emit(self, expr, operands, prefix="t"):
        per_event = any(o in self.per_event for o in operands)
        # the same expression twice in one scope is one line (the Dual algebra repeats products, and
        # every line costs Numba compile time): per-call names live in the entry function, per-event
        # names in the loop body being written (a new list for each loop; kept alive so its id stays its own)
        key = (id(self.loop_lines) if per_event else None, prefix, expr)
        seen = self._written.get(key)
        if seen is not None:
            return seen[1]
        name = f"{prefix}{self._counter}"
        self._counter += 1
        self._written[key] = (self.loop_lines, name)
        if per_event:
            self.per_event.add(name)
            self.loop_lines.append(f"{name} = {expr}")
            # per-call numbers the event loop reads (literals and the constants array aside)
            for o in operands:
                if o not in self.per_event and _literal(o) is None and o != "c" and not o.startswith("c["):
                    self.loop_inputs.setdefault(o, None)  # a dict keeps the order of first use
        else:
            self.scalar_lines.append(f"{name} = {expr}")
        return name

    @staticmethod
    def lift(value):
        return value if isinstance(value, str) else repr(float(value))

    def const(self, value):
        self.constants.append(float(value))
        return f"c[{len(self.constants) - 1}]"

    def add(self, a, b):
        la, lb = _literal(a), _literal(b)
        if la == 0.0:
            return b
        if lb == 0.0:
            return a
        if la is not None and lb is not None:
            return repr(la + lb)
        return self._emit(f"{a} + {b}", (a, b))

    def sub(self, a, b):
        la, lb = _literal(a), _literal(b)
        if lb == 0.0:
            return a
        if la is not None and lb is not None:
            return repr(la - lb)
        return self._emit(f"{a} - {b}", (a, b))

    def mul(self, a, b):
        la, lb = _literal(a), _literal(b)
        if la == 1.0:
            return b
        if lb == 1.0:
            return a
        if la is not None and lb is not None:
            return repr(la * lb)
        return self._emit(f"{a} * {b}", (a, b))

    def div(self, a, b):
        if _literal(b) == 1.0:
            return a
        return self._emit(f"{a} / {b}", (a, b))

    def neg(self, a):
        la = _literal(a)
        if la is not None:
            return repr(-la)
        return self._emit(f"-{a}", (a,))

    def pow(self, a, b):
        return self._emit(f"{a} ** {b}", (a, b))

    def func(self, name, x):
        return self._emit(f"{_SCALAR_CODE[name]}({x})", (x,))

    def where(self, cond, a, b):
        return self._emit(f"({a} if {cond} else {b})", (cond, a, b))

    def cmp(self, op, a, b):
        return self._emit(f"({a} {_CMP[op]} {b})", (a, b), prefix="b")

    def call(self, module, name, args):
        if hasattr(module, "kernel_functions"):
            self.user_kernels[module.__name__] = module
        if module.__name__ not in self.imports:
            self.imports[module.__name__] = f"_km{len(self.imports)}"
        key = (module.__name__, name)
        if key not in self.functions:
            self.functions[key] = f"{self.imports[module.__name__]}_{name}"
        return self._emit(f"{self.functions[key]}({', '.join(args)})", tuple(args), prefix="k")

    def item(self, out, i):
        return self._emit(f"{out}[{i}]", (out,))

    def header(self) -> list[str]:
        lines = ["import nfit.compile.vecmath as math  # math, with an exp and a log that vectorise",
                 "import numba", "import numpy as np",
                 "from nfit.compile.jitmodule import jit_module"]
        for module, alias in self.imports.items():
            if module in self.user_kernels:
                lines.append(f"from nfit.userkernel import lookup as {alias}_lookup")
                lines.append(f"{alias} = {alias}_lookup({module!r})")
            else:
                lines.append(f"import {module} as {alias}")
        lines += [f"{alias} = jit_module({alias})" for alias in self.imports.values()]
        for (module, function), alias in self.functions.items():
            lines.append(f"{alias} = {self.imports[module]}.{function}")
        return lines

    def kernel_modules(self) -> list:
        """The kernel modules (and user kernels) used, for the signature (their source is hashed)."""
        return [self.user_kernels[m] if m in self.user_kernels else sys.modules[m] for m in self.imports]


def _helper_source(name, args, body):
    text = "\n".join("    " + line for line in body)
    # reassoc: the sums over events may be reordered, so the event loop vectorises
    return (f"@numba.njit(cache=True, error_model='numpy', nogil=True, fastmath={{'reassoc'}})\n"
            f"def {name}({', '.join(args)}):\n{text}\n")


def _accumulate(t, components, weighted, weight_power) -> list:
    """The loop lines adding event ``i``'s ``components`` (and, weighted, its weight) to ``s0, s1, ...``."""
    if not weighted:
        return [f"s{k} += {value}" for k, value in enumerate(components)]
    weight = " * ".join([f"w{t}[i]"] * weight_power)
    return [f"s{k} += {weight} * {value}" for k, value in enumerate(components)] + [
        f"s{len(components)} += {weight}"]


def _as_float(name):
    # comparison results (b names) travel as 1.0 / 0.0 in float64 arrays
    return f"(1.0 if {name} else 0.0)" if name.startswith("b") else name


def _from_float(name, element):
    """Reading back ``name`` from ``element`` of a float64 array (see :func:`_as_float`)."""
    return f"({element} != 0.0)" if name.startswith("b") else element


@dataclass
class ChunkLoop:
    """The step of an entry point that sums term ``t``'s events chunk by chunk into ``acc{t}_k``.

    Serial: a loop over the chunks that calls the chunk helper and adds its sums. Parallel: the
    per-call inputs go into one array, and the driver :func:`nfit.compile.parallel.run_chunks`
    has every chunk summed into its own row by the row-writing twin of the helper (the entry
    point's first-class function argument ``function``) and adds the rows in the order the serial
    loop adds the chunks. The result does not depend on the number of threads; it agrees with the
    serial one to rounding (LLVM may vectorise the sum inside a chunk differently in the two
    helpers)."""

    t: int
    helper: str
    function: str
    columns: list
    inputs: list
    count: int

    def lines(self, parallel: bool) -> list:
        t, n, chunks = self.t, f"n{self.t}", f"nchunk{self.t}"
        sums = [f"acc{t}_{k}" for k in range(self.count)]
        head = [f"{n} = {self.columns[0]}.shape[0]",
                f"{chunks} = max(1, min({MAX_CHUNKS}, ({n} + {CHUNK} - 1) // {CHUNK}))"]
        if not parallel:
            bounds = f"ch * {n} // {chunks}, (ch + 1) * {n} // {chunks}"
            call = ", ".join(["c", bounds] + self.columns + self.inputs)
            return head + [f"{name} = 0.0" for name in sums] + [
                f"for ch in range({chunks}):", f"    r = {self.helper}({call})"] + [
                f"    {name} += r[{k}]" for k, name in enumerate(sums)]
        # comparisons become 1.0 / 0.0 in lines of their own: a conditional expression inside the tuple
        # display would make Python build a list first, a step Numba does not compile
        flags = [f"f_{name} = {_as_float(name)}" for name in self.inputs if name.startswith("b")]
        values = ", ".join(f"f_{name}" if name.startswith("b") else name for name in self.inputs)
        cols = "(" + "".join(f"{col}, " for col in self.columns) + ")"
        return head + flags + [
            f"in{t} = np.array(({values},))" if self.inputs else f"in{t} = np.empty(0)",
            f"tot{t} = _run_chunks({self.function}, c, {cols}, in{t}, {n}, {chunks}, {self.count})",
            # unpacking the array is cheaper for Numba to compile than indexing it element by element
            "".join(f"{name}, " for name in sums) + f"= tot{t}",
        ]


class CodeContext(BuildContext):
    """The compiled path's build context: collects the body of one kernel function."""

    writes_code = True

    def __init__(self, layout, order=0):
        super().__init__(CodeBackend(order), layout)
        self.args = ["p", "c"]
        self.body = [f"a{slot} = p[{slot}]" for slot in range(layout.size)]
        self.helpers: list[str] = []
        self._helper_names: dict = {}
        self.chunk_helpers: dict = {}  # chunk helper name -> number of data columns, in order of first use

    def slot_value(self, slot):
        return f"a{slot}"

    def const(self, value):
        return self.be.const(value)

    def columns(self, t, obs, weighted):
        """Declare term ``t``'s data arguments; return {observable: per-event name}."""
        columns = [f"x{t}_{j}" for j in range(len(obs))]
        self.args += columns + ([f"w{t}"] if weighted else [])
        self._columns = dict(zip(obs, columns))
        return {o: self.be.event(f"e{t}_{j}") for j, o in enumerate(obs)}

    def event_sum(self, t, dual, weighted, weight_power=1) -> Dual:
        """Write the loop over term ``t``'s events accumulating every component of ``dual`` (weighted
        by ``w ** weight_power``).

        The loop body goes into a chunk helper that sums one range of events and returns the sums;
        the per-call numbers the body reads are its arguments. The entry point cuts the events into
        a number of chunks that depends on the data size only, sums them one after the other or in
        parallel (:class:`ChunkLoop`) and adds the chunks' sums in order: the same result whatever
        the number of threads. Terms of the same structure share one helper, so it
        compiles once.
        """
        be = self.be
        self.body += be.scalar_lines
        be.scalar_lines = []
        components = [dual.v] + [x for _, x in sorted(dual.g.items())] + [x for _, x in sorted(dual.h.items())]
        keys = ["v"] + sorted(dual.g) + sorted(dual.h)
        count = len(components) + (1 if weighted else 0)
        inputs = list(be.loop_inputs)
        columns = list(self._columns.values()) + ([f"w{t}"] if weighted else [])
        loop = [f"e{t}_{j} = {col}[i]" for j, col in enumerate(self._columns.values())] + be.loop_lines
        loop += _accumulate(t, components, weighted, weight_power)
        # the loop, written twice: the serial entry point's helper takes the inputs as arguments and
        # returns the sums; the parallel driver's takes them in one float64 array and writes the sums
        # into a row. Only the one in use is compiled (calling one helper from the other would have
        # LLVM compile the loop twice). Both loop over the chunk's own views, indexed from 0: Numba
        # then knows i >= 0 and drops its negative-index fix-up, which would turn contiguous loads
        # into gathers.
        views = [f"{col} = {col}[start:stop]" for col in columns]
        body = [f"s{k} = 0.0" for k in range(count)] + ["for i in range(stop - start):"]
        body += ["    " + line for line in loop]
        helper = self._helper(["c", "start", "stop"] + columns + inputs,
                              views + body + ["return (" + ", ".join(f"s{k}" for k in range(count)) + ",)"])
        unpack = [f"{name} = {_from_float(name, f'inputs[{j}]')}" for j, name in enumerate(inputs)]
        views = [f"{col} = cols[{j}][start:stop]" for j, col in enumerate(columns)]
        adapter = self._helper(["c", "start", "stop", "cols", "inputs", "row"],
                               unpack + views + body + [f"row[{k}] = s{k}" for k in range(count)], prefix="_rows")
        be.loop_lines = []
        be.loop_inputs = {}
        if adapter not in self.chunk_helpers:
            self.chunk_helpers[adapter] = len(columns)
        function = f"fn{list(self.chunk_helpers).index(adapter)}"
        self.body.append(ChunkLoop(t, helper, function, columns, inputs, count))
        sums = [f"acc{t}_{k}" for k in range(count)]
        g = {key: sums[k] for k, key in enumerate(keys) if isinstance(key, int)}
        h = {key: sums[k] for k, key in enumerate(keys) if isinstance(key, tuple)}
        return Dual(be, sums[0], g, h)

    def quad_sum(self, integrand, nodes) -> Dual:
        """The integral of ``integrand(node)`` by quadrature on ``nodes`` = (x, weights), written as
        a per-call helper looping over the nodes (constants in ``c``); derivatives come along."""
        be = self.be
        saved = be.loop_lines, be.loop_inputs
        be.loop_lines, be.loop_inputs = [], {}
        x, w = nodes
        offset = len(be.constants)
        rows = np.atleast_2d(x)
        for row in rows:
            be.constants.extend(row.tolist())
        be.constants.extend(w.tolist())
        names = []
        for _ in rows:
            names.append(be.event(f"z{be._counter}"))
            be._counter += 1
        dual = integrand(names[0] if np.ndim(x) == 1 else names)
        components = [dual.v] + [v for _, v in sorted(dual.g.items())] + [v for _, v in sorted(dual.h.items())]
        keys = ["v"] + sorted(dual.g) + sorted(dual.h)
        inputs = list(be.loop_inputs)
        body = [f"s{k} = 0.0" for k in range(len(components))]
        body.append("for i in range(n):")
        loop = [f"{node} = c[off + {k} * n + i]" for k, node in enumerate(names)]
        loop += [f"wq = c[off + {len(names)} * n + i]"] + be.loop_lines
        loop += [f"s{k} += wq * {v}" for k, v in enumerate(components)]
        body += ["    " + line for line in loop]
        body.append("return (" + ", ".join(f"s{k}" for k in range(len(components))) + ",)")
        helper = self._helper(["c", "off", "n"] + inputs, body, prefix="_quad")
        be.loop_lines, be.loop_inputs = saved
        result = be._emit(f"{helper}({', '.join(['c', str(offset), str(len(w))] + inputs)})", tuple(inputs), "k")
        sums = [be.item(result, k) for k in range(len(components))]
        return Dual(be, sums[0], {key: sums[k] for k, key in enumerate(keys) if isinstance(key, int)},
                    {key: sums[k] for k, key in enumerate(keys) if isinstance(key, tuple)})

    def bin_quad(self, integrand, lower, upper, rule) -> Dual:
        """The integral of ``integrand(x)`` over one bin, ``lower`` to ``upper`` (names in the bin
        loop), by the reference rule (nodes and weights on [0, 1], in ``c``): a helper called once
        per bin that loops over the nodes; derivatives come along."""
        be = self.be
        saved = be.loop_lines, be.loop_inputs
        be.loop_lines, be.loop_inputs = [], {}
        t, w = rule
        offset = len(be.constants)
        be.constants.extend(np.asarray(t, dtype=float).tolist())
        be.constants.extend(np.asarray(w, dtype=float).tolist())
        node = be.event(f"z{be._counter}")
        be._counter += 1
        dual = integrand(node)
        components = [dual.v] + [v for _, v in sorted(dual.g.items())] + [v for _, v in sorted(dual.h.items())]
        keys = ["v"] + sorted(dual.g) + sorted(dual.h)
        inputs = list(be.loop_inputs)
        body = [f"s{k} = 0.0" for k in range(len(components))] + ["width = hi - lo", "for i in range(n):"]
        loop = [f"{node} = lo + width * c[off + i]", "wq = width * c[off + n + i]"] + be.loop_lines
        loop += [f"s{k} += wq * {v}" for k, v in enumerate(components)]
        body += ["    " + line for line in loop]
        body.append("return (" + ", ".join(f"s{k}" for k in range(len(components))) + ",)")
        helper = self._bin_quad_helper(["c", "off", "n", "lo", "hi"] + inputs, body)
        be.loop_lines, be.loop_inputs = saved
        args = ["c", str(offset), str(len(w)), lower, upper] + inputs
        result = be._emit(f"{helper}({', '.join(args)})", (lower, upper, *inputs), "k")
        sums = [be.item(result, k) for k in range(len(components))]
        return Dual(be, sums[0], {key: sums[k] for k, key in enumerate(keys) if isinstance(key, int)},
                    {key: sums[k] for k, key in enumerate(keys) if isinstance(key, tuple)})

    def _bin_quad_helper(self, args, body) -> str:
        """The function :meth:`bin_quad` calls from the bin loop (a CPU helper here)."""
        return self._helper(args, body, prefix="_bquad")

    def _helper(self, args, body, prefix="_chunk", template=None) -> str:
        """Name of a jitted helper with this body, shared by every term whose body reads the same
        once local names are renamed in order of appearance."""
        names = {}

        def canonical(match):
            return names.setdefault(match.group(0), f"v{len(names)}")

        text = _LOCAL.sub(canonical, "\n".join([", ".join(args)] + body))
        head, *lines = text.split("\n")
        if text not in self._helper_names:
            name = f"{prefix}{len(self._helper_names)}"
            self._helper_names[text] = name
            self.helpers.append((template or _helper_source)(name, head.split(", "), lines))
        return self._helper_names[text]

    def finish(self):
        self.body += self.be.scalar_lines
        self.be.scalar_lines = []
