"""Serial kernels stored as machine code (nfit.compile.native): a later process runs them without
importing Numba, with the numbers Numba's own code gives; damaged files are rebuilt, code for
another machine or with a symbol that would not resolve is not loaded, arguments of other types
go through Numba."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from scipy import stats
from test_cache import make_loss, run_process

import nfit
from nfit import cache
from nfit.compile import native

pytestmark = pytest.mark.usefixtures("compiled_only")  # tests of the compiled path itself


@pytest.fixture(scope="module")
def eager_value():
    loss = make_loss(3000, 5)
    return nfit.loss.ExtendedUnbinnedNLL(model=loss.model, data=loss.data, mode="eager").value()


def _stored_files(folder):
    return sorted(folder.glob("nfit_k_*.native"))


def test_a_second_process_runs_the_stored_code_without_numba(tmp_path, eager_value):
    first = run_process(tmp_path, stored_code=True)
    assert not first["stored_code"] and first["numba_imported"]  # compiled by Numba, and stored
    assert [p.suffix for p in _stored_files(tmp_path)] == [".native"]
    assert first["info"]["stored_code_entries"] == 1
    second = run_process(tmp_path, stored_code=True)
    assert second["stored_code"] and not second["numba_imported"]
    assert second["value"] == first["value"]  # the same machine code
    assert second["value"] == pytest.approx(eager_value, rel=1e-10)


def _damage_truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _damage_flip(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _damage_garbage(path):
    path.write_bytes(os.urandom(max(64, path.stat().st_size)))


def _damage_description(path):
    data = path.read_bytes()
    start = len(native.MAGIC) + 8
    path.write_bytes(data[:start] + data[start:].replace(b'"sha256": "', b'"sha256": "0', 1))


@pytest.mark.parametrize("damage", [_damage_truncate, _damage_flip, _damage_garbage, _damage_description])
def test_damaged_stored_code_is_rebuilt_not_trusted(tmp_path, eager_value, damage):
    run_process(tmp_path, stored_code=True)
    (target,) = _stored_files(tmp_path)
    damage(target)
    after = run_process(tmp_path, stored_code=True)
    assert not after["stored_code"] and after["value"] == pytest.approx(eager_value, rel=1e-10)
    again = run_process(tmp_path, stored_code=True)  # compiled and stored anew
    assert again["stored_code"] and again["value"] == after["value"]


def test_deleted_stored_code_falls_back_to_numbas_cache(tmp_path, eager_value):
    run_process(tmp_path, stored_code=True)
    (target,) = _stored_files(tmp_path)
    target.unlink()
    after = run_process(tmp_path, stored_code=True)
    assert not after["stored_code"] and after["numba_hits"] == 1
    assert after["value"] == pytest.approx(eager_value, rel=1e-10)


def test_code_for_another_machine_is_not_loaded(tmp_path, eager_value):
    run_process(tmp_path, stored_code=True)
    (stored,) = _stored_files(tmp_path)
    content, code = native._unpack(stored.read_bytes())
    content["machine"][1] = "some-other-cpu"
    stored.write_bytes(native._pack(content, code))
    after = run_process(tmp_path, stored_code=True)
    assert not after["stored_code"] and after["value"] == pytest.approx(eager_value, rel=1e-10)
    assert native._unpack(stored.read_bytes())[0]["machine"][1] == "some-other-cpu"  # left for its machine


OTHER = textwrap.dedent("""
    import numpy as np, nfit
    obs = nfit.Space("m", limits=(5.0, 5.6))
    data = nfit.Data.from_numpy(obs, np.linspace(5.01, 5.59, 3000))
    nfit.loss.ExtendedUnbinnedNLL(model=nfit.pdf.Gauss(mu=5.3, sigma=0.1, obs=obs, extended=10.0), data=data).value()
