"""zfit's minimiser surface: every SciPy minimiser (and its V1 name), BaseMinimizer subclasses as zfit's
tutorial writes them, SimpleLoss with user derivatives, params= on pdf calls."""
import numpy as np
import pytest
from iminuit import Minuit as IMinuit
from iminuit.cost import UnbinnedNLL as IUnbinnedNLL
from scipy import stats

import nfit
import nfit.z.numpy as znp
from nfit.minimizers.interface import ZfitMinimizer
from nfit.result import FitResult

SCIPY = ["ScipyLBFGSB", "ScipyTrustConstr", "ScipyBFGS", "ScipyNewtonCG", "ScipyTrustNCG", "ScipyTrustKrylov",
         "ScipyDogleg", "ScipyTruncNC", "ScipySLSQP", "ScipyPowell", "ScipyNelderMead", "ScipyCOBYLA"]


@pytest.fixture(scope="module")
def sample():
    x = np.random.default_rng(11).normal(0.3, 1.1, 3000)
    return x[np.abs(x) < 4]


def gauss_nll(sample, mode=None):
    obs = nfit.Space("x", -4, 4)
    mu, sigma = nfit.Parameter("mu", 0.0, -1, 1), nfit.Parameter("sigma", 1.0, 0.2, 3)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs),
                                data=nfit.Data.from_numpy(obs, sample), mode=mode)
    return nll, mu, sigma


def iminuit_reference(sample):
    def density(x, mu, sigma):
        return stats.norm.pdf(x, mu, sigma) / (stats.norm.cdf(4, mu, sigma) - stats.norm.cdf(-4, mu, sigma))

    m = IMinuit(IUnbinnedNLL(sample, density), mu=0.0, sigma=1.0)
    m.limits["sigma"] = (0.2, 3)
    m.migrad()
    return m.values["mu"], m.values["sigma"], m.fval / 2  # iminuit's cost is 2 NLL


@pytest.mark.parametrize("name", SCIPY)
def test_every_scipy_minimiser_reaches_the_minimum(name, sample):
    nll, mu, sigma = gauss_nll(sample)
    ref_mu, ref_sigma, ref_fmin = iminuit_reference(sample)
    minimizer = getattr(nfit.minimize, name)()
    assert isinstance(minimizer, ZfitMinimizer) and getattr(nfit.minimize, name + "V1") is type(minimizer)
    result = minimizer.minimize(nll)
    assert result.valid, result.message
    assert result.edm < minimizer.tol
    assert mu.value() == pytest.approx(ref_mu, abs=2e-4) and sigma.value() == pytest.approx(ref_sigma, abs=2e-4)
    assert result.fmin == pytest.approx(ref_fmin, abs=1e-6)


def test_scipy_minimiser_options_are_passed_or_refused():
    assert nfit.minimize.ScipyLBFGSB(maxcor=20).options["maxcor"] == 20
    assert nfit.minimize.ScipyTrustNCG(init_trust_radius=0.5).options["initial_trust_radius"] == 0.5
    with pytest.raises(ValueError, match="uses no gradient"):
        nfit.minimize.ScipyNelderMead(gradient="2-point")
    with pytest.raises(ValueError, match="uses no Hessian"):
        nfit.minimize.ScipyLBFGSB(hessian="zfit")
    obs = nfit.Space("x", -1, 1)
    a = nfit.Parameter("a_opt", 0.1, -1, 1)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=a, sigma=0.5, obs=obs),
                                data=nfit.Data.from_numpy(obs, np.array([0.1, 0.2])))
    with pytest.raises(ValueError, match="not an option"):
        nfit.minimize.ScipyLBFGSB(no_such_option=3).minimize(nll)


class GradientDescentMinimizer(nfit.minimize.BaseMinimizer):
    """zfit's custom-minimiser tutorial, as written there."""

    def __init__(self, scaling, tol=None, verbosity=0, strategy=None, criterion=None, maxiter=None, name=None):
        super().__init__(name=name, strategy=strategy, tol=tol, verbosity=verbosity, criterion=criterion,
                         maxiter=maxiter)
        self.scaling = scaling

    @nfit.minimize.minimize_supports(init=False)
    def _minimize(self, loss, params, init):
        criterion = self.create_criterion(loss, params)
        evaluator = self.create_evaluator(loss, params)
        paramvals = znp.asarray(params)
        i = 1
        while True:
            value, gradients = evaluator.value_gradient(paramvals)
            result = FitResult(loss=loss, params={p: v for p, v in zip(params, paramvals)}, minimizer=self,
                               valid=False, converged=False, edm=None, fminopt=None,
                               approx={"gradient": gradients}, criterion=criterion)
            if criterion.converged(result=result):
                return FitResult(loss=loss, params={p: v for p, v in zip(params, paramvals)}, minimizer=self,
                                 valid=True, converged=True, edm=criterion.last_value, fminopt=None,
                                 approx={"gradient": gradients}, criterion=criterion)
            paramvals = paramvals - self.scaling * gradients / i ** 0.1
            i += 1


class ChainedMinimizer(nfit.minimize.BaseMinimizer):
    def __init__(self, minimizers, tol=None, verbosity=0, name=None):
        self.minimizers = minimizers
        super().__init__(tol=minimizers[-1].tol if tol is None else tol, verbosity=verbosity, name=name)

    @nfit.minimize.minimize_supports(init=True)
    def _minimize(self, loss, params, init):
        result = init
        for minimizer in self.minimizers:
            result = minimizer.minimize(loss, params=params, init=result)
        return result


