"""Fits to weighted data: HESSE's covariance corrected as zfit does (weightcorr="asymptotic" by
default, "sumw2", False), against a sandwich built from scipy densities by finite differences, on
both paths and the CUDA backend; the errors it gives cover the toys' spread."""
import warnings

import numpy as np
import pytest
from scipy import stats

import nfit
from nfit import gpu

LIMITS = (-3.0, 3.0)


def _gauss_data(seed=3, n=4000):
    rng = np.random.default_rng(seed)
    x = rng.normal(0.2, 1.0, n)
    x = x[np.abs(x) < 3]
    return x, rng.uniform(0.2, 1.0, x.size)


def _gauss_loss(x, w, mode, backend=None, tag=""):
    obs = nfit.Space("x", limits=LIMITS)
    mu = nfit.Parameter("mu" + tag, 0.0, -1, 1)
    sg = nfit.Parameter("sg" + tag, 1.2, 0.3, 3)
    data = nfit.Data.from_numpy(obs=obs, array=x, weights=w)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sg, obs=obs), data=data, mode=mode,
                                backend=backend)
    return nll, mu, sg


def _sandwich(logf, theta, x, w, hess_inverse, h=1e-6):
    """H⁻¹ (sum w² g gᵀ) H⁻¹ with g from central differences of scipy's log-density."""
    grads = []
    for j in range(len(theta)):
        up, down = np.array(theta, float), np.array(theta, float)
        up[j] += h
        down[j] -= h
        grads.append((logf(up, x) - logf(down, x)) / (2 * h))
    g = np.stack(grads, 1)
    return hess_inverse @ ((w[:, None] ** 2 * g).T @ g) @ hess_inverse


def _truncnorm_logpdf(theta, x):
    m, s = theta
    return stats.truncnorm.logpdf(x, (LIMITS[0] - m) / s, (LIMITS[1] - m) / s, m, s)


def test_asymptotic_covariance_against_a_numerical_sandwich(mode):
    x, w = _gauss_data()
    nll, mu, sg = _gauss_loss(x, w, mode)
    result = nfit.minimize.Minuit().minimize(nll)
    assert result.valid
    errors = result.hesse()
    assert errors[mu]["weightcorr"] == "asymptotic"
    plain = result.covariance(weightcorr=False)
    # the uncorrected covariance is the inverse Hessian of the weighted NLL (errordef 0.5)
    assert plain == pytest.approx(np.linalg.inv(nll.hessian()), rel=1e-6)
    expected = _sandwich(_truncnorm_logpdf, [mu.value(), sg.value()], x, w, plain)
    assert result.covariance() == pytest.approx(expected, rel=1e-5)
    assert result.covariance(weightcorr="asymptotic") == pytest.approx(expected, rel=1e-5)
    assert errors[mu]["error"] == pytest.approx(np.sqrt(expected[0, 0]), rel=1e-5)
    # the correction matters: weights below one shrink the errors
    assert errors[mu]["error"] < 0.9 * np.sqrt(plain[0, 0])


def test_sumw2_and_uncorrected(mode):
    x, w = _gauss_data(seed=4)
    nll, mu, sg = _gauss_loss(x, w, mode)
    result = nfit.minimize.Minuit().minimize(nll)
    plain = result.hesse(weightcorr=False, name="hesse_nocorr")
    sumw2 = result.hesse(weightcorr="sumw2", name="hesse_sumw2")
    hess_inverse = np.linalg.inv(nll.hessian())
    for j, p in enumerate([mu, sg]):
        assert plain[p]["error"] == pytest.approx(np.sqrt(hess_inverse[j, j]), rel=1e-6)
        assert sumw2[p]["error"] == pytest.approx(np.sqrt(hess_inverse[j, j] * np.sum(w**2) / np.sum(w)), rel=1e-6)
        assert result.params[p]["hesse_sumw2"]["weightcorr"] == "sumw2"
        assert result.params[p]["hesse_nocorr"]["weightcorr"] is False


