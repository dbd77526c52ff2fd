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

__all__ = ["call_parallel", "parallel_allowed"]

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
        except ValueError:
            return None
    return _state["layer"]


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
