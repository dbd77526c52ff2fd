"""Tiered execution (nfit.backends.tiered): on the default path a kernel that is not compiled yet
runs eagerly at once while it compiles in the background; mode="compiled" given explicitly, and
NFIT_TIERED=0, compile first; the results are the paths' to their agreement."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import nfit
from nfit import backends
from nfit.backends.base import CompiledKernel
from nfit.backends.tiered import TieredKernel


def _loss(mode=None, n=4000, seed=3):
    obs = nfit.Space("x", -4, 6)
    mu = nfit.Parameter("mu", 0.3, -1, 1)
    sigma = nfit.Parameter("sigma", 1.2, 0.3, 3)
    lam = nfit.Parameter("lam", -0.4, -2, 0)
    nsig = nfit.Parameter("nsig", 1500, 0, 10_000)
    nbkg = nfit.Parameter("nbkg", 2500, 0, 10_000)
    model = nfit.pdf.SumPDF([nfit.pdf.CrystalBall(mu=mu, sigma=sigma, alpha=1.3, n=4.0, obs=obs, extended=nsig),
                             nfit.pdf.Exponential(lam=lam, obs=obs, extended=nbkg)])
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.normal(0.0, 1.0, n // 3), rng.exponential(3.0, n) - 4.0])
    return nfit.loss.ExtendedUnbinnedNLL(model=model, data=nfit.Data.from_numpy(obs, x[(x > -4) & (x < 6)]),
                                         mode=mode)


def test_default_path_answers_eagerly_then_compiled(fresh_cache):
    loss = _loss()
    eager = _loss(mode="eager")
    assert nfit.run.current_backend().name == "tiered"
    first = loss.value()
    kernel = loss._backend_now().loss_kernel(loss._program, 0)
    assert isinstance(kernel, TieredKernel)  # nothing compiled in this cache: the first answer was eager
    assert first == eager.value()
    assert nfit.cache.info()["misses"] == 1  # the kernel's signature was looked up at once
    assert nfit.run.wait_for_kernels(timeout=300)
    assert isinstance(loss._backend_now().loss_kernel(loss._program, 0), CompiledKernel)
    assert loss.value() == pytest.approx(first, rel=1e-12)
    assert loss.value() == _loss(mode="compiled").value()


def test_a_fit_on_the_default_path_ends_where_the_compiled_one_does(fresh_cache):
    tiered = _loss()
    result = nfit.minimize.Minuit().minimize(tiered)
    result.hesse()
    compiled = _loss(mode="compiled")
    reference = nfit.minimize.Minuit().minimize(compiled)
    reference.hesse()
    assert result.valid and reference.valid
    assert result.fmin == pytest.approx(reference.fmin, rel=1e-10)
    for p, q in zip(tiered.get_params(), compiled.get_params()):
        error = reference.params[q]["hesse"]["error"]
        assert result.params[p]["value"] == pytest.approx(reference.params[q]["value"], abs=2e-3 * error)
        assert result.params[p]["hesse"]["error"] == pytest.approx(reference.params[q]["hesse"]["error"], rel=1e-3)


def test_explicit_compiled_mode_compiles_first(fresh_cache):
    loss = _loss(mode="compiled")
    loss.value()
    assert isinstance(loss._backend_now().loss_kernel(loss._program, 0), CompiledKernel)
    assert backends.tiered.pending() == 0
    nfit.run.set_mode("compiled")  # globally, too
    try:
        assert nfit.run.current_backend().name == "numba"
        assert nfit.run.get_mode() == "compiled"
    finally:
        nfit.run.set_mode_default()
    assert nfit.run.current_backend().name == "tiered"
    with nfit.run.mode("compiled"):
        assert nfit.run.current_backend().name == "numba"
    assert nfit.run.current_backend("compiled").name == "numba"
    assert nfit.run.current_backend("eager").name == "eager"


def test_a_kernel_on_disk_is_loaded_not_run_eagerly(fresh_cache):
    _loss(mode="compiled").value()  # compiled and stored
    nfit.cache.clear(disk=False)
    loss = _loss()
    assert nfit.cache.info()["stored_code_entries"] >= 1
    loss.value()
    assert isinstance(loss._backend_now().loss_kernel(loss._program, 0), CompiledKernel)


def test_user_kernels_compile_before_they_run(fresh_cache):
    @nfit.kernel
    def bump(x, a):
        return 1.0 + a * x * x

    obs = nfit.Space("x", -1, 1)
    loss = nfit.loss.UnbinnedNLL(model=bump.pdf(obs=obs, a=nfit.Parameter("a", 0.5, 0, 2)),
                                 data=nfit.Data.from_numpy(obs, np.linspace(-0.9, 0.9, 50)))
    loss.value()
    assert isinstance(loss._backend_now().loss_kernel(loss._program, 0), CompiledKernel)


def test_tiered_pdf_values_are_the_compiled_ones():
    obs = nfit.Space("x", -3, 3)
    pdf = nfit.pdf.JohnsonSU(mu=0.1, lambd=1.1, gamma=0.2, delta=1.5, obs=obs)
    x = np.linspace(-2.9, 2.9, 41)
    first = pdf.pdf(x)
    assert nfit.run.wait_for_kernels(timeout=300)
    np.testing.assert_allclose(pdf.pdf(x), first, rtol=1e-12)
    np.testing.assert_allclose(pdf.pdf(x, mode="compiled"), pdf.pdf(x, mode="eager"), rtol=1e-12)


def test_a_loss_shared_by_threads_while_it_compiles(fresh_cache):
    import threading

    loss = _loss()
    values = np.array([q.value() for q in loss.get_params()])
    expected = _loss(mode="eager")(values)
    got, errors = [], []

    def work():
        try:
            for _ in range(20):
                got.append(loss(values))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert errors == []
    np.testing.assert_allclose(got, expected, rtol=1e-10)


SCRIPT = textwrap.dedent("""
    import json, sys
    sys.path.insert(0, {tests!r})
    from test_tiered import _loss
    import nfit
    loss = _loss()
    loss.value()
    print(json.dumps({{"backend": nfit.run.current_backend().name,
                       "kernel": type(loss._backend_now().loss_kernel(loss._program, 0)).__name__}}))
