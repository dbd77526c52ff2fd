"""Threads and processes: a loss called from several threads gives each its own numbers; parallel
kernels survive threads on every threading layer and forked children; models, losses, data and
results pickle and work in a new process; worker processes started from a script without a
``__main__`` guard fail at once with advice."""
import pickle
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pytest

import nfit


@pytest.fixture
def fast_switching():
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


def _gauss_loss(n, mode, seed=1, weighted=False):
    obs = nfit.Space("x", limits=(-5, 5))
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    x = x[np.abs(x) < 5]
    mu = nfit.Parameter("mu", 0.0, -1, 1)
    sg = nfit.Parameter("sg", 1.0, 0.1, 3)
    data = nfit.Data.from_numpy(obs, x, weights=rng.uniform(0.5, 1, x.size) if weighted else None)
    return nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sg, obs=obs), data=data, mode=mode)


def _hammer(nll, n_threads=4, rounds=150):
    """Call value, gradient and Hessian from several threads at once; return the mismatches."""
    points = [np.array([0.02 * k, 1.0 + 0.03 * k]) for k in range(12)]

    def numbers(p, order):
        if order == 0:
            return [nll(p)]
        value, grad, hess = nll._derivatives(nll._layout.vector(p, order=order), order)
        return [value, grad] + ([hess] if order == 2 else [])

    expected = {(j, order): numbers(p, order) for j, p in enumerate(points) for order in range(3)}
    bad = []

    def work(k):
        for r in range(rounds):
            j, order = (k + r) % len(points), r % 3
            got = numbers(points[j], order)
            if not all(np.array_equal(a, b) for a, b in zip(got, expected[j, order])):
                bad.append((k, r))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return bad


@pytest.mark.parametrize("mode", ["compiled", "eager"])
def test_threads_sharing_a_loss_get_their_own_numbers(mode, fast_switching):
    assert _hammer(_gauss_loss(3000, mode)) == []


def test_threads_sharing_a_parallel_loss(fast_switching):
    before = nfit.run.get_parallel_threshold()
    nfit.run.set_parallel_threshold(500)
    try:
        nll = _gauss_loss(30_000, "compiled", weighted=True)
        assert nfit.run.use_parallel(30_000) or nfit.compile.parallel.threading_layer() == "workqueue"
        assert _hammer(nll, rounds=60) == []
    finally:
        nfit.run.set_parallel_threshold(before)


def test_fits_in_threads_match_fits_in_turn():
    losses = [_gauss_loss(2000, "compiled", seed=s) for s in range(4)]
    in_turn = []
    for nll in losses:
        in_turn.append(nfit.minimize.Minuit().minimize(nll).fmin)
        for p in nll.get_params():
            p.set_value(0.0 if p.name == "mu" else 1.0)
    results = [None] * 4

    def fit(k):
        results[k] = nfit.minimize.Minuit().minimize(losses[k]).fmin

    threads = [threading.Thread(target=fit, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == pytest.approx(in_turn, rel=1e-9)


def _run_script(code, env=None, timeout=240):
    import os

    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=full_env)


SETUP = """
import numpy as np, nfit
nfit.run.set_parallel_threshold(500)
obs = nfit.Space("x", limits=(-5, 5))
x = np.random.default_rng(1).normal(0, 1, 60_000)
x = x[np.abs(x) < 5]
mu = nfit.Parameter("mu", 0.0, -1, 1); sg = nfit.Parameter("sg", 1.0, 0.1, 3)
nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sg, obs=obs), data=nfit.Data.from_numpy(obs, x))
"""


def test_workqueue_layer_with_threads_does_not_abort():
    code = SETUP + """
import threading
from nfit.compile.parallel import threading_layer
assert threading_layer() == "workqueue", threading_layer()
nfit.backends.numba_cpu.SLOW_THREADING_FACTOR = 1
assert nfit.run.use_parallel(len(x))
points = [np.array([0.01 * k, 1.0 + 0.01 * k]) for k in range(8)]
expected = [nll(p) for p in points]
bad = []
def work(k):
    for r in range(40):
        j = (k + r) % 8
        if nll(points[j]) != expected[j]:
            bad.append(j)
ts = [threading.Thread(target=work, args=(k,)) for k in range(3)]
[t.start() for t in ts]; [t.join() for t in ts]
print("bad", len(bad))
"""
    out = _run_script(code, env={"NUMBA_THREADING_LAYER": "workqueue", "NFIT_TIERED": "0"})  # the compiled kernels
    assert out.returncode == 0, out.stderr[-3000:]
    assert "bad 0" in out.stdout


def test_forked_children_work_after_a_parallel_fit():
    code = SETUP + """
import multiprocessing as mp
result = nfit.minimize.Minuit().minimize(nll)
assert result.valid and nfit.run.use_parallel(len(x))
reference = [nll.value({"mu": 0.1 * k, "sg": 1.1}) for k in range(3)]
def child(k):
    value = nll.value({"mu": 0.1 * k, "sg": 1.1})
    fit = nfit.minimize.Minuit().minimize(nll)
    return value, fit.valid
with mp.get_context("fork").Pool(2) as pool:
    got = pool.map(child, range(3))
assert all(valid for _, valid in got)
assert np.allclose([v for v, _ in got], reference, rtol=1e-12), (got, reference)
print("children ok")
"""
    out = _run_script(code, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "children ok" in out.stdout


def _readme_model():
    obs = nfit.Space("m", limits=(5.0, 5.6))
    mu = nfit.Parameter("mu", 5.27, 5.2, 5.35)
    sigma = nfit.Parameter("sigma", 0.03, 0.005, 0.1)
    lam = nfit.Parameter("lam", -1.0, -5, 1)
    nsig = nfit.Parameter("nsig", 500, 0, 10_000)
    nbkg = nfit.Parameter("nbkg", 1500, 0, 10_000)
    scale = nfit.ComposedParameter("sigma_scaled", lambda s: 1.0 * s, params=sigma)
    model = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=mu, sigma=scale, obs=obs, extended=nsig),
                             nfit.pdf.Exponential(lam=lam, obs=obs, extended=nbkg)])
    x = np.concatenate([np.random.default_rng(1).normal(5.28, 0.025, 500),
                        np.random.default_rng(2).uniform(5.0, 5.6, 1500)])
    data = nfit.Data.from_numpy(obs=obs, array=x)
    return model, data


