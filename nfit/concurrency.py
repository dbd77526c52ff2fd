"""Parallel kernels under threads and processes.

Numba runs ``parallel=True`` code on one of three threading layers, and each has one hazard:

- ``workqueue`` (Numba's own, used where neither OpenMP nor TBB is found) is not thread-safe: two
  Python threads in parallel code at once abort the process. nfit runs its parallel kernels one
  at a time there (:func:`call_parallel`); serial kernels run side by side as before.
- ``omp`` with GNU OpenMP is not fork-safe: a child forked after parallel code ran dies in its
  first parallel region. A forked child therefore runs serial kernels only
  (:func:`parallel_allowed`); its results agree with the parallel ones to rounding.
- ``tbb`` is both; nothing is needed.

>>> parallel_allowed()
True
>>> call_parallel(max, 2, 3)
3
"""
from __future__ import annotations

import os
import sys
import threading

__all__ = ["call_parallel", "parallel_allowed", "expected_layer"]

_lock = threading.Lock()
_state = {"serial_only": False, "layer": None}


def parallel_allowed() -> bool:
    """False in a child forked after GNU OpenMP started its threads in the parent."""
    return not _state["serial_only"]


def _layer():
    """The threading layer parallel code has run on in this process, or None if none has run."""
    if _state["layer"] is None:
        numba = sys.modules.get("numba")
        if numba is None:
            return None
        try:
            _state["layer"] = numba.threading_layer()
        except (ValueError, AttributeError):  # no parallel code ran yet; or Numba is being imported now
            return None
    return _state["layer"]


def expected_layer() -> str:
    """The threading layer parallel code runs on: the actual one once parallel code has run, else the
    one Numba will choose, predicted without starting its threads (which costs a Numba start-up):
    ``NUMBA_THREADING_LAYER`` where it names one, else ``"omp"`` where an OpenMP or TBB runtime is
    installed, else ``"workqueue"``.

    >>> expected_layer() in ("omp", "tbb", "workqueue")
    True
    """
    layer = _layer()
    if layer is not None:
        return layer
    if "predicted" not in _state:
        chosen = os.environ.get("NUMBA_THREADING_LAYER", "default").strip().lower()
        if chosen in ("omp", "tbb", "workqueue"):
            _state["predicted"] = chosen
        else:
            _state["predicted"] = "omp" if _loadable(_THREADING_RUNTIMES) else "workqueue"
    return _state["predicted"]


# OpenMP (GNU, Intel, LLVM) and TBB runtimes as the dynamic loader names them (Linux, macOS)
_THREADING_RUNTIMES = ("libgomp.so.1", "libiomp5.so", "libomp.so", "libtbb.so.12", "libtbb.so.2", "libomp.dylib",
                       "libtbb.dylib")


def _loadable(names) -> bool:
    import ctypes

    for name in names:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


def call_parallel(function, *args):
    """``function(*args)`` for a parallel kernel: alone on the workqueue layer, else directly."""
    if _layer() == "workqueue":
        with _lock:
            return function(*args)
    return function(*args)


def _openmp_vendor() -> str:
    try:
        from numba.np.ufunc import omppool

        return str(omppool.openmp_vendor)
    except Exception:  # pragma: no cover - an OpenMP runtime without the attribute
        return "GNU"


def _after_fork_in_child():
    global _lock
    _lock = threading.Lock()  # a thread of the parent may have held it
    if _layer() == "omp" and _openmp_vendor() != "Intel":
        _state["serial_only"] = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
