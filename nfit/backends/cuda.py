"""The CUDA backend: checks, device-resident data, and the runner of a loss's GPU kernels.

Choose it with ``nfit.run.set_backend("cuda")`` or ``backend="cuda"`` on a loss. The kernels are
lowered from the same tree as the CPU ones (:mod:`nfit.compile.cuda`); this module moves data to
the device once and runs one evaluation: the per-call numbers go in (one small array), the GPU sums
the events, and a handful of sums come back. Densities of a pdf (``pdf.pdf``, sampling) are
evaluated by the Numba CPU backend.

Without a GPU, Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) runs the same kernels on the CPU,
one Python thread per GPU thread: slow, for tests on small data. :mod:`nfit.gpu` is the public face
of this module.

>>> from nfit.backends import cuda
>>> cuda.status()["backend"] in ("cuda", "simulator", "unavailable")
True
"""
from __future__ import annotations

import math
import weakref

import numpy as np

from .base import Backend, CompiledKernel, output_buffer
from .numba_cpu import NumbaBackend

__all__ = ["CudaBackend", "CudaNLL", "CudaUnavailableError", "status", "require", "is_simulator",
           "is_device_array", "to_device", "to_host", "stats"]

MAX_BLOCKS = 1024  # blocks of one event-sum launch on a device (grid-stride loop beyond)
MAX_BLOCKS_SIMULATOR = 2
stats = {"uploads": 0, "uploaded_bytes": 0}
_resident: dict = {}  # id(host array) -> (weak reference to it, its device copy)


class CudaUnavailableError(RuntimeError):
    """The CUDA backend was asked for where there is no usable GPU or CUDA toolkit."""


def is_simulator() -> bool:
    """True when Numba's CUDA simulator stands in for a GPU (``NUMBA_ENABLE_CUDASIM=1``)."""
    import numba  # Numba reads NUMBA_ENABLE_CUDASIM when it is imported

    return bool(numba.config.ENABLE_CUDASIM)


def status() -> dict:
    """What the CUDA backend would run on: ``{"backend": "cuda" | "simulator" | "unavailable",
    "reason": ...}``.

    Example
    -------
    >>> sorted(status())
    ['backend', 'reason']
    """
    try:
        from numba import cuda
    except Exception as err:  # noqa: BLE001 - numba without its CUDA part
        return {"backend": "unavailable", "reason": f"numba.cuda cannot be imported ({err})"}
    if is_simulator():
        return {"backend": "simulator", "reason": "NUMBA_ENABLE_CUDASIM=1: Numba's CUDA simulator"}
    try:
        available = cuda.is_available()
    except Exception as err:  # noqa: BLE001
        return {"backend": "unavailable", "reason": f"the CUDA driver could not be loaded ({err})"}
    if not available:
        return {"backend": "unavailable",
                "reason": "numba.cuda found no NVIDIA GPU with a working driver"}
    try:
        from numba.cuda.cudadrv import nvvm

        if not nvvm.is_available():
            return {"backend": "unavailable",
                    "reason": "the CUDA toolkit's NVVM library (libnvvm) was not found"}
    except ImportError:  # a numba-cuda without this module finds NVVM itself at compile time
        pass
    gpu = cuda.get_current_device()
    name = gpu.name.decode() if isinstance(gpu.name, bytes) else str(gpu.name)
    return {"backend": "cuda", "reason": f"{name}, compute capability {gpu.compute_capability}"}


def require() -> None:
    """Raise :class:`CudaUnavailableError`, saying why, unless CUDA kernels can run here.

    Example
    -------
    >>> try:
    ...     require()
    ... except CudaUnavailableError as err:
    ...     "backend 'cuda'" in str(err)
    ... else:
    ...     True
    True
    """
    state = status()
    if state["backend"] == "unavailable":
        raise CudaUnavailableError(
            f"nfit: backend 'cuda' cannot run here: {state['reason']}. It needs an NVIDIA GPU, its "
            "driver and the CUDA toolkit (pip install 'nfit[gpu]'). Use backend 'numba' (the CPU), or "
            "NUMBA_ENABLE_CUDASIM=1 to run the CUDA kernels in Numba's simulator (slow; for testing).")


# ---------------------------------------------------------------------- data on the device
def is_device_array(x) -> bool:
    """True for arrays living on a GPU: CuPy, Numba device arrays (and the simulator's), anything
    with ``__cuda_array_interface__``.

    Example
    -------
    >>> is_device_array(np.zeros(3))
    False
    """
    return hasattr(x, "__cuda_array_interface__") or (hasattr(x, "copy_to_host") and hasattr(x, "shape"))


def to_host(x) -> np.ndarray:
    """A NumPy copy of a device array (NumPy arrays pass through).

    Example
    -------
    >>> to_host(np.arange(2.0))
    array([0., 1.])
    """
    if hasattr(x, "get") and hasattr(x, "__cuda_array_interface__"):  # CuPy
        return np.asarray(x.get())
    if hasattr(x, "copy_to_host"):
        return x.copy_to_host()
    if hasattr(x, "__cuda_array_interface__"):
        from numba import cuda

        return cuda.as_cuda_array(x).copy_to_host()
    return np.asarray(x)