def test_extended_sum_with_a_constraint_against_a_numerical_sandwich(mode):
    rng = np.random.default_rng(8)
    lo, hi = 0.0, 5.0
    xs = rng.normal(2.5, 0.3, 600)
    xb = rng.exponential(2.0, 3000)
    x = np.concatenate([xs, xb])
    x = x[(x > lo) & (x < hi)]
    w = rng.uniform(0.3, 1.2, x.size)
    obs = nfit.Space("x", limits=(lo, hi))
    mu = nfit.Parameter("mu", 2.4, 2, 3)
    sg = nfit.Parameter("sg", 0.35, 0.1, 1)
    lam = nfit.Parameter("lam", -0.4, -2, 0)
    ns = nfit.Parameter("ns", 500, 0, 5000)
    nb = nfit.Parameter("nb", 2000, 0, 10000)
    model = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=mu, sigma=sg, obs=obs, extended=ns),
                             nfit.pdf.Exponential(lam=lam, obs=obs, extended=nb)])
    constraint = nfit.constraint.GaussianConstraint(params=[sg], observation=[0.3], uncertainty=[0.02])
    data = nfit.Data.from_numpy(obs=obs, array=x, weights=w)
    nll = nfit.loss.ExtendedUnbinnedNLL(model=model, data=data, constraints=constraint, mode=mode)
    result = nfit.minimize.Minuit().minimize(nll)
    assert result.valid
    params = [mu, sg, lam, ns, nb]
    theta = [result.params[p]["value"] for p in params]
    assert [p.name for p in result.params] == [p.name for p in nll.get_params()]
    order = [[p.name for p in result.params].index(q.name) for q in params]

    def log_nu_f(t, x):
        m, s, la, n_s, n_b = t
        gauss = stats.truncnorm.pdf(x, (lo - m) / s, (hi - m) / s, m, s)
        expo = la * np.exp(la * x) / (np.exp(la * hi) - np.exp(la * lo))
        return np.log(n_s * gauss + n_b * expo)

    plain = result.covariance(weightcorr=False)[np.ix_(order, order)]
    expected = _sandwich(log_nu_f, theta, x, w, plain, h=1e-5)
    # the constraint is one more row of weight 1: its gradient by sigma, (sigma - 0.3) / 0.02²
    g_c = np.zeros(5)
    g_c[1] = (theta[1] - 0.3) / 0.02**2
    expected += plain @ np.outer(g_c, g_c) @ plain
    got = result.covariance()[np.ix_(order, order)]
    assert np.sqrt(np.diag(got)) == pytest.approx(np.sqrt(np.diag(expected)), rel=1e-4)
    assert got == pytest.approx(expected, rel=1e-4, abs=1e-6 * np.max(np.abs(expected)))


def test_simultaneous_weighted_and_unweighted(mode):
    x, w = _gauss_data(seed=5, n=2000)
    y = np.random.default_rng(6).normal(0.2, 1.0, 1500)
    y = y[np.abs(y) < 3]
    obs = nfit.Space("x", limits=LIMITS)
    mu = nfit.Parameter("mu", 0.0, -1, 1)
    sg = nfit.Parameter("sg", 1.2, 0.3, 3)
    model = nfit.pdf.Gauss(mu=mu, sigma=sg, obs=obs)
    nll = nfit.loss.UnbinnedNLL(model=[model, model],
                                data=[nfit.Data.from_numpy(obs=obs, array=x, weights=w),
                                      nfit.Data.from_numpy(obs=obs, array=y)], mode=mode)
    assert nll.is_weighted
    result = nfit.minimize.Minuit().minimize(nll)
    plain = result.covariance(weightcorr=False)
    # unweighted events count with weight one
    expected = _sandwich(_truncnorm_logpdf, [mu.value(), sg.value()], np.concatenate([x, y]),
                         np.concatenate([w, np.ones(y.size)]), plain)
    assert result.covariance() == pytest.approx(expected, rel=1e-5)


