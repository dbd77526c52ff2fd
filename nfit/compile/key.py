"""A kernel's signature: the SHA-256 of everything that decides its machine code.

That is the generated source (which describes the structure only: node types, parameter slots,
observables, variant), the source text of every kernel module it uses and of the modules it is
compiled against, the backend, how its loops are vectorised (:mod:`nfit.compile.loops`), and the
versions of nfit, Numba and Python. Parameter values and data sizes never enter it, so two losses of one
structure share one kernel and a toy study compiles once; a changed kernel source or version is a
new signature, never a stale kernel.

>>> lowered = type("Lowered", (), {"source": "def f(): pass", "kernel_modules": []})()
>>> len(signature(lowered))
64
"""
from __future__ import annotations

import functools
import hashlib
import sys
from pathlib import Path

from .._version import __version__
from .jitmodule import COMPILER_SOURCES
from .loops import choices as loop_choices
from .native import FORMAT


@functools.lru_cache(maxsize=1)
def numba_version() -> str:
    # read from the installed package's metadata, never from the module: importing Numba costs more
    # than a warm fit that loads stored machine code (see nfit.compile.native), and a module that a
    # compiling thread is still importing has no __version__ yet
    from importlib.metadata import version

    return version("numba")


def signature(lowered, backend: str = "numba") -> str:
    h = hashlib.sha256()
    # FORMAT: entries made before serial kernels were stored as machine code are compiled anew, once
    parts = (__version__, numba_version(), sys.version, backend, f"stored code {FORMAT}",
             loop_choices(), lowered.source)
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    for path in COMPILER_SOURCES:  # what generated modules are compiled against: an edit makes new kernels
        h.update(path.read_bytes())
    for module in lowered.kernel_modules:
        h.update(module.__name__.encode())
        source = getattr(module, "source", None)  # a user kernel carries its own source
        h.update(source.encode() if isinstance(source, str) else Path(module.__file__).read_bytes())
    return h.hexdigest()
