"""Where nfit touches Numba beyond its documented API, gathered so that a Numba release that moves
something breaks here, and is tested here (``tests/test_numba_api.py``), not all over.

The supported range is pinned in ``setup.cfg`` (``numba>=0.61,<0.69``); CI installs the newest
release in it, and ``tox -e numba-oldest`` runs the suite on the oldest (0.61.2, whose cache stamps
sources by modification time only, and whose llvmlite runs LLVM with typed pointers). What is
handled here reaches further back (the cache locators' underscored names of 0.59), but nfit needs
NumPy 2, which Numba supports from 0.60. The other place is :mod:`nfit.compile.native`, whose whole
job is loading Numba's machine code without Numba.

>>> is_typing_error(ValueError("not Numba's"))
False
"""
from __future__ import annotations


def is_typing_error(exc) -> bool:
    """Whether ``exc`` is Numba rejecting the code (typing, lowering, unsupported), not a broken cache."""
    from numba.core import errors

    return isinstance(exc, (errors.TypingError, errors.LoweringError, errors.UnsupportedError,
                            errors.NumbaError)) and not isinstance(exc, errors.NumbaWarning)


def wrapper_address(dispatcher, arg_types) -> int:
    """The C address of ``dispatcher``'s compiled overload for ``arg_types`` (for a first-class function)."""
    from numba.core.types.function_type import CompileResultWAP

    return CompileResultWAP(dispatcher.overloads[arg_types]).__wrapper_address__()


def compile_uncached(dispatcher, arg_types) -> None:
    """Compile ``dispatcher`` for ``arg_types`` anew, never from Numba's cache (whose loader keeps no
    object code to store)."""
    from numba.core.caching import NullCache

    dispatcher._cache = NullCache()
    dispatcher.compile(arg_types)


def add_cache_locators(extra_sources, applies, flavour=lambda py_func: "") -> None:
    """Teach Numba's on-disk cache about functions for which ``applies(py_func)`` is true: their
    cache files go where Numba would put them, stamped with their own source file and with the
    files ``extra_sources`` (so that an edit of those makes the cached code stale). Functions of one
    source compiled with different flags name their ``flavour(py_func)`` (a word, or ``""``): each
    flavour gets its own files (Numba keys its cache by the source and the signature only)."""
    from numba.core import caching

    def file_stamp(path):
        st = path.stat()
        if hasattr(caching, "_hash_source_file"):  # Numba >= 0.61 stamps files by their contents too
            return caching._hash_source_file(str(path), st.st_mtime, st.st_size)
        return st.st_mtime, st.st_size

    class Stamp:
        def get_source_stamp(self):
            return tuple([super().get_source_stamp()] + [file_stamp(path) for path in extra_sources])

        def get_disambiguator(self):
            base = super().get_disambiguator()
            return f"{base}-{self.flavour}" if self.flavour else base

        @classmethod
        def from_function(cls, py_func, py_file):
            if not applies(py_func):
                return None
            locator = super().from_function(py_func, py_file)
            if locator is not None:
                locator.flavour = flavour(py_func)
            return locator

    caching.CacheImpl._locator_classes[:0] = [
        type(f"KernelClone{base.__name__}", (Stamp, base), {})
        for base in _locators(caching, "UserProvidedCacheLocator", "InTreeCacheLocator", "UserWideCacheLocator")]


def _locators(caching, *names) -> list:
    """Numba's cache locator classes (public names from Numba 0.61 on, underscored before)."""
    return [getattr(caching, name, None) or getattr(caching, "_" + name) for name in names]
