"""The signature cache: compiled kernels kept in memory and on disk.

A kernel's signature is the SHA-256 of everything that decides its machine code: the generated
source (which describes the structure only: node types, parameter slots, observables, variant),
the source text of every kernel module it uses, the backend, and the versions of nfit, Numba and
Python. Parameter values and data sizes never enter it, so two losses of one structure share one
kernel and a toy study compiles once.

The parts: the signature (:mod:`nfit.compile.key`), the disk store of generated modules, Numba's
cache files and stored machine code (:mod:`nfit.compile.store`), the loader of that machine code
(:mod:`nfit.compile.native`), and this module, which keeps kernels in memory and decides where each
comes from.

Bounds: in memory, the :func:`memory_limit` most recently used kernels are kept besides those a loss
or model still uses; kernels compiled in the helper process (:mod:`nfit.compile.service`) are held
as machine code only, freed with the last function that uses them. On disk, :func:`prune` deletes the
least recently used kernels once the folder passes :func:`disk_limit`.

>>> import nfit
>>> sorted(nfit.cache.info())  # doctest: +NORMALIZE_WHITESPACE
['compile_seconds', 'disk_bytes', 'disk_entries', 'disk_limit_bytes', 'entries', 'folder', 'hits',
 'memory_limit', 'misses', 'stored_code_entries']
"""
from __future__ import annotations

import os
import sys
import threading
import time
import weakref
from collections import OrderedDict
from pathlib import Path

from .compile import native, service, store
from .compile.key import signature
from .compile.numba_api import is_typing_error
from .compile.store import PREFIX, disk_limit, folder

__all__ = ["info", "clear", "folder", "prune", "load", "stored_on_disk", "signature", "disk_limit", "memory_limit",
           "CompileError"]

_lock = threading.RLock()
_memory: OrderedDict = OrderedDict()  # signature -> Kernel: the recently used ones, kept alive (bounded)
_alive: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # those, and every Kernel still in use
_stats = {"hits": 0, "misses": 0, "compile_seconds": 0.0}


class CompileError(RuntimeError):
    """Numba could not compile a generated kernel; the message shows the source and Numba's words."""


def info() -> dict:
    """Entries in memory, hits, misses, seconds spent compiling (or loading), disk folder and entries,
    and the entry points on disk stored as machine code (:mod:`nfit.compile.native`).

    Example
    -------
    >>> isinstance(info()["hits"], int)
    True
    """
    path = folder()
    groups = store.entries(path)
    disk = sum(1 for files in groups.values() if any(f.suffix == ".py" for f in files))
    stored = sum(1 for files in groups.values() for f in files if f.suffix == ".native")
    with _lock:
        return {
            "entries": len(_alive),
            "hits": _stats["hits"],
            "misses": _stats["misses"],
            "compile_seconds": round(_stats["compile_seconds"], 4),
            "folder": str(path),
            "disk_entries": disk,
            "stored_code_entries": stored,
            "disk_bytes": sum(store.size(files) for files in groups.values()),
            "disk_limit_bytes": disk_limit(),
            "memory_limit": memory_limit(),
        }


def clear(disk: bool = True) -> None:
    """Forget every kernel in memory and (``disk=True``) delete the disk cache folder's kernels.

    Example
    -------
    >>> clear(disk=False); info()["entries"]
    0
    """
    with _lock:
        kernels = list(_alive.values())
        _memory.clear()
        _alive.clear()
        for key in _stats:
            _stats[key] = 0 if key != "compile_seconds" else 0.0
        for name in [m for m in sys.modules if m.startswith(PREFIX)]:
            del sys.modules[name]
        for kernel in kernels:  # a loss that holds an entry point goes on calling it
            kernel._ready.clear()
            kernel._chunk_functions = (None, ())
            kernel._module = None
    import gc

    gc.collect()
    if disk:
        for files in store.entries(folder()).values():
            store.delete(files)