def test_a_users_gradient_descent_converges_by_edm(sample):
    nll, mu, sigma = gauss_nll(sample)
    ref_mu, ref_sigma, _ = iminuit_reference(sample)
    result = GradientDescentMinimizer(scaling=1e-4, tol=1e-6).minimize(nll)
    assert result.valid and result.criterion.last_value < 1e-6
    assert mu.value() == pytest.approx(ref_mu, abs=1e-3) and sigma.value() == pytest.approx(ref_sigma, abs=1e-3)
    assert result.fmin == pytest.approx(nll.value(), rel=1e-12)


def test_maxiter_gives_an_invalid_result(sample):
    nll, _, _ = gauss_nll(sample)
    result = GradientDescentMinimizer(scaling=1e-6, tol=1e-9, maxiter=10).minimize(nll)
    assert not result.valid and "call limit" in result.message


def test_chained_minimizer_passes_results_on(sample):
    nll, mu, sigma = gauss_nll(sample)
    ref_mu, _, _ = iminuit_reference(sample)
    chain = ChainedMinimizer([nfit.minimize.Minuit(tol=10.0, mode=0), nfit.minimize.ScipyTrustConstrV1(tol=1e-3)])
    result = chain.minimize(nll)
    assert result.valid and mu.value() == pytest.approx(ref_mu, abs=2e-4)


def test_base_minimizer_needs_a_minimize_method(sample):
    class Nothing(nfit.minimize.BaseMinimizer):
        pass

    nll, _, _ = gauss_nll(sample)
    with pytest.raises(NotImplementedError, match="_minimize"):
        Nothing().minimize(nll)


def test_minuit_switches_and_its_iminuit_object(sample):
    nll, _, _ = gauss_nll(sample)
    minimizer = nfit.minimize.Minuit(use_minuit_grad=True)
    result = minimizer.minimize(nll)
    assert result.info["gradient"] == "minuit" and minimizer._minuit_minimizer.fmin.is_valid
    with pytest.raises(ValueError, match="not both"):
        nfit.minimize.Minuit(gradient="exact", use_minuit_grad=True)
    approx = result.hesse(method="approx", name="approx")
    exact = result.hesse(name="exact")
    for p in approx:
        assert approx[p]["error"] == pytest.approx(exact[p]["error"], rel=0.05)


def test_simple_loss_with_a_users_gradient_and_hessian():
    calls = {"grad": 0, "hess": 0}

    def func(x):
        return (x[0] - 1) ** 2 + (x[1] - 2) ** 2 + (x[2] - 3) ** 2

    def gradient(x):
        calls["grad"] += 1
        return 2 * (x[0] - 1), 2 * (x[1] - 2), 2 * (x[2] - 3)

    def hessian(x):
        calls["hess"] += 1
        return np.diag([2.0, 2.0, 2.0])

    params = [nfit.Parameter(f"sl_{i}", 2.0 + i * 0.2) for i in range(3)]
    loss = nfit.loss.SimpleLoss(func=func, gradient=gradient, hessian=hessian, params=params, errordef=1.0)
    np.testing.assert_allclose(loss.gradient(), [2.0, 0.4, -1.2])
    np.testing.assert_allclose(loss.hessian(), np.diag([2.0, 2.0, 2.0]))
    result = nfit.minimize.Minuit(gradient="zfit").minimize(loss)
    assert result.valid and result.info["gradient"] == "exact" and calls["grad"] > 0 and calls["hess"] > 0
    assert result.hesse()[params[0]]["error"] == pytest.approx(1.0, rel=1e-9)
    errors, _ = result.errors(method="zfit_errors")
    assert errors[params[1]]["upper"] == pytest.approx(1.0, rel=1e-4)


def test_minimize_a_function_of_numbers():
    def chi2(x):
        return (x[0] - 1) ** 2 + (x[1] + 2) ** 2

    chi2.errordef = 1.0
    result = nfit.minimize.Minuit().minimize(chi2, params=[0.0, 0.0])
    values = [d["value"] for d in result.params.values()]
    assert result.valid and values == pytest.approx([1.0, -2.0], abs=1e-5)
    assert all(p.name.startswith("autoparam_") for p in result.params)
    assert result.loss.value(params={list(result.params)[0]: 2.0}) == pytest.approx(1.0, abs=1e-8)


def test_params_given_to_pdf_calls_are_used_for_that_call_only():
    obs = nfit.Space("x", -5, 5)
    mu, sigma = nfit.Parameter("mu_call", 0.0), nfit.Parameter("sigma_call", 1.0, 0.1, 3)
    gauss = nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs)
    x = np.array([0.5])
    expected = stats.truncnorm.pdf(x, (-5 - 1.0) / 2.0, (5 - 1.0) / 2.0, 1.0, 2.0)
    np.testing.assert_allclose(gauss.pdf(x, params={mu: 1.0, "sigma_call": 2.0}), expected, rtol=1e-12)
    assert mu.value() == 0.0 and sigma.value() == 1.0
    data = gauss.sample(n=2000, params={mu: 3.0}, rng=1)
    assert abs(np.mean(data.to_numpy()) - 3.0) < 0.1 and mu.value() == 0.0
    with pytest.raises(ValueError, match="no parameter 'nope'"):
        gauss.pdf(x, params={"nope": 1.0})


def test_disable_param_update_as_a_call():
    obs = nfit.Space("x", -4, 4)
    mu = nfit.Parameter("mu_upd", 0.5, -1, 1)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs),
                                data=nfit.Data.from_numpy(obs, np.array([-0.1, 0.0, 0.1])))
    restore = nfit.run.experimental_disable_param_update(True)
    try:
        result = nfit.minimize.Minuit().minimize(nll)
        assert mu.value() == 0.5 and abs(result.params[mu]["value"]) < 1e-3
    finally:
        restore.__exit__(None, None, None)
    assert nfit.run.params_update_enabled()
