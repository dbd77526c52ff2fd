"""Fits: toy data refitted recovers the truth; both paths agree; HESSE, MINOS, covariance; failures."""
import numpy as np
import pytest

import nfit
from nfit import headline


@pytest.fixture(scope="module")
def headline_data():
    return headline.make_data(20_000, seed=11)


def fit_headline(data, mode):
    loss, params = headline.build(data, mode=mode)
    result = nfit.minimize.Minuit().minimize(loss)
    result.hesse()
    return result, params


def test_headline_fit_recovers_truth_on_both_paths(headline_data):
    results = {}
    scale = 20_000 / 50_000
    for mode in ("eager", "compiled"):
        result, params = fit_headline(headline_data, mode)
        assert result.valid and result.converged and result.status == 0
        for name, p in params.items():
            truth = headline.TRUTH[name] * (scale if name.startswith("n") else 1.0)
            pull = (result.params[p]["value"] - truth) / result.params[p]["hesse"]["error"]
            assert abs(pull) < 3, (mode, name, pull)
        results[mode] = {name: (result.params[name]["value"], result.params[name]["hesse"]["error"])
                         for name in params}
        results[mode + "_fmin"] = result.fmin
    assert results["eager_fmin"] == pytest.approx(results["compiled_fmin"], rel=1e-10)
    for name in headline.TRUTH:
        ve, ee = results["eager"][name]
        vc, ec = results["compiled"][name]
        assert abs(ve - vc) < 1e-3 * ec
        assert ee == pytest.approx(ec, rel=1e-3)


def test_parameters_left_at_minimum_and_result_by_name(obs, rng):
    mu = nfit.Parameter("mu", 5.25, 5.2, 5.35)
    sigma = nfit.Parameter("sigma", 0.04, 0.005, 0.1)
    x = rng.normal(5.28, 0.025, 5000)
    data = nfit.Data.from_numpy(obs, x[(x > 5.0) & (x < 5.6)])
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), data=data)
    result = nfit.minimize.Minuit().minimize(nll)
    assert result.valid
    assert mu.value() == result.params[mu]["value"] == result.params["mu"]["value"]
    assert result.info["n_eval"] > 0
    assert result.fmin == pytest.approx(nll.value(), rel=1e-12)
    # analytic answer for a Gaussian far from the edges: the sample mean and (biased) width
    assert mu.value() == pytest.approx(x.mean(), abs=1e-4)
    assert sigma.value() == pytest.approx(x.std(), rel=1e-3)
    errors = result.hesse()
    assert errors[mu]["error"] == pytest.approx(x.std() / np.sqrt(x.size), rel=0.02)
    assert errors[sigma]["error"] == pytest.approx(x.std() / np.sqrt(2 * x.size), rel=0.03)


@pytest.fixture
def small_fit(obs, rng):
    mu = nfit.Parameter("mu", 5.27, 5.2, 5.35)
    sigma = nfit.Parameter("sigma", 0.03, 0.005, 0.1)
    nsig = nfit.Parameter("nsig", 400, 0, 5000)
    nbkg = nfit.Parameter("nbkg", 600, 0, 5000)
    lam = nfit.Parameter("lam", -1.0, -5, 5)
    x = np.concatenate([rng.normal(5.28, 0.025, 500), headline._truncated_exponential(rng, 500, -1.5, 5.0, 5.6)])
    data = nfit.Data.from_numpy(obs, x[(x > 5.0) & (x < 5.6)])
    sig = nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs, extended=nsig)
    bkg = nfit.pdf.Exponential(lam=lam, obs=obs, extended=nbkg)
    nll = nfit.loss.ExtendedUnbinnedNLL(model=nfit.pdf.SumPDF([sig, bkg]), data=data)
    return nll, (mu, sigma, nsig, nbkg, lam)


def test_hesse_methods_agree(small_fit):
    nll, params = small_fit
    result = nfit.minimize.Minuit().minimize(nll)
    result.hesse(method="numdifftools")
    cov_nd = result.covariance()
    result.hesse(method="minuit")
    cov_mn = result.covariance()
    np.testing.assert_allclose(np.sqrt(np.diag(cov_nd)), np.sqrt(np.diag(cov_mn)), rtol=0.01)
    corr = result.correlation()
    np.testing.assert_allclose(np.diag(corr), 1.0)
    assert result.covariance(params=[params[0]]).shape == (1, 1)


