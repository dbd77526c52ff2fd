"""The signature cache: sharing, keys, a second process, damaged files, concurrent writers."""
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import types
from pathlib import Path

import numpy as np
import pytest

import nfit
from nfit import cache
from nfit.compile import key
from nfit.compile.lower import Lowered

pytestmark = pytest.mark.usefixtures("compiled_only")  # tests of the compiled path itself


def make_loss(n, seed, mu=5.28):
    obs = nfit.Space("m", limits=(5.0, 5.6))
    rng = np.random.default_rng(seed)
    sig = nfit.pdf.Gauss(mu=nfit.Parameter("mu", mu, 5.2, 5.35), sigma=nfit.Parameter("sigma", 0.03, 0.01, 0.1),
                         obs=obs, extended=nfit.Parameter("nsig", 100.0, 0, 1e5))
    bkg = nfit.pdf.Exponential(lam=nfit.Parameter("lam", -1.0, -5, 5), obs=obs,
                               extended=nfit.Parameter("nbkg", 200.0, 0, 1e5))
    data = nfit.Data.from_numpy(obs, rng.uniform(5.0, 5.6, n))
    return nfit.loss.ExtendedUnbinnedNLL(model=nfit.pdf.SumPDF([sig, bkg]), data=data)


def test_same_structure_shares_one_kernel(fresh_cache):
    a = make_loss(500, 1)
    a.value()
    info = cache.info()
    assert (info["misses"], info["hits"], info["entries"]) == (1, 0, 1)
    b = make_loss(800, 2, mu=5.3)  # other data size, other values, new parameter objects
    b.value()
    info = cache.info()
    assert (info["misses"], info["hits"], info["entries"]) == (1, 1, 1)
    assert info["compile_seconds"] > 0
    assert info["folder"] == str(fresh_cache)
    assert info["disk_entries"] == 1


def test_other_structure_is_another_kernel(fresh_cache):
    make_loss(500, 1).value()
    obs = nfit.Space("m", limits=(5.0, 5.6))
    data = nfit.Data.from_numpy(obs, np.linspace(5.01, 5.59, 50))
    nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=5.3, sigma=0.1, obs=obs), data=data).value()
    assert cache.info()["misses"] == 2


def test_new_parameter_value_does_not_recompile(fresh_cache):
    loss = make_loss(500, 1)
    loss.value()
    seconds = cache.info()["compile_seconds"]
    for mu in (5.25, 5.3, 5.33):
        loss(np.array([mu, 0.03, 100.0, -1.0, 200.0]))
    assert cache.info()["compile_seconds"] == seconds and cache.info()["misses"] == 1


def test_signature_keys_kernel_source_and_version(tmp_path, monkeypatch):
    def fake_module(text):
        path = tmp_path / f"k{abs(hash(text))}.py"
        path.write_text(text)
        module = types.ModuleType("nfit.kernels.fake")
        module.__file__ = str(path)
        return module

    one = Lowered("source", [], [fake_module("def pdf(x): return x\n")])
    two = Lowered("source", [], [fake_module("def pdf(x): return 2 * x\n")])
    assert cache.signature(one) != cache.signature(two)
    assert cache.signature(one) == cache.signature(Lowered("source", [], [fake_module("def pdf(x): return x\n")]))
    assert cache.signature(one, backend="cpu") != cache.signature(one, backend="cuda")
    before = cache.signature(one)
    monkeypatch.setattr(key, "__version__", "999.0")
    assert cache.signature(one) != before


def test_clear(fresh_cache, monkeypatch):
    monkeypatch.setenv("NFIT_NATIVE_KERNELS", "1")
    make_loss(100, 1).value()
    assert cache.info()["disk_entries"] == 1 and cache.info()["stored_code_entries"] == 1
    cache.clear()
    info = cache.info()
    assert info["entries"] == 0 and info["disk_entries"] == 0 and info["misses"] == 0
    assert info["stored_code_entries"] == 0 and not list(fresh_cache.glob("nfit_k_*"))
    assert not list((fresh_cache / "__pycache__").glob("nfit_k_*"))


SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    from test_cache import make_loss
    from nfit import cache
    loss = make_loss(3000, 5)
    value = loss.value()
    kernel = next(iter(cache._memory.values()))
    (function,) = kernel._ready.values()
    stats = getattr(function, "stats", None)  # Numba's dispatcher (stored machine code has none)
    print(json.dumps({{"value": value, "numba_hits": stats and sum(stats.cache_hits.values()),
                       "numba_misses": stats and sum(stats.cache_misses.values()), "info": cache.info(),
                       "stored_code": type(function).__name__ == "NativeFunction",
                       "numba_imported": "numba" in sys.modules}}))