""")


def test_another_kernels_stored_code_is_not_loaded(tmp_path, eager_value):
    """The stored file of *another* kernel (consistent in itself) put in place of ours."""
    run_process(tmp_path, stored_code=True)
    ours = _stored_files(tmp_path)
    env = dict(os.environ, NFIT_CACHE_DIR=str(tmp_path), NFIT_NATIVE_KERNELS="1")
    subprocess.run([sys.executable, "-c", OTHER], check=True, env=env, timeout=300)
    theirs = [p for p in _stored_files(tmp_path) if p not in ours]
    assert len(ours) == len(theirs) == 1
    for mine, other in zip(ours, theirs):
        mine.write_bytes(other.read_bytes())
    after = run_process(tmp_path, stored_code=True)
    assert not after["stored_code"] and after["value"] == pytest.approx(eager_value, rel=1e-10)
    again = run_process(tmp_path, stored_code=True)
    assert again["stored_code"] and again["value"] == after["value"]


def _signature(loss, order):
    from nfit.compile.lower import lower_nll

    return cache.signature(lower_nll(loss._terms, loss._layout, loss.constraints, order))


@pytest.mark.parametrize("order", [0, 1, 2])
def test_stored_code_gives_numbas_numbers(tmp_path, monkeypatch, order):
    monkeypatch.setenv("NFIT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("NFIT_NATIVE_KERNELS", "1")
    monkeypatch.setenv("NFIT_COMPILE_PROCESS", "0")  # compiled here, so that Numba's dispatcher is at hand
    cache.clear(disk=False)
    try:
        loss = make_loss(2000, 3)
        function, constants, out = loss._kernel(order)
        kernel = cache._memory[_signature(loss, order)]
        dispatcher = kernel.module.nll_serial
        assert function is dispatcher  # compiled here by Numba
        stored = native.load(kernel.path, "nll_serial", fallback=lambda: dispatcher)
        assert isinstance(stored, native.NativeFunction) and "nll_serial" in repr(stored)
        rng = np.random.default_rng(1)
        for _ in range(5):
            p = loss._layout.vector(order=order)
            p[loss._layout.floating_slots()] *= rng.uniform(0.9, 1.1, len(loss._layout.floating))
            args = (p, constants, *loss._arrays) + ((out,) if order else ())
            expected = dispatcher(*args)
            expected_out = out.copy()
            out[:] = np.nan
            assert stored(*args) == expected
            np.testing.assert_array_equal(out, expected_out)
    finally:
        cache.clear(disk=False)


def test_arguments_of_other_types_go_through_numba(tmp_path, monkeypatch):
    monkeypatch.setenv("NFIT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("NFIT_COMPILE_PROCESS", "0")
    cache.clear(disk=False)
    try:
        loss = make_loss(2000, 3)
        function, constants, _ = loss._kernel(0)
        kernel = cache._memory[_signature(loss, 0)]
        dispatcher = kernel.module.nll_serial
        calls = []
        stored = native.load(kernel.path, "nll_serial", fallback=lambda: calls.append(1) or dispatcher)
        p = loss._layout.vector()
        x = loss._arrays[0]
        reference = stored(p, constants, x)
        assert not calls and reference == dispatcher(p, constants, x)
        strided = np.repeat(x, 2)[::2]  # the same numbers, not contiguous
        readonly = x.copy()
        readonly.flags.writeable = False
        for other in (strided, readonly):
            assert stored(p, constants, other) == pytest.approx(reference, rel=1e-12)
        assert len(calls) == 2
        from numba.core.errors import TypingError

        with pytest.raises(TypingError):  # what Numba says about a wrong argument, not a crash
            stored(p, constants, x.astype(np.float32).astype(object))
    finally:
        cache.clear(disk=False)


UNRESOLVED = textwrap.dedent("""
    import llvmlite.binding as ll
    from nfit.compile import native
    engine = native._engine()  # initialises LLVM's native target
    ir = '''
    declare double @nfit_no_such_symbol(double)
    define double @f(double %x) {
      %y = call double @nfit_no_such_symbol(double %x)
      ret double %y
    }
    '''
    module = ll.parse_assembly(ir)
    module.triple = ll.get_process_triple()
    tm = ll.Target.from_default_triple().create_target_machine()
    code = tm.emit_object(module)
    assert "nfit_no_such_symbol" in native.undefined_symbols(code)
    print(native._link(engine, code, "f"))
