"""Profile likelihood scans: they cross errordef at the MINOS bounds, refit the other parameters, and
agree with the closed form where there is one."""
import numpy as np
import pytest

import nfit


def test_profile_of_a_gaussian_mean_is_the_parabola_and_crosses_at_minos():
    obs = nfit.Space("x", -10, 10)
    mu = nfit.Parameter("mu_p", 0.2, -2, 2)
    sigma = nfit.Parameter("sigma_p", 1.5, 0.5, 3, floating=False)
    x = np.random.default_rng(3).normal(0.1, 1.5, 600).clip(-9.9, 9.9)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), data=nfit.Data.from_numpy(obs, x))
    result = nfit.minimize.Minuit().minimize(nll)
    values, delta = result.profile(mu, num=9)
    # with sigma fixed and the range wide, -log L in mu is the parabola n (mu - mean)^2 / (2 sigma^2)
    expected = len(x) * (values - x.mean()) ** 2 / (2 * 1.5 ** 2)
    np.testing.assert_allclose(delta, expected, atol=1e-6, rtol=1e-6)
    assert mu.value() == result.params[mu]["value"]


def test_profile_refits_the_other_parameters_and_matches_minos():
    obs = nfit.Space("x", -5, 5)
    mu, sigma = nfit.Parameter("mu_q", 0.2, -2, 2), nfit.Parameter("sigma_q", 1.3, 0.5, 3)
    x = np.random.default_rng(4).normal(0.0, 1.0, 800).clip(-4.9, 4.9)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), data=nfit.Data.from_numpy(obs, x))
    result = nfit.minimize.Minuit().minimize(nll)
    errors, _ = result.errors(params=[sigma])
    low = result.params[sigma]["value"] + errors[sigma]["lower"]
    high = result.params[sigma]["value"] + errors[sigma]["upper"]
    values, delta = result.profile(sigma, bounds=(low, high), num=3)
    np.testing.assert_allclose(delta[[0, 2]], [0.5, 0.5], atol=2e-3)
    assert delta[1] == pytest.approx(0.0, abs=1e-3)
    assert sigma.floating and sigma.value() == result.params[sigma]["value"]


def test_plot_profile_draws_the_curve():
    import matplotlib

    matplotlib.use("Agg")
    obs = nfit.Space("x", -4, 4)
    mu = nfit.Parameter("mu_r", 0.1, -1, 1)
    x = np.random.default_rng(5).normal(size=300).clip(-3.9, 3.9)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs), data=nfit.Data.from_numpy(obs, x))
    ax = nfit.minimize.Minuit().minimize(nll).plot_profile(mu, num=5)
    assert len(ax.lines) == 2 and len(ax.lines[0].get_xdata()) == 5


def test_contour_points_lie_on_the_two_parameter_level():
    from scipy import stats

    obs = nfit.Space("x", -6, 6)
    mu, sigma = nfit.Parameter("mu_s", 0.1, -1, 1), nfit.Parameter("sigma_s", 1.1, 0.5, 2)
    x = np.random.default_rng(6).normal(size=1500).clip(-5.9, 5.9)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), data=nfit.Data.from_numpy(obs, x))
    result = nfit.minimize.Minuit().minimize(nll)
    points = result.contour(mu, sigma, cl=0.68, size=12)
    assert points.shape == (13, 2) and np.allclose(points[0], points[-1])  # closed
    level = stats.chi2.ppf(0.68, 2) * nll.errordef  # both parameters on the contour: nothing left to refit
    rises = [nll.value(params={mu: a, sigma: b}) - result.fmin for a, b in points]
    np.testing.assert_allclose(rises, level, rtol=0.02)
    assert mu.value() == result.params[mu]["value"]
    with pytest.raises(ValueError, match="two different"):
        result.contour(mu, mu)


def test_profile_on_a_dask_cluster_equals_the_local_one():
    distributed = pytest.importorskip("dask.distributed")
    import numpy as np

    obs = nfit.Space("x", limits=(-4, 4))
    mu, sigma = nfit.Parameter("pd_mu", 0.1, -1, 1), nfit.Parameter("pd_sigma", 1.1, 0.5, 2)
    x = np.random.default_rng(2).normal(size=1500)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs),
                                data=nfit.Data.from_numpy(obs, x[np.abs(x) < 4]))
    result = nfit.minimize.Minuit().minimize(nll)
    here = result.profile(mu, bounds=(-0.1, 0.1), num=9)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        there = result.profile(mu, bounds=(-0.1, 0.1), num=9, client=client)
    np.testing.assert_allclose(there[0], here[0])
    np.testing.assert_allclose(there[1], here[1], atol=1e-6)
    assert mu.value() == result.params[mu]["value"]