def to_device(host: np.ndarray, device=None):
    """The device copy of ``host``, uploaded on first request and kept while ``host`` lives.

    ``device``: an existing device array holding the same numbers (data that arrived as CuPy):
    registered instead of uploading.
    """
    key = id(host)
    entry = _resident.get(key)
    if entry is not None and entry[0]() is host:
        return entry[1]
    if device is None:
        from numba import cuda

        device = cuda.to_device(np.ascontiguousarray(host))
        stats["uploads"] += 1
        stats["uploaded_bytes"] += host.nbytes
    elif hasattr(device, "__cuda_array_interface__") and not hasattr(device, "copy_to_host"):
        from numba import cuda

        device = cuda.as_cuda_array(device)  # CuPy -> a Numba view of the same memory, no copy
    _resident[key] = (weakref.ref(host, lambda _ref, key=key: _resident.pop(key, None)), device)
    return device


# ---------------------------------------------------------------------- running a loss
class CudaNLL:
    """Runs one lowered loss (:func:`nfit.compile.cuda.lower_nll_cuda`) on the GPU.

    Called like the CPU kernel, ``f(p, c, *data_arrays[, out])`` with host (NumPy) data arrays:
    their device copies are looked up (uploaded on the first call only).
    """

    def __init__(self, kernel, lowered, constants, order):
        from numba import cuda

        self.kernel = kernel
        self.lowered = lowered
        self.order = order
        self.simulator = is_simulator()
        self._cuda = cuda
        self.h = np.zeros(max(1, lowered.h_size))
        self.r = np.zeros(max(1, lowered.r_size))
        self.d_c = cuda.to_device(constants if constants.size else np.zeros(1))
        self.d_h = cuda.device_array(self.h.shape[0])
        self.d_r = cuda.device_array(self.r.shape[0])
        self.d_partial = None
        self._ready = False

    def __call__(self, p, c, *args):
        if not self._ready:
            result = self.kernel.first_call(lambda module: self._run(module, p, c, args))
            self._ready = True
            return result
        return self._run(self.kernel.module, p, c, args)

    def _blocks(self, columns) -> int:
        n = max([int(cols[0].shape[0]) for cols in columns] + [1])
        threads = min(launch.threads for launch in self.lowered.launches)
        limit = MAX_BLOCKS_SIMULATOR if self.simulator else MAX_BLOCKS
        return max(1, min(limit, math.ceil(n / threads)))

    def _run(self, module, p, c, args):
        lowered = self.lowered
        data = args[:-1] if self.order else args
        module.nll_prelude(p, c, self.h)
        self.d_h.copy_to_device(self.h)
        columns = [[to_device(data[i]) for i in launch.columns] for launch in lowered.launches]
        blocks = self._blocks(columns)
        if self.d_partial is None or self.d_partial.shape[0] != blocks:
            self.d_partial = self._cuda.device_array((blocks, max(1, lowered.r_size)))
        for launch, cols in zip(lowered.launches, columns):
            kernel = getattr(module, launch.kernel)
            kernel[blocks, launch.threads](self.d_c, self.d_h, launch.input_offset, cols[0].shape[0], *cols,
                                           self.d_partial, launch.result_offset)
        module.reduce_blocks[max(1, lowered.r_size), module.REDUCE_THREADS](self.d_partial, blocks, self.d_r)
        self.d_r.copy_to_host(self.r)
        if self.order:
            return module.nll_epilogue(p, c, self.h, self.r, args[-1])
        return module.nll_epilogue(p, c, self.h, self.r)


class CudaBackend(Backend):
    """Fused ``@cuda.jit`` kernels on an NVIDIA GPU (``backend="cuda"``)."""

    name = "cuda"

    def check(self) -> None:
        require()

    def loss_kernel(self, program, order):
        key = (self.name,) + program.kernel_key(order)
        kernel = program.kernels.get(key)
        if kernel is None:
            kernel = program.kernels[key] = self._compile(program, order)
        return kernel

    def _compile(self, program, order) -> CompiledKernel:
        from .. import cache
        from ..compile.cuda import lower_nll_cuda

        require()
        simulator = is_simulator()
        lowered = lower_nll_cuda(program.terms, program.layout, program.constraints, order, simulator=simulator)
        constants = np.array(lowered.constants, dtype=np.float64)
        kernel = cache.load(lowered, "nll", backend="cuda-simulator" if simulator else "cuda")
        runner = CudaNLL(kernel, lowered, constants, order)
        return CompiledKernel(runner, constants, output_buffer(program.n_free, order), order, program)

    def pdf_kernel(self, model, norm):
        return NumbaBackend().pdf_kernel(model, norm)
