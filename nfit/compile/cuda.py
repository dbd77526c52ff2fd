"""Lowering a loss to CUDA: the same tree, the same per-event lines, a GPU event loop.

:class:`CudaCodeContext` is the compiled path's :class:`~nfit.compile.emitter.CodeContext` with one
change: a term's sum over events becomes a ``@cuda.jit`` kernel instead of a CPU chunk helper.
Everything the nodes write (the per-event lines and the kernel functions they call) is the same
text; the calls go to CUDA device-function clones of the same ``kernels/`` source
(:func:`nfit.compile.jitmodule.cuda_module`).

One evaluation is three steps, written as three functions of one generated module:

1. ``nll_prelude(p, c, h)`` (CPU, ``@njit``): the per-call numbers — composed parameters,
   normalisation integrals, fractions — written into ``h``, the only array sent to the GPU per call;
2. ``_gpuN(c, h, off, n, <columns>, partial, col)`` (GPU) per term: a grid-stride loop over the
   events accumulates every component (value, gradient, Hessian, sum of weights) in registers, a
   block reduces them in shared memory (a tree, in float64) and writes one row of ``partial``;
   :func:`nfit.gpu.reduce_blocks` then reduces the rows (another tree) into the result vector ``r``;
3. ``nll_epilogue(p, c, h, r[, out])`` (CPU): logs, yields, constraints, the gradient into ``out``.

The prelude and epilogue are the kernel body split at the event sums: a line that reads a sum
(directly or through other lines) belongs to the epilogue, every other line to the prelude; the
prelude hands the epilogue what it needs through ``h``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..context import dual_of
from .emitter import CPU_HELPER, CodeContext
from .ir import Assign, DevicePrinter, EventLoop, Op, Return, Store, from_float, function_source, reads
from .lower import Lowered, build_loss, outputs

__all__ = ["CudaLowered", "Launch", "lower_nll_cuda", "threads_per_block"]

SIMULATOR_THREADS = 2
SHARED_DOUBLES = 6144  # 48 KiB of static shared memory per block, the portable limit


def threads_per_block(count: int, simulator: bool = False) -> int:
    """Threads per block for a kernel reducing ``count`` accumulators in shared memory: a power of
    two, at most 256 (2 in the simulator, where every thread is a Python thread that its scheduler
    polls)."""
    if simulator:
        return SIMULATOR_THREADS
    threads = 256
    while threads > 32 and threads * count > SHARED_DOUBLES:
        threads //= 2
    return threads


@dataclass
class Launch:
    """One GPU kernel launch: term ``term``'s event sum."""

    kernel: str
    term: int
    columns: list  # indices into the loss's data arguments
    input_offset: int  # where the kernel's per-call inputs start in ``h``
    result_offset: int  # where its sums go in ``r``
    count: int
    threads: int


@dataclass
class CudaLowered(Lowered):
    launches: list = field(default_factory=list)
    h_size: int = 0
    r_size: int = 0


class CudaCodeContext(CodeContext):
    """Code context whose event sums are GPU kernels (see the module docstring)."""

    def __init__(self, layout, order=0, simulator=False):
        super().__init__(layout, order)
        self.simulator = simulator
        self.device_printer = DevicePrinter(self.be.functions)
        self.launches: list[Launch] = []
        self.inputs: list[str] = []  # names the GPU kernels read from h, launch after launch
        self.input_widths: list[int] = []  # how many numbers of h each takes (a table: its length)
        self.result_size = 0

    def event_sum(self, t, dual, weighted, weight_power=1):
        loop, keys = self._loop(t, dual, weighted, weight_power)
        threads = threads_per_block(loop.count, self.simulator)
        # a table (a numerical convolution's) travels in h too, its length part of the kernel's structure
        widths = [self.be.sizes[x] if t == "array" else 1 for x, t in zip(loop.inputs, loop.input_types)]
        tables = [w for w, t in zip(widths, loop.input_types) if t == "array"]
        prefix = "_gpu" + "".join(f"_t{w}" for w in tables) + ("_" if tables else "")
        kernel = self._helper(prefix, loop, lambda printer, name, canon: _gpu_kernel_source(
            self.device_printer, name, canon, threads, widths))
        data_args = self.args[2:]
        self.launches.append(Launch(kernel, t, [data_args.index(col) for col in loop.data_columns],
                                    sum(self.input_widths), self.result_size, loop.count, threads))
        self.inputs += loop.inputs
        self.input_widths += widths
        self.result_size += loop.count
        return dual_of(self.be, keys, [f"acc{t}_{k}" for k in range(loop.count)])

    def _bin_quad_helper(self, loop) -> str:
        # called inside the GPU kernel's loop over bins: a device function, with device math
        return self._helper("_dquad", loop, lambda printer, name, canon: function_source(
            "@cuda.jit(device=True)", name, ["c", "off", "n", "lo", "hi", *canon.inputs],
            self.device_printer.node_lines(canon)))


def _gpu_kernel_source(printer, name, loop: EventLoop, threads, widths) -> str:
    """A term's event sum on the GPU: a grid-stride loop accumulating in registers, then a block
    reduction into one row of ``partial``. Its inputs are read from ``h`` (``widths``: one number
    each, a table its length)."""
    lines, at = [], 0
    for x, t, width in zip(loop.inputs, loop.input_types, widths):
        lines.append(f"{x} = h[off + {at}:off + {at + width}]" if t == "array" else
                     f"{x} = {from_float(f'h[off + {at}]', t)}")
        at += width
    lines += [f"s{k} = 0.0" for k in range(loop.count)]
    lines += ["i = cuda.grid(1)", "stride = cuda.gridsize(1)", "while i < n:"]
    lines += ["    " + line for line in printer.event_lines(loop) + ["i += stride"]]
    lines += _block_reduction(loop.count, threads)
    return function_source("@cuda.jit(cache=True)", name, ["c", "h", "off", "n", *loop.data_columns, "partial", "col"],
                           lines)


