"""Choosing the path: ``"compiled"`` (fused Numba kernels, the default) or ``"eager"`` (NumPy).

>>> import nfit
>>> with nfit.run.mode("eager"):
...     nfit.run.get_mode()
'eager'
>>> nfit.run.get_mode()
'compiled'
"""
from __future__ import annotations

import contextlib

__all__ = ["set_mode", "get_mode", "mode", "set_parallel_threshold", "get_parallel_threshold"]

MODES = ("compiled", "eager")
_state = {"mode": "compiled", "parallel_threshold": 2_000}


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


def set_parallel_threshold(n_events: int) -> None:
    """Compiled kernels loop in parallel (``prange``) from this many events on, serially below.

    Example
    -------
    >>> set_parallel_threshold(2_000)
    """
    _state["parallel_threshold"] = int(n_events)


def get_parallel_threshold() -> int:
    return _state["parallel_threshold"]
