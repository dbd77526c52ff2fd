"""SumPDF in its three weightings, against hand-computed mixtures (scipy.stats), on both paths."""
import numpy as np
import pytest
from scipy import stats

import nfit

LO, HI = 5.0, 5.6
X = np.linspace(LO, HI, 31)


def gauss_t(mu, sigma):
    d = stats.norm(mu, sigma)
    return d.pdf(X) / (d.cdf(HI) - d.cdf(LO))


def expo_t(lam):
    return lam * np.exp(lam * X) / (np.exp(lam * HI) - np.exp(lam * LO))


@pytest.fixture
def parts(obs):
    g = nfit.pdf.Gauss(mu=5.28, sigma=0.025, obs=obs)
    e = nfit.pdf.Exponential(lam=-1.5, obs=obs)
    return g, e


def test_implicit_last_fraction(parts, mode):
    g, e = parts
    s = nfit.pdf.SumPDF([g, e], fracs=0.3)
    np.testing.assert_allclose(s.pdf(X, mode=mode), 0.3 * gauss_t(5.28, 0.025) + 0.7 * expo_t(-1.5), rtol=1e-11)
    assert s.integrate((LO, HI))[0] == pytest.approx(1.0, abs=1e-12)
    assert not s.is_extended


def test_all_fractions_are_normalised(parts, mode):
    g, e = parts
    s = nfit.pdf.SumPDF([g, e], fracs=[1.0, 3.0])
    np.testing.assert_allclose(s.pdf(X, mode=mode), 0.25 * gauss_t(5.28, 0.025) + 0.75 * expo_t(-1.5), rtol=1e-11)


def test_extended_components_make_an_extended_sum(obs, mode):
    nsig, nbkg = nfit.Parameter("nsig", 300.0), nfit.Parameter("nbkg", 700.0)
    g = nfit.pdf.Gauss(mu=5.28, sigma=0.025, obs=obs, extended=nsig)
    e = nfit.pdf.Exponential(lam=-1.5, obs=obs).create_extended(nbkg)
    s = nfit.pdf.SumPDF([g, e])
    assert s.is_extended
    assert s.get_yield().value() == pytest.approx(1000.0)
    np.testing.assert_allclose(s.pdf(X, mode=mode), 0.3 * gauss_t(5.28, 0.025) + 0.7 * expo_t(-1.5), rtol=1e-11)
    assert s.get_params(is_yield=True) == [nsig, nbkg]
    np.testing.assert_allclose(s.ext_pdf(X, mode=mode), 1000 * s.pdf(X, mode="eager"), rtol=1e-11)


def test_nested_sum(obs, mode):
    g1 = nfit.pdf.Gauss(mu=5.28, sigma=0.025, obs=obs)
    g2 = nfit.pdf.Gauss(mu=5.28, sigma=0.06, obs=obs)
    e = nfit.pdf.Exponential(lam=-1.5, obs=obs)
    sig = nfit.pdf.SumPDF([g1, g2], fracs=0.6)
    model = nfit.pdf.SumPDF([sig, e], fracs=[0.2])
    expected = 0.2 * (0.6 * gauss_t(5.28, 0.025) + 0.4 * gauss_t(5.28, 0.06)) + 0.8 * expo_t(-1.5)
    np.testing.assert_allclose(model.pdf(X, mode=mode), expected, rtol=1e-11)
    assert model.integrate((5.2, 5.3))[0] == pytest.approx(
        np.trapezoid(model.pdf(np.linspace(5.2, 5.3, 20001), mode="eager"), np.linspace(5.2, 5.3, 20001)),
        rel=1e-8)


def test_sum_extended_with_explicit_yield(parts):
    g, e = parts
    s = nfit.pdf.SumPDF([g, e], fracs=0.3, extended=nfit.Parameter("ntot", 500.0))
    assert s.is_extended and s.get_yield().value() == 500.0


def test_sum_errors(parts, obs):
    g, e = parts
    with pytest.raises(ValueError, match="not extended"):
        nfit.pdf.SumPDF([g, e])
    with pytest.raises(ValueError, match="need 1 or 2 fracs"):
        nfit.pdf.SumPDF([g, e], fracs=[0.1, 0.2, 0.3])
    other = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=nfit.Space("y", limits=(0, 1)))
    with pytest.raises(ValueError, match="observables"):
        nfit.pdf.SumPDF([g, other], fracs=0.5)


def test_create_extended_leaves_original(parts):
    g, _ = parts
    ext = g.create_extended(100.0)
    assert ext.is_extended and not g.is_extended
    with pytest.raises(ValueError, match="already extended"):
        ext.create_extended(5.0)
