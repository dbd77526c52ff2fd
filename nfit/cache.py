"""The signature cache: compiled kernels kept in memory and on disk.

A kernel's signature is the SHA-256 of everything that decides its machine code: the generated
source (which describes the structure only: node types, parameter slots, observables, variant),
the source text of every kernel module it uses, the backend, and the versions of nfit, Numba and
Python. Parameter values and data sizes never enter it, so two losses of one structure share one
kernel and a toy study compiles once.

On disk, each signature is one generated module ``nfit_k_<hash>.py`` in :func:`folder`, compiled
with Numba's ``cache=True``. A manifest of checksums, bound to the module's source, guards Numba's
cache files, and stored machine code names the checksum of the source it was made from: a damaged,
truncated, foreign or relabelled file is deleted and rebuilt, never loaded.

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

import hashlib
import importlib.util
import json
import os
import sys
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from pathlib import Path

from ._version import __version__

__all__ = ["info", "clear", "folder", "CompileError"]

_lock = threading.RLock()
_memory: OrderedDict = OrderedDict()  # signature -> Kernel: the recently used ones, kept alive (bounded)
_alive: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # those, and every Kernel still in use
_stats = {"hits": 0, "misses": 0, "compile_seconds": 0.0}
PREFIX = "nfit_k_"


class CompileError(RuntimeError):
    """Numba could not compile a generated kernel; the message shows the source and Numba's words."""


def folder() -> Path:
    """The disk cache folder: ``$NFIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/nfit``, else ``~/.cache/nfit``
    (created with mode 0700).

    A folder that cannot be created or written, belongs to another user or can be written by
    others is not used: nfit warns once and compiles into a private folder of this process
    (``tempfile.mkdtemp``, mode 0700, deleted at exit), so fits go on but nothing is kept for the
    next process; a folder others can write to could hand this process code to run.

    >>> folder().is_dir()
    True
    """
    wanted = _wanted_folder()
    chosen = _folders.get(wanted)
    if chosen is None or not chosen.is_dir():
        with _lock:
            problem = _unusable(wanted)
            chosen = wanted if problem is None else _use_private_folder(problem, stacklevel=4)
            _folders[wanted] = chosen
    return chosen


def _use_private_folder(problem: str, stacklevel: int = 3) -> Path:
    """Compile into a private folder of this process from now on, saying why once."""
    import warnings

    chosen = _private_folder()
    _folders[_wanted_folder()] = chosen
    warnings.warn(f"nfit cache: {problem}; kernels are compiled for this process only, in {chosen}. "
                  "Set NFIT_CACHE_DIR to a folder of your own to keep them.", stacklevel=stacklevel)
    return chosen


_folders: dict = {}  # wanted folder -> the folder used