class Kernel:
    """A generated module and its entry points (``<variant>_serial`` / ``<variant>_parallel``).

    The module is imported (which imports Numba) only when an entry point is not available as
    stored machine code (:mod:`nfit.compile.native`)."""

    def __init__(self, sig, path, variant, user_sources=()):
        self.user_sources = list(user_sources)
        self.signature = sig
        self._module = None
        self.path = path
        self.variant = variant
        self._ready = {}
        self._chunk_functions = (None, ())
        # one compile of this kernel at a time; the cache's lock stays free meanwhile (a background
        # compile must not hold up the lookups of other kernels)
        self._compiling = threading.Lock()
        # one request to the helper process at a time, outside the compile lock: while the helper
        # compiles the serial entry point, this process may compile the parallel one
        self._asking_helper = threading.Lock()

    @property
    def module(self):
        """The generated Python module, imported on first use."""
        if self._module is None:
            with _lock:
                if self._module is None:
                    self._module = store.import_module(self.path)
        return self._module

    @module.setter
    def module(self, value):
        self._module = value

    def function(self, parallel: bool, example_args):
        """The compiled entry point; the first request loads it from disk or compiles it with these args.

        A serial entry point comes from its stored machine code where there is some
        (:mod:`nfit.compile.native`); where there is none, the helper process compiles and stores it
        (:meth:`_store_in_helper`), or, where it cannot, Numba here, which compiles it (or loads it
        from its cache); what Numba compiles is stored for the next process. A parallel entry point
        that sums chunks of events through the parallel driver takes the kernel's chunk helpers as
        its last arguments: :meth:`chunk_functions` gives them."""
        name = f"{self.variant}_{'parallel' if parallel else 'serial'}"
        fn = self._ready.get(name)
        if fn is not None:
            return fn
        if not parallel:
            self._store_in_helper(name, example_args)
        compiled = False
        with self._compiling:
            fn = self._ready.get(name)
            if fn is None:
                fn = None if parallel else self._stored(name)
                if fn is None:
                    fn = self._compile(name, example_args, parallel)
                    compiled = True
                self._ready[name] = fn
        if compiled:
            prune()  # the folder has grown
        return fn

    def _stored(self, name):
        """The entry point ``name`` from its stored machine code, or None."""
        if not native_kernels_enabled():
            return None
        start = time.perf_counter()
        try:
            fn = native.load(self.path, name, fallback=lambda: getattr(self.module, name))
        except native.Damaged:
            # never trusted: delete it with the module's compiled code, so that it is compiled and stored anew
            store.purge_numba_files(self.path)
            return None
        if fn is not None:
            with _lock:
                _stats["compile_seconds"] += time.perf_counter() - start
        return fn

    def chunk_functions(self) -> tuple:
        """The chunk helpers of the module, as first-class functions for the parallel entry point."""
        from .compile.parallel import ChunkFunction

        module = self.module
        if self._chunk_functions[0] is not module:
            helpers = getattr(module, "CHUNK_HELPERS", ())
            self._chunk_functions = (module, tuple(ChunkFunction(getattr(module, h), n) for h, n in helpers))
        return self._chunk_functions[1]

    def helper_compiles_serial(self) -> bool:
        """Whether the serial entry point, where it is not stored yet, is compiled by the helper process
        (:mod:`nfit.compile.service`), not in this one."""
        return not self.user_sources and native_kernels_enabled() and service.enabled()

    def _compile(self, name, example_args, parallel=False):
        def call(module):
            dispatcher = getattr(module, name)
            extra = ()
            if parallel:
                extra = self.chunk_functions()
            dispatcher(*example_args, *extra)
            if not parallel and native_kernels_enabled():
                native.save(self.path, name, dispatcher)
            return dispatcher

        return self.first_call(call)

    def _store_in_helper(self, name, example_args) -> None:
        """Have the helper process compile the serial entry point ``name`` and store its machine code,
        where it is not stored yet, so that this process holds none of Numba's compile state and
        :meth:`function` loads it; where the helper cannot do it, the caller compiles here. Runs
        outside the compile lock."""
        if not self.helper_compiles_serial():
            return
        arg_types = [native.describe_value(a) for a in example_args]
        if any(t is None for t in arg_types):
            return
        with self._asking_helper:
            if name in self._ready or native.path(self.path, name).exists():
                return
            try:
                seconds = service.compile_and_store(self.path, name, arg_types)
            except service.HelperTypingError as exc:
                raise _compile_error_text(self.path, str(exc), self.user_sources) from None
            except service.HelperFailed:
                return
        with _lock:
            _stats["compile_seconds"] += seconds
        prune()  # the folder has grown

    def first_call(self, call):
        """``call(module)``, the first use of the module, which compiles (or loads from disk) its code.

        A failure that is not Numba rejecting the code (a damaged cache file, say) purges Numba's
        files, reimports and tries once more; a second failure is a :class:`CompileError` that shows
        the generated source."""
        start = time.perf_counter()
        try:
            result = call(self.module)
        except Exception as first:  # noqa: BLE001 - a damaged cache must never crash a fit
            if is_typing_error(first):
                raise _compile_error(self.module, first, self.user_sources) from None
            store.purge_numba_files(self.path)
            self.module = store.import_module(self.path, reload=True)
            try:
                result = call(self.module)
            except Exception as second:  # noqa: BLE001
                raise _compile_error(self.module, second, self.user_sources) from None
        store.write_manifest(self.path)
        with _lock:
            _stats["compile_seconds"] += time.perf_counter() - start
        return result


def native_kernels_enabled() -> bool:
    """Whether serial kernels are stored as machine code and loaded from it without Numba
    (:mod:`nfit.compile.native`); ``NFIT_NATIVE_KERNELS=0`` turns that off (always through Numba), and so
    does ``NUMBA_DISABLE_JIT=1`` (then nothing is compiled at all).

    >>> isinstance(native_kernels_enabled(), bool)
    True
    """
    off = ("0", "false", "no", "off")
    if os.environ.get("NUMBA_DISABLE_JIT", "0").strip().lower() not in off + ("",):
        return False
    return os.environ.get("NFIT_NATIVE_KERNELS", "1").strip().lower() not in off


