"""Lowering a model into kernel IR: the code backend of :class:`nfit.ad.Dual` and the build context.

Numbers are atoms (local names, literals, reads of the constants array ``c``). Every operation
appends one :class:`~nfit.compile.ir.Assign` record and returns the new name; an operation on any
per-event name is itself per-event and goes into the event loop, everything else runs once per
call. Constants such as range limits are read from the kernel's ``c`` array, never written into
the source, so that the source describes structure only. The records are printed into source by
:mod:`nfit.compile.ir`'s printers (CPU here and in :mod:`nfit.compile.lower`, CUDA in
:mod:`nfit.compile.cuda`).

>>> be = CodeBackend(order=0)
>>> x = be.event("e0")
>>> y = be.mul(be.add(x, "a0"), "1.0")
>>> [CpuPrinter(be.functions).assign(r) for r in be.loop_lines]
['t0 = e0 + a0']
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from ..ad import Dual
from ..context import BuildContext, Grid, convolution_pairs, dual_components, dual_keys, dual_of
from ..kernels import grid
from ..z import _SCALAR_CODE
from .ir import (
    Assign,
    CpuPrinter,
    EventLoop,
    LoopPrinter,
    NodeLoop,
    Op,
    as_float,
    canonical,
    from_float,
    function_source,
    is_name,
    tuple_return,
)
from .jitmodule import LOOP_FASTMATH

CHUNK = 2048  # events per chunk of the event loop
MAX_CHUNKS = 256
# more than one chunk: a multiple of 16, so that 2, 4, 8 or 16 threads get equal shares (13 chunks on 2
# threads keep one of them 8 % longer); a number that does not depend on the threads, so neither does the sum
CHUNK_GROUP = 16
_CMP = {"lt": "<", "le": "<=", "gt": ">", "ge": ">=", "eq": "==", "ne": "!="}
# the loops' floating-point flags: nfit.compile.jitmodule.LOOP_FASTMATH (which the kernel functions they
# call are compiled with too)
CPU_HELPER = ("@numba.njit(cache=True, error_model='numpy', nogil=True, fastmath={"
              + ", ".join(repr(flag) for flag in sorted(LOOP_FASTMATH)) + "})")  # in one order: it is hashed


def _literal(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


class CodeBackend:
    """Dual arithmetic that writes kernel IR: per-call records in ``scalar_lines``, the records of
    the event loop being written in ``loop_lines`` (and the per-call names it reads in
    ``loop_inputs``)."""

    def __init__(self, order=0):
        self.order = order
        self.scalar_lines: list = []
        self.loop_lines: list = []
        self.per_event: set = set()
        self.loop_inputs: dict = {}
        self.types: dict = {}  # name -> "bool" for comparisons; everything else is float
        self.constants: list[float] = []
        self.imports: dict = {}  # kernel module name -> alias index
        self.user_kernels: dict = {}
        self.functions: dict = {}  # (module name, function name) -> alias index of its module
        self.printed: set = set()  # (prefix, module name, function name) of the calls printed so far
        self.sizes: dict = {}  # name of an array (a table) -> its length
        self._counter = 0
        self._written: dict = {}

    def event(self, name):
        """Declare ``name`` a per-event value (an observable of the current event)."""
        self.per_event.add(name)
        return name

    def type_of(self, name) -> str:
        return self.types.get(name, "float")

    def _emit(self, op: Op, prefix="t", type_="float"):
        per_event = any(o in self.per_event for o in op.args)
        # the same operation twice in one scope is one record (the Dual algebra repeats products, and
        # every line costs Numba compile time): per-call names live in the entry function, per-event
        # names in the loop body being written (a new list for each loop; kept alive so its id stays its own)
        key = (id(self.loop_lines) if per_event else None, prefix, op)
        seen = self._written.get(key)
        if seen is not None:
            return seen[1]
        name = f"{prefix}{self._counter}"
        self._counter += 1
        self._written[key] = (self.loop_lines, name)
        if type_ != "float":
            self.types[name] = type_
        record = Assign(name, op, type_)
        if per_event:
            self.per_event.add(name)
            self.loop_lines.append(record)
            for o in op.args:  # per-call names the event loop reads, in order of first use
                if o not in self.per_event and is_name(o):
                    self.loop_inputs.setdefault(o, None)
        else:
            self.scalar_lines.append(record)
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
        return self._emit(Op("binary", (a, b), "+"))

    def sub(self, a, b):
        la, lb = _literal(a), _literal(b)
        if lb == 0.0:
            return a
        if la is not None and lb is not None:
            return repr(la - lb)
        return self._emit(Op("binary", (a, b), "-"))

    def mul(self, a, b):
        la, lb = _literal(a), _literal(b)
        if la == 1.0:
            return b
        if lb == 1.0:
            return a
        if la is not None and lb is not None:
            return repr(la * lb)
        return self._emit(Op("binary", (a, b), "*"))

    def div(self, a, b):
        if _literal(b) == 1.0:
            return a
        return self._emit(Op("binary", (a, b), "/"))

    def neg(self, a):
        la = _literal(a)
        if la is not None:
            return repr(-la)
        return self._emit(Op("neg", (a,)))

    def pow(self, a, b):
        return self._emit(Op("binary", (a, b), "**"))

    def func(self, name, x):
        if name not in _SCALAR_CODE:
            raise KeyError(name)
        return self._emit(Op("math", (x,), name))

    def where(self, cond, a, b):
        return self._emit(Op("where", (cond, a, b)))

    def cmp(self, op, a, b):
        return self._emit(Op("compare", (a, b), _CMP[op]), prefix="b", type_="bool")

    def call(self, module, name, args, type_="float"):
        """A kernel function's result; ``type_`` ``"array"`` for one that returns an array (a table)."""
        if hasattr(module, "kernel_functions"):
            self.user_kernels[module.__name__] = module
        index = self.imports.setdefault(module.__name__, len(self.imports))
        self.functions.setdefault((module.__name__, name), index)
        return self._emit(Op("call", tuple(args), (module.__name__, name)), prefix="g" if type_ == "array" else "k",
                          type_=type_)

    def helper_call(self, helper, args, type_="float"):
        """What a generated helper returns for ``args``: a tuple, or (``type_`` ``"array"``) an array."""
        return self._emit(Op("helper", tuple(args), helper), prefix="g" if type_ == "array" else "k", type_=type_)

    def item(self, out, i):
        return self._emit(Op("item", (out,), i))

    def header(self) -> list[str]:
        lines = ["import nfit.compile.vecmath as math  # math, with an exp and a log that vectorise",
                 "import numba", "import numpy as np",
                 "from nfit.compile.jitmodule import jit_module"]
        for module, index in self.imports.items():
            alias = f"_km{index}"
            if module in self.user_kernels:
                lines.append(f"from nfit.userkernel import lookup as {alias}_lookup")
                lines.append(f"{alias} = {alias}_lookup({module!r})")
            else:
                lines.append(f"import {module} as {alias}")
        # the clones an event loop calls (_kl, the loops' flags) and those called once per call (_km),
        # of the functions the kernel's code calls so (the header is written after the code)
        used = {(prefix, module) for prefix, module, _ in self.printed}
        for module, index in self.imports.items():
            if ("_kl", module) in used:
                lines.append(f"_kl{index} = jit_module(_km{index}, loop=True)")
            if ("_km", module) in used:
                lines.append(f"_km{index} = jit_module(_km{index})")
        for (module, function), index in self.functions.items():
            lines += [f"{prefix}{index}_{function} = {prefix}{index}.{function}" for prefix in ("_km", "_kl")
                      if (prefix, module, function) in self.printed]
        return lines

    def kernel_modules(self) -> list:
        """The kernel modules (and user kernels) used, for the signature (their source is hashed)."""
        return [self.user_kernels[m] if m in self.user_kernels else sys.modules[m] for m in self.imports]