def test_minos_errors(small_fit):
    nll, (mu, sigma, nsig, *_) = small_fit
    result = nfit.minimize.Minuit().minimize(nll)
    result.hesse()
    errors, new_result = result.errors(params=[mu, nsig])
    assert new_result is None
    assert errors[mu]["lower"] < 0 < errors[mu]["upper"]
    assert result.params[nsig]["errors"]["upper"] == errors[nsig]["upper"]
    # MINOS and HESSE agree roughly for a well-behaved parameter
    assert errors[mu]["upper"] == pytest.approx(result.params[mu]["hesse"]["error"], rel=0.2)
    # the profile likelihood really rises by errordef at the MINOS edge
    best = result.fmin
    mu.floating = False
    try:
        mu.set_value(result.params[mu]["value"] + errors[mu]["upper"])
        refit = nfit.minimize.Minuit().minimize(nll)
        assert refit.fmin - best == pytest.approx(nll.errordef, rel=0.02)
    finally:
        mu.floating = True


def test_result_printing(small_fit):
    nll, _ = small_fit
    result = nfit.minimize.Minuit().minimize(nll)
    result.hesse()
    text = str(result)
    for word in ("valid", "converged", "edm", "min value", "mu", "nsig", "+/-"):
        assert word in text


def test_failed_fit_is_invalid_with_reason(small_fit):
    nll, _ = small_fit
    result = nfit.minimize.Minuit(maxiter=5).minimize(nll)
    assert not result.valid
    assert result.status != 0
    assert "call limit" in result.message


def test_minimize_subset_of_params(small_fit):
    nll, (mu, sigma, nsig, nbkg, lam) = small_fit
    lam_before = lam.value()
    result = nfit.minimize.Minuit().minimize(nll, params=[mu, sigma, "nsig", nbkg])
    assert lam.value() == lam_before
    assert set(result.params) == {mu, sigma, nsig, nbkg}
    with pytest.raises(ValueError, match="'nope' is not a free parameter"):
        nfit.minimize.Minuit().minimize(nll, params=["nope"])


def test_fixed_parameter_stays(small_fit):
    nll, (mu, sigma, *_rest) = small_fit
    sigma.floating = False
    result = nfit.minimize.Minuit().minimize(nll)
    assert sigma not in result.params and sigma.value() == 0.03


def test_scipy_minimizers_reach_minuit_minimum(small_fit):
    nll, params = small_fit
    start = [p.value() for p in params]
    reference = nfit.minimize.Minuit().minimize(nll)
    for minimizer in (nfit.minimize.ScipyLBFGSB(), nfit.minimize.ScipyTrustConstr()):
        for p, v in zip(params, start):
            p.set_value(v)
        result = minimizer.minimize(nll)
        assert result.fmin == pytest.approx(reference.fmin, abs=1e-3)
        errors = result.hesse()
        assert all(e["error"] > 0 for e in errors.values())


def test_minuit_options():
    m = nfit.minimize.Minuit(tol=1e-4, mode=2, maxiter=1000)
    assert (m.strategy, m.tol, m.maxiter) == (2, 1e-4, 1000)
    with pytest.raises(ValueError, match="strategy"):
        nfit.minimize.Minuit(strategy=3)
    with pytest.raises(ValueError, match="tol"):
        nfit.minimize.Minuit(tol=-1)


@pytest.mark.parametrize("newton", [False, True])
def test_minuit_revisits_cost_no_second_pass(small_fit, newton):
    """MINUIT asks for the value, the gradient and the Hessian at points it has seen; each point
    costs one pass over the data per derivative order, and HESSE after MIGRAD reuses MIGRAD's last
    Hessian, with the same errors as a Hessian computed afresh. After Newton steps, MIGRAD starts
    where they ended, and its calls there cost no second pass."""
    loss, params = small_fit
    # a loss's first fit takes its gradients from the Hessian kernel (see
    # test_parallel.py::test_first_fit_compiles_only_the_hessian_kernel_then_the_gradient_kernel);
    # counted here is a later fit, whose gradients are passes of their own order
    start = [p.value() for p in params]
    nfit.minimize.Minuit(gradient="exact").minimize(loss)
    for p, v in zip(params, start):
        p.set_value(v)
    passes = []
    original = loss._derivatives

    def counting(p, order):
        passes.append((order, np.asarray(p).tobytes()))
        return original(p, order)

    loss._derivatives = counting
    try:
        result = nfit.minimize.Minuit(gradient="exact", newton=newton).minimize(loss)
        before_hesse = len(passes)
        result.hesse()
    finally:
        del loss._derivatives
    assert len(passes) == before_hesse  # the minimum's Hessian was MIGRAD's last one
    assert len(passes) == len(set(passes))  # no point passed twice at one order
    if newton is False:
        assert "newton" not in result.info
        assert sum(order == 2 for order, _ in passes) == result.info["n_hessian"]
    else:
        stage = result.info["newton"]
        assert stage["stopped"] == "converged" and stage["steps"] >= 1
        assert stage["passes"] < len(passes) <= stage["passes"] + result.info["minuit"].fmin.nfcn
    fresh = nfit.minimize.Objective(loss, result._param_list)
    x = np.array([result.params[p]["value"] for p in result._param_list])
    expected = np.sqrt(np.diag(2 * loss.errordef * np.linalg.inv(fresh.hessian(x))))
    assert [result.params[p]["hesse"]["error"] for p in result._param_list] == pytest.approx(expected, rel=1e-12)


