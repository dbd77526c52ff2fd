"""Turn model trees into the source of fused kernels.

Two variants share one lowering:

- ``nll``: the negative log-likelihood of one or more (model, data) terms — per-call prelude
  (composed parameters, normalisation integrals, fractions), then one loop per term over its
  events accumulating ``log(pdf)``, then the extended terms;
- ``pdf``: the density of one model at each event, written into an output array.

Each variant is emitted twice, serial (``range``) and parallel (``numba.prange``); the caller
picks by data size, and only the one used is ever compiled.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .emitter import Emitter


@dataclass
class Term:
    """One (model, data) pair of a loss, as the lowering sees it."""

    model: object
    norm: object  # Space to normalise over
    obs: tuple
    weighted: bool
    extended: bool


@dataclass
class Lowered:
    source: str
    constants: list
    kernel_modules: list
    entry_points: tuple = field(default=("serial", "parallel"))


def _param_prelude(layout):
    """Code names for every parameter and the lines that define them at the top of a kernel."""
    names, lines = {}, []
    for p in layout.independent + layout.python_composed:
        slot = layout.slot[p]
        names[p] = f"a{slot}"
        lines.append(f"a{slot} = p[{slot}]")
    for k, p in enumerate(layout.composed):
        if p in names:
            continue
        names[p] = f"q{k}"
        lines.append(f"q{k} = {p.traced().to_code(names)}")
    return names, lines


def _function(name, args, body, parallel):
    deco = f"@numba.njit(cache=True, error_model='numpy', nogil=True, parallel={parallel})"
    loop = "numba.prange" if parallel else "range"
    text = "\n".join("    " + line for line in body).replace("RANGE(", f"{loop}(")
    return f"{deco}\ndef {name}({', '.join(args)}):\n{text}\n"


def _finish(em, name, args, body, doc):
    header = [f'"""nfit generated kernel: {doc}"""'] + em.header()
    functions = [_function(f"{name}_{variant}", args, body, variant == "parallel")
                 for variant in ("serial", "parallel")]
    source = "\n".join(header) + "\n\n\n" + "\n\n".join(functions)
    return Lowered(source, list(em.constants), em.kernel_modules())


def lower_nll(terms, layout) -> Lowered:
    """Source of ``nll_serial/nll_parallel(p, c, <columns and weights of each term>) -> float``."""
    names, param_lines = _param_prelude(layout)
    em = Emitter(names)
    args = ["p", "c"]
    body = list(param_lines) + ["total = 0.0"]
    for t, term in enumerate(terms):
        columns = [f"x{t}_{j}" for j in range(len(term.obs))]
        args += columns
        if term.weighted:
            args.append(f"w{t}")
        x = {o: f"e{t}_{j}" for j, o in enumerate(term.obs)}
        em.lines_prelude, em.lines_loop = [], []
        value = term.model._emit(em, x, term.norm)
        body += em.lines_prelude
        body += [f"acc{t} = 0.0"] + ([f"sw{t} = 0.0"] if term.weighted else [])
        body.append(f"for i in RANGE({columns[0]}.shape[0]):")
        body += [f"    {x[o]} = {c}[i]" for o, c in zip(term.obs, columns)]
        body += ["    " + line for line in em.lines_loop]
        if term.weighted:
            body += [f"    acc{t} += w{t}[i] * math.log({value})", f"    sw{t} += w{t}[i]"]
        else:
            body.append(f"    acc{t} += math.log({value})")
        body.append(f"total -= acc{t}")
        if term.extended:
            nu = em.param(term.model.get_yield())
            count = f"sw{t}" if term.weighted else f"{columns[0]}.shape[0]"
            body.append(f"total += {nu} - {count} * math.log({nu})")
    body.append("return total")
    return _finish(em, "nll", args, body, f"negative log-likelihood of {len(terms)} term(s)")


def lower_pdf(model, norm, layout) -> Lowered:
    """Source of ``pdf_serial/pdf_parallel(p, c, <columns>, out)``: the density at each event."""
    names, param_lines = _param_prelude(layout)
    em = Emitter(names)
    columns = [f"x0_{j}" for j in range(len(model.obs))]
    x = {o: f"e0_{j}" for j, o in enumerate(model.obs)}
    value = model._emit(em, x, norm)
    body = list(param_lines) + em.lines_prelude
    body.append(f"for i in RANGE({columns[0]}.shape[0]):")
    body += [f"    {x[o]} = {c}[i]" for o, c in zip(model.obs, columns)]
    body += ["    " + line for line in em.lines_loop]
    body.append(f"    out[i] = {value}")
    kind = "normalised" if norm is not None else "unnormalised"
    return _finish(em, "pdf", ["p", "c"] + columns + ["out"], body, f"{kind} density")
