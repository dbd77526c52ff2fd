"""ProductPDF over different observables; sampling (KS tests against the pdf) and samplers for toys."""
import numpy as np
import pytest
from scipy import stats

import nfit

X = nfit.Space("x", limits=(-3, 3))
Y = nfit.Space("y", limits=(0, 2))


def test_product_density_and_normalisation(mode):
    px = nfit.pdf.Gauss(mu=0.2, sigma=0.8, obs=X)
    py = nfit.pdf.Exponential(lam=-1.3, obs=Y)
    prod = nfit.pdf.ProductPDF([px, py])
    pts = np.array([[0.0, 0.5], [1.0, 1.5], [-2.5, 0.1]])
    gx = stats.norm(0.2, 0.8)
    ex = stats.expon(scale=1 / 1.3)
    expected = gx.pdf(pts[:, 0]) / (gx.cdf(3) - gx.cdf(-3)) * ex.pdf(pts[:, 1]) / ex.cdf(2)
    np.testing.assert_allclose(prod.pdf(pts, mode=mode), expected, rtol=1e-11)
    assert prod.integrate(((-3, 0), (3, 2)))[0] == pytest.approx(1.0, abs=1e-12)
    part = prod.integrate(((-1, 0), (1, 1)))[0]
    assert part == pytest.approx((gx.cdf(1) - gx.cdf(-1)) / (gx.cdf(3) - gx.cdf(-3)) * ex.cdf(1) / ex.cdf(2), rel=1e-10)


def test_product_fit_and_derivatives(mode):
    mu = nfit.Parameter("mu", 0.0, -1, 1)
    lam = nfit.Parameter("lam", -1.0, -3, 3)
    prod = nfit.pdf.ProductPDF([nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=X), nfit.pdf.Exponential(lam=lam, obs=Y)])
    data = prod.sample(n=4000, rng=5)
    nll = nfit.loss.UnbinnedNLL(model=prod, data=data, mode=mode)
    assert nll.derivative_order == 2
    result = nfit.minimize.Minuit().minimize(nll)
    result.hesse()
    assert result.valid
    from nfit.numdiff import gradient

    x0 = np.array([mu.value(), lam.value()]) + 0.05
    mu.set_value(x0[0])
    lam.set_value(x0[1])
    np.testing.assert_allclose(nll.gradient(), gradient(nll, x0, np.array([0.01, 0.01])), rtol=1e-6)


def test_product_in_a_sum_of_two_dimensional_shapes(mode):
    sig = nfit.pdf.ProductPDF([nfit.pdf.Gauss(mu=0.0, sigma=0.5, obs=X), nfit.pdf.Exponential(lam=-2.0, obs=Y)])
    bkg = nfit.pdf.ProductPDF([nfit.pdf.Uniform(low=-3, high=3, obs=X), nfit.pdf.Uniform(low=0, high=2, obs=Y)])
    model = nfit.pdf.SumPDF([sig, bkg], fracs=0.4)
    pts = np.array([[0.1, 0.3], [2.0, 1.9]])
    expected = 0.4 * sig.pdf(pts, mode="eager") + 0.6 / 12.0
    np.testing.assert_allclose(model.pdf(pts, mode=mode), expected, rtol=1e-12)


def test_product_of_factors_on_one_observable():
    # API.md: factors may share an observable; two Gaussians multiply to a Gaussian at the mean
    # point with width 1/sqrt(2), normalised over the space
    product = nfit.pdf.ProductPDF([nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=X), nfit.pdf.Gauss(mu=1.0, sigma=1.0, obs=X)])
    from scipy import stats

    lo, hi = X.lower, X.upper
    width = 1 / np.sqrt(2)
    x = np.linspace(lo + 0.1, hi - 0.1, 7)
    expected = stats.truncnorm.pdf(x, (lo - 0.5) / width, (hi - 0.5) / width, 0.5, width)
    np.testing.assert_allclose(product.pdf(x), expected, rtol=1e-10)


