"""Binned fits: spaces, data, binned pdfs and binned losses, against scipy and iminuit.cost on
both paths."""
import pickle

import hist
import numpy as np
import pytest
from iminuit import Minuit, cost
from scipy import stats
from scipy.integrate import quad

import nfit

OBS = nfit.Space("x", limits=(0, 10))
EDGES = np.array([0, 1, 2, 3, 3.5, 4, 4.5, 5, 5.5, 6, 7, 8, 10.0])
VOBS = OBS.with_binning(nfit.binned.VariableBinning(EDGES, name="x"))


@pytest.fixture(params=["eager", "compiled"])
def mode(request):
    return request.param


def _gauss_sample(n=3000, seed=1):
    x = np.random.default_rng(seed).normal(5, 1.5, n)
    return x[(x > 0) & (x < 10)]


# ---------------------------------------------------------------- spaces and data
def test_binned_space():
    bobs = nfit.Space("x", limits=(0, 10), binning=50)
    assert bobs.is_binned and bobs.binning[0].size == 50 and bobs == OBS.with_binning(50)
    np.testing.assert_allclose(bobs.binning.edges[0], np.linspace(0, 10, 51))
    assert not bobs.with_binning(None).is_binned
    assert nfit.Space("x", binning=nfit.binned.RegularBinning(50, 0, 10, name="x")).limits == (0.0, 10.0)
    h_axis = nfit.Space("x", limits=(0, 10), binning=hist.axis.Regular(50, 0, 10, name="x"))
    assert h_axis == bobs
    np.testing.assert_allclose(VOBS.binning[0].widths, np.diff(EDGES))
    assert nfit.data.RegularBinning is nfit.binned.RegularBinning
    with pytest.raises(ValueError, match="agree"):
        nfit.Space("x", limits=(0, 4), binning=nfit.binned.RegularBinning(10, 0, 5, name="x"))
    with pytest.raises(ValueError, match="named"):
        nfit.Space("x", limits=(0, 5), binning=nfit.binned.RegularBinning(10, 0, 5, name="y"))
    with pytest.raises(ValueError, match="VariableBinning"):
        nfit.Space("x", limits=(0, 5), binning=[0, 1, 5])


def test_binned_data_from_hist_and_events():
    x = _gauss_sample(500)
    w = np.random.default_rng(2).uniform(0.5, 1.5, x.size)
    h = hist.Hist(hist.axis.Regular(20, 0, 10, name="x"), storage=hist.storage.Weight())
    h.fill(x=x, weight=w)
    bd = nfit.data.BinnedData.from_hist(h)
    np.testing.assert_allclose(bd.values(), np.histogram(x, bins=20, range=(0, 10), weights=w)[0], rtol=1e-12)
    np.testing.assert_allclose(bd.variances(), np.histogram(x, bins=20, range=(0, 10), weights=w * w)[0], rtol=1e-12)
    assert bd.samplesize == pytest.approx(w.sum())
    from_events = nfit.Data.from_numpy(obs=OBS, array=x, weights=w).to_binned(OBS.with_binning(20))
    np.testing.assert_allclose(from_events.values(), bd.values(), rtol=1e-12)
    np.testing.assert_allclose(from_events.to_hist().variances(), bd.variances(), rtol=1e-12)
    assert nfit.data.from_hist(h).space == bd.space
    tensor = nfit.data.BinnedData.from_tensor(space=OBS.with_binning(2), values=[1.0, 2.0])
    assert tensor.variances() is None and tensor.with_variances([1.0, 1.0]).variances().tolist() == [1.0, 1.0]
    unbinned = tensor.to_unbinned()
    assert unbinned.weights.tolist() == [1.0, 2.0] and unbinned.to_numpy()[:, 0].tolist() == [2.5, 7.5]
    with pytest.raises(ValueError, match="name"):
        nfit.data.BinnedData.from_hist(hist.Hist(hist.axis.Regular(2, 0, 1)))