def _wanted_folder() -> Path:
    if os.environ.get("NFIT_CACHE_DIR"):
        return Path(os.environ["NFIT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nfit"


def _unusable(path: Path):
    """Why ``path`` cannot be the cache folder (None: it can), creating it (mode 0700) if missing."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = path.stat()
    except OSError as exc:
        return f"the cache folder {path} cannot be created ({exc.strerror or exc})"
    if hasattr(os, "getuid"):
        if st.st_uid != os.getuid():
            return f"the cache folder {path} belongs to another user"
        if st.st_mode & 0o022:
            return f"the cache folder {path} can be written by other users (mode {oct(st.st_mode & 0o777)})"
    if not os.access(path, os.W_OK | os.X_OK):
        return f"the cache folder {path} cannot be written"
    return None


def _private_folder() -> Path:
    import atexit
    import shutil

    path = Path(tempfile.mkdtemp(prefix="nfit-cache-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def info() -> dict:
    """Entries in memory, hits, misses, seconds spent compiling (or loading), disk folder and entries,
    and the entry points on disk stored as machine code (:mod:`nfit.compile.native`).

    Example
    -------
    >>> isinstance(info()["hits"], int)
    True
    """
    path = folder()
    groups = _entries(path)
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
            "disk_bytes": sum(_size(files) for files in groups.values()),
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
        for files in _entries(folder()).values():
            _delete(files)


def _numba_version() -> str:
    # read from the installed package's metadata where Numba is not imported yet: importing it
    # costs more than a warm fit that loads stored machine code (see nfit.compile.native)
    numba = sys.modules.get("numba")
    if numba is not None:
        return numba.__version__
    from importlib.metadata import version

    return version("numba")


def signature(lowered, backend: str = "numba") -> str:
    from .compile.native import FORMAT

    h = hashlib.sha256()
    # FORMAT: entries made before serial kernels were stored as machine code are compiled anew, once
    for part in (__version__, _numba_version(), sys.version, backend, f"stored code {FORMAT}", lowered.source):
        h.update(part.encode())
        h.update(b"\0")
    from .compile.jitmodule import COMPILER_SOURCES

    for path in COMPILER_SOURCES:  # what generated modules are compiled against: an edit makes new kernels
        h.update(path.read_bytes())
    for module in lowered.kernel_modules:
        h.update(module.__name__.encode())
        source = getattr(module, "source", None)  # a user kernel carries its own source
        h.update(source.encode() if isinstance(source, str) else Path(module.__file__).read_bytes())
    return h.hexdigest()


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

    @property
    def module(self):
        """The generated Python module, imported on first use."""
        if self._module is None:
            with _lock:
                if self._module is None:
                    self._module = _import(self.path)
        return self._module

    @module.setter
    def module(self, value):
        self._module = value

    def function(self, parallel: bool, example_args):
        """The compiled entry point; the first request loads it from disk or compiles it with these args.

        A serial entry point comes from its stored machine code where there is some
        (:mod:`nfit.compile.native`), else from Numba, which compiles it (or loads it from its cache);
        what Numba compiles is stored for the next process. A parallel entry point that sums chunks
        of events through the parallel driver takes the kernel's chunk helpers as its last
        arguments: :meth:`chunk_functions` gives them."""
        name = f"{self.variant}_{'parallel' if parallel else 'serial'}"
        fn = self._ready.get(name)
        if fn is not None:
            return fn
        compiled = False
        with _lock:
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
        from .compile import native

        start = time.perf_counter()
        try:
            fn = native.load(self.path, name, fallback=lambda: getattr(self.module, name))
        except native.Damaged:
            # never trusted: delete it with the module's compiled code, so that it is compiled and stored anew
            _purge_numba_files(self.path)
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

    def _compile(self, name, example_args, parallel=False):
        if not parallel and not self.user_sources and native_kernels_enabled():
            fn = self._compile_in_helper(name, example_args)
            if fn is not None:
                return fn

        def call(module):
            dispatcher = getattr(module, name)
            extra = ()
            if parallel:
                extra = self.chunk_functions()
            dispatcher(*example_args, *extra)
            if not parallel and native_kernels_enabled():
                from .compile import native

                native.save(self.path, name, dispatcher)
            return dispatcher

        return self.first_call(call)

    def _compile_in_helper(self, name, example_args):
        """The entry point compiled and stored by the helper process (:mod:`nfit.compile.service`) and
        loaded from its machine code, so that this process holds none of Numba's compile state; None
        where the helper cannot do it (the caller compiles here)."""
        from .compile import native, service

        if not service.enabled():
            return None
        arg_types = [native.describe_value(a) for a in example_args]
        if any(t is None for t in arg_types):
            return None
        try:
            seconds = service.compile_and_store(self.path, name, arg_types)
        except service.HelperTypingError as exc:
            raise _compile_error_text(self.path, str(exc), self.user_sources) from None
        except service.HelperFailed:
            return None
        with _lock:
            _stats["compile_seconds"] += seconds
        return self._stored(name)

    def first_call(self, call):
        """``call(module)``, the first use of the module, which compiles (or loads from disk) its code.

        A failure that is not Numba rejecting the code (a damaged cache file, say) purges Numba's
        files, reimports and tries once more; a second failure is a :class:`CompileError` that shows
        the generated source."""
        start = time.perf_counter()
        try:
            result = call(self.module)
        except Exception as first:  # noqa: BLE001 - a damaged cache must never crash a fit
            if _is_typing_error(first):
                raise _compile_error(self.module, first, self.user_sources) from None
            _purge_numba_files(self.path)
            self.module = _import(self.path, reload=True)
            try:
                result = call(self.module)
            except Exception as second:  # noqa: BLE001
                raise _compile_error(self.module, second, self.user_sources) from None
        _write_manifest(self.path)
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
            path = _write_source(sig, lowered.source)
        except OSError as exc:  # the folder became unwritable (full, removed, read-only): go on privately
            _use_private_folder(f"the cache folder {folder()} cannot be written ({exc.strerror or exc})")
            path = _write_source(sig, lowered.source)
        _verify_numba_files(path)
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


def disk_limit() -> int:
    """The disk cache's size limit in bytes: ``$NFIT_CACHE_MAX_MB`` megabytes, default 500 (0: no limit).

    >>> disk_limit() >= 0
    True
    """
    try:
        return max(0, int(float(os.environ.get("NFIT_CACHE_MAX_MB", "500")) * 2**20))
    except ValueError:
        return 500 * 2**20


def _entries(path: Path) -> dict:
    """The kernels on disk: {stem: [files]}, Numba's files of each module included."""
    groups: dict = {}
    for directory in (path, path / "__pycache__"):
        try:
            with os.scandir(directory) as it:
                for entry in it:
                    if entry.name.startswith(PREFIX) and entry.is_file(follow_symlinks=False):
                        stem = entry.name.split(".", 1)[0]
                        groups.setdefault(stem, []).append(Path(entry.path))
        except OSError:
            pass
    return groups


def _delete(files) -> None:
    for f in files:
        try:
            f.unlink()
        except OSError:
            pass


def _size(files) -> int:
    total = 0
    for f in files:
        try:
            total += f.stat().st_size
        except OSError:
            pass
    return total


def prune(limit=None) -> int:
    """Delete the least recently used kernels from the disk cache until it is under ``limit`` bytes
    (default :func:`disk_limit`; it goes down to 80 % of it, so pruning is rare), sparing the kernels
    this process holds. Returns the number of kernels deleted.

    >>> prune() >= 0
    True
    """
    limit = disk_limit() if limit is None else limit
    if limit <= 0:
        return 0
    path = folder()
    groups = _entries(path)
    sizes = {stem: _size(files) for stem, files in groups.items()}
    total = sum(sizes.values())
    if total <= limit:
        return 0

    def last_used(stem):
        try:
            return (path / f"{stem}.py").stat().st_mtime
        except OSError:
            return 0.0

    with _lock:
        in_use = {k.path.stem for k in list(_alive.values())}
    deleted = 0
    for stem in sorted(groups, key=last_used):
        if total <= 0.8 * limit:
            break
        if stem in in_use:
            continue
        _delete(groups[stem])
        total -= sizes[stem]
        deleted += 1
    return deleted


# ---------------------------------------------------------------------- disk handling
def _module_name(path: Path) -> str:
    return path.stem


def _write_source(sig: str, source: str) -> Path:
    directory = folder()
    path = directory / f"{PREFIX}{sig[:40]}.py"
    text = f"# nfit {__version__} kernel, signature {sig}\n{source}"
    try:
        if path.read_text() == text:
            try:
                os.utime(path)  # used now: the disk cache prunes the least recently used
            except OSError:
                pass
            return path
    except (OSError, UnicodeDecodeError):
        pass
    # a missing, damaged or foreign file: write it anew, atomically, and distrust its compiled code
    _purge_numba_files(path)
    _atomic_write(path, text.encode())
    return path


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _import(path: Path, reload: bool = False):
    name = _module_name(path)
    if not reload and name in sys.modules:
        return sys.modules[name]
    # Numba can reload its cached code in a later process only if the module is registered
    return _import_file(name, path)


def _import_file(name: str, path) -> object:
    """Import the module (source or extension) at ``path`` as ``name``, registered in ``sys.modules``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _numba_files(path: Path) -> list:
    cache_dir = path.parent / "__pycache__"
    if not cache_dir.is_dir():
        return []
    return sorted(p for p in cache_dir.glob(f"{_module_name(path)}.*") if p.suffix in (".nbi", ".nbc"))


_SOURCE_KEY = "<source>"


def _manifest_path(path: Path) -> Path:
    return path.with_suffix(".manifest")


def _digest(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _write_manifest(path: Path) -> None:
    try:
        entries = {p.name: _digest(p) for p in _numba_files(path)}
        entries[_SOURCE_KEY] = _digest(path)  # the files belong to this source and no other
        _atomic_write(_manifest_path(path), json.dumps(entries, sort_keys=True).encode())
    except OSError:
        pass  # a read-only or vanished cache only costs a recompile later


def _verify_numba_files(path: Path) -> None:
    """Delete Numba's cache files for ``path`` unless every one matches the manifest."""
    files = _numba_files(path)
    if not files:
        return
    try:
        manifest = json.loads(_manifest_path(path).read_text())
        source = manifest.pop(_SOURCE_KEY, None)
        ok = (source == _digest(path) and set(manifest) == {p.name for p in files}
              and all(manifest[p.name] == _digest(p) for p in files))
    except (OSError, ValueError, TypeError, AttributeError):
        ok = False
    if not ok:
        _purge_numba_files(path)


def _native_files(path: Path) -> list:
    stem = _module_name(path)
    return sorted(path.parent.glob(f"{stem}.*.native"))


def _purge_numba_files(path: Path) -> None:
    """Delete the compiled code of the kernel module at ``path``: Numba's files, their manifest,
    and the stored machine code of its entry points."""
    _delete(_numba_files(path) + [_manifest_path(path)] + _native_files(path))


def _is_typing_error(exc) -> bool:
    from numba.core import errors

    return isinstance(exc, (errors.TypingError, errors.LoweringError, errors.UnsupportedError,
                            errors.NumbaError)) and not isinstance(exc, errors.NumbaWarning)


def _compile_error(module, exc, user_sources=()) -> CompileError:
    return _compile_error_text(Path(module.__file__), f"{type(exc).__name__}: {exc}", user_sources)


def _compile_error_text(path: Path, message: str, user_sources=()) -> CompileError:
    """The error for a kernel Numba rejected: the user's kernels, the numbered generated source and
    Numba's own message."""
    source = Path(path).read_text()
    numbered = "\n".join(f"{i + 1:4d}  {line}" for i, line in enumerate(source.splitlines()))
    user = "".join(f"--- your kernel ---\n{text}\n" for text in user_sources)
    return CompileError(
        f"Numba could not compile the generated kernel {_module_name(Path(path))}.\n{user}"
        f"--- generated source ({path}) ---\n{numbered}\n"
        f"--- Numba's message ---\n{message}\n"
        "Build the loss with mode='eager' to evaluate this model without compiling it."
    )
