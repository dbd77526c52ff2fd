"""The cache is correct, bounded and safe: what a user kernel reads from a module is part of its key;
memory stays flat while models come and go (kernels compiled in the helper process); the disk cache
is pruned least-recently-used first; an unusable or unsafe folder gives one warning and a private
folder; stored code is bound to the source it was made from."""
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

import nfit
from nfit import cache
from nfit.compile import native, service, store

pytestmark = pytest.mark.usefixtures("compiled_only")  # tests of the compiled path itself


def _gauss_loss(n_coeffs=0, seed=1):
    obs = nfit.Space("x", limits=(-3, 3))
    x = np.random.default_rng(seed).normal(0, 1, 500)
    data = nfit.Data.from_numpy(obs, x[np.abs(x) < 3])
    model = nfit.pdf.Gauss(mu=nfit.Parameter("mu", 0.1, -1, 1), sigma=nfit.Parameter("sg", 1.0, 0.2, 3), obs=obs)
    if n_coeffs:
        cheb = nfit.pdf.Chebyshev(obs=obs, coeffs=[nfit.Parameter(f"c{j}", 0.01, -1, 1) for j in range(n_coeffs)])
        model = nfit.pdf.SumPDF([model, cheb], fracs=[nfit.Parameter("f", 0.5, 0, 1)])
    return nfit.loss.UnbinnedNLL(model=model, data=data)


MODULE_ATTRIBUTE = """
import sys
sys.path.insert(0, {folder!r})
import numpy as np, nfit
import settings_under_test as cfg

@nfit.kernel
def shape(x, a):
    return 1.0 + cfg.FACTOR * a * x * x

obs = nfit.Space("x", limits=(-1, 1))
a = nfit.Parameter("a", 0.5, 0, 2)
data = nfit.Data.from_numpy(obs, np.linspace(-0.9, 0.9, 50))
compiled = nfit.loss.UnbinnedNLL(model=shape.pdf(obs=obs, a=a), data=data).value()
eager = nfit.loss.UnbinnedNLL(model=shape.pdf(obs=obs, a=a), data=data, mode="eager").value()
print(compiled, eager)
"""


def test_a_module_attribute_a_kernel_reads_is_part_of_its_key(tmp_path):
    settings = tmp_path / "settings_under_test.py"
    env = dict(os.environ, NFIT_CACHE_DIR=str(tmp_path / "cache"))
    script = MODULE_ATTRIBUTE.format(folder=str(tmp_path))
    values = []
    for factor in ("1.0", "3.0", "1.0"):
        settings.write_text(f"FACTOR = {factor}\n")
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr[-3000:]
        compiled, eager = map(float, out.stdout.split())
        assert compiled == pytest.approx(eager, rel=1e-10)
        values.append(compiled)
    assert values[0] != values[1] and values[0] == values[2]


MEMORY = """
import gc, json, sys
import numpy as np, nfit
obs = nfit.Space("x", limits=(-3, 3))
x = np.random.default_rng(1).normal(0, 1, 1000)
data = nfit.Data.from_numpy(obs, x[np.abs(x) < 3])

def resident_mb():
    with open("/proc/self/statm") as f:
        import os
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

def model(i):
    coeffs = [nfit.Parameter(f"c{i}_{j}", 0.01, -1, 1) for j in range(i % 6 + 1)]
    parts = [nfit.pdf.Chebyshev(obs=obs, coeffs=coeffs), nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=obs)]
    if i >= 6:
        parts.append(nfit.pdf.Exponential(lam=nfit.Parameter(f"l{i}", -0.1, -1, 1), obs=obs))
    fracs = [nfit.Parameter(f"f{i}_{j}", 0.2, 0, 1) for j in range(len(parts) - 1)]
    return nfit.loss.UnbinnedNLL(model=nfit.pdf.SumPDF(parts, fracs=fracs), data=data)

rss = []
for i in range(12):
    loss = model(i)
    loss.value(), loss.gradient()
    del loss
    gc.collect()
    rss.append(resident_mb())
print(json.dumps({"rss": rss, "numba": "numba" in sys.modules}))
"""


