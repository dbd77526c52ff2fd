"""The disk store of compiled kernels: the cache folder, the generated modules and their files.

Each kernel is one generated module ``nfit_k_<hash>.py`` in :func:`folder`, compiled with Numba's
``cache=True`` into ``__pycache__``, with a manifest of checksums bound to the module's source, and
stored machine code of its serial entry points (``.native``, :mod:`nfit.compile.native`). A damaged,
truncated, foreign or relabelled file is deleted and rebuilt, never loaded. This module knows files
only; :mod:`nfit.cache` decides which kernel is which (its signature, :mod:`nfit.compile.key`) and
keeps them in memory.

>>> folder().is_dir()
True
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import tempfile
import threading
from pathlib import Path

from .._version import __version__

PREFIX = "nfit_k_"
_lock = threading.RLock()


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
    wanted = wanted_folder()
    chosen = _folders.get(wanted)
    if chosen is None or not chosen.is_dir():
        with _lock:
            problem = unusable(wanted)
            chosen = wanted if problem is None else use_private_folder(problem, stacklevel=4)
            _folders[wanted] = chosen
    return chosen


_folders: dict = {}  # wanted folder -> the folder used


def use_private_folder(problem: str, stacklevel: int = 3) -> Path:
    """Compile into a private folder of this process from now on, saying why once."""
    import warnings

    chosen = private_folder()
    _folders[wanted_folder()] = chosen
    warnings.warn(f"nfit cache: {problem}; kernels are compiled for this process only, in {chosen}. "
                  "Set NFIT_CACHE_DIR to a folder of your own to keep them.", stacklevel=stacklevel)
    return chosen


def wanted_folder() -> Path:
    if os.environ.get("NFIT_CACHE_DIR"):
        return Path(os.environ["NFIT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "nfit"


def unusable(path: Path):
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


def private_folder() -> Path:
    import atexit
    import shutil

    path = Path(tempfile.mkdtemp(prefix="nfit-cache-"))
    atexit.register(shutil.rmtree, path, True)
    return path


def disk_limit() -> int:
    """The disk cache's size limit in bytes: ``$NFIT_CACHE_MAX_MB`` megabytes, default 500 (0: no limit).

    >>> disk_limit() >= 0
    True
    """
    try:
        return max(0, int(float(os.environ.get("NFIT_CACHE_MAX_MB", "500")) * 2**20))
    except ValueError:
        return 500 * 2**20


def entries(path: Path) -> dict:
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


def delete(files) -> None:
    for f in files:
        try:
            f.unlink()
        except OSError:
            pass


def size(files) -> int:
    total = 0
    for f in files:
        try:
            total += f.stat().st_size
        except OSError:
            pass
    return total


def module_name(path: Path) -> str:
    return path.stem


def source_path(sig: str) -> Path:
    """Where the generated module of signature ``sig`` lives."""
    return folder() / f"{PREFIX}{sig[:40]}.py"


def write_source(sig: str, source: str) -> Path:
    path = source_path(sig)
    text = f"# nfit {__version__} kernel, signature {sig}\n{source}"
    try:
        if path.read_text() == text:
            try:  # used now: the disk cache prunes the least recently used. Not the source's own time:
                # Numba before 0.62 stamps its cache by the source's modification time
                os.utime(manifest_path(path))
            except OSError:
                pass
            return path
    except (OSError, UnicodeDecodeError):
        pass
    # a missing, damaged or foreign file: write it anew, atomically, and distrust its compiled code
    purge_numba_files(path)
    atomic_write(path, text.encode())
    return path


def atomic_write(path: Path, data: bytes) -> None:
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


def import_module(path: Path, reload: bool = False):
    name = module_name(path)
    if not reload and name in sys.modules:
        return sys.modules[name]
    # Numba can reload its cached code in a later process only if the module is registered
    return import_file(name, path)


def import_file(name: str, path) -> object:
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


def numba_files(path: Path) -> list:
    cache_dir = path.parent / "__pycache__"
    if not cache_dir.is_dir():
        return []
    return sorted(p for p in cache_dir.glob(f"{module_name(path)}.*") if p.suffix in (".nbi", ".nbc"))


def manifest_path(path: Path) -> Path:
    return path.with_suffix(".manifest")


def digest(p: Path, default=None) -> str:
    """The SHA-256 of the file ``p`` (``default``, where given, for a file that cannot be read)."""
    try:
        return hashlib.sha256(Path(p).read_bytes()).hexdigest()
    except OSError:
        if default is None:
            raise
        return default


def write_manifest(path: Path) -> None:
    try:
        entries = {p.name: digest(p) for p in numba_files(path)}
        entries[_SOURCE_KEY] = digest(path)  # the files belong to this source and no other
        atomic_write(manifest_path(path), json.dumps(entries, sort_keys=True).encode())
    except OSError:
        pass  # a read-only or vanished cache only costs a recompile later


def verify_numba_files(path: Path) -> None:
    """Delete Numba's cache files for ``path`` unless every one matches the manifest."""
    files = numba_files(path)
    if not files:
        return
    try:
        manifest = json.loads(manifest_path(path).read_text())
        source = manifest.pop(_SOURCE_KEY, None)
        ok = (source == digest(path) and set(manifest) == {p.name for p in files}
              and all(manifest[p.name] == digest(p) for p in files))
    except (OSError, ValueError, TypeError, AttributeError):
        ok = False
    if not ok:
        purge_numba_files(path)


def native_files(path: Path) -> list:
    stem = module_name(path)
    return sorted(path.parent.glob(f"{stem}.*.native"))


def purge_numba_files(path: Path) -> None:
    """Delete the compiled code of the kernel module at ``path``: Numba's files, their manifest,
    and the stored machine code of its entry points."""
    delete(numba_files(path) + [manifest_path(path)] + native_files(path))


_SOURCE_KEY = "<source>"


def prune(limit, in_use=()) -> int:
    """Delete the least recently used kernels until the folder holds under ``limit`` bytes (down to
    80 % of it, so that pruning is rare), sparing the module stems ``in_use``. Returns how many."""
    if limit <= 0:
        return 0
    path = folder()
    groups = entries(path)
    sizes = {stem: size(files) for stem, files in groups.items()}
    total = sum(sizes.values())
    if total <= limit:
        return 0

    def last_used(stem):
        times = [0.0]
        for name in (f"{stem}.py", f"{stem}.manifest"):
            try:
                times.append((path / name).stat().st_mtime)
            except OSError:
                pass
        return max(times)

    deleted = 0
    for stem in sorted(groups, key=last_used):
        if total <= 0.8 * limit:
            break
        if stem in in_use:
            continue
        delete(groups[stem])
        total -= sizes[stem]
        deleted += 1
    return deleted