# ---------------------------------------------------------------- binned pdfs
@pytest.mark.parametrize("make, reference", [
    (lambda: nfit.pdf.Gauss(mu=4.0, sigma=1.3, obs=OBS), lambda e: stats.norm.cdf(e, 4.0, 1.3)),
    (lambda: nfit.pdf.Exponential(lam=-0.4, obs=OBS), lambda e: stats.expon.cdf(e, scale=2.5)),
    (lambda: nfit.pdf.CrystalBall(mu=5.0, sigma=1.0, alpha=1.2, n=3.0, obs=OBS),
     lambda e: stats.crystalball.cdf(e, 1.2, 3.0, loc=5.0, scale=1.0)),
    (lambda: nfit.pdf.StudentT(ndof=3.0, mu=5.0, sigma=1.0, obs=OBS), lambda e: stats.t.cdf(e, 3.0, 5.0, 1.0)),
])
def test_bin_integrals_are_exact(make, reference, mode):
    pdf = make()
    cdf = reference(EDGES)
    expected = np.diff(cdf) / (cdf[-1] - cdf[0])
    binned = pdf.to_binned(VOBS)
    np.testing.assert_allclose(binned.rel_counts(), expected, rtol=1e-12)
    # the same numbers from the loss's kernel (a chi2 with unit variances returns sum (nu - n)^2)
    n = np.zeros(EDGES.size - 1)
    data = nfit.data.BinnedData.from_tensor(VOBS, n + 1.0, np.ones_like(n))
    ext = pdf.create_extended(1000.0).to_binned(VOBS)
    value = nfit.loss.ExtendedBinnedChi2(ext, data, mode=mode).value()
    assert value == pytest.approx(np.sum((1000 * expected - 1.0) ** 2), rel=1e-11)


def test_quadrature_bins_of_a_shape_without_closed_form(mode):
    mu = nfit.Parameter("vmu", 5.0)
    voigt = nfit.pdf.Voigt(m=mu, sigma=0.8, gamma=0.3, obs=OBS)
    binned = voigt.to_binned(VOBS)
    density = lambda t: float(voigt.pdf(np.array([t]), norm=False, mode="eager")[0])  # noqa: E731
    parts = np.array([quad(density, a, b, epsabs=0, epsrel=1e-13)[0] for a, b in zip(EDGES[:-1], EDGES[1:])])
    np.testing.assert_allclose(binned.rel_counts(), parts / parts.sum(), rtol=1e-10)
    data = nfit.data.BinnedData.from_tensor(VOBS, np.ones(EDGES.size - 1), np.ones(EDGES.size - 1))
    value = nfit.loss.BinnedChi2(binned, data, mode=mode).value()
    assert value == pytest.approx(np.sum((parts / parts.sum() * data.samplesize - 1) ** 2), rel=1e-10)


def test_histogram_pdf_defaults_and_counts():
    h = hist.Hist(hist.axis.Regular(4, 0, 4, name="x"), storage=hist.storage.Weight())
    h.fill(x=[0.5, 1.5, 1.5, 2.5], weight=[1.0, 2.0, 1.0, 0.5])
    hpdf = nfit.pdf.HistogramPDF(h)
    assert hpdf.is_extended and hpdf.get_yield().value() == pytest.approx(4.5)
    np.testing.assert_allclose(hpdf.counts(), [1.0, 3.0, 0.5, 0.0])
    np.testing.assert_allclose(hpdf.rel_counts(), np.array([1.0, 3.0, 0.5, 0.0]) / 4.5)
    np.testing.assert_allclose(hpdf.pdf(hpdf.space), np.array([1.0, 3.0, 0.5, 0.0]) / 4.5)
    np.testing.assert_allclose(hpdf.pdf(np.array([1.2, 3.5])), [3.0 / 4.5, 0.0])
    assert not nfit.pdf.HistogramPDF(h, extended=False).is_extended
    with pytest.raises(nfit.pdf.binnedpdf.NotExtendedPDFError):
        nfit.pdf.HistogramPDF(h, extended=False).counts()
    y = nfit.Parameter("hyield", 9.0)
    np.testing.assert_allclose(nfit.pdf.HistogramPDF(h, extended=y).counts(), np.array([1.0, 3.0, 0.5, 0.0]) * 2)
    sample = hpdf.sample(n=1000, rng=1)
    assert sample.samplesize == 1000 and sample.values()[3] == 0


