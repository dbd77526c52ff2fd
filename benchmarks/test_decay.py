"""A decay-time fit with per-event resolution: Exponential (x) Gauss with sigma_i = scale * terr_i, 1e5
events, warm MIGRAD + HESSE; nfit (closed-form convolution, conditional pdf) against RooFit's RooDecay
with a RooGaussModel and terr as a conditional observable, in one run (RooFit where `root` is
installed, else skipped)."""
import numpy as np
import pytest

import nfit

N = 100_000
TAU, SCALE = 1.25, 1.3


def _events():
    rng = np.random.default_rng(11)
    terr = rng.uniform(0.03, 0.3, N)
    t = rng.exponential(TAU, N) + rng.normal(0.0, SCALE * terr)
    keep = (t > -1) & (t < 8)
    return t[keep], terr[keep]


def _nfit_loss(mode):
    t, terr = _events()
    tobs, eobs = nfit.Space("t", limits=(-1.0, 8.0)), nfit.Space("terr", limits=(0.01, 0.5))
    data = nfit.Data.from_numpy(tobs * eobs, np.column_stack([t, terr]))
    lam = nfit.Parameter("bd_lam", -0.7, -3, -0.05)
    scale = nfit.Parameter("bd_scale", 1.0, 0.3, 3)
    per_event = nfit.Parameter("bd_terr", 0.1)
    width = nfit.ComposedParameter("bd_width", lambda p: p["e"] * p["k"], params={"e": per_event, "k": scale})
    decay = nfit.pdf.TruncatedPDF(nfit.pdf.Exponential(lam=lam, obs=nfit.Space("t", limits=(-1, 60))), limits=(0, 60))
    conv = nfit.pdf.FFTConvPDFV1(decay, nfit.pdf.Gauss(mu=0.0, sigma=width, obs=tobs), obs=tobs)
    model = nfit.pdf.ConditionalPDFV1(conv, cond={per_event: eobs})
    return nfit.loss.UnbinnedNLL(model=model, data=data, mode=mode), [lam, scale]


def _fit_nfit(loss, params):
    for p, v in zip(params, (-0.7, 1.0)):
        p.set_value(v)
    result = nfit.minimize.Minuit().minimize(loss)
    result.hesse()
    return result


@pytest.mark.parametrize("mode", ["compiled", "eager"])
def test_decay_fit_nfit(benchmark, mode):
    loss, params = _nfit_loss(mode)
    _fit_nfit(loss, params)
    _fit_nfit(loss, params)
    result = benchmark.pedantic(_fit_nfit, args=(loss, params), rounds=5, iterations=1)
    assert result.valid and abs(-1 / params[0].value() - TAU) < 0.05
    benchmark.extra_info["tau"] = -1 / params[0].value()


def test_decay_fit_roofit(benchmark):
    ROOT = pytest.importorskip("ROOT")
    t_values, terr_values = _events()
    t = ROOT.RooRealVar("t", "t", -1.0, 8.0)
    terr = ROOT.RooRealVar("terr", "terr", 0.01, 0.5)
    tau = ROOT.RooRealVar("tau", "tau", 1.4, 0.3, 20)
    scale = ROOT.RooRealVar("scale", "scale", 1.0, 0.3, 3)
    mean = ROOT.RooRealVar("mean", "mean", 0.0)
    resolution = ROOT.RooGaussModel("gm", "gm", t, mean, scale, terr)
    decay = ROOT.RooDecay("decay", "decay", t, tau, resolution, ROOT.RooDecay.SingleSided)
    data = ROOT.RooDataSet.from_numpy({"t": t_values, "terr": terr_values}, ROOT.RooArgSet(t, terr))

    def fit():
        tau.setVal(1.4)
        scale.setVal(1.0)
        return decay.fitTo(data, ROOT.RooFit.ConditionalObservables(ROOT.RooArgSet(terr)), ROOT.RooFit.Save(),
                           ROOT.RooFit.PrintLevel(-1), ROOT.RooFit.Hesse(True))

    fit()
    result = benchmark.pedantic(fit, rounds=3, iterations=1)
    assert result.status() == 0 and abs(tau.getVal() - TAU) < 0.05
    benchmark.extra_info["tau"] = tau.getVal()
