"""The Numba CPU backend: fused kernels compiled with ``@njit``, serial or parallel over events.

A loss's kernel is lowered (:func:`nfit.compile.lower.lower_nll`), found or compiled through
:mod:`nfit.cache`, and run serially, or with its events cut into chunks summed in parallel from
:func:`get_parallel_threshold` events on (:func:`use_parallel`). Serial and parallel kernels agree
to rounding.

>>> import numpy as np, nfit
>>> from nfit import backends
>>> use_parallel(10)
False
>>> backends.get("numba").name
'numba'
"""
from __future__ import annotations

import functools

import numpy as np

from ..concurrency import call_parallel, expected_layer, parallel_allowed
from ..layout import ParamLayout
from ..param import model_params
from .base import Backend, CompiledKernel, output_buffer, point_order
from .contention import ParallelOrSerial

__all__ = ["NumbaBackend", "use_parallel", "set_parallel_threshold", "get_parallel_threshold",
           "SLOW_THREADING_FACTOR"]

_threshold = {"events": 20_000}

# Numba's fallback threading layer (no OpenMP, no TBB: the usual case on macOS) wakes its threads
# slowly: on 2 cores a parallel pass at 50k events took 4x a serial one, and parallel paid off only
# from 200k-400k events (OpenMP: from 20k)
SLOW_THREADING_FACTOR = 20

# Starting the threads costs about as much as summing a few thousand events serially (measured on
# 2 cores: the value kernel gains from about 20k events on); a gradient pass costs more per event,
# so its kernel goes parallel at smaller data sets. So does the Hessian kernel's, which runs most
# passes of a fit (the Newton steps before MIGRAD, nfit.newton): at 50k events on 2 cores 0.29 ms a
# pass against 0.62 ms serially. On the default path its serial twin, stored as machine code and
# loaded without Numba (nfit.compile.native), answers while the parallel one compiles. The score
# kernel runs once per weighted HESSE and stays serial up to 5x the threshold.
PARALLEL_FACTOR = {0: 1.0, 1: 0.75, 2: 0.75, "score": 5.0}


def set_parallel_threshold(n_events: int) -> None:
    """Compiled kernels sum the events in parallel (a ``prange`` over chunks of events) from this
    many events on, serially below (default 20,000; gradient kernels from 0.75 and Hessian kernels
    from 5 times that; 20 times more on Numba's slow workqueue threading layer, see
    :func:`use_parallel`). Serial and parallel kernels agree to rounding.

    Example
    -------
    >>> before = get_parallel_threshold()
    >>> set_parallel_threshold(50_000)
    >>> get_parallel_threshold()
    50000
    >>> set_parallel_threshold(before)
    """
    _threshold["events"] = int(n_events)


def get_parallel_threshold() -> int:
    return _threshold["events"]


def use_parallel(n_events: int, scale: float = 1.0) -> bool:
    """Whether a compiled kernel over ``n_events`` events sums them in parallel: from ``scale`` times
    the parallel threshold on, or :data:`SLOW_THREADING_FACTOR` times that on Numba's workqueue layer.

    >>> use_parallel(10)
    False
    """
    threshold = _threshold["events"] * scale
    if n_events < threshold or not parallel_allowed():
        return False
    return expected_layer() != "workqueue" or n_events >= threshold * SLOW_THREADING_FACTOR


