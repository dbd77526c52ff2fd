"""Convolutions (FFTConvPDFV1's closed forms) and conditional pdfs (per-event parameters), against
scipy (exponnorm, norm), numerical integrals and hand-written likelihoods, on both paths."""
import numpy as np
import pytest
from iminuit import Minuit
from scipy import integrate, stats

import nfit

T = nfit.Space("t", limits=(-1.0, 8.0))


@pytest.fixture(params=["eager", "compiled"])
def mode(request):
    return request.param


def _emg(x, lam, mean, s):
    """exp(lam t) on t >= 0 convolved with N(mean, s): scipy's exponnorm, times 1/|lam|."""
    return stats.exponnorm.pdf(x, K=1 / (-lam * s), loc=mean, scale=s) / (-lam)


def test_exponential_gauss_is_exponnorm(mode):
    lam, mean, s = -0.7, 0.05, 0.12
    decay = nfit.pdf.TruncatedPDF(nfit.pdf.Exponential(lam=lam, obs=nfit.Space("t", limits=(-1, 100))),
                                  limits=(0, 100))
    conv = nfit.pdf.FFTConvPDFV1(decay, nfit.pdf.Gauss(mu=mean, sigma=s, obs=T), obs=T)
    x = np.linspace(-0.9, 7.9, 60)
    norm = integrate.quad(lambda t: _emg(t, lam, mean, s), -1, 8, epsabs=0, epsrel=1e-13)[0]
    np.testing.assert_allclose(conv.pdf(x, mode=mode), _emg(x, lam, mean, s) / norm, rtol=1e-8)
    assert float(conv.integrate((-1, 8))[0]) == pytest.approx(1.0, abs=1e-12)


def test_gauss_gauss_and_errors():
    obs = nfit.Space("x", limits=(-10, 10))
    conv = nfit.pdf.FFTConvPDFV1(nfit.pdf.Gauss(mu=1.0, sigma=0.3, obs=obs), nfit.pdf.Gauss(mu=0.2, sigma=0.4, obs=obs),
                                 n=100, interpolation="spline")
    x = np.linspace(-2, 4, 7)
    np.testing.assert_allclose(conv.pdf(x), stats.norm.pdf(x, 1.2, 0.5), rtol=1e-10)
    assert conv.create_extended(100.0).is_extended  # zfit#386
    # pairs without a closed form (or a resolution cut inside its tails) are convolved numerically
    assert nfit.pdf.FFTConvPDFV1(nfit.pdf.Uniform(-1.0, 1.0, obs=obs), nfit.pdf.Gauss(mu=0.0, sigma=0.4, obs=obs)
                                 )._form == "numeric"
    assert nfit.pdf.FFTConvPDFV1(nfit.pdf.Gauss(mu=1.0, sigma=0.3, obs=obs), nfit.pdf.Gauss(mu=0.0, sigma=0.4, obs=obs),
                                 limits_kernel=(-1, 2))._form == "numeric"
    with pytest.raises(ValueError, match="interpolation"):
        nfit.pdf.FFTConvPDFV1(nfit.pdf.Gauss(mu=1.0, sigma=0.3, obs=obs), nfit.pdf.Gauss(mu=0.0, sigma=0.4, obs=obs),
                              interpolation="cubic")


def test_convolution_fit_with_exact_derivatives(mode):
    lam = nfit.Parameter(f"cv_lam_{mode}", -0.6, -3, -0.05)
    mean = nfit.Parameter(f"cv_mean_{mode}", 0.0, -0.5, 0.5)
    s = nfit.Parameter(f"cv_s_{mode}", 0.1, 0.02, 0.5)
    decay = nfit.pdf.TruncatedPDF(nfit.pdf.Exponential(lam=lam, obs=nfit.Space("t", limits=(-1, 50))),
                                  limits=(0, 50))
    conv = nfit.pdf.FFTConvPDFV1(decay, nfit.pdf.Gauss(mu=mean, sigma=s, obs=T), obs=T, extended=5000.0)
    rng = np.random.default_rng(3)
    t = rng.exponential(1 / 0.7, 20_000) + rng.normal(0.05, 0.12, 20_000)
    data = nfit.Data.from_numpy(T, t[(t > -1) & (t < 8)])
    loss = nfit.loss.UnbinnedNLL(model=conv, data=data, mode=mode)
    assert loss.derivative_order == 2
    result = nfit.minimize.Minuit().minimize(loss)
    result.hesse()
    assert result.valid and result.info["gradient"] == "exact"
    for p, truth in ((lam, -0.7), (mean, 0.05), (s, 0.12)):
        assert abs(p.value() - truth) < 4 * result.params[p]["hesse"]["error"], p.name

    def nll(lam_, mean_, s_):
        norm = integrate.quad(lambda u: _emg(u, lam_, mean_, s_), -1, 8, epsabs=0, epsrel=1e-12)[0]
        return -np.sum(np.log(_emg(data["t"], lam_, mean_, s_) / norm))

    nll.errordef = 0.5
    point = (lam.value(), mean.value(), s.value())
    assert loss.value() - loss.value({lam: -0.65, mean: 0.0, s: 0.15}) == pytest.approx(
        nll(*point) - nll(-0.65, 0.0, 0.15), rel=1e-8)


