"""A template fit (issue 14's benchmark): 100 bins, a parametric Gaussian signal with exact bin
integrals and two weighted Monte-Carlo templates, Barlow-Beeston lite ("da"), warm MIGRAD + HESSE:
nfit compiled and eager against iminuit.cost.Template + iminuit on the same histograms."""
import pytest
from binned_model import START, iminuit_cost, nfit_loss, reset
from iminuit import Minuit

import nfit


def _nfit_fit(loss, params):
    result = nfit.minimize.Minuit().minimize(loss)
    result.hesse()
    return result


@pytest.mark.parametrize("mode", ["compiled", "eager"])
def test_template_fit_nfit(benchmark, mode):
    loss, params = nfit_loss(mode)
    for _ in range(2):  # warm: the kernels compiled (or loaded) by the first fits
        reset(params)
        _nfit_fit(loss, params)
    result = benchmark.pedantic(_nfit_fit, args=(loss, params), setup=lambda: reset(params), rounds=10, iterations=1)
    assert result.valid
    benchmark.extra_info["n_eval"] = result.info["n_eval"]


def test_template_fit_iminuit(benchmark):
    c = iminuit_cost()

    def fit():
        m = Minuit(c, START["nsig"], START["mu"], START["nbkg1"], START["nbkg2"])
        m.limits = [(0, 20_000), (3, 7), (0, 20_000), (0, 20_000)]
        m.migrad()
        m.hesse()
        return m

    fit()
    m = benchmark.pedantic(fit, rounds=10, iterations=1)
    assert m.valid
    benchmark.extra_info["n_eval"] = m.nfcn


def test_template_fit_pyhf(benchmark):
    pyhf = pytest.importorskip("pyhf")
    from binned_model import pyhf_model

    pyhf.set_backend("numpy", pyhf.optimize.minuit_optimizer(verbose=0))
    model, data, init, bounds = pyhf_model()

    def fit():
        return pyhf.infer.mle.fit(data, model, init_pars=init, par_bounds=bounds, return_uncertainties=True)

    fit()
    result = benchmark.pedantic(fit, rounds=3, iterations=1)
    benchmark.extra_info["n_eval"] = None
    benchmark.extra_info["n_sig"] = float(result[model.config.par_slice("n_sig").start][0])
