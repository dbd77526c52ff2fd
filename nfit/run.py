"""Choosing the path: ``"compiled"`` (fused Numba kernels, the default) or ``"eager"`` (NumPy);
and for compiled kernels the backend: ``"numba"`` (the CPU, the default) or ``"cuda"`` (a GPU).

>>> import nfit
>>> with nfit.run.mode("eager"):
...     nfit.run.get_mode()
'eager'
>>> nfit.run.get_mode()
'compiled'
"""
from __future__ import annotations

import contextlib

__all__ = ["set_mode", "get_mode", "mode", "set_backend", "get_backend", "backend",
           "set_parallel_threshold", "get_parallel_threshold", "use_parallel"]

MODES = ("compiled", "eager")
BACKENDS = ("numba", "cuda")
_state = {"mode": "compiled", "backend": "numba", "parallel_threshold": 20_000}


def check_mode(value) -> str:
    if value not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {value!r}")
    return value


def set_mode(value: str) -> None:
    """Set the global default path: ``"compiled"`` or ``"eager"``.

    Example
    -------
    >>> set_mode("eager"); set_mode("compiled")
    """
    _state["mode"] = check_mode(value)


def get_mode() -> str:
    return _state["mode"]


@contextlib.contextmanager
def mode(value: str):
    """Use ``value`` as the path inside a ``with`` block.

    Example
    -------
    >>> with mode("eager"):
    ...     pass
    """
    previous = _state["mode"]
    _state["mode"] = check_mode(value)
    try:
        yield
    finally:
        _state["mode"] = previous


def check_backend(value) -> str:
    """``value`` if it names a backend that can run here; a clear error otherwise."""
    if value not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {value!r}")
    if value == "cuda":
        from . import gpu

        gpu.require()
    return value


def set_backend(value: str) -> None:
    """Set the backend of compiled kernels: ``"numba"`` (CPU, the default) or ``"cuda"`` (GPU).

    ``"cuda"`` raises :class:`nfit.gpu.CudaUnavailableError`, saying what is missing, where there is
    no GPU or CUDA toolkit (Numba's simulator, ``NUMBA_ENABLE_CUDASIM=1``, stands in for one in tests).

    Example
    -------
    >>> set_backend("numba"); get_backend()
    'numba'
    """
    _state["backend"] = check_backend(value)


def get_backend() -> str:
    return _state["backend"]


@contextlib.contextmanager
def backend(value: str):
    """Use ``value`` as the backend inside a ``with`` block.

    Example
    -------
    >>> with backend("numba"):
    ...     get_backend()
    'numba'
    """
    previous = _state["backend"]
    _state["backend"] = check_backend(value)
    try:
        yield
    finally:
        _state["backend"] = previous


def set_parallel_threshold(n_events: int) -> None:
    """Compiled kernels sum the events in parallel (a ``prange`` over chunks of events) from this
    many events on, serially below (default 20,000; gradient kernels from 0.75 and Hessian kernels
    from 0.4 times that; 20 times more on Numba's slow workqueue threading layer, see
    :func:`use_parallel`). Serial and parallel kernels agree to rounding.

    Example
    -------
    >>> before = get_parallel_threshold()
    >>> set_parallel_threshold(50_000)
    >>> get_parallel_threshold()
    50000
    >>> set_parallel_threshold(before)
    """
    _state["parallel_threshold"] = int(n_events)


def get_parallel_threshold() -> int:
    return _state["parallel_threshold"]


# Numba's fallback threading layer (no OpenMP, no TBB: the usual case on macOS) wakes its threads
# slowly: on 2 cores a parallel pass at 50k events took 4x a serial one, and parallel paid off only
# from 200k-400k events (OpenMP: from 20k)
SLOW_THREADING_FACTOR = 20


def use_parallel(n_events: int, scale: float = 1.0) -> bool:
    """Whether a compiled kernel over ``n_events`` events sums them in parallel: from ``scale`` times
    the parallel threshold on, or :data:`SLOW_THREADING_FACTOR` times that on Numba's workqueue layer.

    >>> use_parallel(10)
    False
    """
    from .concurrency import parallel_allowed

    threshold = _state["parallel_threshold"] * scale
    if n_events < threshold or not parallel_allowed():
        return False
    from .compile.parallel import threading_layer

    return threading_layer() != "workqueue" or n_events >= threshold * SLOW_THREADING_FACTOR
