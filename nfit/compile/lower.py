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
from .ir import Return, Store, function_source

__all__ = ["Lowered", "PdfLoop", "Term", "lower_nll", "lower_pdf", "outputs"]


@dataclass
class Lowered:
    source: str
    constants: list
    kernel_modules: list


@dataclass
class PdfLoop:
    """The density at every event: ``out[i] = value`` after the per-event records ``body``; a
    ``numba.prange`` in the parallel entry point."""

    columns: list
    events: list
    body: list
    value: str

    def lines(self, printer, parallel: bool) -> list:
        loop = "numba.prange" if parallel else "range"
        inner = [f"{e} = {col}[i]" for e, col in zip(self.events, self.columns)]
        inner += [printer.assign(r) for r in self.body] + [f"out[i] = {self.value}"]
        return [f"for i in {loop}({self.columns[0]}.shape[0]):"] + ["    " + line for line in inner]


def _function(ctx, name, args, body, parallel):
    # a parallel entry point that sums chunks through run_chunks is itself compiled serially: only the
    # driver runs Numba's (slow to compile) parallel pipeline, and it is compiled once and cached
    uses_prange = parallel and not any(isinstance(record, ChunkLoop) for record in body)
    deco = f"@numba.njit(cache=True, error_model='numpy', nogil=True, parallel={uses_prange})"
    lines = []
    for record in body:
        if isinstance(record, ChunkLoop):
            lines += record.lines(parallel)
        elif isinstance(record, PdfLoop):
            lines += record.lines(ctx.loop_printer, parallel)
        else:
            lines.append(ctx.printer.statement(record))
    return function_source(deco, name, args, lines)


def _finish(ctx, name, body, doc):
    be = ctx.be
    functions = list(ctx.helpers)
    parallel_args = ctx.args + [f"fn{j}" for j in range(len(ctx.chunk_helpers))]
    functions += [_function(ctx, f"{name}_serial", ctx.args, body, False),
                  _function(ctx, f"{name}_parallel", parallel_args, body, True)]
    header = [f'"""nfit generated kernel: {doc}"""'] + be.header()  # after the code: it imports what that calls
    if ctx.chunk_helpers:
        header.append("from nfit.compile.parallel import run_chunks as _run_chunks")
        # (helper, number of data columns) in the order of the parallel entry point's fn arguments
        header.append(f"CHUNK_HELPERS = {tuple(ctx.chunk_helpers.items())!r}")
        header.append(f"LOOP_SUMS = {ctx.loop_sums!r}")  # how many sums each helper keeps: nfit.compile.loops
    source = "\n".join(header) + "\n\n\n" + "\n\n".join(functions)
    return Lowered(source, list(be.constants), be.kernel_modules())


def outputs(total, n, order) -> list:
    """:class:`~nfit.compile.ir.Store` records writing the gradient (``order`` >= 1) to ``out[:n]``
    and the upper triangle of the Hessian (``order`` 2, row by row) after it."""
    records = []
    if order >= 1:
        records += [Store("out", j, total.g.get(j, "0.0")) for j in range(n)]
    if order >= 2:
        pos = n
        for j in range(n):
            for k in range(j, n):
                records.append(Store("out", pos, total.h.get((j, k), "0.0")))
                pos += 1
    return records


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
        body += outputs(total, len(layout.floating), out_order)
    body.append(Return(total.v))
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
    body.append(PdfLoop([f"x0_{j}" for j in range(len(model.obs))], list(x.values()), be.loop_lines, value))
    kind = "normalised" if norm is not None else "unnormalised"
    return _finish(ctx, "pdf", body, f"{kind} density")