def test_binned_sum_with_fractions_and_yields():
    bobs = OBS.with_binning(5)
    a = nfit.pdf.Gauss(mu=3.0, sigma=1.0, obs=OBS).to_binned(bobs)
    b = nfit.pdf.Exponential(lam=-0.2, obs=OBS).to_binned(bobs)
    f = nfit.Parameter("bfrac", 0.3, 0, 1)
    np.testing.assert_allclose(nfit.pdf.BinnedSumPDF([a, b], fracs=f).rel_counts(),
                               0.3 * a.rel_counts() + 0.7 * b.rel_counts(), rtol=1e-14)
    ya, yb = nfit.Parameter("bya", 100.0), nfit.Parameter("byb", 50.0)
    ea = nfit.pdf.Gauss(mu=3.0, sigma=1.0, obs=OBS, extended=ya).to_binned(bobs)
    eb = nfit.pdf.Exponential(lam=-0.2, obs=OBS, extended=yb).to_binned(bobs)
    total = nfit.pdf.BinnedSumPDF([ea, eb])
    assert total.is_extended and total.get_yield().value() == 150.0
    np.testing.assert_allclose(total.counts(), 100 * a.rel_counts() + 50 * b.rel_counts(), rtol=1e-14)
    with pytest.raises(ValueError, match="extended"):
        nfit.pdf.BinnedSumPDF([ea, b])


# ---------------------------------------------------------------- losses against iminuit.cost
def _iminuit_fit(c, **start):
    m = Minuit(c, **start)
    m.tol = 1e-6
    m.migrad()
    m.hesse()
    return m


def _truncated_cdf(lo, hi):
    def cdf(xe, mu, sigma):
        c = stats.norm.cdf(xe, mu, sigma)
        return (c - stats.norm.cdf(lo, mu, sigma)) / (stats.norm.cdf(hi, mu, sigma) - stats.norm.cdf(lo, mu, sigma))
    return cdf


def test_binned_nll_matches_iminuit(mode):
    data = nfit.Data.from_numpy(OBS, _gauss_sample()).to_binned(VOBS)
    mu, sigma = nfit.Parameter("bn_mu", 4.0, 0, 10), nfit.Parameter("bn_sigma", 2.0, 0.1, 10)
    nll = nfit.loss.BinnedNLL(nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=OBS).to_binned(VOBS), data, mode=mode)
    result = nfit.minimize.Minuit(tol=1e-6).minimize(nll)
    result.hesse()
    ref_cost = cost.BinnedNLL(data.values(), EDGES, _truncated_cdf(0, 10))
    ref = _iminuit_fit(ref_cost, mu=4.0, sigma=2.0)
    assert result.valid
    assert mu.value() == pytest.approx(ref.values["mu"], abs=1e-3 * ref.errors["mu"])
    assert sigma.value() == pytest.approx(ref.values["sigma"], abs=1e-3 * ref.errors["sigma"])
    assert result.params[mu]["hesse"]["error"] == pytest.approx(ref.errors["mu"], rel=1e-4)
    assert result.params[sigma]["hesse"]["error"] == pytest.approx(ref.errors["sigma"], rel=1e-4)
    # iminuit's value is twice the NLL up to a constant of the data
    here = (mu.value(), sigma.value())
    assert 2 * nll.value() - ref_cost(*here) == pytest.approx(
        2 * nll.value({mu: 5.0}) - ref_cost(5.0, sigma.value()), abs=1e-8)