@pytest.mark.parametrize("make", [
    lambda obs: nfit.pdf.Gauss(mu=5.3, sigma=0.05, obs=obs),
    lambda obs: nfit.pdf.Exponential(lam=-2.0, obs=obs),
    lambda obs: nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=5.28, sigma=0.02, obs=obs),
                                 nfit.pdf.Exponential(lam=-1.0, obs=obs)], fracs=0.3),
])
def test_samples_follow_the_pdf(obs, make):
    pdf = make(obs)
    data = pdf.sample(n=20_000, rng=11)
    assert data.nevents == 20_000 and np.all(obs.inside(data.to_numpy()))

    def cdf(t):
        return np.array([pdf.integrate((5.0, v))[0] for v in np.atleast_1d(t)])

    assert stats.kstest(data["m"], cdf).pvalue > 0.01


def test_sampling_is_reproducible_with_a_seed(obs):
    pdf = nfit.pdf.Gauss(mu=5.3, sigma=0.05, obs=obs)
    np.testing.assert_array_equal(pdf.sample(100, rng=3).to_numpy(), pdf.sample(100, rng=3).to_numpy())
    nfit.sampling.set_seed(7)
    a = pdf.sample(100).to_numpy()
    nfit.sampling.set_seed(7)
    np.testing.assert_array_equal(a, pdf.sample(100).to_numpy())


def test_extended_sampling(obs):
    pdf = nfit.pdf.Gauss(mu=5.3, sigma=0.05, obs=obs, extended=nfit.Parameter("n", 400.0))
    assert pdf.sample(rng=1).nevents == 400
    counts = [pdf.sample(n="extended", rng=i).nevents for i in range(200)]
    assert np.mean(counts) == pytest.approx(400, abs=3 * 20 / np.sqrt(200) + 1)
    assert np.std(counts) == pytest.approx(20, rel=0.2)
    with pytest.raises(ValueError, match="not extended"):
        nfit.pdf.Gauss(mu=5.3, sigma=0.05, obs=obs).sample()


def test_sampling_inside_a_union_of_ranges():
    side = nfit.Space("m", limits=(5.0, 5.2)) + nfit.Space("m", limits=(5.35, 5.6))
    pdf = nfit.pdf.Exponential(lam=-1.0, obs=nfit.Space("m", limits=(5.0, 5.6)))
    data = pdf.sample(n=5000, limits=side, rng=2)
    x = data["m"]
    assert np.all(((x >= 5.0) & (x <= 5.2)) | ((x >= 5.35) & (x <= 5.6)))
    low = pdf.integrate((5.0, 5.2))[0]
    high = pdf.integrate((5.35, 5.6))[0]
    assert np.mean(x <= 5.2) == pytest.approx(low / (low + high), abs=0.02)


def test_sampler_toys_refit_without_recompiling(obs):
    mu = nfit.Parameter("mu", 5.28, 5.2, 5.35)
    sigma = nfit.Parameter("sigma", 0.025, 0.005, 0.1)
    n = nfit.Parameter("n", 1000, 0, 1e5)
    model = nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs, extended=n)
    sampler = model.create_sampler(n="extended", rng=4)
    nll = nfit.loss.ExtendedUnbinnedNLL(model=model, data=sampler)
    for _ in range(2):  # a loss's first fit compiles its Hessian kernel, the second its gradient kernel
        for p, v in ((mu, 5.28), (sigma, 0.025), (n, 1000)):
            p.set_value(v)
        nfit.minimize.Minuit().minimize(nll).hesse()
    compiled = nfit.cache.info()["compile_seconds"]
    misses = nfit.cache.info()["misses"]
    pulls, sizes = [], []
    for _ in range(60):
        sampler.resample()
        for p, v in ((mu, 5.28), (sigma, 0.025), (n, 1000)):
            p.set_value(v)
        result = nfit.minimize.Minuit().minimize(nll)
        result.hesse()
        assert result.valid
        pulls.append((mu.value() - 5.28) / result.params[mu]["hesse"]["error"])
        sizes.append(sampler.nevents)
    assert nfit.cache.info()["misses"] == misses and nfit.cache.info()["compile_seconds"] == compiled
    assert len(set(sizes)) > 10  # Poisson-fluctuated sizes
    assert abs(np.mean(pulls)) < 3 / np.sqrt(60) + 0.05
    assert np.std(pulls) == pytest.approx(1.0, abs=0.3)


