"""A user-defined shape against the same shape built in: the headline fit (50k events) and, for
numerical normalisation, the same fit at 1e5 events. Warm MIGRAD + HESSE with exact derivatives."""
import pytest
from custom_shapes import build

import nfit
from nfit import headline


@pytest.mark.parametrize("events", [50_000, 100_000])
@pytest.mark.parametrize("signal", ["builtin", "decorator", "numeric"])
def test_custom_shape_fit(benchmark, signal, events):
    loss, params, scale = build(headline.make_data(events), signal)
    for _ in range(2):  # a loss's first fit compiles its Hessian kernel, the second its gradient kernel
        headline.reset(params, scale)
        nfit.minimize.Minuit().minimize(loss).hesse()

    def fit():
        result = nfit.minimize.Minuit().minimize(loss)
        result.hesse()
        return result

    result = benchmark.pedantic(fit, setup=lambda: headline.reset(params, scale), rounds=5, iterations=1)
    assert result.valid
    benchmark.extra_info["n_eval"] = result.info["n_eval"]
