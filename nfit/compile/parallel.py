"""The parallel event loop: one generic ``prange`` over chunks that calls a kernel's chunk helper.

A generated kernel sums each term over its events in chunks (:mod:`nfit.compile.emitter`). For
the parallel entry point, a helper ``_rowsN(c, start, stop, cols, inputs, row)`` sums the events
``start:stop`` into ``row``; the entry point hands it, as a first-class function, to
:func:`run_chunks`, which calls it for every chunk in a ``prange`` and adds the rows in order.

Why not a ``prange`` in each generated kernel: Numba's parallel pipeline then runs over the
whole kernel (normalisation integrals, gradient and Hessian algebra included) and more than
doubles its compile time. :func:`run_chunks` is compiled once per number of data columns and kept
in Numba's disk cache. The serial entry point adds the chunks' sums in the order that
:func:`run_chunks` adds the rows, so the two agree to rounding, and the parallel result does not
depend on the number of threads.

>>> import numba, numpy as np
>>> @numba.njit
... def chunk(c, start, stop, cols, inputs, row):
...     row[0] = inputs[0] * cols[0][start:stop].sum()
>>> run_chunks(ChunkFunction(chunk, 1), np.zeros(1), (np.ones(10),), np.array([2.0]), 10, 4, 1)
array([20.])
"""
from __future__ import annotations

import numba
import numba.experimental.function_type  # noqa: F401 - teaches Numba the type of a WrapperAddressProtocol
import numpy as np
from numba import types
from numba.core.types.function_type import WrapperAddressProtocol
from numba.core.typing.typeof import typeof_impl

from .numba_api import wrapper_address

__all__ = ["ChunkFunction", "chunk_signature", "run_chunks", "threading_layer"]

_ARRAY = types.float64[::1]


def chunk_signature(n_columns: int):
    """The Numba signature of a chunk helper reading ``n_columns`` data columns:
    ``(c, start, stop, cols, inputs, row) -> None``, every array contiguous float64."""
    return types.void(_ARRAY, types.int64, types.int64, types.UniTuple(_ARRAY, n_columns), _ARRAY, _ARRAY)


class ChunkFunction(WrapperAddressProtocol):
    """A chunk helper (a Numba dispatcher) as a first-class function for :func:`run_chunks`.

    The helper is compiled (or loaded from Numba's cache) for :func:`chunk_signature` here, not
    when a kernel first receives it: Numba compiling while it unboxes a call's arguments can crash
    the process. The kernel receives the helper's address as an argument, so the kernel itself
    stays cacheable.
    """

    def __init__(self, dispatcher, n_columns: int):
        self.dispatcher = dispatcher
        self._signature = chunk_signature(n_columns)
        self.numba_type = types.FunctionType(self._signature)
        dispatcher.compile(self._signature.args)
        self._address = wrapper_address(dispatcher, self._signature.args)
        # a kernel that calls run_chunks links its code but, loaded from Numba's cache, does not start
        # Numba's threads: calling the driver itself once (on no chunks) does
        empty = np.empty(0)
        run_chunks(self, empty, (empty,) * n_columns, empty, 0, 0, 0)

    def signature(self):
        return self._signature

    def __reduce__(self):
        # the address belongs to this process: an unpickled copy compiles (or loads) the helper anew
        return ChunkFunction, (self.dispatcher, self._signature.args[3].count)

    def __wrapper_address__(self):
        return self._address


@numba.njit(parallel=True, cache=True)
def _start_threads(n):
    total = 0
    for k in numba.prange(n):
        total += k
    return total


def threading_layer() -> str:
    """The threading layer Numba's parallel code runs on (``"omp"``, ``"tbb"`` or ``"workqueue"``),
    starting Numba's threads if they have not started yet.

    >>> threading_layer() in ("omp", "tbb", "workqueue")
    True
    """
    try:
        return numba.threading_layer()
    except ValueError:  # no parallel code has run in this process yet
        _start_threads(1)
        return numba.threading_layer()


@typeof_impl.register(ChunkFunction)
def _typeof_chunk_function(value, context):
    # the type made once: Numba would otherwise build it anew on every call of a parallel kernel
    return value.numba_type


@numba.njit(parallel=True, cache=True, nogil=True)
def run_chunks(chunk, c, cols, inputs, n, nchunk, count):
    """The ``count`` sums of ``chunk`` over ``n`` events cut into ``nchunk`` equal slices: the slices
    in parallel, each into its own row, then the rows added in order (so the result does not
    depend on the number of threads)."""
    rows = np.empty((nchunk, count))
    for k in numba.prange(nchunk):
        chunk(c, k * n // nchunk, (k + 1) * n // nchunk, cols, inputs, rows[k])
    total = np.zeros(count)
    for k in range(nchunk):
        for j in range(count):
            total[j] += rows[k, j]
    return total
