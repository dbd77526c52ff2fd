"""Turn model trees into the source of fused kernels.

Two variants share one lowering, :class:`~nfit.compile.emitter.CodeContext`:

- ``nll``: the negative log-likelihood of one or more (model, data) terms (:func:`nfit.likelihood.nll`)
  — per-call prelude (composed parameters, normalisation integrals, fractions), one loop per term
  over its events, then the extended terms and constraints. With ``order`` 1 or 2 the same pass
  also accumulates the gradient (and the Hessian) and writes them to ``out``;
- ``pdf``: the density of one model at each event, written into an output array.

Each variant is emitted twice, serial and parallel; the caller picks by data size, and only the
one used is ever compiled. ``nll_parallel`` sums the chunks of events in parallel through
:func:`nfit.compile.parallel.run_chunks` (a ``prange`` compiled once, which receives the kernel's
chunk helpers as arguments ``fn0, fn1, ...``) and agrees with ``nll_serial`` to rounding;
``pdf_parallel`` writes one density per event in a ``numba.prange`` loop.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..likelihood import Term, nll, score_outer
from .emitter import ChunkLoop, CodeContext

__all__ = ["Lowered", "Term", "lower_nll", "lower_pdf"]


@dataclass
class Lowered:
    source: str
    constants: list
    kernel_modules: list


def _function(name, args, body, parallel):
    # a parallel entry point that sums chunks through run_chunks is itself compiled serially: only the
    # driver runs Numba's (slow to compile) parallel pipeline, and it is compiled once and cached
    uses_prange = parallel and not any(isinstance(line, ChunkLoop) for line in body)
    deco = f"@numba.njit(cache=True, error_model='numpy', nogil=True, parallel={uses_prange})"
    lines = []
    for line in body:
        lines += line.lines(parallel) if isinstance(line, ChunkLoop) else [line]
    text = "\n".join("    " + line for line in lines).replace("RANGE(", f"{'numba.prange' if parallel else 'range'}(")
    return f"{deco}\ndef {name}({', '.join(args)}):\n{text}\n"


def _finish(ctx, name, body, doc):
    be = ctx.be
    header = [f'"""nfit generated kernel: {doc}"""'] + be.header()
    chunk_helpers = getattr(ctx, "chunk_helpers", {})
    if chunk_helpers:
        header.append("from nfit.compile.parallel import run_chunks as _run_chunks")
        # (helper, number of data columns) in the order of the parallel entry point's fn arguments
        header.append(f"CHUNK_HELPERS = {tuple(chunk_helpers.items())!r}")
    functions = list(getattr(ctx, "helpers", []))
    parallel_args = ctx.args + [f"fn{j}" for j in range(len(chunk_helpers))]
    functions += [_function(f"{name}_serial", ctx.args, body, False),
                  _function(f"{name}_parallel", parallel_args, body, True)]
    source = "\n".join(header) + "\n\n\n" + "\n\n".join(functions)
    return Lowered(source, list(be.constants), be.kernel_modules())


def _outputs(total, n, order) -> list:
    """Lines writing the gradient (``order`` >= 1) to ``out[:n]`` and the upper triangle of the
    Hessian (``order`` 2, row by row) after it."""
    lines = []
    if order >= 1:
        lines += [f"out[{j}] = {total.g.get(j, '0.0')}" for j in range(n)]
    if order >= 2:
        pos = n
        for j in range(n):
            for k in range(j, n):
                lines.append(f"out[{pos}] = {total.h.get((j, k), '0.0')}")
                pos += 1
    return lines


def build_loss(ctx_class, terms, layout, constraints, order, **options):
    """(context, Dual, output order) of a loss kernel: ``order`` 0-2 is the NLL and its derivatives,
    ``"score"`` the matrix ``D`` of weighted fits (:func:`nfit.likelihood.score_outer`), written
    where a Hessian goes."""
    if order == "score":
        ctx = ctx_class(layout, 1, **options)
        return ctx, score_outer(ctx, terms, constraints), 2
    ctx = ctx_class(layout, order, **options)
    return ctx, nll(ctx, terms, constraints), order


def lower_nll(terms, layout, constraints=(), order=0) -> Lowered:
    """Source of ``nll_serial/nll_parallel(p, c, <columns and weights of each term>[, out])``.

    Returns the loss value; for ``order`` >= 1 writes the gradient by the free parameters to
    ``out[:n]`` and, for ``order`` 2, the upper triangle of the Hessian (row by row) after it.
    ``order="score"`` writes the weighted fits' ``D`` matrix where the Hessian goes.
    """
    ctx, total, out_order = build_loss(CodeContext, terms, layout, constraints, order)
    ctx.finish()
    body = list(ctx.body)
    if out_order >= 1:
        ctx.args.append("out")
        body += _outputs(total, len(layout.floating), out_order)
    body.append(f"return {total.v}")
    kind = {0: "value", 1: "value and gradient", 2: "value, gradient and Hessian",
            "score": "outer products of the per-event gradients"}[order]
    return _finish(ctx, "nll", body, f"negative log-likelihood of {len(terms)} term(s), {kind}")


def lower_pdf(model, norm, layout) -> Lowered:
    """Source of ``pdf_serial/pdf_parallel(p, c, <columns>, out)``: the density at each event."""
    ctx = CodeContext(layout, order=0)
    x = ctx.columns(0, model.obs, weighted=False)
    value = model._build(ctx, x, norm).v
    ctx.args.append("out")
    be = ctx.be
    body = ctx.body + be.scalar_lines
    first = f"x0_{0}"
    body.append(f"for i in RANGE({first}.shape[0]):")
    body += [f"    e0_{j} = x0_{j}[i]" for j in range(len(model.obs))]
    body += ["    " + line for line in be.loop_lines]
    body.append(f"    out[i] = {value}")
    kind = "normalised" if norm is not None else "unnormalised"
    return _finish(ctx, "pdf", body, f"{kind} density")
