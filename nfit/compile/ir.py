"""The kernel IR: what a lowered kernel computes, as typed records, and the printers that write it.

Lowering a model (:mod:`nfit.compile.emitter`) produces records, never text:

- :class:`Assign` ``target = op``: one operation (:class:`Op`) on *atoms* — local names, literals
  such as ``"1.0"`` and reads of the constants array such as ``"c[3]"`` — typed ``"float"`` or
  ``"bool"``;
- :class:`Store` ``array[index] = value`` and :class:`Return`;
- loops: :class:`EventLoop` (one term's sum over its events or bins: the per-event assignments and
  the values summed), :class:`NodeLoop` (a quadrature over fixed nodes, or over one bin's nodes).

A :class:`Printer` turns records into source for one target. :class:`CpuPrinter` writes Numba CPU
code (``math`` from :mod:`nfit.compile.vecmath`, kernel functions through their ``@njit`` clones
``_kmN_f``; in event loops, :class:`LoopPrinter`'s ``_klN_f``); :class:`DevicePrinter` writes CUDA
device code (``dmath``, the device clones ``_kdN_f``). A loop is printed once per structure:
:func:`canonical` renames its local names in order of first use, so that two terms of the same
structure share one helper.

>>> op = Op("binary", ("x", "1.0"), "+")
>>> CpuPrinter({}).assign(Assign("t0", op))
't0 = x + 1.0'
>>> DevicePrinter({}).assign(Assign("t1", Op("math", ("t0",), "exp")))
't1 = dmath.exp(t0)'
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

from ..z import _SCALAR_CODE

__all__ = ["Op", "Assign", "Store", "Return", "EventLoop", "NodeLoop", "Printer", "CpuPrinter",
           "LoopPrinter", "DevicePrinter", "canonical", "is_name", "reads", "as_float", "from_float", "function_source",
           "tuple_return"]

_OPERATORS = ("+", "-", "*", "/", "**")
_COMPARISONS = ("<", "<=", ">", ">=", "==", "!=")


def is_name(atom) -> bool:
    """Whether ``atom`` is a local name (not a literal, not the constants array or a read of it)."""
    if not isinstance(atom, str) or atom == "c" or atom.startswith("c["):
        return False
    try:
        float(atom)
    except ValueError:
        return True
    return False


@dataclass(frozen=True)
class Op:
    """One operation on atoms. ``kind`` and ``what``:

    ``binary`` (``what``: ``+ - * / **``), ``neg``, ``math`` (a function of :data:`nfit.z._SCALAR_CODE`),
    ``compare`` (``< <= > >= == !=``), ``where`` (args: condition, then, else), ``call`` (a kernel
    function, ``what`` = (module name, function name)), ``helper`` (a generated helper, ``what`` its
    name), ``item`` (``args[0][what]``)."""

    kind: str
    args: tuple = ()
    what: object = None

    def __post_init__(self):
        if self.kind == "binary" and self.what not in _OPERATORS:
            raise ValueError(f"unknown operator {self.what!r}")
        if self.kind == "compare" and self.what not in _COMPARISONS:
            raise ValueError(f"unknown comparison {self.what!r}")


@dataclass(frozen=True)
class Assign:
    """``target = op``; ``type`` is ``"float"`` or ``"bool"`` (a comparison)."""

    target: str
    op: Op
    type: str = "float"


@dataclass(frozen=True)
class Store:
    """``array[index] = value`` (a bool value is stored as 1.0 / 0.0)."""

    array: str
    index: object
    value: str
    type: str = "float"


@dataclass(frozen=True)
class Return:
    value: str


@dataclass(frozen=True)
class EventLoop:
    """A sum over events (or bins): each event binds ``events[j]`` to ``columns[j][i]``, runs
    ``body`` (per-event :class:`Assign` records, reading ``inputs`` computed once per call) and adds
    every atom of ``sums`` — times ``weight[i] ** weight_power`` when there is a ``weight``
    column, which is then summed too."""

    columns: tuple
    events: tuple
    weight: str | None
    weight_power: int
    inputs: tuple
    input_types: tuple
    body: tuple
    sums: tuple

    @property
    def count(self) -> int:
        """How many sums the loop returns (the weights' sum last, where weighted)."""
        return len(self.sums) + (1 if self.weight else 0)

    @property
    def data_columns(self) -> tuple:
        """The loop's array arguments: the columns, then the weights."""
        return self.columns + ((self.weight,) if self.weight else ())


@dataclass(frozen=True)
class NodeLoop:
    """A quadrature: ``sum_i w_i f(nodes_i)`` of every atom of ``sums``, the nodes and weights read
    from ``c`` at an offset. ``in_bin``: the nodes are on [0, 1] and scaled into the bin [lo, hi]
    (the bin loop's edges), else they are the points themselves (one row per node name)."""

    nodes: tuple
    inputs: tuple
    input_types: tuple
    body: tuple
    sums: tuple
    in_bin: bool


def reads(record) -> list:
    """The local names ``record`` reads, in order."""
    if isinstance(record, Assign):
        return [a for a in record.op.args if is_name(a)]
    if isinstance(record, Store):
        return [record.value] if is_name(record.value) else []
    if isinstance(record, Return):
        return [record.value] if is_name(record.value) else []
    raise TypeError(f"no reads for {record!r}")


def _renamed(record, name):
    """``record`` with every local name ``x`` replaced by ``name(x)``."""
    if isinstance(record, Assign):
        op = replace(record.op, args=tuple(name(a) if is_name(a) else a for a in record.op.args))
        return Assign(name(record.target), op, record.type)
    if isinstance(record, (EventLoop, NodeLoop)):
        changes = {}
        for f in fields(record):
            value = getattr(record, f.name)
            if f.name == "body":
                changes["body"] = tuple(_renamed(r, name) for r in value)
            elif f.name in ("columns", "events", "inputs", "sums", "nodes"):
                changes[f.name] = tuple(name(a) if is_name(a) else a for a in value)
            elif f.name == "weight" and value:
                changes["weight"] = name(value)
        return replace(record, **changes)
    raise TypeError(f"cannot rename {record!r}")


def canonical(loop):
    """``loop`` with its local names renamed ``v0, v1, ...`` in order of first use: loops of the same
    structure become equal (and hash alike), whatever names their terms gave them."""
    names: dict = {}

    def name(atom):
        return names.setdefault(atom, f"v{len(names)}")

    order = list(getattr(loop, "columns", ())) + list(getattr(loop, "events", ())) + list(getattr(loop, "nodes", ()))
    order += [loop.weight] if getattr(loop, "weight", None) else []
    order += list(loop.inputs)
    for atom in order:
        name(atom)
    return _renamed(loop, name)


class Printer:
    """Writes records as Python source for one target. ``functions`` maps (kernel module name,
    function name) to the alias index of its module, as the kernel's header imports it; each
    kernel function printed is added to ``printed`` as (prefix, module name, function name), so
    that the header imports only those."""

    math = "math"
    kernel_prefix = "_km"

    def __init__(self, functions: dict, printed: set | None = None):
        self.functions = functions
        self.printed = set() if printed is None else printed

    def kernel_function(self, module, function) -> str:
        self.printed.add((self.kernel_prefix, module, function))
        return f"{self.kernel_prefix}{self.functions[(module, function)]}_{function}"

    def expr(self, op: Op, type_="float") -> str:
        a = op.args
        kind = op.kind
        if kind == "binary":
            return f"{a[0]} {op.what} {a[1]}"
        if kind == "neg":
            return f"-{a[0]}"
        if kind == "math":
            namespace, _, function = _SCALAR_CODE[op.what].rpartition(".")
            return f"{self.math}.{function}({a[0]})" if namespace else f"{function}({a[0]})"
        if kind == "compare":
            return f"({a[0]} {op.what} {a[1]})"
        if kind == "where":
            return f"({a[1]} if {a[0]} else {a[2]})"
        if kind == "call":
            return f"{self.kernel_function(*op.what)}({', '.join(a)})"
        if kind == "helper":
            return f"{op.what}({', '.join(a)})"
        if kind == "item":
            element = f"{a[0]}[{op.what}]"
            return f"({element} != 0.0)" if type_ == "bool" else element
        raise ValueError(f"unknown operation {kind!r}")

    def assign(self, record: Assign) -> str:
        return f"{record.target} = {self.expr(record.op, record.type)}"

    def statement(self, record) -> str:
        if isinstance(record, Assign):
            return self.assign(record)
        if isinstance(record, Store):
            return f"{record.array}[{record.index}] = {as_float(record.value, record.type)}"
        if isinstance(record, Return):
            return f"return {record.value}"
        raise TypeError(f"cannot print {record!r}")

    def accumulate(self, loop: EventLoop) -> list:
        """The lines adding event ``i``'s sums (and, weighted, its weight) to ``s0, s1, ...``."""
        if not loop.weight:
            return [f"s{k} += {value}" for k, value in enumerate(loop.sums)]
        weight = " * ".join([f"{loop.weight}[i]"] * loop.weight_power)
        return [f"s{k} += {weight} * {value}" for k, value in enumerate(loop.sums)] + [
            f"s{len(loop.sums)} += {weight}"]

    def event_lines(self, loop: EventLoop) -> list:
        """The body of one event: bind the event's values, compute, accumulate."""
        lines = [f"{event} = {column}[i]" for event, column in zip(loop.events, loop.columns)]
        return lines + [self.assign(r) for r in loop.body] + self.accumulate(loop)

    def node_lines(self, loop: NodeLoop) -> list:
        """A function body summing a :class:`NodeLoop` (arguments ``c, off, n[, lo, hi], inputs``)."""
        sums = [f"s{k} = 0.0" for k in range(len(loop.sums))]
        if loop.in_bin:
            head = sums + ["width = hi - lo", "for i in range(n):"]
            bind = [f"{loop.nodes[0]} = lo + width * c[off + i]", "wq = width * c[off + n + i]"]
        else:
            head = sums + ["for i in range(n):"]
            bind = [f"{node} = c[off + {k} * n + i]" for k, node in enumerate(loop.nodes)]
            bind.append(f"wq = c[off + {len(loop.nodes)} * n + i]")
        body = bind + [self.assign(r) for r in loop.body] + [f"s{k} += wq * {v}" for k, v in enumerate(loop.sums)]
        return head + ["    " + line for line in body] + [tuple_return(len(loop.sums))]


    def grid_lines(self, loop: NodeLoop) -> list:
        """A function body tabulating a :class:`NodeLoop` (arguments ``c, off, n, inputs``): row ``k``
        of the flat ``out`` holds ``w_i`` times its ``k``-th component at node ``i``."""
        count = len(loop.sums)
        bind = [f"{loop.nodes[0]} = c[off + i]", "wq = c[off + n + i]"]
        body = bind + [self.assign(r) for r in loop.body] + [f"out[{k} * n + i] = wq * {v}"
                                                              for k, v in enumerate(loop.sums)]
        head = [f"out = np.empty({count} * n)", "for i in range(n):"]
        return head + ["    " + line for line in body] + ["return out"]


class CpuPrinter(Printer):
    """Numba CPU source: ``math`` is :mod:`nfit.compile.vecmath` in the kernel's header."""


class LoopPrinter(CpuPrinter):
    """Numba CPU source of an event loop: its kernel functions are the clones compiled with the
    loops' floating-point flags (``_klN_f``, see :mod:`nfit.compile.jitmodule`).

    >>> pdf = ("nfit.kernels.gauss", "pdf")
    >>> LoopPrinter({pdf: 0}).expr(Op("call", ("x", "a0", "a1"), pdf))
    '_kl0_pdf(x, a0, a1)'
    """

    kernel_prefix = "_kl"


class DevicePrinter(Printer):
    """CUDA device source: ``dmath`` (``math`` on a GPU; the simulator's exception-free copy) and the
    kernel functions' device clones."""

    math = "dmath"
    kernel_prefix = "_kd"


def as_float(value: str, type_: str) -> str:
    """``value`` as a float64 (a bool travels as 1.0 / 0.0 in float arrays)."""
    return f"(1.0 if {value} else 0.0)" if type_ == "bool" else value


def from_float(element: str, type_: str) -> str:
    """Reading back a value of ``type_`` from ``element`` of a float64 array (see :func:`as_float`)."""
    return f"({element} != 0.0)" if type_ == "bool" else element


def tuple_return(count) -> str:
    """``return (s0, s1, ...,)``: a helper's sums."""
    return "return (" + ", ".join(f"s{k}" for k in range(count)) + ",)"


def function_source(decorator: str, name: str, args, lines) -> str:
    """A function's source: ``decorator``, the signature, the indented ``lines``."""
    text = "\n".join("    " + line for line in lines)
    return f"{decorator}\ndef {name}({', '.join(args)}):\n{text}\n"
