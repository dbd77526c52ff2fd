"""Fits whose minimum lies at or near a parameter limit: valid with the exact Hessian, as with
MINUIT's numerical path, on both paths and every strategy; MINOS works there."""
import math

import numpy as np
import pytest

import nfit
from nfit import bounds


def _fit(nll, gradient, strategy):
    return nfit.minimize.Minuit(gradient=gradient, mode=strategy).minimize(nll)


def _minuit_transform(u, lower, upper):
    """MINUIT's internal -> external transform, written out as Minuit2 documents it."""
    if lower is not None and upper is not None:
        return lower + 0.5 * (upper - lower) * (math.sin(u) + 1.0)
    if lower is not None:
        return lower - 1.0 + math.sqrt(u * u + 1.0)
    return upper + 1.0 - math.sqrt(u * u + 1.0)


@pytest.mark.parametrize("lower,upper,u", [(0.0, 1.0, 0.3), (-2.0, 5.0, -1.2), (1.0, None, 0.7),
                                           (1.0, None, -2.0), (None, 3.0, 0.4), (None, 3.0, 1.9)])
def test_transform_derivatives_against_finite_differences(lower, upper, u):
    h = 1e-4
    x = _minuit_transform(u, lower, upper)
    d1 = (_minuit_transform(u + h, lower, upper) - _minuit_transform(u - h, lower, upper)) / (2 * h)
    d2 = (_minuit_transform(u + h, lower, upper) - 2 * x + _minuit_transform(u - h, lower, upper)) / h**2
    assert bounds.first_derivative(x, lower, upper) == pytest.approx(abs(d1), rel=1e-6)
    g = 1.7
    assert bounds.curvature_term(x, lower, upper, g) == pytest.approx(g * d2 / d1**2, rel=1e-5)


def test_corrected_hessian_is_the_internal_hessian():
    # f = 100 (x - 0.8)^2 on [0, 1] at x = 0.75: internal Hessian x'^2 * 200 + x'' * g
    x, g, h = 0.75, 200 * (0.75 - 0.8), 200.0
    u = math.asin(2 * x - 1)
    internal = (0.5 * math.cos(u)) ** 2 * h + (-0.5 * math.sin(u)) * g
    external = bounds.minuit_hessian(np.array([[h]]), np.array([g]), np.array([x]), [0.0], [1.0])
    assert external[0, 0] * bounds.first_derivative(x, 0.0, 1.0) ** 2 == pytest.approx(internal, rel=1e-12)
    # far from the minimum the Newton step is damped to a short one in MINUIT's coordinate
    g_far = 2 * (0.75 - 2.0)
    damped = bounds.minuit_hessian(np.array([[2.0]]), np.array([g_far]), np.array([x]), [0.0], [1.0])
    jac = bounds.first_derivative(x, 0.0, 1.0)
    assert abs(g_far * jac / (damped[0, 0] * jac**2)) <= bounds.MAX_INTERNAL_STEP


def test_probe_matches_what_iminuit_does():
    import iminuit

    needs = bounds.minuit_needs_curvature_term()
    # with the term added by hand, HESSE gives the numerical answer exactly when the probe said so
    f = lambda p: 100 * (p[0] - 0.8) ** 2  # noqa: E731
    grad = lambda p: np.array([200.0 * (p[0] - 0.8)])  # noqa: E731
    hess = lambda p: bounds.minuit_hessian(np.array([[200.0]]), grad(p), p, [0.0], [1.0], correct=needs)  # noqa: E731
    m = iminuit.Minuit(f, [0.75], grad=grad, hessian=hess)
    m.errordef, m.limits = 1.0, [(0.0, 1.0)]
    m.hesse()
    n = iminuit.Minuit(f, [0.75])
    n.errordef, n.limits = 1.0, [(0.0, 1.0)]
    n.hesse()
    assert m.covariance[0, 0] == pytest.approx(n.covariance[0, 0], rel=1e-4)


@pytest.fixture(scope="module")
def flat_data():
    obs = nfit.Space("x", limits=(-5, 5))
    return obs, nfit.Data.from_numpy(obs=obs, array=np.random.default_rng(1).uniform(-5, 5, 2000))


@pytest.mark.parametrize("strategy", [0, 1, 2])
def test_sigma_at_upper_limit(mode, strategy, flat_data):
    obs, data = flat_data
    runs = {}
    for gradient in (None, "minuit"):
        mu = nfit.Parameter("mu", 0.0, -1, 1)
        sigma = nfit.Parameter("sigma", 1.0, 0.1, 2.0)
        nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), data=data, mode=mode)
        result = _fit(nll, gradient, strategy)
        runs[gradient] = result
        assert result.valid, (gradient, result.edm, result.info["n_eval"])
        assert result.edm < 1e-5
        assert sigma.value() == pytest.approx(2.0, abs=1e-6)
        errors, new = result.errors(params=[mu, sigma])
        assert new is None
        assert errors[sigma]["upper"] == pytest.approx(0.0, abs=1e-8)
        assert -1e-3 < errors[sigma]["lower"] < -1e-4
        assert errors[mu]["lower"] < -0.03 and errors[mu]["upper"] > 0.03
    exact, numerical = runs[None], runs["minuit"]
    assert exact.info["n_eval"] <= numerical.info["n_eval"]
    assert exact.fmin == pytest.approx(numerical.fmin, abs=1e-6)


