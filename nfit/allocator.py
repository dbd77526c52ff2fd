"""Keeping the eager path's temporaries in memory between uses (glibc's allocator).

An eager pass makes hundreds of NumPy arrays as long as its events (or a slice of them,
:attr:`nfit.eager.EagerContext.CHUNK` events: half a MB each), frees them and makes them again for
the next slice and the next pass. glibc's ``malloc`` hands arrays of 128 kB and more back to the
kernel as soon as they are freed (``mmap``, or trimming the top of its heap above a threshold that
grows only to twice the largest such array), so every slice pays to have its pages mapped and zeroed
anew. A Hessian pass of the headline model took 315 ms over 1e6 events and 19-27 ms over 5e4,
against 93-104 ms and 5.6-8.6 ms where the freed memory stays with the process.

:func:`keep_eager_temporaries` tells glibc, once per process, to serve arrays below
:data:`MMAP_BYTES` from its heap and to keep up to :data:`TRIM_BYTES` of freed heap at its top.
It is called the first time an eager pass sums :data:`EVENTS_TO_KEEP` events or more. The data and
other arrays of :data:`MMAP_BYTES` or more still go back to the system when freed. Nothing changes
where the C library is not glibc, or where the user set glibc's own ``MALLOC_*`` variables.

>>> keep_eager_temporaries() in (True, False)
True
"""
from __future__ import annotations

import os
import threading

__all__ = ["keep_eager_temporaries", "MMAP_BYTES", "TRIM_BYTES", "EVENTS_TO_KEEP"]

MMAP_BYTES = 4 << 20  # arrays below this come from the heap (a slice's arrays are 0.5 MB)
EVENTS_TO_KEEP = (128 << 10) // 8  # glibc maps arrays of 128 kB (this many float64) and more afresh
TRIM_BYTES = 256 << 20  # freed heap kept at its top before glibc gives it back (a slice's working set)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's mallopt parameters
_USERS_OWN = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_MMAP_MAX_")

_lock = threading.Lock()
_outcome = None


def keep_eager_temporaries() -> bool:
    """Whether glibc now keeps the eager path's freed temporaries (set once per process; False where
    the C library is not glibc or the user chose its thresholds through ``MALLOC_*`` variables)."""
    global _outcome
    if _outcome is not None:  # every eager pass asks: no lock once it is decided
        return _outcome
    with _lock:
        if _outcome is None:
            _outcome = _set_thresholds()
        return _outcome


def _set_thresholds() -> bool:
    import ctypes
    import platform

    if any(name in os.environ for name in _USERS_OWN) or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_BYTES))