def test_the_objective_calls_the_settled_kernel_and_finds_it_anew_after_a_parameter_is_fixed(small_fit):
    """A fit's passes go straight to the loss's kernel once it is settled; fixing a parameter makes the
    objective look it up again, and a loss whose derivatives are patched is always asked itself."""
    from nfit.objective import Objective

    loss, params = small_fit
    assert loss._settled_kernel(0) is None
    kernel = loss._backend_now().loss_kernel(loss._program, 2)
    assert loss._settled_kernel(2) is (None if getattr(kernel, "provisional", False) else kernel)  # compiling
    nfit.minimize.Minuit().minimize(loss)
    nfit.run.wait_for_kernels()
    kernel = loss._backend_now().loss_kernel(loss._program, 2)
    assert not getattr(kernel, "provisional", False) and loss._settled_kernel(2) is kernel
    free = loss.get_params()
    objective = Objective(loss, free)
    x = np.array([p.value() for p in free])
    value, gradient, hessian = objective.derivatives(x)
    reference = loss.derivatives(loss.point(x, 2), 2)
    assert value == reference[0] and np.array_equal(gradient, reference[1])
    asked = []
    loss._derivatives = lambda p, order: asked.append(order) or reference
    try:
        assert loss._settled_kernel(2) is None
        free[0].floating = False  # the objective's settled kernel is stale now: it asks the loss
        free[0].floating = True
        objective._recent.clear()
        objective.derivatives(x)
        assert asked == [2]
    finally:
        del loss._derivatives


def test_a_fits_minuit_and_minimiser_pickle_after_the_objective_called_its_kernel_directly(small_fit):
    """The MINUIT object of a fit holds the objective, which holds the compiled kernel it called on each
    pass; a pickled copy leaves the kernel behind and finds its own."""
    import pickle

    loss, params = small_fit
    minimizer = nfit.minimize.Minuit()
    minimizer.minimize(loss)
    nfit.run.wait_for_kernels()
    result = minimizer.minimize(loss)
    objective = result._objective
    assert objective._settled  # the second fit's passes went to the settled kernel
    copy = pickle.loads(pickle.dumps(objective))
    assert copy._settled == {}
    x = np.array([result.params[p]["value"] for p in result._param_list])
    copy._recent.clear()
    assert copy.derivatives(x)[0] == pytest.approx(objective.derivatives(x)[0], rel=1e-12)
    assert pickle.loads(pickle.dumps(result.info["minuit"])).fmin.is_valid
    pickle.dumps(minimizer)


def test_hesse_gives_nan_errors_to_a_parameter_the_loss_does_not_depend_on(obs, rng):
    """The yield of an extended pdf in a non-extended fit: its row of the Hessian is zero, so the
    covariance is the inverse of the rest, and its error NaN (as a warning in the result says)."""
    from nfit.objective import Objective

    mu = nfit.Parameter("mu_flat", 5.28, 5.2, 5.35)
    sigma = nfit.Parameter("sigma_flat", 0.03, 0.005, 0.1)
    yield_ = nfit.Parameter("n_flat", 500, 0, 5000)
    data = nfit.Data.from_numpy(obs, rng.normal(5.28, 0.025, 2000).clip(5.01, 5.59))
    model = nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs, extended=yield_)
    loss = nfit.loss.UnbinnedNLL(model=model, data=data)
    result = nfit.minimize.Minuit(newton=False).minimize(loss, params=[mu, sigma, yield_])
    errors = result.hesse()
    assert np.isnan(errors[yield_]["error"]) and "n_flat" in result.info["hesse_warning"]
    x = np.array([result.params[p]["value"] for p in (mu, sigma)])
    hess = Objective(loss, [mu, sigma]).hessian(x)
    expected = np.sqrt(np.diag(2 * loss.errordef * np.linalg.inv(hess)))
    assert [errors[mu]["error"], errors[sigma]["error"]] == pytest.approx(expected, rel=1e-9)