def test_everything_pickles_and_works_in_a_new_process(tmp_path):
    model, data = _readme_model()
    nll = nfit.loss.ExtendedUnbinnedNLL(model=model, data=data)
    result = nfit.minimize.Minuit().minimize(nll)
    result.hesse()
    blob = tmp_path / "objects.pkl"
    blob.write_bytes(pickle.dumps({"model": model, "data": data, "nll": nll, "result": result}))
    code = f"""
import pickle, numpy as np, nfit
objects = pickle.loads(open({str(blob)!r}, "rb").read())
nll, result, model, data = objects["nll"], objects["result"], objects["model"], objects["data"]
print("value", repr(nll.value()))
print("fmin", repr(result.fmin), "error", repr(result.params["mu"]["hesse"]["error"]))
print("density", repr(float(model.pdf(np.array([5.28]))[0])), "events", data.nevents)
refit = nfit.minimize.Minuit().minimize(nll)
print("refit", refit.valid, repr(refit.fmin))
"""
    out = _run_script(code)
    assert out.returncode == 0, out.stderr[-3000:]
    words = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert float(words["value"]) == pytest.approx(nll.value(), rel=1e-12)
    assert words["refit"].startswith("True")
    assert float(words["refit"].split()[1]) == pytest.approx(result.fmin, abs=1e-3)
    assert float(words["density"].split()[0]) == pytest.approx(float(model.pdf(np.array([5.28]))[0]), rel=1e-12)


def test_a_composed_parameter_that_raises_is_named():
    a = nfit.Parameter("a", 2.0)

    def broken(a):
        raise ZeroDivisionError("no")

    c = nfit.ComposedParameter("width_from_a", broken, params=[a])
    with pytest.raises(ZeroDivisionError, match="width_from_a"):
        c.value()


def test_workers_from_a_script_without_a_main_guard_fail_at_once(tmp_path):
    script = tmp_path / "toys_script.py"
    body = """
import nfit
obs = nfit.Space("x", limits=(-3, 3))
mu = nfit.Parameter("mu", 0.0, -1, 1); n = nfit.Parameter("n", 400.0, 0, 4000)
model = nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs, extended=n)
"""
    script.write_text(body + "nfit.toys.run(model, 4, workers=2)\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert 'if __name__ == "__main__"' in out.stderr and "Nanny" not in out.stderr
    # under the guard the check passes (the cluster itself is tested in test_toys)
    from nfit.toys import _check_main_guard

    guarded = tmp_path / "guarded.py"
    guarded.write_text(body + "from nfit.toys import _check_main_guard\nif __name__ == '__main__':\n"
                              "    _check_main_guard()\n    print('guard ok')\n")
    out = subprocess.run([sys.executable, str(guarded)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and "guard ok" in out.stdout, out.stderr[-2000:]
    _check_main_guard()  # pytest's own process: no script of the user's at the top


class _Untraceable(nfit.pdf.ZPDF):
    """Evaluated eagerly only: it branches on parameter values in Python."""

    _PARAMS = ["slope"]

    def _unnormalized_pdf(self, x):
        slope = float(self.params["slope"])
        if slope > 0:
            return 1.0 + slope * (x[0] + 3.0)
        return np.ones_like(x[0])


def test_threads_evaluating_an_eager_only_custom_shape(fast_switching):
    obs = nfit.Space("x", limits=(-3, 3))
    slope = nfit.Parameter("slope", 0.5, 0.01, 5)
    shape = _Untraceable(obs=obs, slope=slope)
    x = np.linspace(-2.5, 2.5, 200)
    nll = nfit.loss.UnbinnedNLL(model=shape, data=nfit.Data.from_numpy(obs, x), mode="eager")
    slopes = [0.2, 0.7, 1.5, 3.0]
    expected = {s: nll(np.array([s])) for s in slopes}
    bad = []

    def work(k):
        for r in range(60):
            s = slopes[(k + r) % 4]
            if nll(np.array([s])) != expected[s]:
                bad.append(s)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert bad == []
    a, b = -3.0, 3.0
    for s in slopes:  # the density normalised by quadrature: 1 + s (x + 3) over [-3, 3]
        norm = (b - a) + s * ((b + 3) ** 2 - (a + 3) ** 2) / 2
        assert expected[s] == pytest.approx(-np.sum(np.log((1 + s * (x + 3)) / norm)), rel=1e-9)
