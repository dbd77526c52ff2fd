"""Compiling kernels in a helper process, so that this one keeps only their machine code.

Numba never frees what it compiles: every dispatcher stays alive with its IR, its LLVM modules and
its code (numba#5976, numba#7831), several megabytes a kernel, and ``cache.clear()`` cannot give
them back. So a serial entry point that can be stored as machine code (:mod:`nfit.compile.native`)
is compiled by a helper process, ``python -m nfit.compile.service``: it imports the generated
module, compiles the entry point for the argument types it is sent, stores the machine code next to
the module, and answers. This process then loads the stored code into an execution engine of its
own, which is freed with the last function that uses it. The helper is started on the first
compile, serves every compile after it, and is started anew once its memory passes
:data:`MAX_HELPER_MB` (it is one process at a time; a forked child starts its own).

Everything else compiles in this process as before: parallel entry points (they run on Numba's
threads here), kernels that call a user's ``@nfit.kernel`` functions (which live in this process),
other platforms than Linux, and any compile the helper could not do; after two helpers in a row
stopped without answering (one that cannot import nfit, say), every compile of the process is done
here. ``NFIT_COMPILE_PROCESS=0`` turns the helper off.

>>> isinstance(enabled(), bool)
True
"""
from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["enabled", "compile_and_store", "HelperFailed", "MAX_HELPER_MB"]

MAX_HELPER_MB = 1500  # the helper is restarted after a compile leaves it above this resident size
_lock = threading.Lock()
_helper: dict = {"process": None, "pid": None, "failures": 0, "busy": False}
MAX_FAILURES = 2  # helpers that stopped without answering, in a row, before this process stops asking


class HelperFailed(RuntimeError):
    """The helper process could not compile or store the kernel (not a typing error): the caller
    compiles in this process instead."""


class HelperTypingError(Exception):
    """Numba rejected the kernel in the helper; ``args[0]`` is Numba's message."""


def enabled() -> bool:
    """Whether serial kernels are compiled in the helper process: on Linux (where stored machine code
    is supported), unless ``NFIT_COMPILE_PROCESS=0``."""
    off = ("0", "false", "no", "off")
    if _helper["failures"] >= MAX_FAILURES:
        return False
    return sys.platform.startswith("linux") and os.environ.get("NFIT_COMPILE_PROCESS", "1").strip().lower() not in off


def compile_and_store(path: Path, entry: str, arg_types: list, timeout: float = 600.0) -> float:
    """Have the helper compile ``entry`` of the generated module at ``path`` for ``arg_types``
    (recorded types, :func:`nfit.compile.native.describe_value`) and store its machine code.

    Returns the helper's compile seconds. Raises :class:`HelperTypingError` where Numba rejects the
    code, :class:`HelperFailed` where the helper could not do it (the caller compiles here)."""
    request = json.dumps({"path": str(path), "entry": entry, "args": arg_types}) + "\n"
    with _lock:
        process = _running_helper()
        try:
            _helper["busy"] = True
            process.stdin.write(request)
            process.stdin.flush()
            line = process.stdout.readline()
        except (OSError, ValueError) as exc:
            _stop_helper()
            _helper["failures"] += 1
            raise HelperFailed(f"the compile helper stopped: {exc}") from None
        finally:
            _helper["busy"] = False
        if not line:
            code = process.poll()
            _stop_helper()
            _helper["failures"] += 1
            raise HelperFailed(f"the compile helper stopped (exit status {code})")
        _helper["failures"] = 0
        answer = json.loads(line)
        if answer.get("rss_mb", 0) > MAX_HELPER_MB:
            _stop_helper()
    if answer["status"] == "typing":
        raise HelperTypingError(answer["message"])
    if answer["status"] != "stored":
        raise HelperFailed(answer.get("message", answer["status"]))
    return float(answer.get("seconds", 0.0))


def _running_helper():
    process = _helper["process"]
    if process is not None and (_helper["pid"] != os.getpid() or process.poll() is not None):
        process = None  # a forked child does not share its parent's pipes
    if process is None:
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        # the helper imports the same nfit as this process, wherever that one came from
        home = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join([home] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
        process = subprocess.Popen([sys.executable, "-m", "nfit.compile.service"], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        _helper.update(process=process, pid=os.getpid())
    return process


def _stop_helper(wait=True):
    process = _helper["process"]
    _helper.update(process=None, pid=None)
    if process is None:
        return
    try:
        process.stdin.close()
        if wait:
            process.wait(timeout=5)
    except Exception:  # noqa: BLE001 - a helper that does not stop is killed
        process.kill()


@atexit.register
def _stop_at_exit():
    if _helper["pid"] == os.getpid():
        # a compile still under way (a tiered fit ended first) is left to finish and store its code
        # by itself: the helper exits when it reads the end of its input
        _stop_helper(wait=not _helper["busy"])


# ---------------------------------------------------------------------- the helper's side
def _serve(stdin, stdout) -> None:
    """Answer compile requests, one JSON line each, until stdin closes."""
    import time

    from . import native, store
    from .numba_api import compile_uncached, is_typing_error

    for line in stdin:
        request = json.loads(line)
        start = time.perf_counter()
        try:
            path = Path(request["path"])
            module = store.import_module(path)
            dispatcher = getattr(module, request["entry"])
            compile_uncached(dispatcher, tuple(native.numba_type(t) for t in request["args"]))
            stored = native.save(path, request["entry"], dispatcher)
            store.write_manifest(path)
            answer = {"status": "stored" if stored else "not stored",
                      "message": "the compiled code could not be stored"}
        except Exception as exc:  # noqa: BLE001 - every failure is reported to the caller
            kind = "typing" if is_typing_error(exc) else "failed"
            answer = {"status": kind, "message": f"{type(exc).__name__}: {exc}"}
        answer["seconds"] = time.perf_counter() - start
        answer["rss_mb"] = _resident_mb()
        try:
            stdout.write(json.dumps(answer) + "\n")
            stdout.flush()
        except (BrokenPipeError, OSError):  # the process that asked has gone; the code is stored
            return


def _resident_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


if __name__ == "__main__":
    _serve(sys.stdin, sys.stdout)
