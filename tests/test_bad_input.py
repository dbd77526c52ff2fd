"""Input that used to pass silently: each gives a clear error naming what is wrong, or works as zfit
does (norm=, the minimisers' options, criterion, gradient and verbosity)."""
import numpy as np
import pytest
from scipy import stats

import nfit

OBS = nfit.Space("x", limits=(-3, 3))


def _params():
    return nfit.Parameter("mu", 0.1, -1, 1), nfit.Parameter("sg", 1.1, 0.1, 3)


def _data(n=500, obs=OBS, seed=1, weights=None):
    x = np.random.default_rng(seed).normal(0, 1, n)
    lo, hi = obs.limits
    return nfit.Data.from_numpy(obs, x[(x > lo) & (x < hi)], weights=weights)


def test_a_parameter_array_of_the_wrong_length(mode):
    mu, sg = _params()
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sg, obs=OBS), data=_data(), mode=mode)
    with pytest.raises(ValueError, match=r"2 value\(s\).*'mu', 'sg'.*\(1,\)"):
        nll(np.array([1.0]))
    with pytest.raises(ValueError, match="shape"):
        nll(np.array([1.0, 1.0, 1.0]))
    assert np.isfinite(nll(np.array([0.0, 1.0])))


def test_data_reaching_beyond_the_models_space(mode):
    mu, sg = _params()
    wide = nfit.Space("x", limits=(-5, 5))
    with pytest.raises(ValueError, match=r"beyond its space.*model 'Gauss'"):
        nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sg, obs=OBS), data=_data(obs=wide), mode=mode)
    # data on a narrower range: the model is normalised over the data's range (a fit range)
    narrow = nfit.Space("x", limits=(-1, 2))
    data = _data(obs=narrow)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sg, obs=OBS), data=data, mode=mode)
    x = data.to_numpy().ravel()
    expected = -np.sum(stats.truncnorm.logpdf(x, (-1 - 0.1) / 1.1, (2 - 0.1) / 1.1, 0.1, 1.1))
    assert nll.value() == pytest.approx(expected, rel=1e-10)


def test_empty_data_zero_weights_and_everything_outside(mode):
    mu, sg = _params()
    model = nfit.pdf.Gauss(mu=mu, sigma=sg, obs=OBS)
    with pytest.raises(ValueError, match="has no events"):
        nfit.loss.UnbinnedNLL(model=model, data=nfit.Data.from_numpy(OBS, np.array([])), mode=mode)
    x = _data().to_numpy().ravel()
    with pytest.raises(ValueError, match="weights .* sum to 0"):
        nfit.loss.UnbinnedNLL(model=model, data=nfit.Data.from_numpy(OBS, x, weights=np.zeros_like(x)), mode=mode)
    with pytest.warns(UserWarning, match="dropped"):
        outside = nfit.Data.from_numpy(OBS, np.array([10.0, 11.0, -7.0]))
    with pytest.raises(ValueError, match="all 3 events were outside"):
        nfit.loss.UnbinnedNLL(model=model, data=outside, mode=mode)
    # an extended fit to no events is a fit: the yield goes to zero
    n = nfit.Parameter("n", 10.0, 0, 100)
    ext = nfit.loss.ExtendedUnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sg, obs=OBS, extended=n),
                                        data=nfit.Data.from_numpy(OBS, np.array([])), mode=mode)
    assert ext.value() == pytest.approx(10.0)


def test_a_sum_of_components_on_different_ranges():
    mu, sg = _params()
    other = nfit.Space("x", limits=(-2, 2))
    with pytest.raises(ValueError, match="must share one space"):
        nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=mu, sigma=sg, obs=OBS), nfit.pdf.Gauss(mu=mu, sigma=sg, obs=other)],
                        fracs=[0.5])


