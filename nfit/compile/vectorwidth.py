"""The SIMD width of nfit's compiled event loops.

On x86 CPUs with AVX-512, LLVM (which Numba compiles with) vectorises loops with 256-bit registers
unless told otherwise: the first AVX-512 CPUs (Skylake-SP, Cascade Lake) lowered their clock while
running 512-bit instructions. Later ones lose little or nothing, and nfit's event loops, which
evaluate exps, logs and a few dozen products per event, run faster on 512-bit registers (8 doubles
at a time). On such CPUs nfit asks LLVM for 512-bit vectors in its generated kernels (and in the
hand-fused reference loop of :mod:`nfit.handfused`, so that the two stay comparable); the rest of
the process, other libraries' Numba functions included, keeps LLVM's choice.

``$NFIT_VECTOR_WIDTH`` chooses, read once per process: ``auto`` (the default: 512 on the CPUs of
:data:`WIDE_CPUS`, else LLVM's choice; LLVM's choice also where ``$NUMBA_CPU_NAME`` or
``$NUMBA_CPU_FEATURES`` asks Numba to compile for another CPU than this one), ``512``, ``256``, or
``llvm`` (LLVM's choice everywhere).
The width is part of every kernel's signature (:mod:`nfit.compile.key`), so a kernel compiled for
one width is never served to a process that chose another. docs/engine.md has the measurements.

>>> preferred() in (None, 256, 512)
True
"""
from __future__ import annotations

import os
import re
import threading

__all__ = ["preferred", "install", "WIDE_CPUS", "KERNEL_FUNCTION"]

# LLVM's names of x86 CPUs with AVX-512 that do not lower their clock much on 512-bit instructions
WIDE_CPUS = frozenset({"icelake-client", "icelake-server", "tigerlake", "rocketlake", "sapphirerapids",
                       "emeraldrapids", "graniterapids", "graniterapids-d", "diamondrapids", "znver4", "znver5"})
# Numba's mangled names of the functions of generated kernel modules (nfit_k_<signature>) and of
# nfit.handfused
KERNEL_FUNCTION = re.compile(r"_ZN\d+nfit_k_[0-9a-f]+|_ZN4nfit9handfused")
_CHOICES = {"auto", "512", "256", "llvm"}
_lock = threading.Lock()
_state: dict = {}


def preferred():
    """The vector width in bits nfit asks LLVM for (256 or 512), or None where it leaves LLVM's choice.

    >>> preferred() is None or preferred() in (256, 512)
    True
    """
    if "width" not in _state:
        _state["width"] = _choose(os.environ.get("NFIT_VECTOR_WIDTH", "auto").strip().lower())
    return _state["width"]


def _choose(choice):
    if choice not in _CHOICES:
        raise ValueError(f"NFIT_VECTOR_WIDTH={choice!r}: expected one of {sorted(_CHOICES)}")
    if choice == "llvm":
        return None
    if choice in ("256", "512"):
        return int(choice)
    if os.environ.get("NUMBA_CPU_NAME") or os.environ.get("NUMBA_CPU_FEATURES"):
        return None
    from .native import _machine_cached

    _, cpu, features = _machine_cached()
    return 512 if cpu in WIDE_CPUS and "+avx512f" in features.split(",") else None


def install():
    """Have Numba compile the functions of generated kernel modules for :func:`preferred`'s width
    (once per process; nothing where LLVM's choice stands).

    >>> install(); install()   # the second call does nothing
    """
    width = preferred()
    if width is None:
        return
    with _lock:
        if _state.get("installed"):
            return
        from numba.core import cpu, lowering

        original_lower, original_post_lowering = lowering.Lower.lower, cpu.CPUContext.post_lowering
        # an LLVM string attribute: llvmlite's attribute set checks names against LLVM's enum
        # attributes only, so it is added with set's own add
        attribute = f'"prefer-vector-width"="{width}"'

        def lower(self):
            # what compiles while a kernel function is lowered is the kernel's too: the body of a
            # prange loop becomes a function of its own (named after no module) at that moment
            if not (_lowering.depth or KERNEL_FUNCTION.match(self.fndesc.mangled_name)):
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
                        set.add(function.attributes, attribute)

        lowering.Lower.lower, cpu.CPUContext.post_lowering = lower, post_lowering
        _state["installed"] = True


class _Depth(threading.local):
    depth = 0


_lowering = _Depth()  # how many kernel functions this thread is lowering
