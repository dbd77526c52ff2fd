"""Where kernels run: one interface (:class:`~nfit.backends.base.Backend`) and a registry of its
implementations. Every choice of backend in nfit is made here: a loss, a pdf's evaluation and
sampling ask :func:`select` for the backend of the current mode and backend setting, and then ask
that backend for kernels.

Registered: ``"eager"`` (NumPy, :mod:`nfit.backends.eager`), ``"numba"`` (the CPU, serial or
parallel, :mod:`nfit.backends.numba_cpu`) and ``"cuda"`` (an NVIDIA GPU, :mod:`nfit.backends.cuda`).
A new backend is a :class:`~nfit.backends.base.Backend` subclass registered with :func:`register`;
see ``docs/architecture.md``.

>>> from nfit import backends
>>> backends.names()
('eager', 'numba', 'cuda')
>>> backends.compiled_names()
('numba', 'cuda')
>>> backends.select("eager", "numba").name, backends.select("compiled", "numba").name
('eager', 'numba')
"""
from __future__ import annotations

from .base import Backend, LossProgram
from .cuda import CudaBackend, is_device_array, to_device, to_host
from .eager import EagerBackend
from .numba_cpu import NumbaBackend
from .tiered import TieredBackend

__all__ = ["Backend", "LossProgram", "register", "get", "names", "compiled_names", "select", "check_compiled",
           "is_device_array", "to_host", "keep_on_device"]

_registry: dict = {}


def register(backend: Backend) -> None:
    """Make ``backend`` available under ``backend.name`` (replacing one of that name).

    Example
    -------
    >>> from nfit import backends
    >>> backends.register(backends.get("numba"))  # registering again is harmless
    """
    if not isinstance(backend, Backend) or not backend.name:
        raise TypeError(f"register: expected a named nfit.backends.Backend, got {backend!r}")
    _registry[backend.name] = backend


def names() -> tuple:
    """The names of the registered backends."""
    return tuple(_registry)


def compiled_names() -> tuple:
    """The names a loss's ``backend=`` (and :func:`nfit.run.set_backend`) accepts: the compiled backends."""
    return tuple(name for name, backend in _registry.items() if backend.compiled)


def get(name: str) -> Backend:
    """The backend registered as ``name``; a ``ValueError`` naming the known ones otherwise.

    Example
    -------
    >>> get("numba")
    <nfit backend 'numba'>
    """
    try:
        return _registry[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown backend {name!r}; nfit has {names()}") from None


def check_compiled(name) -> str:
    """``name`` if it names a compiled backend that can run here; a clear error otherwise."""
    if name not in compiled_names():
        raise ValueError(f"backend must be one of {compiled_names()}, got {name!r}")
    _registry[name].check()
    return name


def select(mode: str, backend: str, explicit: bool = True) -> Backend:
    """The backend that runs a kernel for path ``mode`` (``"eager"`` or ``"compiled"``) with the
    compiled backend ``backend``: the eager one for the eager path; for the compiled path chosen
    ``explicit``-ly, ``backend``; else (the default path) ``backend`` behind tiered execution where it
    has it (:mod:`nfit.backends.tiered`: eager until its kernel is compiled)."""
    if mode == "eager":
        return _registry["eager"]
    target = get(backend)
    if not explicit and target.name in _tiered:
        return _tiered[target.name]
    return target


def keep_on_device(host, device) -> None:
    """Register ``device``, an array already on a GPU holding the numbers of ``host``, as its device copy
    (data that arrived on the GPU is not uploaded again)."""
    to_device(host, device=device)


for _backend in (EagerBackend(), NumbaBackend(), CudaBackend()):
    register(_backend)
# the default path runs Numba CPU kernels tiered; the GPU path compiles first, as chosen
_tiered = {"numba": TieredBackend(_registry["numba"], _registry["eager"])}
