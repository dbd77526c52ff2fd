"""How LLVM compiles the event loops of nfit's generated kernels: their vector width and how many
vector iterations each loop interleaves.

Numba hands its functions to LLVM, which picks both numbers with a cost model made for loops in
general. For nfit's event loops (per event a few exps and logs and up to a few dozen products,
added into up to 45 sums) it picks badly on two counts:

- **Vector width.** On x86 CPUs with AVX-512, LLVM vectorises with 256-bit registers unless told
  otherwise: the first AVX-512 CPUs (Skylake-SP, Cascade Lake) lowered their clock while running
  512-bit instructions. Later ones lose little or nothing, and there the kernels ask for 512-bit
  vectors (8 doubles at a time).
- **Interleaving.** LLVM runs one vector iteration of a loop at a time where it sees many sums.
  An exp or a log is a long chain of dependent instructions, so the core waits on each; running
  :data:`INTERLEAVE` iterations side by side keeps it busy.

Only the functions of generated kernel modules (and of :mod:`nfit.handfused`, so that the
hand-written reference loop stays comparable) are compiled so; the rest of the process, other
libraries' Numba functions included, keeps LLVM's choices. docs/engine.md has the measurements.

``$NFIT_VECTOR_WIDTH`` chooses the width, read once per process: ``auto`` (the default: 512 on the
CPUs of :data:`WIDE_CPUS`, else LLVM's choice; LLVM's choice also where ``$NUMBA_CPU_NAME`` or
``$NUMBA_CPU_FEATURES`` asks Numba to compile for another CPU than this one), ``512``, ``256``, or
``llvm``. ``$NFIT_INTERLEAVE`` chooses the interleaving: a count, or ``llvm`` (default
:data:`INTERLEAVE`). Both are part of every kernel's signature (:mod:`nfit.compile.key`), so a
kernel compiled with other choices is never served.

>>> vector_width() in (None, 256, 512), interleave() in (None, 1, 2, 4, 8)
(True, True)
"""
from __future__ import annotations

import os
import re
import threading

__all__ = ["vector_width", "interleave", "choices", "install", "WIDE_CPUS", "INTERLEAVE", "KERNEL_FUNCTION"]

# LLVM's names of x86 CPUs with AVX-512 that do not lower their clock much on 512-bit instructions
WIDE_CPUS = frozenset({"icelake-client", "icelake-server", "tigerlake", "rocketlake", "sapphirerapids",
                       "emeraldrapids", "graniterapids", "graniterapids-d", "diamondrapids", "znver4", "znver5"})
INTERLEAVE = 4
# Numba's mangled names of the functions of generated kernel modules (nfit_k_<signature>) and of
# nfit.handfused
KERNEL_FUNCTION = re.compile(r"_ZN\d+nfit_k_[0-9a-f]+|_ZN4nfit9handfused")
_WIDTHS = {"auto", "512", "256", "llvm"}
_lock = threading.Lock()
_state: dict = {}


def vector_width():
    """The vector width in bits the kernels ask LLVM for (256 or 512), or None: LLVM's choice.

    >>> vector_width() is None or vector_width() in (256, 512)
    True
    """
    if "width" not in _state:
        _state["width"] = _choose_width(os.environ.get("NFIT_VECTOR_WIDTH", "auto").strip().lower())
    return _state["width"]


def interleave():
    """How many vector iterations the kernels' loops interleave, or None: LLVM's choice.

    >>> interleave() is None or interleave() >= 1
    True
    """
    if "interleave" not in _state:
        _state["interleave"] = _choose_interleave(os.environ.get("NFIT_INTERLEAVE", str(INTERLEAVE)).strip().lower())
    return _state["interleave"]


def choices() -> str:
    """Both choices in words, for kernel signatures.

    >>> choices().startswith("vector width ")
    True
    """
    return f"vector width {vector_width()}, interleave {interleave()}"


def _choose_width(choice):
    if choice not in _WIDTHS:
        raise ValueError(f"NFIT_VECTOR_WIDTH={choice!r}: expected one of {sorted(_WIDTHS)}")
    if choice == "llvm":
        return None
    if choice in ("256", "512"):
        return int(choice)
    if os.environ.get("NUMBA_CPU_NAME") or os.environ.get("NUMBA_CPU_FEATURES"):
        return None
    from .native import _machine_cached

    _, cpu, features = _machine_cached()
    return 512 if cpu in WIDE_CPUS and "+avx512f" in features.split(",") else None


def _choose_interleave(choice):
    if choice == "llvm":
        return None
    if not choice.isdigit() or not 1 <= int(choice) <= 16:
        raise ValueError(f"NFIT_INTERLEAVE={choice!r}: expected a count from 1 to 16, or 'llvm'")
    return int(choice)


def install():
    """Have Numba compile the functions of generated kernel modules with :func:`vector_width` and
    :func:`interleave` (once per process; nothing where both are LLVM's).

    >>> install(); install()   # the second call does nothing
    """
    width, count = vector_width(), interleave()
    if width is None and count is None:
        return
    with _lock:
        if _state.get("installed"):
            return
        from numba.core import cpu, lowering

        original_lower = getattr(lowering.Lower, "lower", None)
        original_post_lowering = getattr(cpu.CPUContext, "post_lowering", None)
        if original_lower is None or original_post_lowering is None:  # another Numba: LLVM's choices stand
            _state["installed"] = True
            return

        def lower(self):
            # what compiles while a kernel function is lowered is the kernel's too: the body of a
            # prange loop becomes a function of its own (named after no module) at that moment
            name = getattr(getattr(self, "fndesc", None), "mangled_name", "")
            if not (_lowering.depth or KERNEL_FUNCTION.match(name)):
                return original_lower(self)
            _lowering.depth += 1
            try:
                return original_lower(self)
            finally:
                _lowering.depth -= 1

        def post_lowering(context, module, library):
            original_post_lowering(context, module, library)
            if _lowering.depth:
                for function in module.functions:
                    if not function.is_declaration:
                        _tune(module, function, width, count)

        lowering.Lower.lower, cpu.CPUContext.post_lowering = lower, post_lowering
        _state["installed"] = True


def _tune(module, function, width, count):
    from llvmlite import ir

    if width is not None:
        # an LLVM string attribute: llvmlite's attribute set checks names against LLVM's enum
        # attributes only, so it is added with set's own add
        set.add(function.attributes, f'"prefer-vector-width"="{width}"')
    if count is None:
        return
    # a loop's back edge: a branch to a block laid out before it (Numba lays out blocks in the
    # order of the bytecode); LLVM reads the loop's hints from the metadata on that branch
    position = {id(block): k for k, block in enumerate(function.blocks)}
    for k, block in enumerate(function.blocks):
        branch = block.terminator
        if isinstance(branch, ir.Branch) and not isinstance(branch, ir.ConditionalBranch) \
                and position.get(id(branch.operands[0]), k + 1) <= k:
            hint = module.add_metadata([ir.MetaDataString(module, "llvm.loop.interleave.count"),
                                        ir.Constant(ir.IntType(32), count)])
            loop = module.add_metadata([hint])
            loop.operands = (loop,) + loop.operands  # a loop's metadata names itself first (LLVM's rule)
            branch.set_metadata("llvm.loop", loop)


class _Depth(threading.local):
    depth = 0


_lowering = _Depth()  # how many kernel functions this thread is lowering
