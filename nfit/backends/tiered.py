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

from .base import Backend

__all__ = ["TieredBackend", "TieredKernel", "wait", "pending"]

EAGER_EVENTS = 4_000_000  # beyond this many events, one eager pass costs about a compile: wait for it
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
        key = (self.name, self.target.name) + program.kernel_key(order)
        kernel = program.kernels.get(key)
        if kernel is None:
            target = self.target
            if target.has_kernel(program, order) or target.stored(program, order) \
                    or target.calls_user_code(program, order):
                return target.loss_kernel(program, order)
            kernel = program.kernels.setdefault(key, TieredKernel(self, program, order))
        return kernel.settled() or kernel

    def compiling(self, program, order) -> "_Compile":
        """The background compile of ``program``'s kernel of ``order``, started on first request."""
        key = _job_key(self, program, order)
        job = program.parts.get(key)
        if job is None:
            job = program.parts.setdefault(key, _Compile())
            target = self.target
            target.prepare(program, order)  # the signature now, so the cache counts it at once
            serial = getattr(target, "serial_kernel", None)
            if serial is not None and target.stored(program, order, parallel=False):
                job.first(serial(program, order))  # stored machine code: milliseconds, without Numba

            def build():
                # first the serial kernel, compiled in the helper process (the eager passes here keep
                # the interpreter); then, where the data call for it, the parallel one (compiled here,
                # while the serial one runs without holding the interpreter)
                # (over more data than an eager pass can take, the caller waits: the final kernel only)
                if serial is not None and job.kernel is None and program.n_events <= EAGER_EVENTS:
                    job.first(serial(program, order))
                return target.loss_kernel(program, order)

            _start(f"loss kernel of order {order}", build, job.done)
        return job

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
        # a tiered kernel of order 1 takes its gradients from the compiled Hessian kernel by itself
        # while that is the one ready, and runs eagerly (a gradient pass, a third of a Hessian pass)
        # while none is
        return False


class _Compile:
    """A kernel compiling in the background: ``kernel`` as soon as one is ready (a serial one may come
    first), ``finished`` with the final one, ``error`` if it failed."""

    def __init__(self):
        self.kernel = None
        self.error = None
        self.finished = False
        self.ready = threading.Event()  # set once a kernel (or an error) is there

    def first(self, kernel):
        self.kernel = kernel
        self.ready.set()

    def done(self, result):
        if isinstance(result, BaseException):
            self.error = result
        else:
            self.kernel = result
            self.finished = True
        self.ready.set()


class TieredKernel:
    """A loss kernel of ``order`` that answers on the eager path until a compiled kernel can.

    A loss's first fit compiles one kernel, of the highest order it has exactly (the Hessian kernel
    gives gradients and values too; its point is rebuilt for it); after the first fit
    (``program.fitted``) each order compiles its own, cheaper kernel, which takes over once ready.
    """

    provisional = True  # the kernel that answers changes during a fit: look it up on each pass

    def __init__(self, backend, program, order):
        self.backend = backend
        self.program = program
        self.order = order
        self.eager = backend.eager.loss_kernel(program, order)
        self._own = None
        self._start()

    def _start(self):
        program, order = self.program, self.order
        wanted = order
        if wanted == order:
            self._own = self.backend.compiling(program, order)
        else:
            self.backend.compiling(program, wanted)

    def settled(self):
        """The compiled kernel of this very order once it is ready (the loss then calls it directly)."""
        own = self._own
        return own.kernel if own is not None and own.finished else None

    def __call__(self, p):
        own = self._own
        if own is not None:
            if own.kernel is None and own.error is None and self.program.n_events > EAGER_EVENTS:
                own.ready.wait()  # an eager pass over this much data takes longer than the compiler
            if own.kernel is not None:
                return own.kernel(p)
            if own.error is not None:
                raise own.error
        elif self.program.fitted:
            self._own = self.backend.compiling(self.program, self.order)
        if self.order in (0, 1):
            higher = self.program.parts.get(_job_key(self.backend, self.program, 2))
            if higher is not None and higher.kernel is not None:
                q = p.copy()
                self.program.layout.fill_python_composed(q, 2)
                value, grad, _ = higher.kernel(q)
                return value, grad if self.order else None, None
        return self.eager(p)


def _job_key(backend, program, order) -> tuple:
    return ("tiered", backend.target.name) + program.kernel_key(order)


def _remember_failure(store, norm, result):
    if isinstance(result, BaseException):
        store[("failed", norm)] = result


def start_in_background(what, build, quiet=False) -> None:
    """Run ``build()`` in a daemon thread that :func:`wait` (and a fork) waits for; ``quiet``: a
    failure is left to whoever asks for the same again (it raises there), without a warning."""
    _start(what, build, lambda result: None, quiet)


def _start(what, build, done, quiet=False) -> None:
    """Run ``build()`` in a daemon thread; hand ``done`` its result (or the exception it raised)."""
    token = object()

    def work():
        try:
            result = build()
        except BaseException as exc:  # noqa: BLE001 - handed to the kernel, raised on its next call
            if not quiet:
                warnings.warn(f"nfit: compiling the {what} failed ({type(exc).__name__}); the next call raises it",
                              RuntimeWarning, stacklevel=1)
            result = exc
        done(result)
        with _finished:
            _pending.discard(token)
            _finished.notify_all()

    _register_fork_hook()
    with _pending_lock:
        _pending.add(token)
    threading.Thread(target=work, name=f"nfit compile: {what}", daemon=True).start()


def _before_fork():
    # a thread compiling holds locks (nfit's cache, Numba's compiler, LLVM's) that a forked child would
    # find taken forever: fork only once the background compiles are done
    wait()


def _register_fork_hook():
    """Wait for the background compiles before a fork. Registered when the first one starts, after
    ``logging``'s hook: hooks run before a fork in reverse order of registration, and logging's takes
    its module lock, which a compiling thread may need to finish."""
    if _fork_hook or not hasattr(os, "register_at_fork"):
        return
    import logging  # noqa: F401 - registers its own hook first

    os.register_at_fork(before=_before_fork)
    _fork_hook.append(True)


_fork_hook: list = []


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