def chunk_helper_source(printer, name, loop: EventLoop) -> str:
    """The serial entry point's helper: sums events ``start:stop`` of ``loop`` and returns the sums.
    It loops over the chunk's own views, indexed from 0: Numba then knows ``i >= 0`` and drops its
    negative-index fix-up, which would turn contiguous loads into gathers."""
    views = [f"{col} = {col}[start:stop]" for col in loop.data_columns]
    return function_source(CPU_HELPER, name, ["c", "start", "stop", *loop.data_columns, *loop.inputs],
                           views + _event_sum_lines(printer, loop) + [tuple_return(loop.count)])


def rows_helper_source(printer, name, loop: EventLoop) -> str:
    """The parallel driver's twin of :func:`chunk_helper_source`: the inputs in one float64 array,
    the sums written into ``row``."""
    scalars, arrays = split_inputs(loop.inputs, loop.input_types)
    unpack = [f"{x} = {from_float(f'inputs[{j}]', t)}" for j, (x, t) in enumerate(scalars)]
    unpack += [f"{x} = cols[{len(loop.data_columns) + j}]" for j, x in enumerate(arrays)]
    views = [f"{col} = cols[{j}][start:stop]" for j, col in enumerate(loop.data_columns)]
    return function_source(CPU_HELPER, name, ["c", "start", "stop", "cols", "inputs", "row"],
                           unpack + views + _event_sum_lines(printer, loop)
                           + [f"row[{k}] = s{k}" for k in range(loop.count)])