def test_errors_cover_the_spread_of_weighted_toys():
    # events carry weights with mean 0.6: the inverse Hessian overstates sigma(mu), the asymptotic
    # covariance gets the spread of the fitted values over toys
    obs = nfit.Space("x", limits=LIMITS)
    mu = nfit.Parameter("mu", 0.0, -1, 1)
    sg = nfit.Parameter("sg", 1.0, 0.3, 3)
    model = nfit.pdf.Gauss(mu=mu, sigma=sg, obs=obs)
    fitted, corrected, plain = [], [], []
    rng = np.random.default_rng(21)
    for _ in range(150):
        x = rng.normal(0.0, 1.0, 3000)
        x = x[np.abs(x) < 3]
        w = rng.uniform(0.2, 1.0, x.size)
        nll = nfit.loss.UnbinnedNLL(model=model, data=nfit.Data.from_numpy(obs=obs, array=x, weights=w))
        mu.set_value(0.0), sg.set_value(1.0)
        result = nfit.minimize.Minuit().minimize(nll)
        assert result.valid
        fitted.append(mu.value())
        corrected.append(result.hesse()[mu]["error"])
        plain.append(np.sqrt(result.covariance(weightcorr=False)[0, 0]))
    spread = np.std(fitted, ddof=1)
    # 150 toys: the spread is known to about 6 %
    assert np.mean(corrected) == pytest.approx(spread, rel=0.15)
    assert np.mean(plain) > 1.15 * spread


def test_names_and_bad_choices():
    x, w = _gauss_data(seed=7, n=1000)
    nll, mu, sg = _gauss_loss(x, w, "compiled")
    result = nfit.minimize.Minuit().minimize(nll)
    result.hesse()
    with pytest.raises(NameError, match="another name"):
        result.hesse(weightcorr="sumw2")
    with pytest.raises(ValueError, match="weightcorr"):
        result.hesse(weightcorr="bootstrap", name="other")
    with pytest.warns(UserWarning, match="not corrected"):
        result.errors(params=[mu])

    obs = nfit.Space("x", limits=LIMITS)
    m2 = nfit.Parameter("m2", 0.0, -1, 1)
    unweighted = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=m2, sigma=1.0, obs=obs),
                                       data=nfit.Data.from_numpy(obs=obs, array=x))
    assert not unweighted.is_weighted
    r2 = nfit.minimize.Minuit().minimize(unweighted)
    with pytest.raises(ValueError, match="only available for weighted"):
        r2.hesse(weightcorr="asymptotic")
    # covariance() takes it without effect, as zfit's does
    assert r2.covariance(weightcorr="asymptotic") == pytest.approx(r2.covariance(weightcorr=False))
    assert r2.hesse()[m2]["weightcorr"] is False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r2.errors(params=[m2])


def test_cl_scales_the_errors():
    x, w = _gauss_data(seed=9, n=1000)
    nll, mu, sg = _gauss_loss(x, w, "compiled")
    result = nfit.minimize.Minuit().minimize(nll)
    one = result.hesse()[mu]["error"]
    wide = result.hesse(cl=0.95, name="hesse95")[mu]
    assert wide["cl"] == 0.95
    assert wide["error"] == pytest.approx(one * stats.norm.ppf(0.975), rel=1e-9)


@pytest.mark.skipif(gpu.status()["backend"] == "unavailable", reason="no CUDA backend here")
def test_cuda_score_kernel_matches_eager():
    x, w = _gauss_data(seed=10, n=600)
    results = {}
    for backend, mode in (("cuda", "compiled"), (None, "eager")):
        nll, mu, sg = _gauss_loss(x, w, mode, backend=backend, tag=backend or "")
        mu.set_value(0.15), sg.set_value(1.05)
        results[backend] = nll.score_outer()
    assert results["cuda"] == pytest.approx(results[None], rel=1e-10)
