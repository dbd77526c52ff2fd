"""GPU (CUDA backend) against the CPU compiled path on the same machine: one NLL and one NLL +
gradient evaluation at 1e6, 1e7 and 1e8 events, and the headline fit at 1e7 events. Skipped where
there is no real GPU (the simulator measures nothing useful).

    pytest benchmarks/test_gpu.py --benchmark-only --benchmark-json=.benchmarks/gpu.json
    python benchmarks/ratios.py .benchmarks/gpu.json
"""
import numpy as np
import pytest

import nfit
from nfit import headline
from nfit.bench import channel_a_loss

STATUS = nfit.gpu.status()
pytestmark = pytest.mark.skipif(STATUS["backend"] != "cuda", reason=f"needs a real GPU: {STATUS['reason']}")
GPU_SIZES = [1_000_000, 10_000_000, 100_000_000]


@pytest.fixture(scope="module")
def gpu_data():
    rng = np.random.default_rng(6)
    return {n: headline.make_channel_a(n, rng) for n in GPU_SIZES}


@pytest.mark.parametrize("n", GPU_SIZES)
@pytest.mark.parametrize("backend", ["numba", "cuda"])
@pytest.mark.parametrize("what", ["value", "value_gradient"])
def test_gpu_nll(benchmark, gpu_data, what, backend, n):
    loss, _ = channel_a_loss(gpu_data[n], "compiled", backend=backend)
    if what == "value":
        values = np.array([q.value() for q in loss.get_params()])

        def function():
            return loss(values)
    else:
        function = loss.value_gradient
    first = function()
    benchmark.extra_info.update(events=n, value=float(np.ravel(first)[0]) if what == "value" else float(first[0]))
    benchmark.pedantic(function, rounds=5 if n >= 100_000_000 else 20, iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("backend", ["numba", "cuda"])
def test_gpu_headline_fit(benchmark, backend):
    n = 10_000_000
    data = headline.make_data(n)
    loss, params = headline.build(data, backend=backend)
    minimizer = nfit.minimize.Minuit()

    def fit():
        headline.reset(params, n / 50_000)
        result = minimizer.minimize(loss)
        result.hesse()
        return result

    result = fit()
    assert result.valid
    fit()  # on the CPU, a loss's second fit compiles its gradient kernel: warm the timing up past it
    benchmark.extra_info.update(events=n, n_eval=result.info["n_eval"], fmin=result.fmin)
    benchmark.pedantic(fit, rounds=3, iterations=1, warmup_rounds=0)