def test_norm_sets_the_normalisation_range(mode):
    mu, sg = _params()
    gauss = nfit.pdf.Gauss(mu=mu, sigma=sg, obs=OBS, norm=(-1, 1))
    assert gauss.norm.limits == (-1.0, 1.0) and gauss.space.limits == (-3.0, 3.0)
    x = np.linspace(-0.9, 0.9, 7)
    truth = stats.truncnorm.pdf(x, (-1 - 0.1) / 1.1, (1 - 0.1) / 1.1, 0.1, 1.1)
    np.testing.assert_allclose(gauss.pdf(x, mode=mode), truth, rtol=1e-10)
    np.testing.assert_allclose(gauss.pdf(x, norm=OBS, mode=mode),
                               stats.truncnorm.pdf(x, (-3 - 0.1) / 1.1, (3 - 0.1) / 1.1, 0.1, 1.1), rtol=1e-10)
    assert float(gauss.integrate((-1, 1))[0]) == pytest.approx(1.0, rel=1e-10)
    # a loss normalises over it; its data must lie inside it
    inside = nfit.Space("x", limits=(-1, 1))
    data = _data(obs=inside)
    nll = nfit.loss.UnbinnedNLL(model=gauss, data=data, mode=mode)
    xs = data.to_numpy().ravel()
    assert nll.value() == pytest.approx(-np.sum(stats.truncnorm.logpdf(xs, (-1.1) / 1.1, 0.9 / 1.1, 0.1, 1.1)),
                                        rel=1e-10)
    with pytest.raises(ValueError, match="normalisation range"):
        nfit.loss.UnbinnedNLL(model=gauss, data=_data(), mode=mode)
    with pytest.raises(ValueError, match="observables"):
        nfit.pdf.Gauss(mu=mu, sigma=sg, obs=OBS, norm=nfit.Space("y", limits=(0, 1)))


def test_norm_of_other_shapes_and_composites():
    obs = nfit.Space("x", limits=(0, 10))
    lam = nfit.Parameter("lam", -0.3, -2, 0)
    expo = nfit.pdf.Exponential(lam=lam, obs=obs, norm=(0, 5))
    assert float(expo.integrate((0, 5))[0]) == pytest.approx(1.0, rel=1e-10)
    cheb = nfit.pdf.Chebyshev(obs=obs, coeffs=[0.1], norm=(2, 8))
    assert float(cheb.integrate((2, 8))[0]) == pytest.approx(1.0, rel=1e-10)
    total = nfit.pdf.SumPDF([expo, cheb], fracs=[0.4], norm=(1, 9))
    assert float(total.integrate((1, 9))[0]) == pytest.approx(1.0, rel=1e-10)


def test_minuit_options_and_criterion():
    mu, sg = _params()
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sg, obs=OBS), data=_data())
    with pytest.raises(ValueError, match="not supported"):
        nfit.minimize.Minuit(options={"max_calls": 3})
    with pytest.raises(ValueError, match="errordef"):
        nfit.minimize.Minuit(options={"errordef": 1.0})
    with pytest.raises(ValueError, match="EDM only"):
        nfit.minimize.Minuit(criterion="relative change")

    class EDM:  # zfit's criterion class, by name
        pass

    assert nfit.minimize.Minuit(criterion=EDM).criterion == "edm"
    result = nfit.minimize.Minuit(options={"precision": 1e-13, "pedantic": True}).minimize(nll)
    assert result.valid and result.info["minuit"].precision == 1e-13


def test_minuit_verbosity(capsys):
    mu, sg = _params()
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sg, obs=OBS), data=_data())
    nfit.minimize.Minuit(verbosity=0).minimize(nll)
    assert capsys.readouterr().out == ""
    mu.set_value(0.1), sg.set_value(1.1)
    result = nfit.minimize.Minuit(verbosity=5).minimize(nll)
    out = capsys.readouterr().out
    assert "valid minimum" in out and result.info["minuit"].print_level == 1


@pytest.mark.parametrize("minimizer", [nfit.minimize.ScipyLBFGSB, nfit.minimize.ScipyTrustConstr])
def test_scipy_gradient_and_verbosity(minimizer, capsys, mode):
    mu, sg = _params()
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sg, obs=OBS), data=_data(2000), mode=mode)
    fmins = {}
    for gradient in (None, "zfit", True, "3-point"):
        mu.set_value(0.1), sg.set_value(1.1)
        result = minimizer(gradient=gradient, tol=1e-6).minimize(nll)
        assert result.valid
        fmins[gradient] = result.fmin
        assert result.info["gradient"] == ("loss" if gradient in (None, "zfit") else
                                           "2-point" if gradient is True else gradient)
    assert fmins[None] == pytest.approx(fmins[True], abs=1e-4)
    with pytest.raises(ValueError, match="gradient="):
        minimizer(gradient="spline")
    capsys.readouterr()
    mu.set_value(0.1), sg.set_value(1.1)
    minimizer(verbosity=7).minimize(nll)
    out = capsys.readouterr().out
    assert "loss" in out and "minimum" in out
