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

import re
from dataclasses import dataclass, field

from .emitter import CodeContext, _accumulate, _as_float, _from_float, _helper_source
from .lower import Lowered, _outputs, build_loss

__all__ = ["CudaLowered", "Launch", "lower_nll_cuda", "threads_per_block"]

SIMULATOR_THREADS = 2
SHARED_DOUBLES = 6144  # 48 KiB of static shared memory per block, the portable limit
_IDENT = re.compile(r"\b[A-Za-z_]\w*\b")
_ASSIGN = re.compile(r"^(\w+) = (.*)$")


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
        self.launches: list[Launch] = []
        self.inputs: list[str] = []  # names the GPU kernels read from h, launch after launch
        self.result_size = 0

    def event_sum(self, t, dual, weighted, weight_power=1):
        from ..ad import Dual

        be = self.be
        self.body += be.scalar_lines
        be.scalar_lines = []
        keys = ["v"] + sorted(dual.g) + sorted(dual.h)
        components = [dual.v] + [dual.g[k] for k in sorted(dual.g)] + [dual.h[k] for k in sorted(dual.h)]
        count = len(components) + (1 if weighted else 0)
        inputs = list(be.loop_inputs)
        columns = list(self._columns.values()) + ([f"w{t}"] if weighted else [])
        threads = threads_per_block(count, self.simulator)

        body = [f"{name} = h[off + {j}]" for j, name in enumerate(inputs)]
        body += [f"s{k} = 0.0" for k in range(count)]
        body += ["i = cuda.grid(1)", "stride = cuda.gridsize(1)", "while i < n:"]
        loop = [f"e{t}_{j} = {col}[i]" for j, col in enumerate(self._columns.values())] + be.loop_lines
        loop += _accumulate(t, components, weighted, weight_power)
        loop.append("i += stride")
        body += ["    " + _device_calls(line) for line in loop]
        body += _block_reduction(count, threads)
        kernel = self._helper(["c", "h", "off", "n"] + columns + ["partial", "col"], body,
                              prefix="_gpu", template=_cuda_kernel_source)
        be.loop_lines = []
        be.loop_inputs = {}

        data_args = self.args[2:]
        self.launches.append(Launch(kernel, t, [data_args.index(col) for col in columns], len(self.inputs),
                                    self.result_size, count, threads))
        self.inputs += inputs
        sums = [f"acc{t}_{k}" for k in range(count)]
        self.result_size += count
        g = {key: sums[k] for k, key in enumerate(keys) if isinstance(key, int)}
        h = {key: sums[k] for k, key in enumerate(keys) if isinstance(key, tuple)}
        return Dual(be, sums[0], g, h)


    def _bin_quad_helper(self, args, body) -> str:
        # called inside the GPU kernel's loop over bins: a device function, with device math
        return self._helper(args, [_device_calls(line) for line in body], prefix="_dquad",
                            template=_cuda_device_source)


def _cuda_device_source(name, args, body):
    text = "\n".join("    " + line for line in body)
    return f"@cuda.jit(device=True)\ndef {name}({', '.join(args)}):\n{text}\n"


def _device_calls(line: str) -> str:
    """Per-event calls of kernel functions go to their CUDA device clones (``_kmN_f`` -> ``_kdN_f``),
    math functions to ``dmath`` (``math`` on a GPU; a version without Python exceptions in the
    simulator)."""
    return re.sub(r"\bmath\.", "dmath.", re.sub(r"\b_km(\d+)_", r"_kd\1_", line))


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


def _cuda_kernel_source(name, args, body):
    text = "\n".join("    " + line for line in body)
    return f"@cuda.jit(cache=True)\ndef {name}({', '.join(args)}):\n{text}\n"


def lower_nll_cuda(terms, layout, constraints=(), order=0, simulator=False) -> CudaLowered:
    """Source of ``nll_prelude``, the per-term GPU kernels and ``nll_epilogue`` (module docstring)."""
    ctx, total, out_order = build_loss(CudaCodeContext, terms, layout, constraints, order, simulator=simulator)
    ctx.finish()
    outputs = _outputs(total, len(layout.floating), out_order) + [f"return {total.v}"]

    sums = {f"acc{launch.term}_{k}": launch.result_offset + k
            for launch in ctx.launches for k in range(launch.count)}
    prelude, epilogue, defined = [], [], set()
    tainted = set(sums)
    for line in ctx.body:
        name, expr = _ASSIGN.match(line).groups()
        if tainted & set(_IDENT.findall(expr)):
            tainted.add(name)
            epilogue.append(line)
        else:
            defined.add(name)
            prelude.append(line)
    # h: each launch's inputs (contiguous, from its offset), then what else the epilogue reads
    slot = {}
    for k, name in enumerate(ctx.inputs):
        slot.setdefault(name, k)
    h_size = len(ctx.inputs)
    needs = []
    for line in epilogue + outputs:
        for word in _IDENT.findall(line):
            if word in defined and word not in needs:
                needs.append(word)
    for name in needs:
        if name not in slot:
            slot[name] = h_size
            h_size += 1
    stores = [f"h[{k}] = {_as_float(name)}" for k, name in enumerate(ctx.inputs)]
    stores += [f"h[{slot[name]}] = {_as_float(name)}" for name in needs if slot[name] >= len(ctx.inputs)]
    reads = [f"{name} = {_from_float(name, f'h[{slot[name]}]')}" for name in needs]
    reads += [f"{name} = r[{k}]" for name, k in sums.items()]

    be = ctx.be
    out_arg = ", out" if out_order >= 1 else ""
    functions = list(ctx.helpers)
    functions.append(_helper_source("nll_prelude", ["p", "c", "h"], prelude + stores + ["return 0"]))
    functions.append(_helper_source("nll_epilogue", ["p", "c", "h", "r" + out_arg], reads + epilogue + outputs))
    functions.append(_REDUCE.format(threads=SIMULATOR_THREADS if simulator else 128))
    kind = {0: "value", 1: "value and gradient", 2: "value, gradient and Hessian",
            "score": "outer products of the per-event gradients"}[order]
    header = [f'"""nfit generated CUDA kernel: negative log-likelihood of {len(terms)} term(s), {kind}"""']
    header += be.header() + ["from numba import cuda", "from nfit.compile.jitmodule import cuda_module",
                             ]
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
    for module, alias in be.imports.items():
        device = alias.replace("_km", "_kd")
        if module in be.user_kernels:
            lines.append(f"{device} = cuda_module({alias}_lookup({module!r}))")
        else:
            lines.append(f"import {module} as {device}")
            lines.append(f"{device} = cuda_module({device})")
    for (module, function), alias in be.functions.items():
        lines.append(f"{alias.replace('_km', '_kd', 1)} = {be.imports[module].replace('_km', '_kd')}.{function}")
    return lines