def test_extended_binned_nll_matches_iminuit(mode):
    data = nfit.Data.from_numpy(OBS, _gauss_sample()).to_binned(VOBS)
    mu, sigma = nfit.Parameter("ebn_mu", 4.0, 0, 10), nfit.Parameter("ebn_sigma", 2.0, 0.1, 10)
    n = nfit.Parameter("ebn_n", 2000.0, 0, 10000)
    model = nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=OBS, extended=n).to_binned(VOBS)
    result = nfit.minimize.Minuit(tol=1e-6).minimize(nfit.loss.ExtendedBinnedNLL(model, data, mode=mode))
    result.hesse()
    cdf = _truncated_cdf(0, 10)
    ref = _iminuit_fit(cost.ExtendedBinnedNLL(data.values(), EDGES, lambda xe, n, mu, sigma: n * cdf(xe, mu, sigma)),
                       n=2000.0, mu=4.0, sigma=2.0)
    assert n.value() == pytest.approx(ref.values["n"], abs=1e-3 * ref.errors["n"])
    for p, key in ((mu, "mu"), (sigma, "sigma"), (n, "n")):
        assert result.params[p]["hesse"]["error"] == pytest.approx(ref.errors[key], rel=1e-4)


@pytest.mark.parametrize("errors", ["data", "expected"])
def test_binned_chi2_matches_least_squares(errors, mode):
    rng = np.random.default_rng(3)
    x = _gauss_sample(4000, seed=3)
    w = rng.uniform(0.5, 1.5, x.size)
    data = nfit.Data.from_numpy(OBS, x, weights=w).to_binned(VOBS)
    data.values()[0] = 0.0  # an empty bin: left out with errors="data"
    data.variances()[0] = 0.0
    mu, sigma = nfit.Parameter(f"c2_mu_{errors}", 4.5, 0, 10), nfit.Parameter(f"c2_s_{errors}", 2.0, 0.1, 10)
    chi2 = nfit.loss.BinnedChi2(nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=OBS).to_binned(VOBS), data,
                                options={"errors": errors}, mode=mode)
    assert chi2.errordef == 1.0
    nfit.minimize.Minuit(tol=1e-6).minimize(chi2).hesse()
    cdf = _truncated_cdf(0, 10)
    total = data.samplesize
    if errors == "data":
        keep = data.variances() > 0
        ls = cost.LeastSquares(np.flatnonzero(keep), data.values()[keep], np.sqrt(data.variances()[keep]),
                               lambda i, mu, sigma: total * np.diff(cdf(EDGES, mu, sigma))[i.astype(int)])
    else:
        def ls(mu, sigma):
            nu = total * np.diff(cdf(EDGES, mu, sigma))
            return np.sum((nu - data.values()) ** 2 / nu)
        ls.errordef = 1.0
    assert chi2.value({mu: 5.1, sigma: 1.4}) == pytest.approx(ls(5.1, 1.4), rel=1e-11)
    ref = _iminuit_fit(ls, mu=4.5, sigma=2.0)
    assert mu.value() == pytest.approx(ref.values["mu"], abs=2e-3 * ref.errors["mu"])
    assert sigma.value() == pytest.approx(ref.values["sigma"], abs=2e-3 * ref.errors["sigma"])
    with pytest.raises(ValueError, match="variance"):
        nfit.loss.BinnedChi2(chi2.model[0], data, options={"empty": "raise"})


