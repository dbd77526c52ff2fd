import os
import tempfile

import numpy as np
import pytest

# every test session compiles into a folder of its own, so that CI always starts cold (removed at the end)
_SESSION_CACHE = None
if "NFIT_CACHE_DIR" not in os.environ:
    _SESSION_CACHE = os.environ["NFIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="nfit-test-cache-")


def pytest_sessionfinish(session, exitstatus):
    if _SESSION_CACHE is not None:
        import shutil

        nfit.run.wait_for_kernels(timeout=120)  # a kernel still compiling in the background writes there
        shutil.rmtree(_SESSION_CACHE, ignore_errors=True)


def _has_cuda_driver() -> bool:
    import ctypes.util

    return os.path.exists("/dev/nvidiactl") or ctypes.util.find_library("cuda") is not None


# Without a GPU the CUDA backend's tests run in Numba's CUDA simulator. Numba reads this when it is
# imported, so it is set before anything imports it.
if "NUMBA_ENABLE_CUDASIM" not in os.environ and not _has_cuda_driver():
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"

import nfit  # noqa: E402

MODES = ["eager", "compiled"]


@pytest.fixture(params=MODES)
def mode(request):
    return request.param


@pytest.fixture
def obs():
    return nfit.Space("m", limits=(5.0, 5.6))


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    """An empty cache folder of the test's own, nothing in memory before or after."""
    nfit.run.wait_for_kernels()  # no background compile of another test writes into it
    monkeypatch.setenv("NFIT_CACHE_DIR", str(tmp_path / "cache"))
    nfit.cache.clear(disk=False)
    yield tmp_path / "cache"
    nfit.run.wait_for_kernels()
    nfit.cache.clear(disk=False)


@pytest.fixture(autouse=True)
def _restore_mode():
    yield
    nfit.run.wait_for_kernels()  # a kernel compiling in the background belongs to this test
    nfit.run.set_mode_default()


# reproducible property tests in CI; random (exploring) ones on a developer's machine
from hypothesis import settings  # noqa: E402

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def compiled_only(monkeypatch):
    """For tests of the compiled path itself (its kernels, cache, threads): compiled only, as
    ``mode="compiled"`` asks, here and in the processes they start (``NFIT_TIERED=0``); the default
    path would run eagerly until a kernel is compiled (nfit.backends.tiered)."""
    monkeypatch.setenv("NFIT_TIERED", "0")
    with nfit.run.mode("compiled"):
        yield
