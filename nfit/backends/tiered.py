"""Tiered execution: never wait for the compiler.

The default path (compiled, when the user has not chosen a mode) runs a kernel that is not compiled
yet on the eager path at once, while a background thread has it compiled — in the compile helper
process where it can (:mod:`nfit.compile.service`), so the eager passes keep the interpreter — and
switches to the compiled kernel as soon as it is ready. A kernel this process has already, or can
load from the disk cache as stored machine code, is used at once. The eager and compiled paths
agree to about 1e-10, so a fit that switches paths midway ends where either would.

``mode="compiled"`` given explicitly (on a loss, or through :func:`nfit.run.set_mode`) means
compiled only: the first call waits for the compiler. :func:`wait` waits for the kernels being
compiled in the background (tests, and scripts that want them stored before they go on); a fork
waits for them too (a child would find their locks taken), and a kernel that calls a user's
``@nfit.kernel`` functions is compiled before it runs (Numba may reject a user's code: the error
shows at once).

>>> from nfit import backends
>>> backends.select("compiled", "numba", explicit=False).name
'tiered'
"""
from __future__ import annotations

import os
import threading
import warnings

from ..concurrency import parallel_allowed
from .base import Backend

__all__ = ["TieredBackend", "TieredKernel", "wait", "pending"]

_pending: set = set()  # the background compiles under way
_pending_lock = threading.Lock()
_finished = threading.Condition(_pending_lock)


class TieredBackend(Backend):
    """Eager now, ``target`` (a compiled backend) as soon as its kernel is ready."""

    name = "tiered"
    compiled = False  # not a backend= name: the policy of the default path over a compiled backend

    def __init__(self, target: Backend, eager: Backend):
        self.target = target
        self.eager = eager

    def loss_kernel(self, program, order):
        key = (self.name, self.target.name, order, tuple(id(q) for q in program.layout.floating) if order else (),
               parallel_allowed())
        kernel = program.kernels.get(key)
        if kernel is None:
            target = self.target
            if target.has_kernel(program, order) or target.stored(program, order) \
                    or target.calls_user_code(program, order):
                return target.loss_kernel(program, order)
            kernel = program.kernels.setdefault(key, TieredKernel(self, program, order))
        return kernel.settled() or kernel

    def pdf_kernel(self, model, norm):
        if self.target.has_pdf_kernel(model, norm):
            return self.target.pdf_kernel(model, norm)
        store = model.__dict__.setdefault("_pdf_kernels", {})  # dropped when the model is pickled
        failed = store.pop(("failed", norm), None)
        if failed is not None:
            raise failed
        eager = self.eager.pdf_kernel(model, norm)

        def kernel(arrays):
            out = eager(arrays)
            if ("compiling", norm) not in store:  # once the density evaluates: once per model and range
                store[("compiling", norm)] = True
                _start(f"density kernel of {model.name!r}", lambda: self.target.pdf_kernel(model, norm),
                       lambda result: _remember_failure(store, norm, result))
            return out

        return kernel

    def has_kernel(self, program, order) -> bool:
        return self.target.has_kernel(program, order)

    def gradient_from_hessian(self, program, fitted) -> bool:
        if self.target.has_kernel(program, 1):
            return False
        if fitted and self.target.has_kernel(program, 2):
            self.loss_kernel(program, 1)  # compiles the gradient kernel in the background meanwhile
            return True
        return not fitted


class TieredKernel:
    """A loss kernel that answers on the eager path until its compiled twin is ready."""

    def __init__(self, backend, program, order):
        self.order = order
        self.eager = backend.eager.loss_kernel(program, order)
        self.compiled = None
        self.error = None
        backend.target.prepare(program, order)  # the signature now, so the cache counts it at once
        _start(f"loss kernel of order {order}", lambda: backend.target.loss_kernel(program, order), self._done)

    def _done(self, result):
        if isinstance(result, BaseException):
            self.error = result
        else:
            self.compiled = result

    def settled(self):
        """The compiled kernel once it is ready (then the loss keeps asking for it directly)."""
        return self.compiled

    def __call__(self, p):
        compiled = self.compiled
        if compiled is not None:
            return compiled(p)
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        return self.eager(p)


def _remember_failure(store, norm, result):
    if isinstance(result, BaseException):
        store[("failed", norm)] = result


def _start(what, build, done) -> None:
    """Run ``build()`` in a daemon thread; hand ``done`` its result (or the exception it raised)."""
    token = object()

    def work():
        try:
            result = build()
        except BaseException as exc:  # noqa: BLE001 - handed to the kernel, raised on its next call
            warnings.warn(f"nfit: compiling the {what} failed ({type(exc).__name__}); the next call raises it",
                          RuntimeWarning, stacklevel=1)
            result = exc
        done(result)
        with _finished:
            _pending.discard(token)
            _finished.notify_all()

    with _pending_lock:
        _pending.add(token)
    threading.Thread(target=work, name=f"nfit compile: {what}", daemon=True).start()


def _before_fork():
    # a thread compiling holds locks (nfit's cache, Numba's compiler) that a forked child would find
    # taken forever: fork only once the background compiles are done
    wait()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork)


def pending() -> int:
    """How many kernels are being compiled in the background now."""
    with _pending_lock:
        return len(_pending)


def wait(timeout=None) -> bool:
    """Wait until no kernel is being compiled in the background (at most ``timeout`` seconds);
    True if none is left.

    Example
    -------
    >>> wait()
    True
    """
    with _finished:
        return _finished.wait_for(lambda: not _pending, timeout)