@pytest.mark.parametrize("method", ["jsc", "da", "asy"])
def test_template_fit_matches_iminuit_template(method, mode):
    rng = np.random.default_rng(7)
    bobs = nfit.Space("x", limits=(0, 10), binning=25)
    edges = bobs.binning[0].edges
    sig_mc, bkg_mc = rng.normal(5, 1, 400), rng.exponential(4, 600)
    w_bkg = rng.uniform(0.5, 1.5, bkg_mc.size)
    h_sig = nfit.Data.from_numpy(OBS, sig_mc[(sig_mc > 0) & (sig_mc < 10)]).to_binned(bobs)
    keep = bkg_mc < 10
    h_bkg = nfit.Data.from_numpy(OBS, bkg_mc[keep], weights=w_bkg[keep]).to_binned(bobs)
    observed = np.concatenate([rng.normal(5, 1, 300), rng.exponential(4, 900)])
    data = nfit.Data.from_numpy(OBS, observed[(observed > 0) & (observed < 10)]).to_binned(bobs)
    nsig = nfit.Parameter(f"t_nsig_{method}", 250.0, 0, 5000)
    nbkg = nfit.Parameter(f"t_nbkg_{method}", 800.0, 0, 5000)
    model = nfit.pdf.BinnedSumPDF([nfit.pdf.HistogramPDF(h_sig, extended=nsig),
                                   nfit.pdf.HistogramPDF(h_bkg, extended=nbkg)])
    nll = nfit.loss.TemplateNLL(model, data, method=method, mode=mode)
    result = nfit.minimize.Minuit(tol=1e-6).minimize(nll)
    result.hesse()
    ref_cost = cost.Template(data.values(), edges, [np.stack([h.values(), h.variances()], -1) for h in (h_sig, h_bkg)],
                             method=method)
    ref = _iminuit_fit(ref_cost, x0=250.0, x1=800.0)
    factor = 1.0 if method == "asy" else 0.5
    assert nll.value() == pytest.approx(factor * ref_cost(nsig.value(), nbkg.value()), rel=1e-10)
    assert nsig.value() == pytest.approx(ref.values["x0"], abs=1e-3 * ref.errors["x0"])
    assert nbkg.value() == pytest.approx(ref.values["x1"], abs=1e-3 * ref.errors["x1"])
    assert result.params[nsig]["hesse"]["error"] == pytest.approx(ref.errors["x0"], rel=1e-3)
    assert result.params[nbkg]["hesse"]["error"] == pytest.approx(ref.errors["x1"], rel=1e-3)


def test_template_with_a_parametric_shape(mode):
    rng = np.random.default_rng(8)
    bobs = nfit.Space("x", limits=(0, 10), binning=20)
    edges = bobs.binning[0].edges
    bkg_mc = rng.exponential(4, 2000)
    h_bkg = nfit.Data.from_numpy(OBS, bkg_mc[bkg_mc < 10]).to_binned(bobs)
    observed = np.concatenate([rng.normal(5, 1, 300), rng.exponential(4, 900)])
    data = nfit.Data.from_numpy(OBS, observed[(observed > 0) & (observed < 10)]).to_binned(bobs)
    nsig, nbkg = nfit.Parameter("tp_nsig", 250.0, 0, 5000), nfit.Parameter("tp_nbkg", 800.0, 0, 5000)
    mu = nfit.Parameter("tp_mu", 4.8, 3, 7)
    sig = nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=OBS, extended=nsig).to_binned(bobs)
    model = nfit.pdf.BinnedSumPDF([sig, nfit.pdf.HistogramPDF(h_bkg, extended=nbkg)])
    nll = nfit.loss.TemplateNLL(model, data, method="da", mode=mode)
    nfit.minimize.Minuit(tol=1e-6).minimize(nll)
    cdf = _truncated_cdf(0, 10)
    ref_cost = cost.Template(data.values(), edges, [lambda xe, n, mu: n * cdf(xe, mu, 1.0),
                                                    np.stack([h_bkg.values(), h_bkg.variances()], -1)], method="da")
    ref = _iminuit_fit(ref_cost, x0_n=250.0, x0_mu=4.8, x1=800.0)
    assert nsig.value() == pytest.approx(ref.values["x0_n"], abs=1e-3 * ref.errors["x0_n"])
    assert mu.value() == pytest.approx(ref.values["x0_mu"], abs=1e-3 * ref.errors["x0_mu"])


# ---------------------------------------------------------------- composition
def test_binned_plus_unbinned_is_one_fused_loss(mode):
    x = _gauss_sample(2000, seed=4)
    mu = nfit.Parameter("mix_mu", 4.8, 0, 10)
    s1, s2 = nfit.Parameter("mix_s1", 1.4, 0.1, 5), nfit.Parameter("mix_s2", 1.6, 0.1, 5)
    binned = nfit.loss.BinnedNLL(nfit.pdf.Gauss(mu=mu, sigma=s1, obs=OBS).to_binned(VOBS),
                                 nfit.Data.from_numpy(OBS, x[:1000]).to_binned(VOBS), mode=mode)
    unbinned = nfit.loss.UnbinnedNLL(nfit.pdf.Gauss(mu=mu, sigma=s2, obs=OBS), nfit.Data.from_numpy(OBS, x[1000:]),
                                     mode=mode)
    both = binned + unbinned
    assert [p.name for p in both.get_params()] == ["mix_mu", "mix_s1", "mix_s2"]
    assert both.value() == pytest.approx(binned.value() + unbinned.value(), rel=1e-13)
    g = both.gradient()
    gb, gu = binned.gradient(), unbinned.gradient()
    np.testing.assert_allclose(g, [gb[0] + gu[0], gb[1], gu[1]], rtol=1e-10, atol=1e-9)
    hess = both.hessian()
    assert hess[1, 2] == 0.0 and hess[0, 0] == pytest.approx(binned.hessian()[0, 0] + unbinned.hessian()[0, 0])
    assert nfit.minimize.Minuit().minimize(both).valid
    with pytest.raises(ValueError, match="errordef"):
        binned + nfit.loss.BinnedChi2(binned.model[0], binned.data[0])