def _signal_search_model(obs, mode_tag):
    mu = nfit.Parameter(f"mu_{mode_tag}", 5.28, 5.2, 5.35, floating=False)
    sigma = nfit.Parameter(f"sg_{mode_tag}", 0.03, 0.005, 0.1, floating=False)
    lam = nfit.Parameter(f"lam_{mode_tag}", -1.0, -5, 1)
    nsig = nfit.Parameter(f"nsig_{mode_tag}", 5, 0, 1000)
    nbkg = nfit.Parameter(f"nbkg_{mode_tag}", 500, 0, 10_000)
    model = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs, extended=nsig),
                             nfit.pdf.Exponential(lam=lam, obs=obs, extended=nbkg)])
    return model, (lam, nsig, nbkg)


def test_toys_with_a_yield_near_zero_keep_the_valid_fraction(obs, mode):
    model, (lam, nsig, nbkg) = _signal_search_model(obs, mode)
    valid = {None: 0, "minuit": 0}
    at_zero = 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        x = np.concatenate([rng.normal(5.28, 0.03, rng.poisson(3)), rng.uniform(5.0, 5.6, rng.poisson(500))])
        data = nfit.Data.from_numpy(obs=obs, array=x[(x > 5) & (x < 5.6)])
        nll = nfit.loss.ExtendedUnbinnedNLL(model=model, data=data, mode=mode)
        for gradient in valid:
            nsig.set_value(5), nbkg.set_value(500), lam.set_value(-1.0)
            result = _fit(nll, gradient, 1)
            valid[gradient] += result.valid
        at_zero += nsig.value() < 1e-3
    assert at_zero >= 5  # the test really visits the limit
    assert valid[None] >= valid["minuit"] == 40


@pytest.mark.parametrize("strategy", [0, 1, 2])
def test_fraction_at_one_and_minos(mode, strategy, rng):
    obs = nfit.Space("x", limits=(0, 10))
    x = rng.exponential(2.0, 4000)
    data = nfit.Data.from_numpy(obs=obs, array=x[x < 10])
    lam = nfit.Parameter("lam", -0.4, -2, 0)
    frac = nfit.Parameter("frac", 0.7, 0, 1)
    model = nfit.pdf.SumPDF([nfit.pdf.Exponential(lam=lam, obs=obs), nfit.pdf.Uniform(0, 10, obs=obs)], fracs=[frac])
    nll = nfit.loss.UnbinnedNLL(model=model, data=data, mode=mode)
    fmins = {}
    for gradient in ("minuit", None):
        lam.set_value(-0.4), frac.set_value(0.7)
        result = _fit(nll, gradient, strategy)
        assert result.valid, (gradient, result.edm)
        fmins[gradient] = result.fmin
        errors, _ = result.errors(params=[frac, lam])
        assert errors[lam]["lower"] < 0 < errors[lam]["upper"]
    assert fmins[None] == pytest.approx(fmins["minuit"], abs=2e-4)  # within MIGRAD's EDM


def test_shape_parameter_near_its_limit(mode, rng):
    # the true width sits 1.5 standard errors inside the lower limit: a minimum near, not at, it
    obs = nfit.Space("x", limits=(-3, 3))
    x = rng.normal(0, 0.5, 2000)
    data = nfit.Data.from_numpy(obs=obs, array=x[np.abs(x) < 3])
    mu = nfit.Parameter("mu", 0.2, -1, 1)
    sigma = nfit.Parameter("sigma", 0.8, x.std() - 0.012, 3.0)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), data=data, mode=mode)
    for strategy in (0, 1, 2):
        mu.set_value(0.2), sigma.set_value(0.8)
        exact = _fit(nll, None, strategy)
        assert exact.valid and exact.edm < 1e-4
        assert sigma.value() == pytest.approx(x.std(), rel=2e-3)
        errors, _ = exact.errors(params=[sigma])
        assert errors[sigma]["lower"] < 0 < errors[sigma]["upper"]


def test_unused_components_of_a_large_sum(mode, rng):
    obs = nfit.Space("x", limits=(0, 20))
    n = 12
    yields, pdfs = [], []
    for i in range(n):
        y = nfit.Parameter(f"n{i}", 100.0, 0, 10_000)
        pdfs.append(nfit.pdf.Gauss(mu=float(i) + 1.0, sigma=0.3, obs=obs, extended=y))
        yields.append(y)
    # only the first four components have events
    x = np.concatenate([rng.normal(i + 1.0, 0.3, 300) for i in range(4)])
    data = nfit.Data.from_numpy(obs=obs, array=x)
    nll = nfit.loss.ExtendedUnbinnedNLL(model=nfit.pdf.SumPDF(pdfs), data=data, mode=mode)
    results = {}
    for gradient in ("minuit", None):
        for y in yields:
            y.set_value(100.0)
        results[gradient] = _fit(nll, gradient, 1)
        assert results[gradient].valid
        assert all(y.value() < 1e-2 for y in yields[5:])
    assert results[None].info["n_eval"] <= results["minuit"].info["n_eval"]
    assert results[None].fmin == pytest.approx(results["minuit"].fmin, abs=1e-3)
