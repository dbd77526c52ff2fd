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

A third setting is not LLVM's choice but a consequence of the first two: a loop with many sums
and interleaved exps runs out of vector registers and keeps values on the stack (spills). x86-64
only promises 16-byte alignment of the stack, so 32- and 64-byte spill slots straddle cache lines
wherever the caller left the stack pointer, and each such load or store costs extra: the same loop
ran 20 % slower called through a function pointer (as :func:`nfit.compile.parallel.run_chunks`
calls the kernels' chunk helpers) than inlined, on two threads. The kernels' functions therefore
realign their stack frame on entry (LLVM's ``"stackrealign"``), so spills are aligned wherever the
function is called from.

Only the functions of generated kernel modules (and of :mod:`nfit.handfused`, so that the
hand-written reference loop stays comparable) are compiled so; the rest of the process, other
libraries' Numba functions included, keeps LLVM's choices. docs/engine.md has the measurements.

How many iterations pay depends on the register file and on the loop: each interleaved iteration
keeps its own copy of every sum, and those that do not fit in registers spill. With AVX-512's 32
vector registers 4 iterations were fastest for every loop. On x86 CPUs without AVX-512 (16 vector
registers) 4 were fastest for a loop of one sum, but a loop of more than :data:`SUMS_IN_16_REGISTERS`
sums (the gradient and Hessian loops) was faster with 2 (:data:`INTERLEAVE_16_REGISTERS`). A generated
kernel module names its chunk helpers' sums in ``LOOP_SUMS`` (helper name -> number of sums).

``$NFIT_VECTOR_WIDTH`` chooses the width, read once per process: ``auto`` (the default: 512 on the
CPUs of :data:`WIDE_CPUS`, else LLVM's choice; LLVM's choice also where ``$NUMBA_CPU_NAME`` or
``$NUMBA_CPU_FEATURES`` asks Numba to compile for another CPU than this one), ``512``, ``256``, or
``llvm``. ``$NFIT_INTERLEAVE`` chooses the interleaving: ``auto`` (the default: as above, and
:data:`INTERLEAVE` for every loop where Numba is asked to compile for another CPU), a count for every
loop, or ``llvm``. ``$NFIT_STACK_REALIGN`` (``1``, the default, or ``0``) turns the realignment
on or off. All three are part of every kernel's signature (:mod:`nfit.compile.key`), so a kernel
compiled with other choices is never served.

>>> vector_width() in (None, 256, 512), interleave() in (None, 1, 2, 4, 8), stack_realign() in (True, False)
(True, True, True)
"""
from __future__ import annotations

import os
import re
import threading

__all__ = ["vector_width", "interleave", "interleave_for", "stack_realign", "tuned", "choices", "install",
           "WIDE_CPUS", "INTERLEAVE", "INTERLEAVE_16_REGISTERS", "SUMS_IN_16_REGISTERS", "KERNEL_FUNCTION"]

# LLVM's names of x86 CPUs with AVX-512 that do not lower their clock much on 512-bit instructions
WIDE_CPUS = frozenset({"icelake-client", "icelake-server", "tigerlake", "rocketlake", "sapphirerapids",
                       "emeraldrapids", "graniterapids", "graniterapids-d", "diamondrapids", "znver4", "znver5"})
INTERLEAVE = 4
INTERLEAVE_16_REGISTERS = 2  # on x86 without AVX-512, for a loop of more than SUMS_IN_16_REGISTERS sums
SUMS_IN_16_REGISTERS = 4  # 4 interleaved copies of these fill the 16 registers
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
    """How many vector iterations the kernels' loops interleave (a loop of few sums, see
    :func:`interleave_for`), or None: LLVM's choice.

    >>> interleave() is None or interleave() >= 1
    True
    """
    if "interleave" not in _state:
        choice = os.environ.get("NFIT_INTERLEAVE", "auto").strip().lower()
        _state["interleave"] = _choose_interleave(choice)
        _state["16 registers"] = choice == "auto" and _sixteen_registers()
    return _state["interleave"]


def interleave_for(sums) -> int | None:
    """How many vector iterations a kernel's loop of ``sums`` sums interleaves (None: ``sums``
    unknown, or LLVM's choice).

    >>> interleave_for(1) == interleave()
    True
    """
    count = interleave()
    if count is not None and sums is not None and sums > SUMS_IN_16_REGISTERS and _state.get("16 registers", False):
        return INTERLEAVE_16_REGISTERS
    return count


def stack_realign() -> bool:
    """Whether the kernels' functions realign their stack frame on entry (``$NFIT_STACK_REALIGN``).

    >>> stack_realign() in (True, False)
    True
    """
    if "realign" not in _state:
        _state["realign"] = _choose_realign(os.environ.get("NFIT_STACK_REALIGN", "1").strip().lower())
    return _state["realign"]


def tuned() -> bool:
    """Whether the kernels are compiled with any choice of their own (else all is LLVM's).

    >>> tuned() == (vector_width() is not None or interleave() is not None or stack_realign())
    True
    """
    return vector_width() is not None or interleave() is not None or stack_realign()


def choices() -> str:
    """The choices in words, for kernel signatures.

    >>> choices().startswith("vector width ")
    True
    """
    interleave()
    wide = f" ({INTERLEAVE_16_REGISTERS} over {SUMS_IN_16_REGISTERS} sums)" if _state.get("16 registers", False) else ""
    return f"vector width {vector_width()}, interleave {interleave()}{wide}, stack realign {stack_realign()}"


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
    if choice == "auto":
        return INTERLEAVE
    if not choice.isdigit() or not 1 <= int(choice) <= 16:
        raise ValueError(f"NFIT_INTERLEAVE={choice!r}: expected 'auto', a count from 1 to 16, or 'llvm'")
    return int(choice)


def _sixteen_registers() -> bool:
    """Whether this machine's CPU is an x86 without AVX-512: 16 vector registers (False where Numba
    compiles for another CPU).

    >>> _sixteen_registers() in (True, False)
    True
    """
    if os.environ.get("NUMBA_CPU_NAME") or os.environ.get("NUMBA_CPU_FEATURES"):
        return False
    from .native import _machine_cached

    triple, _, features = _machine_cached()
    return triple.startswith(("x86_64", "i386", "i686")) and "+avx512f" not in features.split(",")


def _choose_realign(choice):
    if choice not in ("0", "1"):
        raise ValueError(f"NFIT_STACK_REALIGN={choice!r}: expected 1 (realign, the default) or 0")
    return choice == "1"


def install():
    """Have Numba compile the functions of generated kernel modules with :func:`vector_width`,
    :func:`interleave` and :func:`stack_realign` (once per process; nothing where all are LLVM's).

    >>> install(); install()   # the second call does nothing
    """
    width, realign = vector_width(), stack_realign()
    if not tuned():
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
            fndesc = getattr(self, "fndesc", None)
            if not (_lowering.depth or KERNEL_FUNCTION.match(getattr(fndesc, "mangled_name", ""))):
                return original_lower(self)
            outer = _lowering.count
            if not _lowering.depth:
                _lowering.count = interleave_for(_loop_sums(fndesc))
            _lowering.depth += 1
            try:
                return original_lower(self)
            finally:
                _lowering.depth -= 1
                _lowering.count = outer

        def post_lowering(context, module, library):
            original_post_lowering(context, module, library)
            if _lowering.depth:
                for function in module.functions:
                    if not function.is_declaration:
                        _tune(module, function, width, _lowering.count, realign)

        lowering.Lower.lower, cpu.CPUContext.post_lowering = lower, post_lowering
        _state["installed"] = True


def _tune(module, function, width, count, realign):
    from llvmlite import ir

    # LLVM string attributes: llvmlite's attribute set checks names against LLVM's enum attributes
    # only, so they are added with set's own add
    if width is not None:
        set.add(function.attributes, f'"prefer-vector-width"="{width}"')
    if realign:
        set.add(function.attributes, '"stackrealign"')
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


def _loop_sums(fndesc):
    """The number of sums of the chunk helper ``fndesc`` describes (its module's ``LOOP_SUMS``), or None."""
    try:
        return fndesc.lookup_globals().get("LOOP_SUMS", {}).get(fndesc.qualname)
    except (AttributeError, TypeError):
        return None


class _Depth(threading.local):
    depth = 0
    count = None  # the interleave count of the kernel function being lowered


_lowering = _Depth()  # how many kernel functions this thread is lowering