def test_simultaneous_binned_fit(mode):
    mu = nfit.Parameter("sim_mu", 4.8, 0, 10)
    a = nfit.pdf.Gauss(mu=mu, sigma=1.5, obs=OBS).to_binned(VOBS)
    b = nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=OBS).to_binned(VOBS.with_binning(7))
    da = nfit.Data.from_numpy(OBS, _gauss_sample(1000, 5)).to_binned(VOBS)
    db = nfit.Data.from_numpy(OBS, np.random.default_rng(6).normal(5, 1.0, 800)).to_binned(VOBS.with_binning(7))
    joint = nfit.loss.BinnedNLL([a, b], [da, db], mode=mode)
    added = nfit.loss.BinnedNLL(a, da, mode=mode) + nfit.loss.BinnedNLL(b, db, mode=mode)
    assert isinstance(added, nfit.loss.BinnedNLL)
    assert joint.value() == pytest.approx(added.value(), rel=1e-14)
    assert nfit.minimize.Minuit().minimize(joint).valid


def test_constraint_and_pickle(mode):
    mu = nfit.Parameter("pc_mu", 4.8, 0, 10)
    model = nfit.pdf.Gauss(mu=mu, sigma=1.5, obs=OBS).to_binned(VOBS)
    data = nfit.Data.from_numpy(OBS, _gauss_sample(1000, 5)).to_binned(VOBS)
    constraint = nfit.constraint.GaussianConstraint(params=[mu], observation=[5.0], uncertainty=[0.1])
    nll = nfit.loss.BinnedNLL(model, data, constraints=constraint, mode=mode)
    plain = nfit.loss.BinnedNLL(model, data, mode=mode)
    assert nll.value() == pytest.approx(plain.value() + constraint.value(), rel=1e-13)
    again = pickle.loads(pickle.dumps(nll))
    assert again.value() == pytest.approx(nll.value(), rel=1e-14)


def test_histogram_pdf_as_an_unbinned_density(mode):
    x = _gauss_sample(2000, 9)
    template = nfit.pdf.HistogramPDF(nfit.Data.from_numpy(OBS, x).to_binned(VOBS), extended=False)
    data = nfit.Data.from_numpy(OBS, _gauss_sample(500, 10))
    nll = nfit.loss.UnbinnedNLL(model=template, data=data, mode=mode)
    density = template.rel_counts() / np.diff(EDGES)
    expected = -np.sum(np.log(density[np.searchsorted(EDGES, data["x"], side="right") - 1]))
    assert nll.value() == pytest.approx(expected, rel=1e-12)


def test_binwise_scale_modifier_is_staterror(mode):
    bobs = nfit.Space("x", limits=(0, 3), binning=3)
    h = nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(bobs, [30.0, 20.0, 10.0]))
    mod = nfit.pdf.BinwiseScaleModifier(h, modifiers=True)
    betas = [mod.params[k] for k in mod._names]
    betas[1].set_value(1.5)
    np.testing.assert_allclose(mod.counts(), [30.0, 30.0, 10.0])
    assert mod.get_yield().value() == pytest.approx(70.0)
    data = nfit.data.BinnedData.from_tensor(bobs, [33.0, 18.0, 12.0])
    constraint = nfit.constraint.GaussianConstraint(params=betas, observation=[1.0] * 3, uncertainty=[0.1] * 3)
    nll = nfit.loss.ExtendedBinnedNLL(mod, data, constraints=constraint, mode=mode)
    nfit.minimize.Minuit().minimize(nll)
    # per bin: minimise nu - n log nu + (beta - 1)^2 / (2 sigma^2) with nu = t beta
    for beta, t, n in zip(betas, [30.0, 20.0, 10.0], [33.0, 18.0, 12.0]):
        grid = np.linspace(0.5, 1.5, 200001)
        cost_ = t * grid - n * np.log(t * grid) + (grid - 1) ** 2 / (2 * 0.01)
        assert beta.value() == pytest.approx(grid[np.argmin(cost_)], abs=2e-5)


