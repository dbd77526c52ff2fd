"""HS3 model exchange with RooFit: RooFit 6.40's exports (tests/data/hs3, written by
make_roofit_reference.py with RooFit's fits beside them) load and fit in nfit to RooFit's values; nfit's
documents load back into nfit, and where ROOT is installed RooFit imports and fits them to nfit's values."""
import json
import pathlib
import warnings

import numpy as np
import pytest

import nfit

HERE = pathlib.Path(__file__).parent / "data" / "hs3"
MODELS = ["gauss_exponential", "crystalball_chebychev", "doublecb_bernstein", "argus_bifurgauss", "gauss_polynomial",
          "gauss_uniform_constrained"]
ERRORS_COMPARED = {"gauss_exponential", "argus_bifurgauss", "gauss_uniform_constrained"}  # no parameter at a limit


def _fit(loss):
    result = nfit.minimize.Minuit(tol=1e-4).minimize(loss)
    result.hesse()
    return result


@pytest.mark.parametrize("name", MODELS)
def test_roofit_exports_fit_to_roofits_values(name):
    ws = nfit.hs3.load(HERE / f"{name}.json")
    reference = json.loads((HERE / f"{name}_fit.json").read_text())
    model, data = ws["distributions"]["model"], ws["data"]["obsData"]
    cls = nfit.loss.ExtendedUnbinnedNLL if model.is_extended else nfit.loss.UnbinnedNLL
    loss = cls(model=model, data=data, constraints=list(ws["constraints"].values()) or None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = _fit(loss)
    assert result.valid
    assert sorted(p.name for p in loss.get_params()) == sorted(reference["params"])
    for p in loss.get_params():
        ref = reference["params"][p.name]
        assert p.value() == pytest.approx(ref["value"], abs=0.03 * ref["error"]), p.name
        if name in ERRORS_COMPARED:
            assert result.params[p]["hesse"]["error"] == pytest.approx(ref["error"], rel=0.01), p.name


def test_roofit_likelihood_of_a_simultaneous_model():
    ws = nfit.hs3.load(HERE / "simultaneous.json")
    reference = json.loads((HERE / "simultaneous_fit.json").read_text())
    loss = ws["loss"]["simPdf_obsDataSim"]
    assert isinstance(loss, nfit.loss.ExtendedUnbinnedNLL) and len(loss.model) == 2
    _assert_fits_to(loss, reference, error_rel=0.01)


def _assert_fits_to(loss, reference, error_rel):
    """Fit ``loss``; its parameters are RooFit's (values within 0.03 sigma, HESSE errors within ``error_rel``)."""
    result = _fit(loss)
    assert result.valid and sorted(p.name for p in loss.get_params()) == sorted(reference["params"])
    for p in loss.get_params():
        ref = reference["params"][p.name]
        assert p.value() == pytest.approx(ref["value"], abs=0.03 * ref["error"]), p.name
        assert result.params[p]["hesse"]["error"] == pytest.approx(ref["error"], rel=error_rel), p.name


def _nfit_model():
    obs = nfit.Space("m", limits=(5.0, 5.6))
    mu, sigma = nfit.Parameter("rt_mu", 5.28, 5.2, 5.35), nfit.Parameter("rt_sigma", 0.03, 0.005, 0.1)
    lam = nfit.Parameter("rt_lam", -1.0, -5, 1)
    nsig, nbkg = nfit.Parameter("rt_nsig", 300, 0, 5000), nfit.Parameter("rt_nbkg", 700, 0, 5000)
    model = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs, extended=nsig, name="rt_sig"),
                             nfit.pdf.Exponential(lam=lam, obs=obs, extended=nbkg, name="rt_bkg")], name="rt_model")
    data = model.sample(rng=3)
    data.name = "rt_data"
    constraint = nfit.constraint.GaussianConstraint(params=[mu], observation=[5.279], uncertainty=[0.003])
    loss = nfit.loss.ExtendedUnbinnedNLL(model=model, data=data, constraints=constraint)
    return loss, [mu, sigma, lam, nsig, nbkg]


