"""The shape catalogue against scipy.stats (truncated to the space) and closed forms, on both paths;
integrals against quad; derivatives against numdifftools; toy fits recovering their truth."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.polynomial import chebyshev as npcheb
from numpy.polynomial import legendre as npleg
from scipy import integrate, stats
from scipy.interpolate import BPoly

import nfit

LO, HI = 5.0, 5.6
OBS = nfit.Space("m", limits=(LO, HI))
X = np.linspace(LO, HI, 31)


def truncated(dist, x=X, lo=LO, hi=HI):
    return dist.pdf(x) / (dist.cdf(hi) - dist.cdf(lo))


# (name, builder(params) -> pdf, reference(params) -> densities at X, hypothesis strategies)
SHAPES = {
    "CrystalBall": (lambda p: nfit.pdf.CrystalBall(obs=OBS, **p),
                    lambda p: truncated(stats.crystalball(abs(p["alpha"]), p["n"], loc=p["mu"], scale=p["sigma"]))
                    if p["alpha"] > 0 else
                    truncated(stats.crystalball(-p["alpha"], p["n"], loc=-p["mu"], scale=p["sigma"]), -X, -HI, -LO),
                    dict(mu=st.floats(5.2, 5.4), sigma=st.floats(0.01, 0.08),
                         alpha=st.one_of(st.floats(0.3, 3), st.floats(-3, -0.3)), n=st.floats(1.2, 8))),
    "Cauchy": (lambda p: nfit.pdf.Cauchy(obs=OBS, **p), lambda p: truncated(stats.cauchy(p["m"], p["gamma"])),
               dict(m=st.floats(5.1, 5.5), gamma=st.floats(0.005, 0.3))),
    "JohnsonSU": (lambda p: nfit.pdf.JohnsonSU(obs=OBS, **p),
                  lambda p: truncated(stats.johnsonsu(p["gamma"], p["delta"], loc=p["mu"], scale=p["lambd"])),
                  dict(mu=st.floats(5.2, 5.4), lambd=st.floats(0.01, 0.2), gamma=st.floats(-2, 2),
                       delta=st.floats(0.5, 3))),
    "LogNormal": (lambda p: nfit.pdf.LogNormal(obs=OBS, **p),
                  lambda p: truncated(stats.lognorm(p["sigma"], scale=np.exp(p["mu"]))),
                  dict(mu=st.floats(1.62, 1.72), sigma=st.floats(0.01, 0.2))),
    "StudentT": (lambda p: nfit.pdf.StudentT(obs=OBS, **p),
                 lambda p: truncated(stats.t(p["ndof"], p["mu"], p["sigma"])),
                 dict(ndof=st.floats(1.0, 30), mu=st.floats(5.2, 5.4), sigma=st.floats(0.01, 0.2))),
    "BifurGauss": (lambda p: nfit.pdf.BifurGauss(obs=OBS, **p), None,
                   dict(mu=st.floats(5.1, 5.5), sigmal=st.floats(0.01, 0.2), sigmar=st.floats(0.01, 0.2))),
    "DoubleCB": (lambda p: nfit.pdf.DoubleCB(obs=OBS, **p), None,
                 dict(mu=st.floats(5.2, 5.4), sigma=st.floats(0.01, 0.06), alphal=st.floats(0.5, 3),
                      nl=st.floats(1.5, 6), alphar=st.floats(0.5, 3), nr=st.floats(1.5, 6))),
}


def bifur_reference(p):
    def f(x):
        s = np.where(x < p["mu"], p["sigmal"], p["sigmar"])
        return np.exp(-0.5 * ((x - p["mu"]) / s) ** 2)

    return f(X) / integrate.quad(f, LO, HI, points=[p["mu"]], epsabs=0, epsrel=1e-13, limit=200)[0]


def dcb_reference(p):
    def f(x):
        t = (x - p["mu"]) / p["sigma"]
        al, nl, ar, nr = p["alphal"], p["nl"], p["alphar"], p["nr"]
        left = (nl / al) ** nl * np.exp(-0.5 * al * al) * (nl / al - al - t) ** (-nl) if t < -al else 0.0
        right = (nr / ar) ** nr * np.exp(-0.5 * ar * ar) * (nr / ar - ar + t) ** (-nr) if t > ar else 0.0
        return left if t < -al else (right if t > ar else np.exp(-0.5 * t * t))

    joints = [p["mu"] - p["alphal"] * p["sigma"], p["mu"] + p["alphar"] * p["sigma"]]
    norm = integrate.quad(f, LO, HI, points=joints, epsabs=0, epsrel=1e-13, limit=200)[0]
    return np.array([f(x) for x in X]) / norm


REFERENCES = {"BifurGauss": bifur_reference, "DoubleCB": dcb_reference}

# a typical parameter point of each shape, for the integral and derivative checks
POINTS = {"CrystalBall": dict(mu=5.3, sigma=0.03, alpha=1.1, n=2.5), "Cauchy": dict(m=5.25, gamma=0.04),
          "JohnsonSU": dict(mu=5.3, lambd=0.05, gamma=0.4, delta=1.2), "LogNormal": dict(mu=1.67, sigma=0.05),
          "StudentT": dict(ndof=4.0, mu=5.3, sigma=0.04), "BifurGauss": dict(mu=5.3, sigmal=0.02, sigmar=0.06),
          "DoubleCB": dict(mu=5.3, sigma=0.03, alphal=1.0, nl=3.0, alphar=1.5, nr=4.0)}


def _check(name, path, params):
    build, reference, _ = SHAPES[name]
    reference = reference or REFERENCES[name]
    pdf = build(params)
    expected = reference(params)
    got = pdf.pdf(X, mode=path)
    np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-12 * np.max(expected))


@pytest.mark.parametrize("path", ["eager", "compiled"])
@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape_density_against_reference(name, path):
    strategies = SHAPES[name][2]

    @settings(max_examples=15, deadline=None)
    @given(st.fixed_dictionaries(strategies))
    def check(params):
        _check(name, path, params)

    check()


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape_integrals_against_quad(name):
    params = POINTS[name]
    pdf = SHAPES[name][0](params)
    for a, b in [(5.1, 5.3), (5.25, 5.35), (LO, HI)]:
        expected = integrate.quad(lambda t: pdf.pdf(np.array([t]), mode="eager")[0], a, b, epsabs=0, epsrel=1e-12,
                                  limit=400, points=[5.27, 5.3, 5.33])[0]
        assert pdf.integrate((a, b))[0] == pytest.approx(expected, rel=1e-9)


def test_crystalball_with_n_one_uses_the_logarithm(mode):
    pdf = nfit.pdf.CrystalBall(mu=5.3, sigma=0.03, alpha=1.2, n=1.0, obs=OBS)
    f = lambda t: pdf.pdf(np.array([t]), norm=False, mode="eager")[0]  # noqa: E731
    norm = integrate.quad(f, LO, HI, points=[5.3 - 1.2 * 0.03], epsabs=0, epsrel=1e-13, limit=200)[0]
    np.testing.assert_allclose(pdf.pdf(X, mode=mode), pdf.pdf(X, norm=False, mode="eager") / norm, rtol=1e-10)


def test_argus_against_scipy(mode):
    obs = nfit.Space("x", limits=(0.1, 1.0))
    x = np.linspace(0.1, 0.999, 20)
    for chi in (0.5, 2.0, 4.0):
        pdf = nfit.pdf.Argus(m0=1.0, c=-0.5 * chi ** 2, p=0.5, obs=obs)
        d = stats.argus(chi)
        np.testing.assert_allclose(pdf.pdf(x, mode=mode), d.pdf(x) / (d.cdf(1.0) - d.cdf(0.1)), rtol=1e-10)
    # above m0 the density is zero
    obs2 = nfit.Space("m", limits=(5.2, 5.3))
    argus = nfit.pdf.Argus(m0=5.29, c=-20.0, p=0.5, obs=obs2)
    assert argus.pdf(np.array([5.295]), mode=mode)[0] == 0.0


@pytest.mark.parametrize("kind", ["Chebyshev", "Legendre", "Polynomial", "Bernstein"])
def test_polynomials_against_numpy(kind, mode):
    obs = nfit.Space("x", limits=(1.0, 4.0))
    x = np.linspace(1.0, 4.0, 17)
    u = (2 * x - 5.0) / 3.0
    coeffs = [0.2, -0.3, 0.1]
    if kind == "Bernstein":
        coeffs = [1.0, 2.0, 0.5, 3.0]
        pdf = nfit.pdf.Bernstein(obs=obs, coeffs=coeffs)
        poly = BPoly(np.array(coeffs)[:, None], [1.0, 4.0])
        raw, norm = poly(x), poly.integrate(1.0, 4.0)
        window = poly.integrate(1.5, 2.5) / norm
    else:
        pdf = getattr(nfit.pdf, kind)(obs=obs, coeffs=coeffs)
        evaluate = {"Chebyshev": npcheb.chebval, "Legendre": npleg.legval,
                    "Polynomial": np.polynomial.polynomial.polyval}[kind]
        raw = evaluate(u, [1.0] + coeffs)
        norm = integrate.quad(lambda t: evaluate((2 * t - 5.0) / 3.0, [1.0] + coeffs), 1.0, 4.0, epsrel=1e-13)[0]
        window = integrate.quad(lambda t: evaluate((2 * t - 5.0) / 3.0, [1.0] + coeffs), 1.5, 2.5,
                                epsrel=1e-13)[0] / norm
    np.testing.assert_allclose(pdf.pdf(x, mode=mode), raw / norm, rtol=1e-12)
    assert pdf.integrate((1.5, 2.5))[0] == pytest.approx(window, rel=1e-12)


def test_chebyshev_fit_with_free_coefficients(mode):
    obs = nfit.Space("x", limits=(-1.0, 1.0))
    c1, c2 = nfit.Parameter("c1", 0.0, -1, 1), nfit.Parameter("c2", 0.0, -1, 1)
    truth = nfit.pdf.Chebyshev(obs=obs, coeffs=[0.4, 0.2])
    data = truth.sample(n=20_000, rng=3)
    model = nfit.pdf.Chebyshev(obs=obs, coeffs=[c1, c2])
    result = nfit.minimize.Minuit().minimize(nfit.loss.UnbinnedNLL(model=model, data=data, mode=mode))
    result.hesse()
    assert result.valid
    assert abs(c1.value() - 0.4) < 3 * result.params[c1]["hesse"]["error"]
    assert abs(c2.value() - 0.2) < 3 * result.params[c2]["hesse"]["error"]


@pytest.mark.parametrize("name", ["CrystalBall", "DoubleCB", "JohnsonSU", "Cauchy"])
def test_toy_fit_recovers_truth_with_exact_derivatives(name):
    truth = {"CrystalBall": dict(mu=5.3, sigma=0.03, alpha=1.1, n=3.0), "Cauchy": dict(m=5.28, gamma=0.04),
             "JohnsonSU": dict(mu=5.3, lambd=0.05, gamma=0.4, delta=1.2),
             "DoubleCB": dict(mu=5.3, sigma=0.03, alphal=1.0, nl=3.0, alphar=1.5, nr=4.0)}[name]
    build = SHAPES[name][0]
    data = build(truth).sample(n=20_000, rng=8)
    params = {k: nfit.Parameter(f"{name}_{k}", v * (1.02 if k in ("sigma", "gamma", "lambd") else 1.0),
                                v - abs(v) * 0.5 - 0.01, v + abs(v) * 0.5 + 0.01) for k, v in truth.items()}
    nll = nfit.loss.UnbinnedNLL(model=build(params), data=data)
    assert nll.derivative_order == 2
    result = nfit.minimize.Minuit().minimize(nll)
    result.hesse()
    assert result.valid and result.info["gradient"] == "exact"
    for k, v in truth.items():
        assert abs(params[k].value() - v) < 4 * result.params[params[k]]["hesse"]["error"], k


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_shape_loss_derivatives_against_numdifftools(name):
    from nfit.numdiff import gradient

    point = POINTS[name]
    build = SHAPES[name][0]
    data = build(point).sample(n=3000, rng=2)
    params = {k: nfit.Parameter(k, v * 1.01) for k, v in point.items()}
    nll = nfit.loss.UnbinnedNLL(model=build(params), data=data)
    x0 = np.array([p.value() for p in nll.get_params()])
    reference = gradient(nll, x0, 1e-3 * np.maximum(np.abs(x0), 0.01))
    grad = nll.gradient()
    np.testing.assert_allclose(grad, reference, rtol=1e-6, atol=1e-6 * np.max(np.abs(reference)))
    with nfit.run.mode("eager"):
        np.testing.assert_allclose(nll.gradient(), grad, rtol=1e-9, atol=1e-9 * np.max(np.abs(grad)))


def test_bad_shape_parameters_are_named():
    with pytest.raises(ValueError, match="'sigma'.*positive"):
        nfit.pdf.CrystalBall(mu=5.3, sigma=0.0, alpha=1.0, n=2.0, obs=OBS)
    with pytest.raises(ValueError, match="'alpha'.*zero"):
        nfit.pdf.CrystalBall(mu=5.3, sigma=0.03, alpha=0.0, n=2.0, obs=OBS)
    with pytest.raises(ValueError, match="'gamma'"):
        nfit.pdf.Cauchy(m=5.3, gamma=-1.0, obs=OBS)
    with pytest.raises(ValueError, match="above 0"):
        nfit.pdf.LogNormal(mu=0.0, sigma=1.0, obs=nfit.Space("x", limits=(-1, 1)))


@pytest.mark.parametrize("sigma,gamma", [(0.01, 0.02), (0.03, 0.002), (0.002, 0.05)])
def test_voigt_against_scipy(mode, sigma, gamma):
    from scipy.special import voigt_profile

    pdf = nfit.pdf.Voigt(m=5.28, sigma=sigma, gamma=gamma, obs=OBS)
    norm = integrate.quad(lambda t: voigt_profile(t - 5.28, sigma, gamma), LO, HI, points=[5.28], epsabs=0,
                          epsrel=1e-13, limit=400)[0]
    np.testing.assert_allclose(pdf.pdf(X, mode=mode), voigt_profile(X - 5.28, sigma, gamma) / norm, rtol=1e-10)


def test_voigt_derivatives_against_numdifftools():
    from nfit.numdiff import gradient

    m, s, g = nfit.Parameter("m", 5.281), nfit.Parameter("s", 0.011), nfit.Parameter("g", 0.019)
    pdf = nfit.pdf.Voigt(m=m, sigma=s, gamma=g, obs=OBS)
    data = nfit.pdf.Voigt(m=5.28, sigma=0.01, gamma=0.02, obs=OBS).sample(3000, rng=4)
    nll = nfit.loss.UnbinnedNLL(model=pdf, data=data)
    assert nll.derivative_order == 2
    x0 = np.array([5.281, 0.011, 0.019])
    np.testing.assert_allclose(nll.gradient(), gradient(nll, x0, np.array([1e-4, 1e-4, 1e-4])), rtol=1e-6)
    with nfit.run.mode("eager"):
        eager = nll.value_gradient_hessian()
    compiled = nll.value_gradient_hessian()
    np.testing.assert_allclose(eager[2], compiled[2], rtol=1e-8)


@pytest.mark.parametrize("bandwidth", ["scott", "silverman", 0.2])
def test_kde_against_scipy(mode, bandwidth):
    obs = nfit.Space("x", limits=(-3, 3))
    x = np.linspace(-3, 3, 21)
    sample = np.random.default_rng(1).normal(size=400)
    kde = nfit.pdf.KDE1DimExact(sample, obs=obs, bandwidth=bandwidth)
    if isinstance(bandwidth, str):  # zfit's rules: factor * min(std, IQR) * n**(-1/5)
        factor = {"scott": 1.059, "silverman": 0.9}[bandwidth]
        iqr = np.percentile(sample, 75, method="nearest") - np.percentile(sample, 25, method="nearest")
        bandwidth = factor * min(np.std(sample), iqr) * len(sample) ** -0.2
    reference = stats.gaussian_kde(sample, bw_method=bandwidth / np.std(sample, ddof=1))
    expected = reference(x) / reference.integrate_box_1d(-3, 3)
    np.testing.assert_allclose(kde.pdf(x, mode=mode), expected, rtol=1e-12)
    assert kde.integrate((-1, 1))[0] == pytest.approx(reference.integrate_box_1d(-1, 1) /
                                                      reference.integrate_box_1d(-3, 3), rel=1e-12)


def test_kde_weighted_and_adaptive(mode):
    obs = nfit.Space("x", limits=(-3, 3))
    sample = np.random.default_rng(2).normal(size=300)
    weights = np.random.default_rng(3).uniform(0.5, 2, 300)
    kde = nfit.pdf.KDE1DimExact(nfit.Data.from_numpy(obs, sample, weights=weights), bandwidth="scott")
    mean = np.average(sample, weights=weights)
    spread = np.sqrt(np.average((sample - mean) ** 2, weights=weights))  # below the IQR for a normal sample
    np.testing.assert_allclose(kde.bandwidth, 1.059 * spread * len(sample) ** -0.2, rtol=1e-12)
    reference = stats.gaussian_kde(sample, weights=weights, bw_method=1.0)
    reference.set_bandwidth(kde.bandwidth[0] / np.sqrt(reference.covariance[0, 0]))
    x = np.linspace(-2.5, 2.5, 11)
    np.testing.assert_allclose(kde.pdf(x, mode=mode), reference(x) / reference.integrate_box_1d(-3, 3), rtol=1e-12)
    adaptive = nfit.pdf.KDE1DimExact(sample, obs=obs, bandwidth="adaptive")
    assert adaptive.integrate((-3, 3))[0] == pytest.approx(1.0, abs=1e-12)
    assert np.ptp(adaptive.bandwidth) > 0  # wider kernels in the tails
    assert adaptive.bandwidth[np.argmax(np.abs(sample))] > adaptive.bandwidth[np.argmin(np.abs(sample))]
    with pytest.raises(ValueError, match="bandwidth"):
        nfit.pdf.KDE1DimExact(sample, obs=obs, bandwidth="wide")


def test_kde_as_a_fit_template(mode):
    obs = nfit.Space("x", limits=(-3, 3))
    template = nfit.pdf.KDE1DimExact(np.random.default_rng(5).uniform(-3, 3, 2000), obs=obs)
    mu, frac = nfit.Parameter("mu", 0.3, -2, 2), nfit.Parameter("frac", 0.5, 0, 1)
    model = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=mu, sigma=0.3, obs=obs), template], fracs=frac)
    data = model.sample(4000, rng=6)
    mu.set_value(0.0)
    frac.set_value(0.3)
    result = nfit.minimize.Minuit().minimize(nfit.loss.UnbinnedNLL(model=model, data=data, mode=mode))
    result.hesse()
    assert result.valid and result.info["gradient"] == "exact"
    assert abs(mu.value() - 0.3) < 4 * result.params[mu]["hesse"]["error"]
    assert abs(frac.value() - 0.5) < 4 * result.params[frac]["hesse"]["error"]


def test_histogram_pdf(mode):
    obs = nfit.Space("x", limits=(-3, 3))
    counts, edges = np.histogram(np.random.default_rng(1).normal(size=1000), bins=12, range=(-3, 3))
    hist = nfit.pdf.HistogramPDF((counts, edges), obs=obs)
    x = np.linspace(-2.95, 2.95, 40)
    expected = (counts / np.diff(edges) / counts.sum())[np.searchsorted(edges, x, side="right") - 1]
    np.testing.assert_allclose(hist.pdf(x, mode=mode), expected, rtol=1e-14)
    # a window cutting bins: partial widths
    window = hist.integrate((-0.25, 1.1))[0]
    dens = counts / np.diff(edges) / counts.sum()
    lo, hi = np.clip(edges[:-1], -0.25, 1.1), np.clip(edges[1:], -0.25, 1.1)
    assert window == pytest.approx(np.sum(dens * (hi - lo)), rel=1e-14)
    # normalised over a narrower range
    narrow = nfit.Space("x", limits=(-1, 1))
    inside = (x > -1) & (x < 1)
    np.testing.assert_allclose(hist.pdf(x[inside], norm=narrow, mode=mode),
                               expected[inside] / hist.integrate((-1, 1))[0], rtol=1e-13)
    with pytest.raises(ValueError, match="edges"):
        nfit.pdf.HistogramPDF((counts, edges[:-1]), obs=obs)


def test_histogram_template_fit(mode):
    obs = nfit.Space("x", limits=(-3, 3))
    template = nfit.pdf.HistogramPDF(np.histogram(np.random.default_rng(2).uniform(-3, 3, 50_000), bins=30,
                                                  range=(-3, 3)), obs=obs)
    frac = nfit.Parameter("frac", 0.5, 0, 1)
    model = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=0.0, sigma=0.4, obs=obs), template], fracs=frac)
    data = model.sample(5000, rng=1)
    frac.set_value(0.3)
    result = nfit.minimize.Minuit().minimize(nfit.loss.UnbinnedNLL(model=model, data=data, mode=mode))
    result.hesse()
    assert result.valid and abs(frac.value() - 0.5) < 4 * result.params[frac]["hesse"]["error"]


def test_kde_grid_approximates_the_exact_kde(mode):
    obs = nfit.Space("x", limits=(-3, 3))
    sample = np.random.default_rng(2).normal(size=100_000)
    grid = nfit.pdf.KDE1DimGrid(sample, obs=obs, bandwidth="scott")
    exact = nfit.pdf.KDE1DimExact(sample[:20_000], obs=obs, bandwidth=grid.bandwidth)
    x = np.linspace(-2.9, 2.9, 13)
    reference = nfit.pdf.KDE1DimExact(sample, obs=obs, bandwidth=grid.bandwidth).pdf(x, mode="eager")
    np.testing.assert_allclose(grid.pdf(x, mode=mode), reference, rtol=1e-3)
    assert grid.integrate((-3, 3))[0] == pytest.approx(1.0, abs=1e-12)
    assert exact.bandwidth[0] == grid.bandwidth


FIT_TRUTH = {
    "BifurGauss": dict(mu=5.3, sigmal=0.02, sigmar=0.06),
    "LogNormal": dict(mu=1.67, sigma=0.05),
    "StudentT": dict(ndof=4.0, mu=5.3, sigma=0.04),
}


@pytest.mark.parametrize("name", sorted(FIT_TRUTH))
def test_more_toy_fits_recover_truth(name):
    truth = FIT_TRUTH[name]
    build = SHAPES[name][0]
    data = build(truth).sample(n=20_000, rng=9)
    params = {k: nfit.Parameter(f"{name}_{k}", v * 1.02, v * 0.5 - 0.01, v * 1.5 + 0.01) for k, v in truth.items()}
    result = nfit.minimize.Minuit().minimize(nfit.loss.UnbinnedNLL(model=build(params), data=data))
    result.hesse()
    assert result.valid
    for k, v in truth.items():
        assert abs(params[k].value() - v) < 4 * result.params[params[k]]["hesse"]["error"], k


@pytest.mark.parametrize("kind", ["Argus", "Legendre", "Bernstein", "Polynomial"])
def test_toy_fits_of_argus_and_polynomials(kind):
    if kind == "Argus":
        obs = nfit.Space("m", limits=(5.2, 5.29))
        truth = {"c": -20.0}
        make = lambda c: nfit.pdf.Argus(m0=5.291, c=c, p=0.5, obs=obs)  # noqa: E731
    else:
        obs = nfit.Space("x", limits=(-1.0, 1.0))
        truth = {"c": 0.3}
        if kind == "Bernstein":
            make = lambda c: nfit.pdf.Bernstein(obs=obs, coeffs=[1.0, c, 0.8])  # noqa: E731
        else:
            make = lambda c: getattr(nfit.pdf, kind)(obs=obs, coeffs=[c, 0.1])  # noqa: E731
    data = make(truth["c"]).sample(n=20_000, rng=12)
    c = nfit.Parameter(f"{kind}_c", truth["c"] * 0.8, -100, 100)
    nll = nfit.loss.UnbinnedNLL(model=make(c), data=data)
    from nfit.numdiff import gradient

    np.testing.assert_allclose(nll.gradient(), gradient(nll, np.array([c.value()]), np.array([1e-3])), rtol=1e-6)
    result = nfit.minimize.Minuit().minimize(nll)
    result.hesse()
    assert result.valid and abs(c.value() - truth["c"]) < 4 * result.params[c]["hesse"]["error"]


@pytest.mark.parametrize("path", ["eager", "compiled"])
def test_argus_voigt_chebyshev_at_many_points(path):
    from scipy.special import voigt_profile

    argus_obs = nfit.Space("x", limits=(0.1, 1.0))
    y = np.linspace(0.1, 0.999, 15)
    chi_p = nfit.Parameter("chi_c", -2.0)
    argus = nfit.pdf.Argus(m0=1.0, c=chi_p, p=0.5, obs=argus_obs)
    s, g = nfit.Parameter("voigt_s", 0.02, 0.001, 1), nfit.Parameter("voigt_g", 0.02, 0.001, 1)
    voigt = nfit.pdf.Voigt(m=5.3, sigma=s, gamma=g, obs=OBS)
    c1, c2 = nfit.Parameter("cheb_c1", 0.0), nfit.Parameter("cheb_c2", 0.0)
    cheb = nfit.pdf.Chebyshev(obs=OBS, coeffs=[c1, c2])
    u = (2 * X - LO - HI) / (HI - LO)

    @settings(max_examples=20, deadline=None)
    @given(chi=st.floats(0.1, 5.0), sigma=st.floats(0.002, 0.1), gamma=st.floats(0.002, 0.1),
           a=st.floats(-0.4, 0.4), b=st.floats(-0.4, 0.4))
    def check(chi, sigma, gamma, a, b):
        chi_p.set_value(-0.5 * chi * chi)
        d = stats.argus(chi)
        np.testing.assert_allclose(argus.pdf(y, mode=path), d.pdf(y) / (d.cdf(1.0) - d.cdf(0.1)), rtol=1e-9)
        s.set_value(sigma)
        g.set_value(gamma)
        norm = integrate.quad(lambda t: voigt_profile(t - 5.3, sigma, gamma), LO, HI, points=[5.3], epsabs=0,
                              epsrel=1e-13, limit=400)[0]
        np.testing.assert_allclose(voigt.pdf(X, mode=path), voigt_profile(X - 5.3, sigma, gamma) / norm, rtol=1e-9)
        c1.set_value(a)
        c2.set_value(b)
        raw = npcheb.chebval(u, [1.0, a, b])
        norm = (HI - LO) / 2 * (2.0 - 2.0 * b / 3.0)
        np.testing.assert_allclose(cheb.pdf(X, mode=path), raw / norm, rtol=1e-11)

    check()


def test_chebyshev_gradient_against_numdifftools():
    from nfit.numdiff import gradient

    obs = nfit.Space("x", limits=(-1.0, 1.0))
    data = nfit.pdf.Chebyshev(obs=obs, coeffs=[0.3, 0.1]).sample(5000, rng=1)
    c1, c2 = nfit.Parameter("gc1", 0.25), nfit.Parameter("gc2", 0.05)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Chebyshev(obs=obs, coeffs=[c1, c2]), data=data)
    np.testing.assert_allclose(nll.gradient(), gradient(nll, np.array([0.25, 0.05]), np.array([1e-3, 1e-3])),
                               rtol=1e-6)
