"""Newton steps on the exact Hessian before MIGRAD (nfit.newton, Minuit(newton=...))."""
import numpy as np
import pytest

import nfit
from nfit.newton import newton_start


def _quadratic(centre, matrix):
    def derivatives(x):
        d = x - centre
        return float(d @ matrix @ d / 2), matrix @ d, matrix

    return derivatives


def test_a_quadratic_takes_one_step():
    matrix = np.array([[4.0, 1.0], [1.0, 3.0]])
    stage = newton_start(_quadratic(np.array([1.0, -2.0]), matrix), np.zeros(2), [None, None], [None, None],
                         edm_goal=1e-4)
    assert stage.reason == "converged" and stage.steps == 1 and stage.passes == 2
    assert stage.x == pytest.approx([1.0, -2.0], abs=1e-14)


def test_a_saddle_is_left_to_migrad():
    def saddle(x):  # x0² - x1²: the Hessian is indefinite everywhere
        return float(x[0] ** 2 - x[1] ** 2), np.array([2 * x[0], -2 * x[1]]), np.diag([2.0, -2.0])

    stage = newton_start(saddle, np.array([0.5, 0.5]), [None, None], [None, None], edm_goal=1e-4)
    assert stage.reason == "Hessian not positive definite" and stage.steps == 0
    assert stage.x.tolist() == [0.5, 0.5]


def test_a_step_into_nan_is_halved():
    def log_barrier(x):  # -log(x) + x: minimum at 1, NaN below 0; the Newton step from 3 lands at -3
        value = -np.log(x[0]) + x[0] if x[0] > 0 else np.nan
        return value, np.array([1 - 1 / x[0]]), np.array([[1 / x[0] ** 2]])

    stage = newton_start(log_barrier, np.array([3.0]), [None], [None], edm_goal=1e-6)
    assert stage.reason == "converged"
    assert stage.x[0] == pytest.approx(1.0, abs=1e-9)


def test_a_minimum_beyond_a_limit_leaves_migrad_the_start():
    derivatives = _quadratic(np.array([3.0, 0.0]), np.eye(2))
    stage = newton_start(derivatives, np.array([0.5, 1.0]), [0.0, None], [2.0, None], edm_goal=1e-4)
    assert stage.reason == "step leaves the limits"
    assert stage.x.tolist() == [0.5, 1.0]


def test_the_passes_are_bounded():
    def slow(x):  # sum x^4: each Newton step only takes a third off
        return float(np.sum(x ** 4)), 4 * x ** 3, np.diag(12 * x ** 2)

    stage = newton_start(slow, np.array([1.0, 2.0]), [None, None], [None, None], edm_goal=1e-30, max_passes=6)
    assert stage.passes == 6 and stage.reason in ("call limit", "too many steps")


def _gauss_fit(mode, newton, x, **kwargs):
    obs = nfit.Space("x", limits=(-60, 60))
    mu = nfit.Parameter("mu", 0.5, -5, 5)
    sigma = nfit.Parameter("sigma", 1.7, 0.1, 9)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs),
                                data=nfit.Data.from_numpy(obs, x), mode=mode)
    result = nfit.minimize.Minuit(newton=newton, **kwargs).minimize(nll)
    result.hesse()
    return result, mu, sigma


def test_the_minimum_is_the_closed_form_one_on_both_paths(mode):
    """A Gauss fit far inside its range: the maximum-likelihood estimates are the sample's mean and
    standard deviation (ddof=0), and the HESSE errors sigma/sqrt(n) and sigma/sqrt(2n)."""
    x = np.random.default_rng(11).normal(0.3, 1.2, 4000)
    result, mu, sigma = _gauss_fit(mode, None, x)
    assert result.valid and result.info["newton"]["stopped"] == "converged"
    mean, std = x.mean(), x.std()
    # the stage stops at an EDM below 1e-10: within 1e-5 errors of the minimum (MIGRAD's goal
    # alone allows 1e-2)
    assert result.params[mu]["value"] == pytest.approx(mean, abs=1e-4 * std / np.sqrt(x.size))
    assert result.params[sigma]["value"] == pytest.approx(std, abs=1e-4 * std / np.sqrt(2 * x.size))
    assert result.params[mu]["hesse"]["error"] == pytest.approx(std / np.sqrt(x.size), rel=1e-6)
    assert result.params[sigma]["hesse"]["error"] == pytest.approx(std / np.sqrt(2 * x.size), rel=1e-6)
    assert result.info["n_eval"] >= result.info["newton"]["passes"]


def test_newton_and_migrad_alone_agree(mode):
    x = np.random.default_rng(12).normal(-0.2, 0.8, 3000)
    with_newton, mu, sigma = _gauss_fit(mode, None, x)
    alone, mu2, sigma2 = _gauss_fit(mode, False, x)
    assert "newton" not in alone.info
    assert with_newton.fmin == pytest.approx(alone.fmin, abs=1e-4)
    for a, b in ((mu, mu2), (sigma, sigma2)):
        error = alone.params[b]["hesse"]["error"]
        assert with_newton.params[a]["value"] == pytest.approx(alone.params[b]["value"], abs=0.02 * error)
        assert with_newton.params[a]["hesse"]["error"] == pytest.approx(error, rel=1e-3)