class NumbaBackend(Backend):
    """Fused ``@njit`` kernels on the CPU (``backend="numba"``, the default)."""

    name = "numba"

    def key(self, program, order) -> tuple:
        return (self.name,) + program.kernel_key(order)

    def loss_kernel(self, program, order):
        key = self.key(program, order)
        kernel = program.kernels.get(key)
        if kernel is None:
            kernel = program.kernels[key] = self._compile(program, order, self.parallel(program, order))
        return kernel

    def parallel(self, program, order) -> bool:
        """Whether :meth:`loss_kernel` of ``order`` sums the events in parallel (by the data size)."""
        return use_parallel(program.n_events, PARALLEL_FACTOR[order])

    def serial_kernel(self, program, order) -> CompiledKernel:
        """The serial kernel of ``order`` whatever the data size: compiled in the helper process and
        loaded as machine code, so compiling it takes nothing from this process (the default path's
        first step, :mod:`nfit.backends.tiered`)."""
        if not self.parallel(program, order):
            return self.loss_kernel(program, order)
        key = self.key(program, order) + ("serial",)
        kernel = program.parts.get(key)
        if kernel is None:
            kernel = program.parts[key] = self._compile(program, order, False)
        return kernel

    def _lowered(self, program, order):
        """The kernel source of ``order`` (lowered once per free set)."""
        from ..compile.lower import lower_nll

        key = ("lowered",) + self.key(program, order)[1:3]
        lowered = program.parts.get(key)
        if lowered is None:
            lowered = program.parts[key] = lower_nll(program.terms, program.layout, program.constraints, order)
        return lowered

    def prepare(self, program, order):
        """The first, quick part of making a kernel: its source lowered and looked up in (or written to)
        the cache; what remains is loading or compiling its code."""
        from .. import cache

        key = ("prepared",) + self.key(program, order)[1:3]
        prepared = program.parts.get(key)
        if prepared is None:
            lowered = self._lowered(program, order)
            constants = np.array(lowered.constants, dtype=np.float64)
            prepared = program.parts[key] = (cache.load(lowered, "nll"), constants)
        return prepared

    def _compile(self, program, order, parallel) -> CompiledKernel:
        kernel, constants = self.prepare(program, order)
        out = output_buffer(program.n_free, order)
        point = program.layout.vector(order=point_order(order))
        args = (point, constants, *program.arrays_at(None)) + ((out,) if order else ())
        if parallel and kernel.helper_compiles_serial():
            # the serial twin (the contention guard's) compiled by the helper process while this process
            # compiles the parallel kernel: ready before the fits, which it would slow down otherwise
            from .tiered import start_in_background

            start_in_background(f"serial twin of the loss kernel of order {order}",
                                lambda: self.serial_kernel(program, order), quiet=True)
        function = kernel.function(parallel, args)
        if parallel:  # the chunk helpers go in last; the serial twin takes over while it is faster
            function = ParallelOrSerial(functools.partial(_call_with, function, kernel.chunk_functions()),
                                        functools.partial(_serial_function, self, program, order))
        return CompiledKernel(function, constants, out, order, program)

    def has_kernel(self, program, order) -> bool:
        if self.key(program, order) in program.kernels:
            return True
        from .. import cache

        return cache.compiled_in_memory(self._lowered(program, order), lambda: self.parallel(program, order))

    def stored(self, program, order, parallel=None) -> bool:
        """Whether the kernel of ``order`` (``parallel``: the parallel or the serial one; None: the one
        :meth:`loss_kernel` runs) loads from the disk cache as machine code, without Numba."""
        from .. import cache

        parallel = self.parallel(program, order) if parallel is None else parallel
        return cache.stored_on_disk(self._lowered(program, order), "nll", parallel)

    def calls_user_code(self, program, order) -> bool:
        """Whether the kernel calls kernel code that is not nfit's own (a user's ``@nfit.kernel``
        functions or kernel module): code Numba may reject, so such a kernel is compiled before it
        runs and an error shows at once."""
        return any(not getattr(m, "__name__", "").startswith("nfit.kernels.")
                   for m in self._lowered(program, order).kernel_modules)

    def has_pdf_kernel(self, model, norm) -> bool:
        """Whether ``model``'s density kernel for ``norm`` is ready in this process."""
        return norm in model.__dict__.get("_pdf_kernels", {})

    def pdf_kernel(self, model, norm):
        compiled, layout, constants = _pdf_kernel(model, norm)

        def kernel(arrays):
            p = layout.vector()
            out = np.empty(len(arrays[0]))
            parallel = use_parallel(len(out))
            function = compiled.function(parallel, (p, constants, *arrays, out))
            if parallel:
                call_parallel(function, p, constants, *arrays, out)
            else:
                function(p, constants, *arrays, out)
            return out

        return kernel


def _serial_function(backend, program, order):
    return backend.serial_kernel(program, order).function


def _call_with(function, extra, *args):
    return call_parallel(function, *args, *extra)


def _pdf_kernel(model, norm):
    """(kernel, layout, constants) of ``model``'s density, kept on the model (dropped when pickled)."""
    from .. import cache
    from ..compile.lower import lower_pdf

    store = model.__dict__.setdefault("_pdf_kernels", {})
    if norm not in store:
        layout = ParamLayout(model_params(model))
        lowered = lower_pdf(model, norm, layout)
        store[norm] = (cache.load(lowered, "pdf"), layout, np.array(lowered.constants, dtype=np.float64))
    return store[norm]