def _block_reduction(count, threads) -> list:
    """Lines that reduce ``s0..s{count-1}`` over the block's threads (a tree in shared memory) and
    write the block's sums to ``partial[block, col:col + count]``."""
    lines = [f"sm = cuda.shared.array(({threads}, {count}), numba.float64)", "tid = cuda.threadIdx.x"]
    lines += [f"sm[tid, {k}] = s{k}" for k in range(count)]
    lines += ["cuda.syncthreads()", f"step = {threads // 2}", "while step > 0:", "    if tid < step:",
              f"        for k in range({count}):", "            sm[tid, k] += sm[tid + step, k]",
              "    cuda.syncthreads()", "    step //= 2", "if tid == 0:",
              f"    for k in range({count}):", "        partial[cuda.blockIdx.x, col + k] = sm[0, k]"]
    return lines


def lower_nll_cuda(terms, layout, constraints=(), order=0, simulator=False) -> CudaLowered:
    """Source of ``nll_prelude``, the per-term GPU kernels and ``nll_epilogue`` (module docstring)."""
    ctx, total, out_order = build_loss(CudaCodeContext, terms, layout, constraints, order, simulator=simulator)
    ctx.finish()
    tail = outputs(total, len(layout.floating), out_order) + [Return(total.v)]
    be = ctx.be

    sums = {f"acc{launch.term}_{k}": launch.result_offset + k
            for launch in ctx.launches for k in range(launch.count)}
    prelude, epilogue, defined = [], [], set()
    tainted = set(sums)
    for record in ctx.body:
        if tainted.intersection(reads(record)):
            tainted.add(record.target)
            epilogue.append(record)
        else:
            defined.add(record.target)
            prelude.append(record)
    # h: each launch's inputs (contiguous, from its offset), then what else the epilogue reads
    slot, at = {}, 0
    stores = []
    for name, width in zip(ctx.inputs, ctx.input_widths):
        slot.setdefault(name, at)
        kind = be.type_of(name)
        stores.append(Store("h", f"{at}:{at + width}" if kind == "array" else at, name, kind))
        at += width
    h_size = at
    needs = []
    for record in epilogue + tail:
        for name in reads(record):
            if name in defined and name not in needs:
                if be.type_of(name) == "array":
                    raise NotImplementedError(f"CUDA lowering: the epilogue reads the table {name!r}")
                needs.append(name)
    for name in needs:
        if name not in slot:
            slot[name] = h_size
            h_size += 1
    stores += [Store("h", slot[name], name, be.type_of(name)) for name in needs if slot[name] >= at]
    loads = [Assign(name, Op("item", ("h",), slot[name]), be.type_of(name)) for name in needs]
    loads += [Assign(name, Op("item", ("r",), k)) for name, k in sums.items()]

    printer = ctx.printer
    out_arg = ", out" if out_order >= 1 else ""
    functions = list(ctx.helpers)
    functions.append(function_source(CPU_HELPER, "nll_prelude", ["p", "c", "h"],
                                     [printer.statement(r) for r in prelude + stores] + ["return 0"]))
    functions.append(function_source(CPU_HELPER, "nll_epilogue", ["p", "c", "h", "r" + out_arg],
                                     [printer.statement(r) for r in loads + epilogue + tail]))
    functions.append(_REDUCE.format(threads=SIMULATOR_THREADS if simulator else 128))
    kind = {0: "value", 1: "value and gradient", 2: "value, gradient and Hessian",
            "score": "outer products of the per-event gradients"}[order]
    header = [f'"""nfit generated CUDA kernel: negative log-likelihood of {len(terms)} term(s), {kind}"""']
    header += be.header() + ["from numba import cuda", "from nfit.compile.jitmodule import cuda_module"]
    header += ["from nfit.compile.jitmodule import SIMULATOR_MATH as dmath" if simulator else "import math as dmath"]
    header += _device_header(be)
    source = "\n".join(header) + "\n\n\n" + "\n\n".join(functions)
    return CudaLowered(source, list(be.constants), be.kernel_modules(), ctx.launches, h_size, ctx.result_size)


_REDUCE = """REDUCE_THREADS = {threads}


@cuda.jit(cache=True)
def reduce_blocks(partial, nblocks, out):
    # column blockIdx.x of partial, summed over its nblocks rows: strided per thread, then a tree
    sm = cuda.shared.array(REDUCE_THREADS, numba.float64)
    col = cuda.blockIdx.x
    tid = cuda.threadIdx.x
    s = 0.0
    b = tid
    while b < nblocks:
        s += partial[b, col]
        b += REDUCE_THREADS
    sm[tid] = s
    cuda.syncthreads()
    step = REDUCE_THREADS // 2
    while step > 0:
        if tid < step:
            sm[tid] += sm[tid + step]
        cuda.syncthreads()
        step //= 2
    if tid == 0:
        out[col] = sm[0]
"""


def _device_header(be) -> list:
    """Imports of the CUDA device clones of every kernel module (``_kdN``) and their functions."""
    lines = []
    for module, index in be.imports.items():
        if module in be.user_kernels:
            lines.append(f"_kd{index} = cuda_module(_km{index}_lookup({module!r}))")
        else:
            lines.append(f"import {module} as _kd{index}")
            lines.append(f"_kd{index} = cuda_module(_kd{index})")
    for (_module, function), index in be.functions.items():
        lines.append(f"_kd{index}_{function} = _kd{index}.{function}")
    return lines
