"""The headline fit, warm MIGRAD + HESSE from the start values: eager, compiled, hand-fused."""
import iminuit
import numpy as np
import pytest

import nfit
from nfit import handfused, headline


@pytest.mark.parametrize("gradient", ["exact", "exact-migrad-alone", "minuit"])
@pytest.mark.parametrize("path", ["eager", "compiled"])
def test_headline_fit(benchmark, headline_data, path, gradient):
    """``exact``: Newton steps on the loss's exact Hessian, then MIGRAD with its gradient and Hessian,
    HESSE is the exact Hessian; ``exact-migrad-alone``: the same without the Newton steps;
    ``minuit``: MINUIT's numerical gradient and HESSE on the value alone."""
    loss, params = headline.build(headline_data, mode=path)
    exact = gradient.startswith("exact")
    minimizer = nfit.minimize.Minuit(gradient="exact" if exact else "minuit",
                                     newton=False if gradient == "exact-migrad-alone" else None)
    method = "auto" if exact else "minuit"
    # warm: compile and first touch outside the timing (a loss's first fit compiles only its Hessian
    # kernel, the second one its gradient kernel)
    for _ in range(2):
        headline.reset(params)
        minimizer.minimize(loss).hesse(method=method)

    def fit():
        result = minimizer.minimize(loss)
        result.hesse(method=method)
        return result

    result = benchmark.pedantic(fit, setup=lambda: headline.reset(params), rounds=5, iterations=1)
    assert result.valid
    benchmark.extra_info["n_eval"] = result.info["n_eval"]


def test_headline_fit_handfused_numerical_gradient(benchmark, headline_data):
    nll = handfused.headline_nll(headline_data["A"], headline_data["B"])
    start = np.array([headline.START[n] for n in handfused.PARAM_ORDER])
    steps = [nfit.Parameter(n, headline.START[n], *headline.BOUNDS[n]).step_size for n in handfused.PARAM_ORDER]
    nll(start)

    def fit():
        m = iminuit.Minuit(nll, start, name=handfused.PARAM_ORDER)
        m.limits = [headline.BOUNDS[n] for n in handfused.PARAM_ORDER]
        m.errors = steps
        m.migrad()
        m.hesse()
        return m

    m = benchmark.pedantic(fit, rounds=5, iterations=1)
    assert m.valid
    benchmark.extra_info["n_eval"] = m.nfcn