def test_nfit_documents_load_back():
    loss, params = _nfit_model()
    text = nfit.hs3.dumps(loss)
    doc = json.loads(text)
    assert doc["metadata"]["hs3_version"] == "0.2"
    types = {d["name"]: d["type"] for d in doc["distributions"]}
    assert types["rt_model"] == "mixture_dist" and types["rt_bkg"] == "exponential_dist"
    assert doc["likelihoods"][0]["data"] == ["rt_data"]
    ws = nfit.hs3.loads(text)
    (again,) = ws["loss"].values()
    assert isinstance(again, nfit.loss.ExtendedUnbinnedNLL) and len(again.constraints) == 1
    start = {p.name: p.value() for p in params}
    x = np.array([start[p.name] for p in again.get_params()])
    assert again(x) == pytest.approx(loss(np.array([start[p.name] for p in loss.get_params()])), rel=1e-12)
    with pytest.raises(ValueError, match="Voigt 'v'"):
        nfit.hs3.dumps(nfit.pdf.Voigt(m=5.3, sigma=0.01, gamma=0.01, obs=loss.model[0].space, name="v"))


def _nfit_shapes_model():
    obs = nfit.Space("x", limits=(-1, 1))
    mu, sigma = nfit.Parameter("rs_mu", 0.1, -0.5, 0.5), nfit.Parameter("rs_sigma", 0.1, 0.02, 0.5)
    alpha, n = nfit.Parameter("rs_alpha", 1.5, 0.3, 5), nfit.Parameter("rs_n", 3.0, 1.0, 10)
    c1, c2 = nfit.Parameter("rs_c1", 0.2, -1, 1), nfit.Parameter("rs_c2", 0.1, -1, 1)
    frac = nfit.Parameter("rs_frac", 0.4, 0, 1)
    model = nfit.pdf.SumPDF([nfit.pdf.CrystalBall(mu=mu, sigma=sigma, alpha=alpha, n=n, obs=obs, name="rs_cb"),
                             nfit.pdf.Polynomial(obs=obs, coeffs=[c1, c2], name="rs_poly")], fracs=frac,
                            name="rs_model")
    data = model.sample(3000, rng=4)
    data.name = "rs_data"
    return nfit.loss.UnbinnedNLL(model=model, data=data), [mu, sigma, alpha, frac], "rs_model", "rs_data", False


@pytest.mark.parametrize("make", ["constrained_extended", "shapes_and_polynomial"])
def test_roofit_fits_nfits_document_to_nfits_values(make):
    ROOT = pytest.importorskip("ROOT")
    if make == "constrained_extended":
        loss, params = _nfit_model()
        top, data_name, extended = "rt_model_constrained", "rt_data", True
    else:
        loss, params, top, data_name, extended = _nfit_shapes_model()
    text = nfit.hs3.dumps(loss)
    result = _fit(loss)
    ws = ROOT.RooWorkspace("w")
    assert ROOT.RooJSONFactoryWSTool(ws).importJSONfromString(text)
    pdf = ws.pdf(top)
    fit = pdf.fitTo(ws.data(data_name), ROOT.RooFit.Save(), ROOT.RooFit.PrintLevel(-1),
                    ROOT.RooFit.Extended(extended))
    for p in params:
        var = ws.var(p.name)
        assert var.getVal() == pytest.approx(p.value(), abs=0.03 * result.params[p]["hesse"]["error"]), p.name
    assert fit.status() == 0


def test_mixtures_of_n_coefficients():
    doc = {"distributions": [
        {"name": "a", "type": "gaussian_dist", "x": "x", "mean": 0.0, "sigma": 1.0},
        {"name": "b", "type": "uniform_dist", "x": ["x"]},
        {"name": "weights", "type": "mixture_dist", "summands": ["a", "b"], "coefficients": ["wa", "wb"],
         "extended": False},
        {"name": "yields", "type": "mixture_dist", "summands": ["a", "b"], "coefficients": ["wa", "wb"],
         "extended": True}],
        "domains": [{"name": "d", "type": "product_domain", "axes": [{"name": "x", "min": -5, "max": 5}]}],
        "parameter_points": [{"name": "default_values", "parameters": [{"name": "wa", "value": 1.0},
                                                                       {"name": "wb", "value": 3.0}]}]}
    ws = nfit.hs3.loads(doc)
    weights, yields = ws["distributions"]["weights"], ws["distributions"]["yields"]
    assert not weights.is_extended and yields.is_extended and yields.get_yield().value() == 4.0
    x = np.array([0.0, 2.0])
    gauss = np.exp(-0.5 * x ** 2) / np.sqrt(2 * np.pi) / 0.9999994266968563
    np.testing.assert_allclose(weights.pdf(x), 0.25 * gauss + 0.75 / 10, rtol=1e-9)
    np.testing.assert_allclose(yields.pdf(x), weights.pdf(x), rtol=1e-12)


