"""The parallel entry points (chunks summed through nfit.compile.parallel.run_chunks) give the serial
ones' numbers (to rounding: the sums inside a chunk are vectorised), survive a second process loading
them from the caches, and a loss's first fit compiles only the Hessian kernel."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from test_gpu import CASES, _data, _signal_background, case_crystal_ball_composed_width, case_product_2d

import nfit

pytestmark = pytest.mark.usefixtures("compiled_only")  # tests of the compiled path itself


@pytest.fixture
def threshold():
    """Set the parallel threshold for one test, and put it back afterwards."""
    before = nfit.run.get_parallel_threshold()
    yield nfit.run.set_parallel_threshold
    nfit.run.set_parallel_threshold(before)


def case_mixed_columns():
    # a 2-D term and a weighted 1-D term in one loss: two chunk helpers with different numbers of columns
    _, model_2d, data_2d, _ = case_product_2d()
    return nfit.loss.UnbinnedNLL, [model_2d, _signal_background("g")], [data_2d, _data(weighted=True)], None


def _numbers(loss, hessian):
    value, grad = loss.value_gradient()
    return value, loss.value(), grad, loss.hessian() if hessian else None


@pytest.mark.parametrize("case", CASES + [case_mixed_columns], ids=lambda c: c.__name__[5:])
def test_parallel_and_serial_kernels_agree(case, threshold):
    cls, model, data, constraints = case()
    hessian = case is not case_crystal_ball_composed_width  # its exact Hessian takes Numba long to compile
    numbers = {}
    for name, events in (("serial", 10**9), ("parallel", 1)):
        threshold(events)
        loss = cls(model=model, data=data, constraints=constraints)
        numbers[name] = _numbers(loss, hessian and loss.derivative_order == 2)
        assert all(f"nll_{name}" in repr(k[0]) for k in loss._compiled_kernels.values())
    serial, parallel = numbers["serial"], numbers["parallel"]
    assert parallel[0] == pytest.approx(serial[0], rel=1e-13)
    assert parallel[1] == pytest.approx(serial[1], rel=1e-13)
    np.testing.assert_allclose(parallel[2], serial[2], rtol=1e-11, atol=1e-12 * np.max(np.abs(serial[2])))
    if serial[3] is not None:
        np.testing.assert_allclose(parallel[3], serial[3], rtol=1e-11, atol=1e-12 * np.max(np.abs(serial[3])))
    eager = cls(model=model, data=data, constraints=constraints, mode="eager")
    assert parallel[1] == pytest.approx(eager.value(), rel=1e-10)


def test_parallel_kernel_with_many_chunks_matches_eager(threshold):
    # enough events for many chunks, each thread summing several
    threshold(1)
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(5.28, 0.03, 60_000), rng.uniform(5.0, 5.6, 60_000)])
    data = _data(x=x[(x > 5.0) & (x < 5.6)])
    model = _signal_background("pm")
    compiled = nfit.loss.UnbinnedNLL(model=model, data=data)
    eager = nfit.loss.UnbinnedNLL(model=model, data=data, mode="eager")
    value, grad = compiled.value_gradient()
    e_value, e_grad = eager.value_gradient()
    assert value == pytest.approx(e_value, rel=1e-10)
    np.testing.assert_allclose(grad, e_grad, rtol=1e-8, atol=1e-9 * np.max(np.abs(e_grad)))


SECOND_PROCESS = textwrap.dedent("""
    import numpy as np, nfit
    nfit.run.set_parallel_threshold(1)
    obs = nfit.Space("x", limits=(0.0, 3.0))
    x = np.random.default_rng(3).uniform(0.0, 3.0, 5000)
    mu, sigma = nfit.Parameter("mu", 1.5, 0, 3), nfit.Parameter("sigma", 0.7, 0.1, 3)
    loss = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), data=nfit.Data.from_numpy(obs, x))
    value, grad = loss.value_gradient()
    print(repr(float(value)), repr(float(loss.value())), *(repr(float(g)) for g in grad))
