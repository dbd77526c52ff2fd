"""zfit's other constraints (Poisson, log-normal, from a function), against scipy.stats and numerical
derivatives, inside losses on both paths."""
import numpy as np
import pytest
from scipy import stats

import nfit
from nfit import z
from nfit.numdiff import gradient as numerical_gradient


@pytest.fixture
def setup():
    obs = nfit.Space("x", -3, 3)
    mu = nfit.Parameter("mu_c", 0.2, -1, 1)
    n = nfit.Parameter("n_c", 7.5, 0.5, 40)
    width = nfit.Parameter("w_c", 1.1, 0.3, 3)
    x = np.random.default_rng(4).normal(0.1, 1.0, 400).clip(-2.9, 2.9)
    data = nfit.Data.from_numpy(obs, x)
    return obs, mu, n, width, data


def test_values_against_scipy():
    n = nfit.Parameter("n_scipy", 4.0, 0, 50)
    assert nfit.constraint.PoissonConstraint(n, observation=6.0).value() == pytest.approx(
        -stats.poisson.logpmf(4, 6.0), rel=1e-13)
    s = nfit.Parameter("s_scipy", 1.7, 0.1, 10)
    lognormal = nfit.constraint.LogNormalConstraint(s, observation=0.3, uncertainty=0.4)
    assert lognormal.value() == pytest.approx(-stats.lognorm(0.4, scale=np.exp(0.3)).logpdf(1.7), rel=1e-13)
    simple = nfit.constraint.SimpleConstraint(lambda p: z.exp(p[0]) - p[1], params=[s, n])
    assert simple.value() == pytest.approx(np.exp(1.7) - 4.0, rel=1e-14)
    with pytest.raises(ValueError, match="rates must be positive"):
        nfit.constraint.PoissonConstraint(n, observation=0.0)
    with pytest.raises(TypeError, match="cannot be traced"):
        nfit.constraint.SimpleConstraint(lambda p: float(p[0]) if p[0] > 0 else 0.0, params=[s])


@pytest.mark.parametrize("kind", ["poisson", "lognormal", "simple"])
def test_constraints_in_a_loss_with_exact_derivatives(setup, kind):
    obs, mu, n, width, data = setup
    constraint = {
        "poisson": lambda: nfit.constraint.PoissonConstraint(n, observation=9.0),
        "lognormal": lambda: nfit.constraint.LogNormalConstraint(width, observation=0.0, uncertainty=0.2),
        "simple": lambda: nfit.constraint.SimpleConstraint(lambda p: (p[0] - 0.1) ** 2 / 0.01, params=[mu]),
    }[kind]()
    model = nfit.pdf.Gauss(mu=mu, sigma=width, obs=obs)
    losses = {mode: nfit.loss.UnbinnedNLL(model=model, data=data, constraints=constraint, mode=mode)
              for mode in ("eager", "compiled")}
    plain = nfit.loss.UnbinnedNLL(model=model, data=data, mode="eager")
    if kind == "poisson":  # n is not in the model: the constraint alone brings it into the loss
        assert n in losses["eager"].get_params()
    assert losses["compiled"].value() == pytest.approx(plain.value() + constraint.value(), rel=1e-12)
    values = {mode: loss.value_gradient_hessian() for mode, loss in losses.items()}
    np.testing.assert_allclose(values["compiled"][1], values["eager"][1], rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(values["compiled"][2], values["eager"][2], rtol=1e-9, atol=1e-9)
    loss = losses["compiled"]
    x0 = np.array([p.value() for p in loss.get_params()])
    reference = numerical_gradient(loss, x0, np.full(len(x0), 1e-3))
    np.testing.assert_allclose(values["compiled"][1], reference, rtol=1e-6, atol=1e-6)
    result = nfit.minimize.Minuit().minimize(loss)
    assert result.valid and result.info["gradient"] == "exact"