def split_inputs(inputs, types):
    """A loop's per-call inputs split into the (name, type) of its numbers and the names of its
    arrays (tables): the parallel driver hands the numbers over in one float64 array and the
    tables beside the data columns."""
    scalars = [(x, t) for x, t in zip(inputs, types) if t != "array"]
    return scalars, [x for x, t in zip(inputs, types) if t == "array"]


def grid_helper_source(printer, name, loop: NodeLoop) -> str:
    """A per-call helper tabulating every component of a :class:`NodeLoop`'s value at its nodes."""
    return function_source(CPU_HELPER, name, ["c", "off", "n", *loop.inputs], printer.grid_lines(loop))


def node_helper_source(printer, name, loop: NodeLoop) -> str:
    """A per-call (or per-bin) quadrature helper on the CPU."""
    args = ["c", "off", "n"] + (["lo", "hi"] if loop.in_bin else []) + list(loop.inputs)
    return function_source(CPU_HELPER, name, args, printer.node_lines(loop))


def _event_sum_lines(printer, loop) -> list:
    return [f"s{k} = 0.0" for k in range(loop.count)] + ["for i in range(stop - start):"] + [
        "    " + line for line in printer.event_lines(loop)]


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
    input_types: list
    count: int

    def lines(self, parallel: bool) -> list:
        t, n, chunks = self.t, f"n{self.t}", f"nchunk{self.t}"
        sums = [f"acc{t}_{k}" for k in range(self.count)]
        head = [f"{n} = {self.columns[0]}.shape[0]",
                f"{chunks} = min({MAX_CHUNKS}, ({n} + {CHUNK} - 1) // {CHUNK})",
                f"{chunks} = 1 if {chunks} <= 1 else min({MAX_CHUNKS}, ({chunks} + {CHUNK_GROUP - 1}) // "
                f"{CHUNK_GROUP} * {CHUNK_GROUP})"]
        if not parallel:
            bounds = f"ch * {n} // {chunks}, (ch + 1) * {n} // {chunks}"
            call = ", ".join(["c", bounds] + self.columns + self.inputs)
            return head + [f"{name} = 0.0" for name in sums] + [
                f"for ch in range({chunks}):", f"    r = {self.helper}({call})"] + [
                f"    {name} += r[{k}]" for k, name in enumerate(sums)]
        # comparisons become 1.0 / 0.0 in lines of their own: a conditional expression inside the tuple
        # display would make Python build a list first, a step Numba does not compile
        scalars, arrays = split_inputs(self.inputs, self.input_types)
        flags = [f"f_{x} = {as_float(x, t)}" for x, t in scalars if t == "bool"]
        values = ", ".join(f"f_{x}" if t == "bool" else x for x, t in scalars)
        cols = "(" + "".join(f"{col}, " for col in self.columns + arrays) + ")"
        return head + flags + [
            f"in{t} = np.array(({values},))" if scalars else f"in{t} = np.empty(0)",
            f"tot{t} = _run_chunks({self.function}, c, {cols}, in{t}, {n}, {chunks}, {self.count})",
            # unpacking the array is cheaper for Numba to compile than indexing it element by element
            "".join(f"{name}, " for name in sums) + f"= tot{t}",
        ]