""")


def test_code_needing_a_missing_symbol_is_not_loaded():
    out = subprocess.run([sys.executable, "-c", UNRESOLVED], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr  # LLVM would abort the process if it tried
    assert out.stdout.strip() == "0"


AFTER_STORED = textwrap.dedent("""
    import json, sys
    import numpy as np
    sys.path.insert(0, {tests!r})
    from test_cache import make_loss
    import nfit
    from scipy import stats
    loss = make_loss(3000, 5)
    value = loss.value()
    loss_without_numba = "numba" not in sys.modules
    obs = nfit.Space("x", limits=(0.0, 3.0))
    gauss = nfit.pdf.Gauss(mu=1.2, sigma=0.6, obs=obs)
    x = np.linspace(0.1, 2.9, 7)
    density = gauss.pdf(x)
    pdf_without_numba = "numba" not in sys.modules
    # then Numba starts in the same process: a new structure, an array-allocating function, threads
    nfit.run.set_parallel_threshold(1)
    other = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=1.0, sigma=0.5, obs=obs),
                                  data=nfit.Data.from_numpy(obs, np.random.default_rng(2).uniform(0, 3, 5000)))
    import numba
    @numba.njit
    def cumulative(a):
        return np.cumsum(a * 2.0)
    print(json.dumps({{"value": value, "loss_without_numba": loss_without_numba,
                      "pdf_without_numba": pdf_without_numba, "density": list(density),
                      "other": other.value(), "other_gradient": list(other.value_gradient()[1]),
                      "cumsum": list(cumulative(np.arange(4.0)))}}))
""")


def test_numba_works_after_stored_code_ran_in_the_same_process(tmp_path, eager_value):
    env = dict(os.environ, NFIT_CACHE_DIR=str(tmp_path), NFIT_NATIVE_KERNELS="1")
    script = AFTER_STORED.format(tests=str(Path(__file__).parent))
    for _ in range(2):  # the first run compiles and stores, the second runs the stored code
        out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
        assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["value"] == pytest.approx(eager_value, rel=1e-10)
    assert result["loss_without_numba"] and result["pdf_without_numba"]
    x = np.linspace(0.1, 2.9, 7)
    truth = stats.truncnorm.pdf(x, (0 - 1.2) / 0.6, (3 - 1.2) / 0.6, loc=1.2, scale=0.6)
    np.testing.assert_allclose(result["density"], truth, rtol=1e-12)
    obs = nfit.Space("x", limits=(0.0, 3.0))
    other = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=1.0, sigma=0.5, obs=obs),
                                  data=nfit.Data.from_numpy(obs, np.random.default_rng(2).uniform(0, 3, 5000)),
                                  mode="eager")
    assert result["other"] == pytest.approx(other.value(), rel=1e-10)
    np.testing.assert_allclose(result["other_gradient"], other.value_gradient()[1], rtol=1e-8)
    assert result["cumsum"] == [0.0, 2.0, 6.0, 12.0]


def test_undefined_symbols_of_stored_code(tmp_path):
    run_process(tmp_path, stored_code=True)
    (stored,) = _stored_files(tmp_path)
    names = native.undefined_symbols(native._unpack(stored.read_bytes())[1])
    assert names and all(isinstance(n, str) and n for n in names)
    assert not any("numba_unresolved" in n for n in names)


def test_stored_code_keeps_no_data_alive(tmp_path, monkeypatch):
    import gc
    import weakref

    monkeypatch.setenv("NFIT_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("NFIT_NATIVE_KERNELS", "1")
    cache.clear(disk=False)
    try:
        make_loss(500, 1).value()  # compiled by Numba, stored
        cache.clear(disk=False)
        loss = make_loss(500, 2)
        value = loss.value()
        function = loss._kernel(0)[0]
        assert isinstance(function, native.NativeFunction)
        assert value == pytest.approx(nfit.loss.ExtendedUnbinnedNLL(model=loss.model, data=loss.data,
                                                                      mode="eager").value(), rel=1e-10)
        data = weakref.ref(loss._arrays[0])
        del loss
        gc.collect()
        assert data() is None and function is cache._memory[next(iter(cache._memory))]._ready["nll_serial"]
    finally:
        cache.clear(disk=False)