def test_a_minimum_on_a_limit_gives_migrad_alone_result(mode):
    """sigma's minimum lies beyond its upper limit: MIGRAD starts from the user's start values, as
    without the Newton steps, and ends on the limit with the same result (to rounding)."""
    obs = nfit.Space("x", limits=(-5, 5))
    x = np.random.default_rng(1).uniform(-5, 5, 2000)
    results = []
    for newton in (None, False):
        mu = nfit.Parameter("mu", 0.0, -1, 1)
        sigma = nfit.Parameter("sigma", 1.0, 0.1, 2.0)
        nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs),
                                    data=nfit.Data.from_numpy(obs, x), mode=mode)
        results.append(nfit.minimize.Minuit(newton=newton).minimize(nll))
    with_newton, alone = results
    assert with_newton.info["newton"]["stopped"] == "step leaves the limits"
    assert with_newton.valid and alone.valid
    # the same MIGRAD from the same start; its first gradient comes from the Hessian kernel, which
    # agrees with the gradient kernel to rounding
    assert with_newton.fmin == pytest.approx(alone.fmin, rel=1e-14)
    assert [e["value"] for e in with_newton.params.values()] == \
        pytest.approx([e["value"] for e in alone.params.values()], rel=1e-10, abs=1e-12)


def test_newton_true_needs_an_exact_hessian():
    obs = nfit.Space("x", limits=(-5, 5))
    mu = nfit.Parameter("mu", 0.0, -1, 1)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs),
                                data=nfit.Data.from_numpy(obs, np.array([0.1, 0.2, -0.3])))
    with pytest.raises(ValueError, match="no exact Hessian"):
        nfit.minimize.Minuit(newton=True, gradient="minuit").minimize(nll)
    with pytest.raises(ValueError, match="newton must be"):
        nfit.minimize.Minuit(newton="yes")


def test_maxiter_counts_the_newton_passes():
    x = np.random.default_rng(13).normal(0.0, 1.0, 500)
    result, _, _ = _gauss_fit("compiled", None, x, maxiter=4)
    assert result.info["newton"]["passes"] <= 2
    assert result.info["minuit"].fmin.nfcn <= 4


def test_many_coupled_parameters_leave_migrad_alone():
    """Each event of a sum of three Gausses depends on 9 free parameters: a Hessian pass costs more
    than the MIGRAD iterations the steps would save, so by default there are none; newton=True
    takes them all the same, and both end at the same minimum."""
    obs = nfit.Space("x", limits=(0, 6))
    rng = np.random.default_rng(14)
    x = np.concatenate([rng.normal(1 + 2 * k, 0.3, 400) for k in range(3)])
    data = nfit.Data.from_numpy(obs, x[(x > 0) & (x < 6)])
    results = {}
    for newton in (None, True):
        pdfs = [nfit.pdf.Gauss(mu=nfit.Parameter(f"mu{k}", 1.1 + 2 * k, 2 * k, 2 * k + 2),
                               sigma=nfit.Parameter(f"sg{k}", 0.35, 0.05, 1), obs=obs)
                .create_extended(nfit.Parameter(f"n{k}", 380, 0, 1e4)) for k in range(3)]
        nll = nfit.loss.ExtendedUnbinnedNLL(model=nfit.pdf.SumPDF(pdfs), data=data, mode="eager")
        assert nfit.newton.coupled_params(nll, nll.get_params()) == 9
        results[newton] = nfit.minimize.Minuit(newton=newton).minimize(nll)
    assert "newton" not in results[None].info
    assert results[True].info["newton"]["passes"] >= 1
    assert results[True].valid and results[None].valid
    assert results[True].fmin == pytest.approx(results[None].fmin, abs=1e-3)


def test_a_start_close_to_the_minimum_leaves_migrad_alone(mode):
    """Toys start at the truth: the EDM there is about half the number of parameters, MIGRAD alone is
    quicker, and the one Hessian pass at the start is the one MIGRAD's seed needs anyway."""
    x = np.random.default_rng(15).normal(0.0, 1.0, 5000)
    counts = {}
    for newton in (None, False):
        obs = nfit.Space("x", limits=(-60, 60))
        mu, sigma = nfit.Parameter("mu", 0.0, -5, 5), nfit.Parameter("sigma", 1.0, 0.1, 9)
        nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs),
                                    data=nfit.Data.from_numpy(obs, x), mode=mode)
        passes = []
        original = nll._derivatives
        nll._derivatives = lambda p, order: passes.append(order) or original(p, order)
        result = nfit.minimize.Minuit(newton=newton).minimize(nll)
        counts[newton] = len(passes)
        assert result.valid
        if newton is None:
            stage = result.info["newton"]
            assert stage["stopped"] == "close to the minimum" and stage["steps"] == 0
            assert stage["edm"] < nfit.newton.MIN_EDM
    assert counts[None] <= counts[False]