""")


@pytest.mark.parametrize("tiered", ["1", "0"])
def test_nfit_tiered_environment_variable(tmp_path, tiered):
    env = dict(os.environ, NFIT_CACHE_DIR=str(tmp_path), NFIT_TIERED=tiered)
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(tests=os.path.dirname(__file__))],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    if tiered == "1":
        assert answer == {"backend": "tiered", "kernel": "TieredKernel"}
    else:
        assert answer == {"backend": "numba", "kernel": "CompiledKernel"}


def test_kernel_signature_does_not_read_a_half_imported_numba(monkeypatch):
    """A compiling thread may be importing Numba while a fit asks for a kernel's signature: the
    half-initialised module has no __version__ yet, so the version comes from the package metadata."""
    import sys
    import types
    from importlib.metadata import version

    from nfit.compile import key

    key.numba_version.cache_clear()
    monkeypatch.setitem(sys.modules, "numba", types.ModuleType("numba"))  # what a partial import looks like
    try:
        assert key.numba_version() == version("numba")
    finally:
        key.numba_version.cache_clear()


def test_over_much_data_the_default_path_waits_for_the_compiler(fresh_cache, monkeypatch):
    """Where one eager pass costs about a compile (EAGER_EVENTS), the first call waits for the compiled
    kernel rather than answering eagerly; the answer is the compiled path's."""
    from nfit.backends import tiered

    monkeypatch.setattr(tiered, "EAGER_EVENTS", 1000)  # the test's 4000 events count as "much data"
    loss = _loss()
    eager_calls = []
    kernel = loss._backend_now().loss_kernel(loss._program, 0)
    assert isinstance(kernel, TieredKernel)
    original = kernel.eager
    kernel.eager = lambda p: eager_calls.append(p) or original(p)
    value = loss.value()
    assert eager_calls == []
    assert value == _loss(mode="compiled").value()