""")


def run_process(folder, stored_code=False, helper=False):
    """Run SCRIPT in a fresh process on cache ``folder``; Numba's cache only, unless ``stored_code``
    (nfit's stored machine code, tests/test_native.py), compiled in this process unless ``helper``
    (the compile helper process, nfit.compile.service)."""
    env = dict(os.environ, NFIT_CACHE_DIR=str(folder), NFIT_NATIVE_KERNELS="1" if stored_code else "0",
               NFIT_COMPILE_PROCESS="1" if helper else "0")
    out = subprocess.run([sys.executable, "-c", SCRIPT.format(tests=str(Path(__file__).parent))],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def reference_value():
    return make_loss(3000, 5).value()


def test_second_process_loads_from_disk(tmp_path, reference_value):
    first = run_process(tmp_path)
    assert first["numba_misses"] == 1 and first["numba_hits"] == 0
    second = run_process(tmp_path)
    assert second["numba_hits"] == 1 and second["numba_misses"] == 0
    assert first["value"] == second["value"] == pytest.approx(reference_value, rel=1e-14)


def _damage_truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _damage_garbage(path):
    path.write_bytes(os.urandom(max(64, path.stat().st_size)))


@pytest.mark.parametrize("target,damage", [
    ("source", _damage_truncate), ("source", _damage_garbage),
    ("nbc", _damage_truncate), ("nbc", _damage_garbage),
    ("nbi", _damage_truncate), ("nbi", _damage_garbage),
    ("manifest", _damage_garbage), ("manifest", Path.unlink),
])
def test_damaged_cache_is_rebuilt_not_trusted(tmp_path, reference_value, target, damage):
    run_process(tmp_path)
    if target == "source":
        files = list(tmp_path.glob("nfit_k_*.py"))
    elif target == "manifest":
        files = list(tmp_path.glob("nfit_k_*.manifest"))
    else:
        files = list((tmp_path / "__pycache__").glob(f"nfit_k_*.{target}"))
    assert files, f"no {target} file to damage"
    for f in files:
        damage(f)
    after = run_process(tmp_path)
    assert after["value"] == pytest.approx(reference_value, rel=1e-14)
    again = run_process(tmp_path)  # and the rebuilt entry is good again
    assert again["numba_hits"] == 1 and again["value"] == after["value"]


def test_concurrent_writers(tmp_path, reference_value):
    env = dict(os.environ, NFIT_CACHE_DIR=str(tmp_path))
    script = SCRIPT.format(tests=str(Path(__file__).parent))
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert json.loads(out.strip().splitlines()[-1])["value"] == pytest.approx(reference_value, rel=1e-14)
    assert run_process(tmp_path)["value"] == pytest.approx(reference_value, rel=1e-14)


OTHER_SCRIPT = textwrap.dedent("""
    import numpy as np, nfit
    obs = nfit.Space("m", limits=(5.0, 5.6))
    data = nfit.Data.from_numpy(obs, np.linspace(5.01, 5.59, 3000))
    nfit.loss.ExtendedUnbinnedNLL(model=nfit.pdf.Gauss(mu=5.3, sigma=0.1, obs=obs, extended=10.0), data=data).value()
""")


def test_foreign_compiled_file_is_not_loaded(tmp_path, reference_value):
    """A well-formed Numba cache file of *another* kernel put in place of ours must not be used."""
    run_process(tmp_path)
    ours = sorted((tmp_path / "__pycache__").glob("nfit_k_*.nbc"))
    env = dict(os.environ, NFIT_CACHE_DIR=str(tmp_path))
    subprocess.run([sys.executable, "-c", OTHER_SCRIPT], check=True, env=env, timeout=300)
    theirs = [p for p in sorted((tmp_path / "__pycache__").glob("nfit_k_*.nbc")) if p not in ours]
    assert ours and theirs
    for f in ours:
        f.write_bytes(theirs[0].read_bytes())
    assert run_process(tmp_path)["value"] == pytest.approx(reference_value, rel=1e-14)


def test_manifest_mismatch_deletes_compiled_files(fresh_cache, monkeypatch):
    monkeypatch.setenv("NFIT_COMPILE_PROCESS", "0")  # compiled here, into Numba's cache
    make_loss(300, 1).value()
    source = next(fresh_cache.glob("nfit_k_*.py"))
    files = cache._numba_files(source)
    assert files
    cache._verify_numba_files(source)
    assert cache._numba_files(source) == files  # intact: kept
    with open(files[-1], "ab") as f:
        f.write(b"\0")
    cache._verify_numba_files(source)
    assert cache._numba_files(source) == []  # one byte changed: all deleted


def test_unwritable_cache_home_falls_back_to_a_private_folder(monkeypatch):
    monkeypatch.delenv("NFIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/proc/nfit-cannot-write-here")
    with pytest.warns(UserWarning, match="cannot be created"):
        path = cache.folder()
    assert str(path).startswith(tempfile.gettempdir()) and "nfit-cache" in path.name
    assert path.stat().st_mode & 0o777 == 0o700


CLONE_SCRIPT = """
import json, sys
from pathlib import Path
sys.path.insert(0, {folder!r})
from nfit.compile import jitmodule
jitmodule.COMPILER_SOURCES.append(Path({extra!r}))  # stands in for vecmath.py / jitmodule.py changing
import shape_under_test
f = jitmodule.jit_module(shape_under_test).density
value = f(1.0)
print(json.dumps({{"value": value, "hits": sum(f.stats.cache_hits.values()),
                  "misses": sum(f.stats.cache_misses.values())}}))
"""


def test_kernel_clones_are_cached_and_never_stale(tmp_path):
    """The compiled clones of a kernel module live in Numba's cache, and a change to the module or to
    what the clones are compiled against (the vectorising math, the cloning) recompiles them."""
    module, extra = tmp_path / "shape_under_test.py", tmp_path / "compiled_against.py"
    module.write_text("import math\n\ndef density(x):\n    return math.exp(-x)\n")
    extra.write_text("# version 1\n")

    def run():
        script = CLONE_SCRIPT.format(folder=str(tmp_path), extra=str(extra))
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=300)
        return json.loads(out.stdout.strip().splitlines()[-1])

    first, second = run(), run()
    assert (first["misses"], second["hits"]) == (1, 1)
    assert first["value"] == second["value"] == pytest.approx(np.exp(-1))
    extra.write_text("# version 2, longer\n")
    assert run()["misses"] == 1
    module.write_text("import math\n\ndef density(x):\n    return math.exp(-2.0 * x)\n")
    changed = run()
    assert changed["misses"] == 1 and changed["value"] == pytest.approx(np.exp(-2))
