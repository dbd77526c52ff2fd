"""The GPU as a user sees it: whether the CUDA backend can run here, and device-resident data.

The backend itself is :mod:`nfit.backends.cuda`; choose it with ``nfit.run.set_backend("cuda")`` or
``backend="cuda"`` on a loss. Without a GPU, Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``)
runs the same kernels on the CPU, slowly, for tests.

>>> import nfit
>>> nfit.gpu.status()["backend"] in ("cuda", "simulator", "unavailable")
True
"""
from __future__ import annotations

from .backends.cuda import (
           CudaUnavailableError,
           is_device_array,
           is_simulator,
           require,
           stats,
           status,
           to_device,
           to_host,
)

__all__ = ["CudaUnavailableError", "status", "require", "is_simulator", "is_device_array", "to_device",
           "to_host", "stats"]