""")


def test_parallel_kernel_loaded_from_the_caches_in_a_new_process(tmp_path):
    # a kernel loaded from Numba's cache links the driver's code without starting Numba's threads;
    # nfit starts them (without that, this second process would crash)
    env = dict(os.environ, NFIT_CACHE_DIR=str(tmp_path / "nfit"), NUMBA_CACHE_DIR=str(tmp_path / "numba"))
    runs = [subprocess.run([sys.executable, "-c", SECOND_PROCESS], capture_output=True, text=True, env=env)
            for _ in range(2)]
    for run in runs:
        assert run.returncode == 0, run.stderr
    assert runs[0].stdout == runs[1].stdout
    value, value_only, *grad = map(float, runs[0].stdout.split())
    assert value == pytest.approx(value_only, rel=1e-13)  # the gradient kernel's value, and the value kernel's
    x = np.random.default_rng(3).uniform(0.0, 3.0, 5000)
    from scipy import stats

    reference = -np.sum(stats.truncnorm.logpdf(x, (0 - 1.5) / 0.7, (3 - 1.5) / 0.7, loc=1.5, scale=0.7))
    assert value == pytest.approx(reference, rel=1e-10)


def test_first_fit_compiles_only_the_hessian_kernel_then_the_gradient_kernel(threshold):
    threshold(10**9)
    nfit.cache.clear(disk=False)  # other tests in this process may have compiled the same structure
    cls, model, data, constraints = CASES[1]()  # extended, simultaneous, constrained
    loss = cls(model=model, data=data, constraints=constraints)
    assert loss.derivative_order == 2
    params = loss.get_params()
    start = [p.value() for p in params]
    first = nfit.minimize.Minuit().minimize(loss)
    orders = sorted(key[1] for key in loss._compiled_kernels)
    assert orders == [2]  # gradients came from the Hessian kernel: one compilation
    first_values = [p.value() for p in params]
    for p, v in zip(params, start):
        p.set_value(v)
    second = nfit.minimize.Minuit().minimize(loss)
    assert sorted(key[1] for key in loss._compiled_kernels) == [1, 2]
    assert first.valid and second.valid
    np.testing.assert_allclose([p.value() for p in params], first_values, rtol=1e-6)
    assert second.fmin == pytest.approx(first.fmin, rel=1e-12)
    # a new loss of the same structure in this process uses the gradient kernel compiled already
    third = cls(model=model, data=data, constraints=constraints)
    assert not third.hessian_serves_gradient()


def test_pickled_loss_leaves_its_compiled_kernels_behind(threshold):
    # a parallel kernel holds the address of its chunk helper in this process: a pickled loss (sent
    # to another process) must not carry it along, and a pickled chunk function resolves its address anew
    import pickle

    from nfit.compile.parallel import ChunkFunction

    threshold(1)
    cls, model, data, constraints = CASES[0]()
    loss = cls(model=model, data=data, constraints=constraints)
    value, grad = loss.value_gradient()
    assert loss._compiled_kernels
    copy = pickle.loads(pickle.dumps(loss))
    assert copy._compiled_kernels == {}
    copy_value, copy_grad = copy.value_gradient()
    assert copy_value == value
    np.testing.assert_array_equal(copy_grad, grad)
    function = next(iter(loss._compiled_kernels.values()))[0]
    chunk = getattr(function, "parallel", function).args[1][0]  # behind the contention guard
    assert isinstance(chunk, ChunkFunction)
    again = pickle.loads(pickle.dumps(chunk))
    assert again.signature() == chunk.signature() and again.__wrapper_address__() == chunk.__wrapper_address__()


def test_slow_threading_layer_raises_the_threshold():
    from nfit.compile.parallel import threading_layer

    assert nfit.run.use_parallel(50_000) == (threading_layer() != "workqueue")
    assert not nfit.run.use_parallel(nfit.run.get_parallel_threshold() - 1)
    code = ("import nfit; from nfit.compile.parallel import threading_layer; "
            "print(threading_layer(), nfit.run.use_parallel(50_000), nfit.run.use_parallel(400_000))")
    env = dict(os.environ, NUMBA_THREADING_LAYER="workqueue")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["workqueue", "False", "True"]
