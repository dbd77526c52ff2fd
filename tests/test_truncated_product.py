"""TruncatedPDF (one or several ranges) and ProductPDF of factors on the same observable, against
scipy and numerical integrals, on both paths, with exact derivatives."""
import numpy as np
import pytest
from scipy import integrate, stats

import nfit
from nfit.numdiff import gradient as numerical_gradient

OBS = nfit.Space("x", -5, 5)


def _check_derivatives(loss):
    _, grad, hess = loss.value_gradient_hessian()
    with nfit.run.mode("eager"):
        _, egrad, ehess = loss.value_gradient_hessian()
    np.testing.assert_allclose(egrad, grad, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(ehess, hess, rtol=1e-8, atol=1e-8)
    x0 = np.array([p.value() for p in loss.get_params()])
    np.testing.assert_allclose(grad, numerical_gradient(loss, x0, np.full(len(x0), 1e-3)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("limits", [(-2.0, 3.0), [(-3.0, -1.0), (1.0, 3.0)],
                                    [nfit.Space("x", -4, -2), nfit.Space("x", 0, 4)]])
def test_truncated_gauss_matches_scipy(limits, mode):
    mu, sigma = nfit.Parameter("tr_mu", 0.3, -1, 1), nfit.Parameter("tr_sigma", 1.2, 0.3, 3)
    cut = nfit.pdf.TruncatedPDF(nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=OBS), limits=limits)
    ranges = [limits] if isinstance(limits, tuple) else [(s.lower, s.upper) if isinstance(s, nfit.Space) else s
                                                         for s in limits]
    mass = sum(stats.norm.cdf(b, 0.3, 1.2) - stats.norm.cdf(a, 0.3, 1.2) for a, b in ranges)
    x = np.linspace(-4.9, 4.9, 23)
    inside = np.any([(x >= a) & (x <= b) for a, b in ranges], axis=0)
    np.testing.assert_allclose(cut.pdf(x, mode=mode), np.where(inside, stats.norm.pdf(x, 0.3, 1.2) / mass, 0.0),
                               rtol=1e-12, atol=1e-15)
    a, b = ranges[0]
    expected = (stats.norm.cdf(b, 0.3, 1.2) - stats.norm.cdf(a, 0.3, 1.2)) / mass
    assert float(cut.integrate((-5, 5))[0]) == pytest.approx(1.0, rel=1e-12)
    assert float(cut.integrate(nfit.Space("x", a, b))[0]) == pytest.approx(expected, rel=1e-12)
    events = cut.sample(2000, rng=3).to_numpy()[:, 0]
    assert np.all(np.any([(events >= a) & (events <= b) for a, b in ranges], axis=0))
    loss = nfit.loss.UnbinnedNLL(model=cut, data=nfit.Data.from_numpy(OBS, events), mode=mode)
    _check_derivatives(loss)
    result = nfit.minimize.Minuit().minimize(loss)
    assert result.valid and abs(mu.value() - 0.3) < 0.15 and abs(sigma.value() - 1.2) < 0.15


def test_to_truncated_and_a_range_outside():
    gauss = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=OBS)
    cut = gauss.to_truncated((0, 2))
    assert isinstance(cut, nfit.pdf.TruncatedPDF) and float(cut.integrate((3, 4))[0]) == 0.0
    with pytest.raises(ValueError, match="does not overlap"):
        cut.pdf([1.0], norm=(3, 4))


def test_efficiency_times_shape_on_one_observable(mode):
    obs = nfit.Space("x", 0, 3)
    mu, a = nfit.Parameter("pe_mu", 1.2, 0, 3), nfit.Parameter("pe_a", 0.5, 0, 2)
    shape = nfit.pdf.Gauss(mu=mu, sigma=0.7, obs=obs)
    efficiency = nfit.pdf.Chebyshev(obs=obs, coeffs=[a])
    product = nfit.pdf.ProductPDF([shape, efficiency])
    assert product.obs == ("x",) and product._derivative_order() == 2

    def unnormalised(t):
        u = (2 * t - 3) / 3  # Chebyshev's variable on [0, 3]
        return stats.norm.pdf(t, 1.2, 0.7) * (1 + 0.5 * u)

    norm = integrate.quad(unnormalised, 0, 3, epsabs=1e-13, epsrel=1e-12)[0]
    x = np.linspace(0.05, 2.95, 9)
    np.testing.assert_allclose(product.pdf(x, mode=mode), unnormalised(x) / norm, rtol=1e-10)
    assert float(product.integrate((0, 1))[0]) == pytest.approx(
        integrate.quad(unnormalised, 0, 1, epsabs=1e-13)[0] / norm, rel=1e-10)
    events = product.sample(3000, rng=4)
    loss = nfit.loss.UnbinnedNLL(model=product, data=events, mode=mode)
    _check_derivatives(loss)
    assert nfit.minimize.Minuit().minimize(loss).valid