def compiled_in_memory(lowered, parallel, backend: str = "numba") -> bool:
    """Whether this process has already compiled (or loaded) the entry point of ``lowered``'s
    kernel that a call with ``parallel`` would use: using it costs nothing more. ``parallel`` may be
    a function that says it, called only where the kernel is in memory at all.

    >>> compiled_in_memory(type("L", (), {"source": "", "kernel_modules": []})(), parallel=False)
    False
    """
    kernel = _lookup(signature(lowered, backend))
    if kernel is None or not kernel._ready:
        return False
    if callable(parallel):
        parallel = parallel()
    return f"{kernel.variant}_{'parallel' if parallel else 'serial'}" in kernel._ready


def stored_on_disk(lowered, variant: str, parallel: bool, backend: str = "numba") -> bool:
    """Whether the entry point of ``lowered``'s kernel that a call with ``parallel`` uses can be loaded
    from the disk cache as stored machine code (:mod:`nfit.compile.native`), in milliseconds and
    without Numba. Parallel entry points are never stored so.

    >>> stored_on_disk(type("L", (), {"source": "", "kernel_modules": []})(), "nll", parallel=False)
    False
    """
    if parallel or not native_kernels_enabled():
        return False
    sig = signature(lowered, backend)
    kernel = _lookup(sig)
    if kernel is not None and f"{variant}_serial" in kernel._ready:
        return True
    source = store.source_path(sig)
    return source.exists() and native.path(source, f"{variant}_serial").exists()


def load(lowered, variant: str, backend: str = "numba") -> Kernel:
    """The kernel for ``lowered`` source: from memory, from disk, or written and compiled now."""
    sig = signature(lowered, backend)
    with _lock:
        kernel = _lookup(sig)
        if kernel is not None:
            _stats["hits"] += 1
            _remember(sig, kernel)
            return kernel
        _stats["misses"] += 1
        try:
            path = store.write_source(sig, lowered.source)
        except OSError as exc:  # the folder became unwritable (full, removed, read-only): go on privately
            store.use_private_folder(f"the cache folder {folder()} cannot be written ({exc.strerror or exc})")
            path = store.write_source(sig, lowered.source)
        store.verify_numba_files(path)
        user = [m.source for m in lowered.kernel_modules if isinstance(getattr(m, "source", None), str)]
        kernel = Kernel(sig, path, variant, user)
        _remember(sig, kernel)
    return kernel


def _lookup(sig):
    return _alive.get(sig)


def _remember(sig, kernel) -> None:
    """Keep ``kernel`` among the most recently used; the least recently used beyond
    :func:`memory_limit` are let go (a loss or model that still uses one keeps it alive)."""
    _memory[sig] = kernel
    _memory.move_to_end(sig)
    _alive[sig] = kernel
    limit = memory_limit()
    while len(_memory) > limit:
        _memory.popitem(last=False)


def memory_limit() -> int:
    """How many kernels not in use the cache keeps in memory: ``$NFIT_CACHE_MEMORY_KERNELS``, default 32.

    >>> memory_limit() > 0
    True
    """
    try:
        return max(1, int(os.environ.get("NFIT_CACHE_MEMORY_KERNELS", "32")))
    except ValueError:
        return 32


def prune(limit=None) -> int:
    """Delete the least recently used kernels from the disk cache until it is under ``limit`` bytes
    (default :func:`disk_limit`; it goes down to 80 % of it, so pruning is rare), sparing the kernels
    this process holds. Returns the number of kernels deleted.

    >>> prune() >= 0
    True
    """
    with _lock:
        in_use = {k.path.stem for k in list(_alive.values())}
    return store.prune(disk_limit() if limit is None else limit, in_use)


def _compile_error(module, exc, user_sources=()) -> CompileError:
    return _compile_error_text(Path(module.__file__), f"{type(exc).__name__}: {exc}", user_sources)


def _compile_error_text(path: Path, message: str, user_sources=()) -> CompileError:
    """The error for a kernel Numba rejected: the user's kernels, the numbered generated source and
    Numba's own message."""
    source = Path(path).read_text()
    numbered = "\n".join(f"{i + 1:4d}  {line}" for i, line in enumerate(source.splitlines()))
    user = "".join(f"--- your kernel ---\n{text}\n" for text in user_sources)
    return CompileError(
        f"Numba could not compile the generated kernel {store.module_name(Path(path))}.\n{user}"
        f"--- generated source ({path}) ---\n{numbered}\n"
        f"--- Numba's message ---\n{message}\n"
        "Build the loss with mode='eager' to evaluate this model without compiling it."
    )


# the disk store's helpers under the names they had here (tests and tools reach for them)
_entries, _size, _numba_files, _write_manifest = store.entries, store.size, store.numba_files, store.write_manifest
_verify_numba_files, _atomic_write, _import = store.verify_numba_files, store.atomic_write, store.import_module
_is_typing_error = is_typing_error