# ---------------------------------------------------------------- property test: the two paths agree
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_paths_agree import DATA as TREE_DATA  # noqa: E402
from test_paths_agree import OBS as TREE_OBS  # noqa: E402
from test_paths_agree import Builder  # noqa: E402


@st.composite
def binned_loss_and_points(draw):
    b = Builder(draw)
    kind = draw(st.sampled_from(["nll", "ext_nll", "chi2_data", "chi2_expected", "jsc", "da", "asy"]))
    extended = kind not in ("nll", "chi2_data", "chi2_expected") or draw(st.booleans())
    nbins = draw(st.integers(3, 25))
    inner = draw(st.lists(st.floats(0.02, 0.98), min_size=0, max_size=4, unique=True))
    edges = np.concatenate([[0.0], np.sort(inner) * 3.0, [3.0]]) if draw(st.booleans()) else None
    bobs = TREE_OBS.with_binning(nfit.binned.VariableBinning(edges, name="x") if edges is not None else nbins)
    model = b.tree(depth=2)
    if extended and not model.is_extended:
        model = model.create_extended(b.param(100.0, 5000.0))
    binned = model.to_binned(bobs)
    data = nfit.Data.from_numpy(TREE_OBS, TREE_DATA[:1500]).to_binned(bobs)
    if kind in ("jsc", "da", "asy"):
        template = nfit.Data.from_numpy(TREE_OBS, TREE_DATA[1500:2500]).to_binned(bobs)
        binned = nfit.pdf.BinnedSumPDF([binned, nfit.pdf.HistogramPDF(template, extended=b.param(10.0, 2000.0))])
        make = lambda **kw: nfit.loss.TemplateNLL(binned, data, method=kind, **kw)  # noqa: E731
    else:
        cls = {"nll": nfit.loss.BinnedNLL, "ext_nll": nfit.loss.ExtendedBinnedNLL}.get(kind)
        if cls is None:
            cls = nfit.loss.ExtendedBinnedChi2 if extended else nfit.loss.BinnedChi2
        options = {"errors": "expected"} if kind == "chi2_expected" else None
        make = lambda **kw: cls(binned, data, options=options, **kw)  # noqa: E731
    points = draw(st.lists(st.lists(st.floats(0, 1), min_size=len(b.params), max_size=len(b.params)),
                           min_size=2, max_size=4))
    make.description = f"{kind}, extended={extended}, edges={bobs.binning[0].edges.tolist()}, model={model!r}"
    return make, b.params, points


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=binned_loss_and_points())
def test_generated_binned_trees_agree_on_both_paths(case):
    make, params, points = case
    eager, compiled = make(mode="eager"), make(mode="compiled")
    order = [q for q in eager.get_params()]
    assert order == list(compiled.get_params())
    for point in points:
        values = {p: low + u * (high - low) for (p, low, high), u in zip(params, point)}
        x = np.array([values[q] for q in order])
        e, c = eager(x), compiled(x)
        if not np.isfinite(e):
            assert not np.isfinite(c)
            continue
        assert abs(e - c) <= 1e-10 * max(1.0, abs(e)), (e, c, make.description)
    for q in order:
        q.set_value(values[q])
    ge, gc = eager.gradient(), compiled.gradient()
    if ge.size and np.all(np.isfinite(ge)):
        np.testing.assert_allclose(gc, ge, rtol=1e-9, atol=1e-10 * max(1.0, np.abs(ge).max()))