@pytest.mark.parametrize("name", ["templates_binned", "gauss_exponential_binned"])
def test_roofit_binned_exports_fit_to_roofits_values(name):
    """RooFit's binned data (RooDataHist: HS3 ``binned``) and templates (RooHistPdf: ``histogram_dist``):
    a template fit, and a continuous model fitted to binned data with its bin integrals (RooFit's
    IntegrateBins)."""
    ws = nfit.hs3.load(HERE / f"{name}.json")
    reference = json.loads((HERE / f"{name}_fit.json").read_text())
    model, data = ws["distributions"]["model"], ws["data"]["obsData"]
    assert isinstance(data, nfit.data.BinnedData)
    binned = model if isinstance(model, nfit.pdf.BaseBinnedPDF) else model.to_binned(data.space)
    cls = nfit.loss.ExtendedBinnedNLL if model.is_extended else nfit.loss.BinnedNLL
    _assert_fits_to(cls(model=binned, data=data), reference, error_rel=0.02)


def _binned_template_loss():
    obs = nfit.Space("bt_m", limits=(5.0, 5.6))
    bobs = obs.with_binning(nfit.binned.RegularBinning(24, 5.0, 5.6, name="bt_m"))
    rng = np.random.default_rng(12)
    sig_counts = np.histogram(rng.normal(5.28, 0.03, 4000), bins=24, range=(5.0, 5.6))[0].astype(float)
    bkg_counts = np.histogram(5.0 + rng.exponential(0.4, 8000) % 0.6, bins=24, range=(5.0, 5.6))[0].astype(float)
    edges = np.linspace(5.0, 5.6, 25)
    nsig, nbkg = nfit.Parameter("bt_nsig", 300, 0, 5000), nfit.Parameter("bt_nbkg", 700, 0, 5000)
    sig = nfit.pdf.HistogramPDF((sig_counts, edges), obs=obs, name="bt_sig", extended=nsig)
    bkg = nfit.pdf.HistogramPDF((bkg_counts, edges), obs=obs, name="bt_bkg", extended=nbkg)
    model = nfit.pdf.BinnedSumPDF([sig, bkg], name="bt_model")
    truth = 400 * sig_counts / sig_counts.sum() + 900 * bkg_counts / bkg_counts.sum()
    data = nfit.data.BinnedData.from_tensor(bobs, rng.poisson(truth).astype(float), name="bt_data")
    return nfit.loss.ExtendedBinnedNLL(model=model, data=data), [nsig, nbkg]


def _binned_continuous_loss():
    obs = nfit.Space("bc_m", limits=(5.0, 5.6))
    mu, sigma = nfit.Parameter("bc_mu", 5.28, 5.2, 5.35), nfit.Parameter("bc_sigma", 0.03, 0.005, 0.1)
    lam, frac = nfit.Parameter("bc_lam", -1.0, -5, 1), nfit.Parameter("bc_frac", 0.3, 0, 1)
    model = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs, name="bc_sig"),
                             nfit.pdf.Exponential(lam=lam, obs=obs, name="bc_bkg")], fracs=frac, name="bc_model")
    edges = [5.0, 5.1, 5.2, 5.24, 5.26, 5.27, 5.28, 5.29, 5.3, 5.32, 5.36, 5.45, 5.6]  # variable bins
    bobs = obs.with_binning(nfit.binned.VariableBinning(edges, name="bc_m"))
    data = model.sample(4000, rng=6).to_binned(bobs)
    data.name = "bc_data"
    return nfit.loss.BinnedNLL(model=model.to_binned(bobs), data=data), [mu, sigma, lam, frac]


