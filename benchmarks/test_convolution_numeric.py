"""A mass peak smeared by a resolution with no closed form: Crystal Ball (x) Gauss, 1e5 events, every
parameter of both floating, warm MIGRAD + HESSE. nfit's numerical convolution (compiled and eager),
the Crystal Ball alone (what the convolution adds per call), and RooFit's RooFFTConvPdf of the same
pair in one run (RooFit where `root` is installed, else skipped)."""
import numpy as np
import pytest

import nfit

N = 100_000
LO, HI = 5.0, 5.6
TRUTH = {"mu": 5.28, "sigma": 0.02, "alpha": 1.5, "n": 3.0, "width": 0.015}
START = {"mu": 5.279, "sigma": 0.022, "alpha": 1.3, "n": 3.5, "width": 0.012}


def _events():
    from scipy import stats

    rng = np.random.default_rng(7)
    peak = stats.crystalball(beta=TRUTH["alpha"], m=TRUTH["n"], loc=TRUTH["mu"], scale=TRUTH["sigma"])
    x = peak.rvs(size=2 * N, random_state=rng) + rng.normal(0.0, TRUTH["width"], 2 * N)
    return x[(x > LO) & (x < HI)][:N]


def _nfit_loss(mode, convolved=True):
    obs = nfit.Space("m", limits=(LO, HI))
    params = {k: nfit.Parameter(f"bc_{k}_{mode}_{convolved}", v) for k, v in START.items()}
    peak = nfit.pdf.CrystalBall(mu=params["mu"], sigma=params["sigma"], alpha=params["alpha"], n=params["n"], obs=obs)
    model = peak
    if convolved:
        resolution = nfit.pdf.Gauss(mu=0.0, sigma=params["width"], obs=nfit.Space("m", limits=(-0.1, 0.1)))
        model = nfit.pdf.FFTConvPDFV1(peak, resolution)
    else:
        del params["width"]
    data = nfit.Data.from_numpy(obs, _events())
    return nfit.loss.UnbinnedNLL(model=model, data=data, mode=mode), params


def _fit_nfit(loss, params):
    for k, p in params.items():
        p.set_value(START[k])
    result = nfit.minimize.Minuit().minimize(loss)
    result.hesse()
    return result


@pytest.mark.parametrize("case", ["compiled", "eager", "compiled-no-convolution"])
def test_convolution_fit_nfit(benchmark, case):
    loss, params = _nfit_loss(case.split("-")[0], convolved="no-convolution" not in case)
    _fit_nfit(loss, params)
    _fit_nfit(loss, params)  # every derivative order's kernel is compiled after the first fit
    nfit.run.wait_for_kernels()
    result = benchmark.pedantic(_fit_nfit, args=(loss, params), rounds=5, iterations=1)
    assert result.valid and abs(params["mu"].value() - TRUTH["mu"]) < 0.002
    benchmark.extra_info.update({k: p.value() for k, p in params.items()})


def test_convolution_fit_roofit(benchmark):
    ROOT = pytest.importorskip("ROOT")
    m = ROOT.RooRealVar("m", "m", LO, HI)
    m.setBins(1000, "cache")
    pars = {k: ROOT.RooRealVar(k, k, v, -10, 10) for k, v in START.items()}
    pars["sigma"].setRange(0.001, 0.2)
    pars["width"].setRange(0.001, 0.1)
    pars["alpha"].setRange(0.2, 5)
    pars["n"].setRange(1.01, 30)
    pars["mu"].setRange(5.2, 5.4)
    zero = ROOT.RooRealVar("zero", "zero", 0.0)
    peak = ROOT.RooCBShape("cb", "cb", m, pars["mu"], pars["sigma"], pars["alpha"], pars["n"])
    resolution = ROOT.RooGaussian("res", "res", m, zero, pars["width"])
    conv = ROOT.RooFFTConvPdf("conv", "conv", m, peak, resolution)
    data = ROOT.RooDataSet.from_numpy({"m": _events()}, ROOT.RooArgSet(m))

    def fit():
        for k, p in pars.items():
            p.setVal(START[k])
        return conv.fitTo(data, ROOT.RooFit.Save(), ROOT.RooFit.PrintLevel(-1), ROOT.RooFit.Hesse(True))

    fit()
    result = benchmark.pedantic(fit, rounds=3, iterations=1)
    assert result.status() == 0 and abs(pars["mu"].getVal() - TRUTH["mu"]) < 0.002
    benchmark.extra_info.update({k: p.getVal() for k, p in pars.items()})