def test_tables_bin_exactly(mode):
    # a histogram and a linearly interpolated KDE, binned on bins that cut their own bins and grid
    sample = np.random.default_rng(12).normal(5, 1.5, 3000)
    sample = sample[(sample > 0) & (sample < 10)]
    coarse = nfit.pdf.HistogramPDF((np.histogram(sample, bins=7, range=(0, 10))[0], np.linspace(0, 10, 8)),
                                   obs=OBS)
    grid = nfit.pdf.KDE1DimGrid(sample, obs=OBS, num_grid_points=64)
    for unbinned in (coarse, grid):  # the histogram as an unbinned density, binned on other bins
        expected = np.array([unbinned.integrate((a, b))[0] for a, b in zip(EDGES[:-1], EDGES[1:])])
        expected /= unbinned.integrate((0, 10))[0]
        binned = nfit.pdf.BinnedFromUnbinnedPDF(unbinned, VOBS, extended=1000.0)
        np.testing.assert_allclose(binned.rel_counts(), expected, rtol=1e-12, atol=1e-15)
        data = nfit.data.BinnedData.from_tensor(VOBS, np.ones(EDGES.size - 1), np.ones(EDGES.size - 1))
        value = nfit.loss.ExtendedBinnedChi2(binned, data, mode=mode).value()
        assert value == pytest.approx(np.sum((1000 * expected - 1) ** 2), rel=1e-11)


class _ExpSlope(nfit.pdf.BaseBinnedPDF):
    """A binned pdf as zfit users write one: bin probabilities from self.params."""

    def __init__(self, obs, a, extended=None, norm=None, name="ExpSlope"):
        super().__init__(obs=obs, params={"a": a}, extended=extended, norm=norm, name=name)

    def _rel_counts(self, x, norm):
        import nfit.z.numpy as znp

        values = znp.exp(self.params["a"] * self.space.binning.centers[0])
        return values / znp.sum(values)


class _ExpCounts(_ExpSlope):
    def _counts(self, x, norm):
        return self._rel_counts(x, norm) * self.params["n"]

    def __init__(self, obs, a, n):
        nfit.pdf.BaseBinnedPDF.__init__(self, obs=obs, params={"a": a, "n": n}, extended=n, name="ExpCounts")


def test_user_binned_pdf_as_zfit_writes_it(mode):
    bobs = nfit.Space("x", limits=(0, 10), binning=20)
    centers = bobs.binning[0].centers
    x = np.random.default_rng(13).exponential(4.0, 5000)
    data = nfit.Data.from_numpy(OBS, x[x < 10]).to_binned(bobs)
    a = nfit.Parameter(f"user_a_{mode}", -0.1, -2, 2)
    model = _ExpSlope(bobs, a)
    expected = np.exp(-0.1 * centers) / np.exp(-0.1 * centers).sum()
    np.testing.assert_allclose(model.rel_counts(), expected, rtol=1e-14)
    loss = nfit.loss.BinnedNLL(model, data, mode=mode)
    assert loss.derivative_order == 0  # a user's array function: numerical derivatives
    result = nfit.minimize.Minuit(tol=1e-6).minimize(loss)
    # the same likelihood written by hand, minimised by iminuit
    n = data.values()

    def nll(a):
        p = np.exp(a * centers) / np.exp(a * centers).sum()
        return np.sum(p * n.sum() - n * np.log(p * n.sum()))
    nll.errordef = 0.5
    ref = _iminuit_fit(nll, a=-0.1)
    assert result.valid and a.value() == pytest.approx(ref.values["a"], abs=1e-3 * ref.errors["a"])
    counts_model = _ExpCounts(bobs, nfit.Parameter(f"user_a2_{mode}", -0.2, -2, 2),
                              nfit.Parameter(f"user_n_{mode}", 4000.0, 0, 1e5))
    loss = nfit.loss.ExtendedBinnedNLL(counts_model, data, mode=mode)
    nfit.minimize.Minuit().minimize(loss)
    assert counts_model.get_yield().value() == pytest.approx(data.samplesize, rel=1e-4)
