"""The rest of zfit 0.28's catalogue (GeneralizedCB, GaussExpTail, QGauss, Gamma, ChiSquared, Poisson)
against scipy, numerical integrals and values zfit 0.28 itself gives, on both paths."""
import numpy as np
import pytest
from scipy import integrate, special, stats

import nfit

OBS = nfit.Space("x", limits=(-5, 5))
X = np.linspace(-4, 4, 5)


@pytest.fixture(params=["eager", "compiled"])
def mode(request):
    return request.param


def _normalised(f, lo, hi, x):
    return f(x) / integrate.quad(f, lo, hi, epsabs=0, epsrel=1e-13, limit=200)[0]


def test_gaussexptail(mode):
    pdf = nfit.pdf.GaussExpTail(mu=0.1, sigma=0.7, alpha=1.2, obs=OBS)

    def shape(x):
        t = (np.asarray(x) - 0.1) / 0.7
        return np.where(t < -1.2, np.exp(0.5 * 1.2 ** 2 + 1.2 * t), np.exp(-0.5 * t * t))

    np.testing.assert_allclose(pdf.pdf(X, mode=mode), _normalised(shape, -5, 5, X), rtol=1e-9)
    zfit_values = [9.91369782e-04, 3.05664730e-02, 5.38991431e-01, 1.36840413e-02, 9.89887443e-08]  # zfit 0.28
    np.testing.assert_allclose(pdf.pdf(X, mode=mode), zfit_values, rtol=1e-7)
    right = nfit.pdf.GaussExpTail(mu=0.1, sigma=0.7, alpha=-1.2, obs=OBS)  # the tail on the right
    np.testing.assert_allclose(right.pdf(0.2 - X, norm=False, mode=mode), pdf.pdf(X, norm=False, mode=mode), rtol=1e-12)
    mirrored = nfit.Space("x", limits=(-4.8, 5.2))  # the space mirrored around mu: the same normalisation
    np.testing.assert_allclose(right.pdf(0.2 - X, norm=mirrored, mode=mode), pdf.pdf(X, mode=mode), rtol=1e-9)


def test_generalized_cb(mode):
    pdf = nfit.pdf.GeneralizedCB(mu=0.1, sigmal=0.5, alphal=1.1, nl=3.0, sigmar=0.9, alphar=1.5, nr=5.0, obs=OBS)

    def side(t, alpha, n):
        a = (n / alpha) ** n * np.exp(-0.5 * alpha ** 2)
        return np.where(t < -alpha, a * np.abs(n / alpha - alpha - t) ** (-n), np.exp(-0.5 * t * t))

    def shape(x):
        x = np.asarray(x, dtype=float)
        return np.where(x < 0.1, side((x - 0.1) / 0.5, 1.1, 3.0), side(-(x - 0.1) / 0.9, 1.5, 5.0))

    np.testing.assert_allclose(pdf.pdf(X, mode=mode), _normalised(shape, -5, 5, X), rtol=1e-9)
    zfit_values = [0.00578044, 0.0277245, 0.48544078, 0.06929555, 0.00741963]  # zfit 0.28, printed to 6-9 digits
    np.testing.assert_allclose(pdf.pdf(X, mode=mode), zfit_values, rtol=1e-6)


def test_qgauss_is_a_students_t(mode):
    q, mu, sigma = 1.7, 0.3, 0.8
    nu, scale = (3 - q) / (q - 1), sigma * np.sqrt(2 / (3 - q))
    ref = stats.t(nu, mu, scale)
    expected = ref.pdf(X) / (ref.cdf(5) - ref.cdf(-5))
    np.testing.assert_allclose(nfit.pdf.QGauss(q=q, mu=mu, sigma=sigma, obs=OBS).pdf(X, mode=mode), expected,
                               rtol=1e-9)
    with pytest.raises(ValueError, match="'q'"):
        nfit.pdf.QGauss(q=1.0, mu=0.0, sigma=1.0, obs=OBS)


def test_gamma_and_chisquared(mode):
    obs = nfit.Space("x", limits=(0.5, 10))
    x = np.array([0.7, 1.5, 3.0, 7.0])
    ref = stats.gamma(2.5, 0.2, 1.3)
    gamma = nfit.pdf.Gamma(gamma=2.5, beta=1.3, mu=0.2, obs=obs)
    np.testing.assert_allclose(gamma.pdf(x, mode=mode), ref.pdf(x) / (ref.cdf(10) - ref.cdf(0.5)), rtol=1e-9)
    chi2 = nfit.pdf.ChiSquared(ndof=3.5, obs=obs)
    ref = stats.chi2(3.5)
    np.testing.assert_allclose(chi2.pdf(x, mode=mode), ref.pdf(x) / (ref.cdf(10) - ref.cdf(0.5)), rtol=1e-9)


def test_poisson_continuous(mode):
    obs = nfit.Space("x", limits=(0, 15))
    x = np.array([1.0, 2.5, 3.0, 9.0])

    def shape(t):
        return np.exp(t * np.log(3.2) - 3.2 - special.gammaln(np.asarray(t) + 1))

    pdf = nfit.pdf.Poisson(lam=3.2, obs=obs)
    np.testing.assert_allclose(pdf.pdf(x, mode=mode), _normalised(shape, 0, 15, x), rtol=1e-9)
    # at the integers, the shape is scipy's Poisson probability up to the normalisation
    ratio = pdf.pdf(np.arange(1.0, 8.0), mode=mode) / stats.poisson.pmf(np.arange(1, 8), 3.2)
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)


@pytest.mark.parametrize("make, truth", [
    (lambda p: nfit.pdf.GaussExpTail(mu=p, sigma=0.7, alpha=1.2, obs=OBS), 0.1),
    (lambda p: nfit.pdf.GeneralizedCB(mu=p, sigmal=0.5, alphal=1.1, nl=3.0, sigmar=0.9, alphar=1.5, nr=5.0, obs=OBS),
     0.1),
    (lambda p: nfit.pdf.QGauss(q=1.5, mu=p, sigma=0.8, obs=OBS), 0.3),
])
def test_fits_with_exact_derivatives(make, truth, mode):
    p = nfit.Parameter("shape_loc", truth, -2, 2)
    model = make(p)
    data = model.sample(3000, rng=5)
    p.set_value(truth + 0.2)
    loss = nfit.loss.UnbinnedNLL(model=model, data=data, mode=mode)
    assert loss.derivative_order == 2
    result = nfit.minimize.Minuit().minimize(loss)
    result.hesse()
    assert result.valid and abs(p.value() - truth) < 4 * result.params[p]["hesse"]["error"]