@pytest.mark.parametrize("make", [_binned_template_loss, _binned_continuous_loss])
def test_binned_documents_load_back_and_fit_alike(make):
    loss, params = make()
    text = nfit.hs3.dumps(loss)
    doc = json.loads(text)
    assert {d["type"] for d in doc["data"]} == {"binned"}
    result = _fit(loss)
    fitted = {p.name: (p.value(), result.params[p]["hesse"]["error"]) for p in params}
    ws = nfit.hs3.loads(text)
    (again,) = ws["loss"].values()
    assert type(again) is type(loss)
    np.testing.assert_allclose(again.data[0].values(), loss.data[0].values())
    second = _fit(again)
    for p in again.get_params():
        value, error = fitted[p.name]
        assert p.value() == pytest.approx(value, abs=1e-3 * error), p.name
        assert second.params[p]["hesse"]["error"] == pytest.approx(error, rel=1e-3), p.name


@pytest.mark.parametrize("make", [_binned_template_loss, _binned_continuous_loss])
def test_roofit_fits_nfits_binned_documents(make):
    ROOT = pytest.importorskip("ROOT")
    loss, params = make()
    text = nfit.hs3.dumps(loss)
    result = _fit(loss)
    ws = ROOT.RooWorkspace("w")
    assert ROOT.RooJSONFactoryWSTool(ws).importJSONfromString(text)
    top, data = loss.model[0].name, loss.data[0].name
    if make is _binned_continuous_loss:  # nfit's binned pdf integrates the shape over each bin
        top, options = "bc_model", [ROOT.RooFit.IntegrateBins(1e-9)]
    else:
        options = [ROOT.RooFit.Extended(True)]
    fit = ws.pdf(top).fitTo(ws.data(data), ROOT.RooFit.Save(), ROOT.RooFit.PrintLevel(-1), *options)
    assert fit.status() == 0
    for p in params:
        assert ws.var(p.name).getVal() == pytest.approx(p.value(), abs=0.03 * result.params[p]["hesse"]["error"])


@pytest.mark.parametrize("kind", ["KDE1DimExact", "KDE1DimGrid", "KDE1DimFFT", "KDE1DimISJ", "GaussianKDE1DimV1"])
def test_kde_written_as_zfit_writes_it_and_read_back(kind):
    """zfit's hs3.dumps writes a KDE as its class with the data and options; nfit does the same (RooFit has
    no such type) and builds the same estimate back, inside a likelihood too."""
    obs = nfit.Space("x", limits=(-3, 3))
    rng = np.random.default_rng(7)
    points = rng.normal(size=400)
    points = points[np.abs(points) < 3]
    weights = rng.uniform(0.5, 1.5, points.size)
    cls = getattr(nfit.pdf, kind)
    if kind == "GaussianKDE1DimV1":
        kde = cls(obs, points, bandwidth=0.3, weights=weights, truncate=True, name="kde")
    elif kind == "KDE1DimISJ":
        kde = cls(points, obs=obs, weights=weights, num_grid_points=256, name="kde")
    else:
        kde = cls(points, obs=obs, weights=weights, bandwidth="scott", name="kde")
    n = nfit.Parameter("n_kde", 300, 0, 1000)
    model = nfit.pdf.SumPDF([kde.create_extended(n, name="kde_ext")], name="model")
    data = nfit.Data.from_numpy(obs, rng.normal(size=300).clip(-2.9, 2.9))
    text = nfit.hs3.dumps(nfit.loss.ExtendedUnbinnedNLL(model, data))
    entry = [d for d in json.loads(text)["distributions"] if d["name"] == "kde_ext"][0]
    assert entry["type"] == kind and len(entry["data"]) == points.size and "weights" in entry
    ws = nfit.hs3.loads(text)
    x = np.linspace(-2.9, 2.9, 13)
    np.testing.assert_allclose(ws["distributions"]["kde_ext"].pdf(x), kde.pdf(x), rtol=1e-12)
    np.testing.assert_allclose(ws["distributions"]["model"].pdf(x), model.pdf(x), rtol=1e-12)