@pytest.mark.skipif(not service.enabled() or not sys.platform.startswith("linux"), reason="needs the compile helper")
def test_memory_stays_flat_while_models_come_and_go(tmp_path):
    import json

    env = dict(os.environ, NFIT_CACHE_DIR=str(tmp_path), NFIT_CACHE_MEMORY_KERNELS="4")
    out = subprocess.run([sys.executable, "-c", MEMORY], capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert not result["numba"]  # compiled by the helper: Numba's compile state is not in this process
    rss = result["rss"]
    # compiled in this process, each of these models keeps 5-10 MB for good (Numba never frees)
    assert rss[-1] - rss[3] < 12, rss


def test_clear_lets_go_of_every_kernel(fresh_cache):
    import gc
    import weakref

    loss = _gauss_loss()
    loss.value()
    function = weakref.ref(loss._kernel(0)[0])
    del loss
    cache.clear(disk=False)
    gc.collect()
    assert function() is None
    assert cache.info()["entries"] == 0


def test_memory_keeps_only_recent_unused_kernels(fresh_cache, monkeypatch):
    monkeypatch.setenv("NFIT_CACHE_MEMORY_KERNELS", "2")
    held = _gauss_loss(0)
    held.value()
    for n in (1, 2, 3):
        _gauss_loss(n).value()
    assert len(cache._memory) == 2
    import gc

    gc.collect()
    assert held._kernel(0)[0](held._layout.vector(), held._kernel(0)[1], *held._arrays) == held.value()
    assert cache.info()["entries"] == 3  # two recent ones, and the one a loss still holds


def test_disk_cache_is_pruned_least_recently_used_first(fresh_cache, monkeypatch):
    for n in (0, 1, 2):
        _gauss_loss(n).value()
    cache.clear(disk=False)
    groups = cache._entries(fresh_cache)
    assert len(groups) == 3
    order = sorted(groups)
    for age, stem in enumerate(order):  # the first is the oldest
        for suffix in (".py", ".manifest"):  # when it was last used
            if (fresh_cache / f"{stem}{suffix}").exists():
                os.utime(fresh_cache / f"{stem}{suffix}", (1e9 + age, 1e9 + age))
    sizes = {stem: cache._size(files) for stem, files in groups.items()}
    limit = sizes[order[2]] + sizes[order[1]] // 2  # room for a little more than the newest
    assert cache.prune(limit) == 2
    assert list(cache._entries(fresh_cache)) == [order[2]]
    assert cache.info()["disk_bytes"] <= limit
    monkeypatch.setenv("NFIT_CACHE_MAX_MB", "0")
    assert cache.disk_limit() == 0 and cache.prune() == 0  # 0: no limit


def test_disk_limit_applies_as_kernels_are_written(fresh_cache, monkeypatch):
    monkeypatch.setenv("NFIT_CACHE_MAX_MB", str(1e-6))  # about one byte: only the kernel in use stays
    for n in (1, 2, 3):
        loss = _gauss_loss(n)
        loss.value()
        assert list(cache._entries(fresh_cache)) == [loss._kernel(0)[0].name.split(".")[0]]
        del loss
        cache.clear(disk=False)
    assert cache.info()["disk_limit_bytes"] == 1


def _fit_works():
    loss = _gauss_loss()
    result = nfit.minimize.Minuit().minimize(loss)
    return result.valid


def test_uncreatable_folder_warns_once_and_fits(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("NFIT_CACHE_DIR", str(blocker / "cache"))
    cache.clear(disk=False)
    with pytest.warns(UserWarning, match="cannot be created") as record:
        assert _fit_works()
        assert _fit_works()
    assert sum("nfit cache" in str(w.message) for w in record) == 1
    used = cache.folder()
    assert used != blocker / "cache" and used.stat().st_mode & 0o777 == 0o700


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX ownership")
def test_a_folder_others_can_write_is_refused(tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("NFIT_CACHE_DIR", str(shared))
    cache.clear(disk=False)
    with pytest.warns(UserWarning, match="can be written by other users"):
        assert _fit_works()
    assert cache.folder() != shared and not list(shared.glob("nfit_k_*"))


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="needs root to give a folder away")
def test_a_folder_of_another_user_is_refused(tmp_path, monkeypatch):
    theirs = tmp_path / "theirs"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, 65534, 65534)
    monkeypatch.setenv("NFIT_CACHE_DIR", str(theirs))
    cache.clear(disk=False)
    with pytest.warns(UserWarning, match="belongs to another user"):
        assert _fit_works()
    assert not list(theirs.glob("nfit_k_*"))


def test_new_cache_folder_is_private(tmp_path, monkeypatch):
    monkeypatch.setenv("NFIT_CACHE_DIR", str(tmp_path / "new" / "cache"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert cache.folder().stat().st_mode & 0o777 == 0o700


def test_stored_code_is_bound_to_its_source(fresh_cache, monkeypatch):
    monkeypatch.setenv("NFIT_NATIVE_KERNELS", "1")
    loss = _gauss_loss()
    value = loss.value()
    source = next(fresh_cache.glob("nfit_k_*.py"))
    assert native.load(source, "nll_serial", fallback=None) is not None
    # the same stored file beside a source that differs by one comment is not trusted
    text = source.read_text()
    source.write_text(text + "# edited\n")
    with pytest.raises(native.Damaged):
        native.load(source, "nll_serial", fallback=None)
    source.write_text(text)
    cache.clear(disk=False)
    assert _gauss_loss().value() == pytest.approx(value, rel=1e-12)


def test_numba_files_are_bound_to_their_source(fresh_cache, monkeypatch):
    monkeypatch.setenv("NFIT_COMPILE_PROCESS", "0")  # compiled here, into Numba's cache
    _gauss_loss().value()
    source = next(fresh_cache.glob("nfit_k_*.py"))
    files = cache._numba_files(source)
    assert files
    cache._verify_numba_files(source)
    assert cache._numba_files(source) == files
    source.write_text(source.read_text() + "# edited\n")
    cache._verify_numba_files(source)
    assert cache._numba_files(source) == []


def test_the_helper_reports_numbas_message(fresh_cache):
    fresh_cache.mkdir(parents=True, exist_ok=True)
    bad = fresh_cache / "nfit_k_bad0000000000000000000000000000000000.py"
    bad.write_text(textwrap.dedent("""
        import numba

        @numba.njit(cache=True)
        def nll_serial(p):
            return p.no_such_attribute
    """))
    if not service.enabled():
        pytest.skip("no compile helper here")
    with pytest.raises(service.HelperTypingError, match="no_such_attribute"):
        service.compile_and_store(bad, "nll_serial", [["array", "float64", 1, "C", True]])
    error = cache._compile_error_text(bad, "TypingError: something", ())
    assert "nll_serial" in str(error) and "TypingError: something" in str(error)


def test_a_helper_that_died_is_started_again(fresh_cache):
    if not service.enabled():
        pytest.skip("no compile helper here")
    _gauss_loss(0).value()
    process = service._helper["process"]
    assert process is not None and process.poll() is None
    process.kill()
    process.wait()
    loss = _gauss_loss(2)
    eager = nfit.loss.UnbinnedNLL(model=loss.model, data=loss.data, mode="eager").value()
    assert loss.value() == pytest.approx(eager, rel=1e-10)
    assert service._helper["process"].poll() is None


def test_cache_info_command_shows_the_size(capsys, fresh_cache):
    _gauss_loss().value()
    from nfit import cli

    assert cli.main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert "disk_bytes" in out and "MB" in out and "disk_limit_bytes" in out


def test_generated_module_path_is_inside_the_folder(fresh_cache):
    _gauss_loss().value()
    for path in fresh_cache.iterdir():
        assert Path(path).resolve().parent == fresh_cache.resolve()


def test_a_folder_that_fails_while_writing_moves_to_a_private_one(fresh_cache, monkeypatch):
    real = store.atomic_write
    calls = []

    def failing(path, data):
        if not calls and Path(path).parent == fresh_cache:
            calls.append(path)
            raise OSError(28, "No space left on device")
        return real(path, data)

    monkeypatch.setattr(store, "atomic_write", failing)
    with pytest.warns(UserWarning, match="No space left"):
        assert _fit_works()
    assert calls and cache.folder() != fresh_cache


def test_a_helper_that_cannot_start_falls_back_to_compiling_here(fresh_cache, monkeypatch):
    if not service.enabled():
        pytest.skip("no compile helper here")

    def broken():
        process = subprocess.Popen([sys.executable, "-c", "pass"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   text=True)
        service._helper.update(process=process, pid=os.getpid())
        return process

    monkeypatch.setattr(service, "_running_helper", broken)
    monkeypatch.setitem(service._helper, "failures", 0)
    for n in (1, 2):
        loss = _gauss_loss(n)
        eager = nfit.loss.UnbinnedNLL(model=loss.model, data=loss.data, mode="eager").value()
        assert loss.value() == pytest.approx(eager, rel=1e-10)  # compiled in this process instead
    assert not service.enabled()  # two helpers in a row stopped without answering: no more tries
