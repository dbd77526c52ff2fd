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
import os
import sys
import types

from . import backends, z
from .backends.numba_cpu import get_parallel_threshold, set_parallel_threshold, use_parallel

__all__ = ["set_mode", "get_mode", "mode", "set_backend", "get_backend", "backend", "current_backend",
           "set_parallel_threshold", "get_parallel_threshold", "use_parallel",
           "set_graph_mode", "get_graph_mode",
           "set_autograd_mode", "get_autograd_mode", "set_mode_default", "clear_graph_cache",
           "experimental_disable_param_update", "evaluate", "wait_for_kernels"]

MODES = ("compiled", "eager")
BACKENDS = backends.compiled_names()


def _tiered_by_default() -> bool:
    """``NFIT_TIERED=0`` makes the default path compile first, as ``mode="compiled"`` does."""
    return os.environ.get("NFIT_TIERED", "1").strip().lower() not in ("0", "false", "no", "off")


# "explicit": the user chose the mode; the default compiled path runs tiered (eager until compiled)
_state = {"mode": "compiled", "backend": BACKENDS[0], "explicit": not _tiered_by_default()}


def check_mode(value) -> str:
    if value not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {value!r}")
    return value


def set_mode(value: str) -> None:
    """Set the global default path: ``"compiled"`` or ``"eager"``.

    Without a call, the path is compiled and *tiered*: a kernel not compiled yet runs eagerly while
    it compiles in the background (:mod:`nfit.backends.tiered`). ``set_mode("compiled")`` means
    compiled only (the first call waits for the compiler); :func:`set_mode_default` goes back.

    Example
    -------
    >>> set_mode("eager"); get_mode()
    'eager'
    >>> set_mode_default()
    """
    _state["mode"] = check_mode(value)
    _state["explicit"] = True


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
    previous = _state["mode"], _state["explicit"]
    _state["mode"] = check_mode(value)
    _state["explicit"] = True
    try:
        yield
    finally:
        _state["mode"], _state["explicit"] = previous


def wait_for_kernels(timeout=None) -> bool:
    """Wait until the kernels the default (tiered) path compiles in the background are ready (at most
    ``timeout`` seconds); True if none is left. A script that wants its kernels in the disk cache
    before it goes on, or a test that inspects them, calls this.

    >>> wait_for_kernels()
    True
    """
    return backends.tiered.wait(timeout)


def check_backend(value) -> str:
    """``value`` if it names a compiled backend that can run here; a clear error otherwise."""
    return backends.check_compiled(value)


def current_backend(mode=None, backend=None):
    """The :class:`~nfit.backends.base.Backend` that runs kernels for ``mode`` and ``backend`` (each
    None: the global setting).

    >>> current_backend("eager").name
    'eager'
    """
    explicit = mode is not None or _state["explicit"]
    return backends.select(mode or _state["mode"], backend or _state["backend"], explicit)


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


# ---------------------------------------------------------------------- zfit's run-mode API
_state["autograd"] = True
_state["update_params"] = True


class _Restore:
    """What zfit's ``set_*_mode`` return: the setting is made at once, and a ``with`` block around the
    call restores the old one on exit."""

    def __init__(self, undo):
        self._undo = undo

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._undo()
        return False


def set_graph_mode(graph=True) -> _Restore:
    """zfit's graph mode, mapped onto nfit's paths: True (or ``"auto"``) compiles (the default), False
    evaluates eagerly with NumPy.

    >>> with set_graph_mode(False):
    ...     get_mode()
    'eager'
    """
    previous = _state["mode"], _state["explicit"]
    if graph not in (True, False, "auto"):
        raise ValueError(f"set_graph_mode: graph must be True, False or 'auto', got {graph!r}")
    _state["mode"] = "eager" if graph is False else "compiled"
    _state["explicit"] = graph != "auto"

    def restore():
        _state["mode"], _state["explicit"] = previous

    return _Restore(restore)


def get_graph_mode() -> bool:
    return _state["mode"] == "compiled"


def set_autograd_mode(autograd=True) -> _Restore:
    """zfit's autograd mode: True (default) hands minimisers the loss's exact derivatives where the
    model has them; False makes them use numerical ones (MINUIT's own gradient).

    >>> with set_autograd_mode(False):
    ...     get_autograd_mode()
    False
    """
    previous = _state["autograd"]
    _state["autograd"] = bool(autograd)
    return _Restore(lambda: _state.__setitem__("autograd", previous))


def get_autograd_mode() -> bool:
    return _state["autograd"]


def set_mode_default() -> None:
    """Back to the defaults: compiled (tiered: eager until a kernel is compiled), exact derivatives."""
    _state["mode"] = "compiled"
    _state["explicit"] = not _tiered_by_default()
    _state["autograd"] = True


def clear_graph_cache() -> None:
    """zfit's name for letting go of the compiled kernels this process holds (:func:`nfit.cache.clear`
    without touching the disk)."""
    from . import cache

    cache.clear(disk=False)


def experimental_disable_param_update(value=True) -> _Restore:
    """zfit's: from now on (or, used as ``with``, inside the block) a minimiser leaves the parameters at
    their values from before the fit; the result has the fitted values (``result.update_params()``).

    >>> with experimental_disable_param_update():
    ...     params_update_enabled()
    False
    """
    previous = _state["update_params"]
    _state["update_params"] = not value
    return _Restore(lambda: _state.__setitem__("update_params", previous))


def params_update_enabled() -> bool:
    return _state["update_params"]


def executing_eagerly() -> bool:
    """zfit's: False while nfit traces a custom shape's method into an expression, else True."""
    return not z.tracing()


def assert_executing_eagerly() -> None:
    """zfit's: a method that calls this (it uses NumPy on its inputs) is never traced; nfit runs it on
    the eager path with arrays.

    >>> assert_executing_eagerly()  # outside a trace: nothing happens
    """
    if not executing_eagerly():
        raise RuntimeError("assert_executing_eagerly: called while nfit traces this method; it runs eagerly")


def evaluate(value):
    """``nfit.run(x)``, as ``zfit.run(x)``: the value of ``x`` as NumPy — a parameter's value, an
    array, and lists, tuples and dicts of them, recursively.

    >>> import nfit
    >>> nfit.run([nfit.Parameter("r", 2.0), 3])
    [2.0, 3]
    """
    if isinstance(value, dict):
        return {k: evaluate(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(evaluate(v) for v in value)
    if hasattr(value, "value") and callable(value.value):
        return value.value()
    if hasattr(value, "numpy") and callable(value.numpy):
        return value.numpy()
    return value


class _RunModule(types.ModuleType):
    """The module, callable like zfit's ``zfit.run``."""

    def __call__(self, value):
        return evaluate(value)


sys.modules[__name__].__class__ = _RunModule