class CodeContext(BuildContext):
    """The compiled path's build context: collects the records of one kernel function's body."""

    writes_code = True
    printer_class = CpuPrinter

    def __init__(self, layout, order=0):
        super().__init__(CodeBackend(order), layout)
        self.args = ["p", "c"]
        self.body: list = [Assign(f"a{slot}", Op("item", ("p",), slot)) for slot in range(layout.size)]
        self.helpers: list[str] = []
        self._helper_names: dict = {}
        self.chunk_helpers: dict = {}  # chunk helper name -> number of data columns, in order of first use
        self.loop_sums: dict = {}  # chunk helper name -> number of sums its event loop keeps (nfit.compile.loops)
        self.printer = self.printer_class(self.be.functions, self.be.printed)
        self.loop_printer = LoopPrinter(self.be.functions, self.be.printed)  # the helpers' event and node loops

    def slot_value(self, slot):
        return f"a{slot}"

    def const(self, value):
        return self.be.const(value)

    def columns(self, t, obs, weighted):
        """Declare term ``t``'s data arguments; return {observable: per-event name}."""
        columns = [f"x{t}_{j}" for j in range(len(obs))]
        self.args += columns + ([f"w{t}"] if weighted else [])
        self._columns = columns
        self._events = [self.be.event(f"e{t}_{j}") for j in range(len(obs))]
        return dict(zip(obs, self._events))

    def _loop(self, t, dual, weighted, weight_power):
        """The :class:`~nfit.compile.ir.EventLoop` of term ``t`` summing every component of ``dual``,
        and the Dual keys of its sums; the per-call records written so far go into the body."""
        be = self.be
        self.body += be.scalar_lines
        be.scalar_lines = []
        keys, components = dual_keys(dual), dual_components(dual)
        inputs = tuple(be.loop_inputs)
        loop = EventLoop(tuple(self._columns), tuple(self._events), f"w{t}" if weighted else None, weight_power,
                         inputs, tuple(be.type_of(x) for x in inputs), tuple(be.loop_lines), tuple(components))
        be.loop_lines = []
        be.loop_inputs = {}
        return loop, keys

    def event_sum(self, t, dual, weighted, weight_power=1) -> Dual:
        """Sum term ``t``'s events, accumulating every component of ``dual`` (weighted by
        ``w ** weight_power``).

        The loop goes into a chunk helper that sums one range of events and returns the sums; the
        per-call numbers the body reads are its arguments. The entry point cuts the events into a
        number of chunks that depends on the data size only, sums them one after the other or in
        parallel (:class:`ChunkLoop`) and adds the chunks' sums in order: the same result whatever
        the number of threads. Terms of the same structure share one helper, so it compiles once.
        The loop is written twice, as the serial entry point's helper and as the parallel driver's;
        only the one in use is compiled (calling one from the other would have LLVM compile the
        loop twice).
        """
        loop, keys = self._loop(t, dual, weighted, weight_power)
        helper = self._helper("_chunk", loop, chunk_helper_source)
        adapter = self._helper("_rows", loop, rows_helper_source)
        if adapter not in self.chunk_helpers:
            self.chunk_helpers[adapter] = len(loop.data_columns) + len(split_inputs(loop.inputs, loop.input_types)[1])
        self.loop_sums[helper] = self.loop_sums[adapter] = loop.count
        function = f"fn{list(self.chunk_helpers).index(adapter)}"
        self.body.append(ChunkLoop(t, helper, function, list(loop.data_columns), list(loop.inputs),
                                   list(loop.input_types), loop.count))
        return dual_of(self.be, keys, [f"acc{t}_{k}" for k in range(loop.count)])

    def _node_loop(self, integrand, nodes, in_bin):
        """Trace ``integrand`` at the node names into a :class:`~nfit.compile.ir.NodeLoop` (and its keys)."""
        be = self.be
        saved = be.loop_lines, be.loop_inputs
        be.loop_lines, be.loop_inputs = [], {}
        names = []
        for _ in range(nodes):
            names.append(be.event(f"z{be._counter}"))
            be._counter += 1
        dual = integrand(names[0] if nodes == 1 and in_bin else names)
        keys, components = dual_keys(dual), dual_components(dual)
        inputs = tuple(be.loop_inputs)
        loop = NodeLoop(tuple(names), inputs, tuple(be.type_of(x) for x in inputs), tuple(be.loop_lines),
                        tuple(components), in_bin)
        be.loop_lines, be.loop_inputs = saved
        return loop, keys

    def quad_sum(self, integrand, nodes) -> Dual:
        """The integral of ``integrand(node)`` by quadrature on ``nodes`` = (x, weights), written as
        a per-call helper looping over the nodes (constants in ``c``); derivatives come along."""
        be = self.be
        x, w = nodes
        offset = len(be.constants)
        rows = np.atleast_2d(x)
        for row in rows:
            be.constants.extend(row.tolist())
        be.constants.extend(w.tolist())
        one_row = np.ndim(x) == 1
        loop, keys = self._node_loop(lambda names: integrand(names[0] if one_row else names), len(rows), False)
        helper = self._helper("_quad", loop, node_helper_source)
        result = be.helper_call(helper, ["c", str(offset), str(len(w)), *loop.inputs])
        return dual_of(be, keys, [be.item(result, k) for k in range(len(loop.sums))])

    def bin_quad(self, integrand, lower, upper, rule) -> Dual:
        """The integral of ``integrand(x)`` over one bin, ``lower`` to ``upper`` (names in the bin
        loop), by the reference rule (nodes and weights on [0, 1], in ``c``): a helper called once
        per bin that loops over the nodes; derivatives come along."""
        be = self.be
        t, w = rule
        offset = len(be.constants)
        be.constants.extend(np.asarray(t, dtype=float).tolist())
        be.constants.extend(np.asarray(w, dtype=float).tolist())
        loop, keys = self._node_loop(integrand, 1, True)
        helper = self._bin_quad_helper(loop)
        result = be.helper_call(helper, ["c", str(offset), str(len(w)), lower, upper, *loop.inputs])
        return dual_of(be, keys, [be.item(result, k) for k in range(len(loop.sums))])

    def _bin_quad_helper(self, loop) -> str:
        """The function :meth:`bin_quad` calls from the bin loop (a CPU helper here)."""
        return self._helper("_bquad", loop, node_helper_source)

    def grid_values(self, integrand, nodes, weights):
        be = self.be
        nodes, weights = np.asarray(nodes, dtype=float), np.asarray(weights, dtype=float)
        offset = len(be.constants)
        be.constants.extend(nodes.tolist())
        be.constants.extend(weights.tolist())
        loop, keys = self._node_loop(lambda names: integrand(names[0]), 1, False)
        helper = self._helper("_grid", loop, grid_helper_source)
        table = be.helper_call(helper, ["c", str(offset), str(nodes.size), *loop.inputs], type_="array")
        be.sizes[table] = len(keys) * nodes.size
        return Grid(keys, table, nodes.size)

    def grid_correlate(self, f, g):
        be = self.be
        keys, pairs = convolution_pairs(f, g, be.order)
        offset = len(be.constants)
        for triple in pairs:
            be.constants.extend(float(i) for i in triple)
        table = be.call(grid, "correlate", [f.data, str(f.n), g.data, str(g.n), "c", str(offset), str(len(pairs)),
                                            str(len(keys))], type_="array")
        be.sizes[table] = len(keys) * (f.n - g.n + 1)
        return Grid(keys, table, f.n - g.n + 1)

    def grid_interpolate(self, table, x, x0, h, degree):
        be = self.be
        where = be.call(grid, "stencil", [x, str(table.n), self.const(x0), self.const(1.0 / h), str(degree)])
        stencil = [be.item(where, k) if k < degree + 2 else "0.0" for k in range(7)]
        values = [be.call(grid, "combine", [table.data, str(r), str(table.n), str(degree), *stencil])
                  for r in range(len(table.keys))]
        return dual_of(be, table.keys, values)

    def grid_integral(self, table, lower, upper, x0, h, degree):
        be = self.be
        lower, upper = self.limit(lower), self.limit(upper)
        values = [be.call(grid, "integral", [lower, upper, table.data, str(r), str(table.n), self.const(x0),
                                             self.const(h), str(degree)]) for r in range(len(table.keys))]
        return dual_of(be, table.keys, values)

    def is_per_event(self, dual):
        components = [dual.v, *dual.g.values(), *dual.h.values()]
        return any(x in self.be.per_event for x in components if isinstance(x, str))

    def _helper(self, prefix, loop, source) -> str:
        """Name of a generated helper for ``loop``, shared by every loop of the same structure
        (:func:`~nfit.compile.ir.canonical`); ``source(printer, name, loop)`` writes it."""
        key = (prefix, canonical(loop))
        if key not in self._helper_names:
            name = f"{prefix}{len(self._helper_names)}"
            self._helper_names[key] = name
            self.helpers.append(source(self.loop_printer, name, key[1]))
        return self._helper_names[key]

    def finish(self):
        self.body += self.be.scalar_lines
        self.be.scalar_lines = []