def test_decay_time_fit_with_per_event_resolution(mode):
    """The decay-time fit with per-event errors, against the same likelihood written with scipy."""
    rng = np.random.default_rng(7)
    n = 5000
    sigma_i = rng.uniform(0.03, 0.3, n)
    t = rng.exponential(1 / 0.8, n) + rng.normal(0.0, 1.3 * sigma_i)
    keep = (t > -1) & (t < 8)
    t, sigma_i = t[keep], sigma_i[keep]
    err = nfit.Space("terr", limits=(0.01, 0.5))
    data = nfit.Data.from_numpy(T * err, np.column_stack([t, sigma_i]))
    lam = nfit.Parameter(f"pe_lam_{mode}", -0.6, -3, -0.05)
    scale = nfit.Parameter(f"pe_scale_{mode}", 1.0, 0.3, 3)
    per_event = nfit.Parameter(f"pe_sigma_{mode}", 0.1)   # replaced by the data column
    width = nfit.ComposedParameter(f"pe_width_{mode}", lambda p: p["s"] * p["k"], params={"s": per_event, "k": scale})
    decay = nfit.pdf.TruncatedPDF(nfit.pdf.Exponential(lam=lam, obs=nfit.Space("t", limits=(-1, 50))),
                                  limits=(0, 50))
    conv = nfit.pdf.FFTConvPDFV1(decay, nfit.pdf.Gauss(mu=0.0, sigma=width, obs=T), obs=T)
    model = nfit.pdf.ConditionalPDFV1(conv, cond={per_event: err})
    loss = nfit.loss.UnbinnedNLL(model=model, data=data, mode=mode)
    assert [p.name for p in loss.get_params()] == [lam.name, scale.name]
    result = nfit.minimize.Minuit().minimize(loss)
    result.hesse()

    def nll(lam_, k):
        s = k * sigma_i
        # each event's density normalised over t in [-1, 8] with its own width (the exponential's cut at
        # 50 leaves a part of order exp(50 lam), far below double precision here)
        shape = stats.exponnorm(K=1 / (-lam_ * s), loc=0.0, scale=s)
        return -np.sum(np.log(shape.pdf(t) / (shape.cdf(8.0) - shape.cdf(-1.0))))

    nll.errordef = 0.5
    ref = Minuit(nll, lam_=-0.6, k=1.0)
    ref.limits = [(-3, -0.05), (0.3, 3)]
    ref.migrad()
    ref.hesse()
    assert result.valid
    assert lam.value() == pytest.approx(ref.values["lam_"], abs=2e-3 * ref.errors["lam_"])
    assert scale.value() == pytest.approx(ref.values["k"], abs=2e-3 * ref.errors["k"])
    assert result.params[lam]["hesse"]["error"] == pytest.approx(ref.errors["lam_"], rel=1e-3)
    assert abs(lam.value() + 0.8) < 4 * ref.errors["lam_"] and abs(scale.value() - 1.3) < 4 * ref.errors["k"]


def test_conditional_sampling_draws_each_row_at_its_own_values(mode):
    """zfit's sample(x=...): one event per row of x, at that row's conditional values."""
    t, s = nfit.Space("t", limits=(-4.0, 4.0)), nfit.Space("s", limits=(0.05, 1.0))
    sigma = nfit.Parameter(f"cs_sigma_{mode}", 0.3)
    model = nfit.pdf.ConditionalPDFV1(nfit.pdf.Gauss(mu=0.2, sigma=sigma, obs=t), cond={sigma: s})
    rng = np.random.default_rng(4)
    widths = rng.uniform(0.05, 1.0, 4000)
    with nfit.run.mode(mode):
        draws = model.sample(x=nfit.Data.from_numpy(s, widths), rng=5)
    assert draws.obs == ("t", "s") and draws.nevents == 4000
    np.testing.assert_array_equal(draws.column("s"), widths)
    pulls = (draws.column("t") - 0.2) / widths
    assert stats.kstest(pulls, "norm").pvalue > 1e-3
    with pytest.raises(ValueError, match="x="):
        model.sample(100)
    with pytest.raises(ValueError, match="rows"):
        model.sample(10, x=widths[:5, None])
    with pytest.raises(ValueError, match="outside"):
        model.sample(x=np.array([[2.0]]))


def test_conditional_decay_sample_and_fit_back():
    """Sampling the per-event-resolution decay model (closed-form convolution) and fitting it back."""
    tobs, eobs = nfit.Space("t", limits=(-1.0, 8.0)), nfit.Space("terr", limits=(0.01, 0.5))
    lam = nfit.Parameter("csd_lam", -0.8, -3, -0.05)
    per_event = nfit.Parameter("csd_terr", 0.1)
    decay = nfit.pdf.TruncatedPDF(nfit.pdf.Exponential(lam=lam, obs=nfit.Space("t", limits=(-1, 60))), limits=(0, 60))
    conv = nfit.pdf.FFTConvPDFV1(decay, nfit.pdf.Gauss(mu=0.0, sigma=per_event, obs=tobs), obs=tobs)
    model = nfit.pdf.ConditionalPDFV1(conv, cond={per_event: eobs})
    terr = np.random.default_rng(8).uniform(0.03, 0.3, 5000)
    data = model.sample(x=nfit.Data.from_numpy(eobs, terr), rng=9)
    lam.set_value(-0.5)
    result = nfit.minimize.Minuit().minimize(nfit.loss.UnbinnedNLL(model, data))
    result.hesse()
    assert result.valid
    assert abs(result.params[lam]["value"] + 0.8) < 4 * result.params[lam]["hesse"]["error"]
