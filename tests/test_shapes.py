"""Densities and integrals of the built-in shapes against scipy.stats, on both paths."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

import nfit

LO, HI = -2.0, 3.0
X = np.linspace(LO, HI, 41)


def mass(dist):
    """The probability of [LO, HI] (tail masses by sf or cdf, whichever keeps its digits)."""
    return dist.sf(LO) - dist.sf(HI) if dist.median() < LO else dist.cdf(HI) - dist.cdf(LO)


def truncated(dist):
    """Density of a scipy distribution truncated to [LO, HI]."""
    return dist.pdf(X) / mass(dist)


SMALLEST_SUBNORMAL = 5e-324


@pytest.fixture(scope="module")
def space():
    return nfit.Space("x", limits=(LO, HI))


@pytest.fixture(scope="module")
def gauss(space):
    mu, sigma = nfit.Parameter("g_mu", 0.0), nfit.Parameter("g_sigma", 1.0, 0.01, 10)
    return nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=space), mu, sigma


@pytest.fixture(scope="module")
def expo(space):
    lam = nfit.Parameter("e_lam", -1.0)
    return nfit.pdf.Exponential(lam=lam, obs=space), lam


@settings(max_examples=25, deadline=None)
@given(mu=st.floats(-3, 4), sigma=st.floats(0.05, 5))
@pytest.mark.parametrize("path", ["eager", "compiled"])
def test_gauss_matches_truncated_scipy(gauss, path, mu, sigma):
    pdf, pmu, psigma = gauss
    pmu.set_value(mu)
    psigma.set_value(sigma)
    dist = stats.norm(mu, sigma)
    # where exp(-z**2 / 2) is subnormal it has fewer digits (in any implementation): two units of the
    # smallest subnormal, times the normalisation, which lifts them when the range holds a far tail
    to_density = 1.0 / (mass(dist) * sigma * np.sqrt(2.0 * np.pi))
    np.testing.assert_allclose(pdf.pdf(X, mode=path), truncated(dist), rtol=1e-9,
                               atol=2 * SMALLEST_SUBNORMAL * to_density)
    unnorm = pdf.pdf(X, norm=False, mode=path)
    np.testing.assert_allclose(unnorm, np.exp(-0.5 * ((X - mu) / sigma) ** 2), rtol=1e-12,
                               atol=2 * SMALLEST_SUBNORMAL)


@settings(max_examples=25, deadline=None)
@given(lam=st.floats(-8, 8).filter(lambda v: abs(v) > 1e-6 or v == 0.0))
@pytest.mark.parametrize("path", ["eager", "compiled"])
def test_exponential_matches_closed_form(expo, path, lam):
    pdf, plam = expo
    plam.set_value(lam)
    norm = integrate.quad(lambda x: np.exp(lam * x), LO, HI, epsabs=0, epsrel=1e-13)[0]
    np.testing.assert_allclose(pdf.pdf(X, mode=path), np.exp(lam * X) / norm, rtol=1e-10)


def test_exponential_against_scipy_expon(space, mode):
    # exp(lam x) with lam < 0 is scipy's expon with scale -1/lam, shifted to start at LO
    pdf = nfit.pdf.Exponential(lam=-0.7, obs=space)
    expected = truncated(stats.expon(loc=LO, scale=1 / 0.7))
    np.testing.assert_allclose(pdf.pdf(X, mode=mode), expected, rtol=1e-10)


def test_exponential_at_zero_slope_is_uniform(space, mode):
    pdf = nfit.pdf.Exponential(lam=0.0, obs=space)
    np.testing.assert_allclose(pdf.pdf(X, mode=mode), 1 / (HI - LO), rtol=1e-13)


def test_uniform(space, mode):
    pdf = nfit.pdf.Uniform(low=-1.0, high=1.5, obs=space)
    expected = stats.uniform(-1.0, 2.5).pdf(X)
    inside = (X > -1.0) & (X < 1.5)
    np.testing.assert_allclose(pdf.pdf(X, mode=mode)[inside], expected[inside], rtol=1e-13)
    assert np.all(pdf.pdf(X, mode=mode)[(X < -1.0) | (X > 1.5)] == 0)


@pytest.mark.parametrize("limits", [(-1.0, 1.0), (LO, HI), (2.0, 2.5), (-1.9, -1.8)])
def test_integrate_against_quad(gauss, expo, limits):
    pdf, pmu, psigma = gauss
    pmu.set_value(0.3)
    psigma.set_value(0.8)
    for model in (pdf, expo[0]):
        area = integrate.quad(lambda x: model.pdf(np.array([x]), mode="eager")[0], *limits, epsrel=1e-12)[0]
        assert model.integrate(limits)[0] == pytest.approx(area, rel=1e-9)


def test_gauss_far_tail_integral_keeps_precision(space):
    # 8 sigma away: erf(b) - erf(a) would cancel to zero; erfc keeps digits
    g = nfit.pdf.Gauss(mu=-10.0, sigma=1.0, obs=space)
    expected = stats.norm(-10, 1).sf(LO) - stats.norm(-10, 1).sf(HI)
    assert g.integrate(space, norm=False)[0] == pytest.approx(expected * np.sqrt(2 * np.pi), rel=1e-9)


def test_normalisation_over_other_range(gauss, mode):
    pdf, pmu, psigma = gauss
    pmu.set_value(0.0)
    psigma.set_value(1.0)
    narrow = nfit.Space("x", limits=(-1.0, 1.0))
    x = np.array([-0.5, 0.0, 0.5])
    expected = stats.norm.pdf(x) / (stats.norm.cdf(1) - stats.norm.cdf(-1))
    np.testing.assert_allclose(pdf.pdf(x, norm=narrow, mode=mode), expected, rtol=1e-10)


def test_sigma_zero_is_an_error_naming_the_parameter(space):
    with pytest.raises(ValueError, match="'sigma'.*'s0'.*positive"):
        nfit.pdf.Gauss(mu=0.0, sigma=nfit.Parameter("s0", 0.0), obs=space)


def test_uniform_bad_range(space):
    with pytest.raises(ValueError, match="low < high"):
        nfit.pdf.Uniform(low=1.0, high=0.0, obs=space)


def test_pdf_accepts_data(space, mode):
    g = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=space)
    data = nfit.Data.from_numpy(obs=space, array=X)
    np.testing.assert_allclose(g.pdf(data, mode=mode), g.pdf(X, mode="eager"), rtol=1e-13)