def test_inverse_cdf_sampling_in_a_far_tail():
    # 5 to 6 sigma: accept-reject would barely work; the inverse CDF is exact
    obs = nfit.Space("x", limits=(5.0, 6.0))
    pdf = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=obs)
    assert pdf._has_inverse_cdf()
    x = pdf.sample(n=20_000, rng=4)["x"]
    tail = stats.truncnorm(5.0, 6.0)
    assert stats.kstest(x, tail.cdf).pvalue > 0.01


@pytest.mark.parametrize("make", [
    lambda obs: nfit.pdf.CrystalBall(mu=5.3, sigma=0.03, alpha=1.0, n=2.5, obs=obs),
    lambda obs: nfit.pdf.SumPDF([nfit.pdf.Voigt(m=5.3, sigma=0.01, gamma=0.02, obs=obs),
                                 nfit.pdf.Chebyshev(obs=obs, coeffs=[-0.3])], fracs=0.4),
])
def test_accept_reject_samples_follow_the_pdf(obs, make):
    pdf = make(obs)
    assert not (hasattr(pdf, "_has_inverse_cdf") and pdf._has_inverse_cdf())
    data = pdf.sample(n=20_000, rng=13)

    def cdf(t):
        return np.array([pdf.integrate((5.0, v))[0] for v in np.atleast_1d(t)])

    assert stats.kstest(data["m"], cdf).pvalue > 0.01


def test_sideband_fit_against_an_independent_likelihood():
    """A fit on the union of two sidebands, normalised over the union, equals a direct maximisation of
    the sideband likelihood written with scipy."""
    from scipy.optimize import minimize_scalar

    full = nfit.Space("m", limits=(5.0, 5.6))
    side = nfit.Space("m", limits=(5.0, 5.2)) + nfit.Space("m", limits=(5.35, 5.6))
    x = nfit.pdf.Exponential(lam=-2.0, obs=full).sample(n=20_000, rng=3)["m"]
    data = nfit.Data.from_numpy(side, x[side.inside(x)])
    lam = nfit.Parameter("lam_side", -1.0, -5, 5)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Exponential(lam=lam, obs=full), data=data)
    result = nfit.minimize.Minuit(tol=1e-9).minimize(nll)
    xs = data["m"]

    def reference(lam_):
        norm = sum((np.exp(lam_ * b) - np.exp(lam_ * a)) / lam_ for a, b in ((5.0, 5.2), (5.35, 5.6)))
        return -np.sum(lam_ * xs - np.log(norm))

    best = minimize_scalar(reference, bounds=(-5, -0.01), method="bounded", options={"xatol": 1e-10})
    assert result.valid
    assert lam.value() == pytest.approx(best.x, abs=2e-5)
    assert result.fmin == pytest.approx(reference(lam.value()), rel=1e-10)


@pytest.mark.parametrize("make,reference", [
    (lambda obs: nfit.pdf.Cauchy(m=5.3, gamma=0.03, obs=obs), stats.cauchy(5.3, 0.03)),
    (lambda obs: nfit.pdf.JohnsonSU(mu=5.3, lambd=0.05, gamma=0.5, delta=1.3, obs=obs),
     stats.johnsonsu(0.5, 1.3, loc=5.3, scale=0.05)),
    (lambda obs: nfit.pdf.LogNormal(mu=1.67, sigma=0.05, obs=obs), stats.lognorm(0.05, scale=np.exp(1.67))),
    (lambda obs: nfit.pdf.Uniform(low=5.1, high=5.4, obs=obs), stats.uniform(5.1, 0.3)),
])
def test_inverse_cdf_shapes_against_scipy(obs, make, reference):
    pdf = make(obs)
    assert pdf._has_inverse_cdf()
    x = pdf.sample(n=20_000, rng=21)["m"]
    lo, hi = reference.cdf(5.0), reference.cdf(5.6)
    assert np.all((x >= 5.0) & (x <= 5.6))
    assert stats.kstest(x, lambda t: (reference.cdf(t) - lo) / (hi - lo)).pvalue > 0.01
