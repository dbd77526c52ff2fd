import pytest

import nfit


def test_parameter_value_bounds_and_flags():
    mu = nfit.Parameter("mu", 5.28, 5.2, 5.35, step_size=0.01)
    assert mu.value() == 5.28
    mu.set_value(5.3)
    assert mu.value() == 5.3
    assert (mu.lower, mu.upper, mu.step_size, mu.floating) == (5.2, 5.35, 0.01, True)
    mu.floating = False
    assert not mu.floating


def test_value_outside_bounds_names_the_parameter():
    with pytest.raises(ValueError, match="'mu'.*outside its limits"):
        nfit.Parameter("mu", 6.0, 5.2, 5.35)
    mu = nfit.Parameter("mu", 5.28, 5.2, 5.35)
    with pytest.raises(ValueError, match="'mu'.*outside"):
        mu.set_value(1.0)
    assert mu.value() == 5.28


def test_nan_value_rejected():
    with pytest.raises(ValueError, match="'p'.*finite"):
        nfit.Parameter("p", float("nan"))


def test_constant_parameter():
    c = nfit.param.ConstantParameter("c", 1.0)
    assert c.value() == 1.0 and not c.floating
    with pytest.raises(ValueError, match="'c'"):
        c.set_value(2.0)
    with pytest.raises(ValueError):
        c.floating = True


def test_composed_parameter_dict_list_and_single():
    s = nfit.Parameter("s", 0.02)
    k = nfit.Parameter("k", 3.0)
    d = nfit.ComposedParameter("d", lambda params: params["s"] * params["k"], params={"s": s, "k": k})
    lst = nfit.ComposedParameter("l", lambda a, b: a + b, params=[s, k])
    one = nfit.ComposedParameter("o", lambda a: 2 * a, params=k)
    assert d.value() == pytest.approx(0.06)
    assert lst.value() == pytest.approx(3.02)
    assert one.value() == pytest.approx(6.0)
    k.set_value(4.0)
    assert d.value() == pytest.approx(0.08)
    assert d.get_params() == [s, k]
    assert d.traced() is not None


def test_composed_parameter_that_cannot_be_traced_still_evaluates():
    import numpy as np

    a = nfit.Parameter("a", 2.0)
    c = nfit.ComposedParameter("c", lambda p: float(np.exp(p["a"])), params={"a": a})
    assert c.traced() is None
    assert c.value() == pytest.approx(np.exp(2.0))


def test_parameter_arithmetic_uses_value():
    a = nfit.Parameter("a", 2.0)
    assert a * 3 == 6.0 and 1 + a == 3.0 and float(a) == 2.0


def test_a_loss_sees_parameters_fixed_and_freed_at_once_even_after_pickling():
    """The free set is remembered between passes (it is asked on each one) and recomputed whenever any
    parameter is fixed or freed; a pickled copy never trusts what its original remembered."""
    import pickle

    import numpy as np

    obs = nfit.Space("x_fixfree", -3, 3)
    mu, sigma = nfit.Parameter("mu_fixfree", 0.2), nfit.Parameter("sigma_fixfree", 1.1, 0.1, 5)
    data = nfit.Data.from_numpy(obs, np.random.default_rng(4).normal(size=500).clip(-2.9, 2.9))
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), data=data)
    assert nll.gradient().shape == (2,)
    sigma.floating = False
    assert [p.name for p in nll.get_params()] == ["mu_fixfree"] and nll.gradient().shape == (1,)
    copy = pickle.loads(pickle.dumps(nll))
    assert [p.name for p in copy.get_params()] == ["mu_fixfree"]
    copied_sigma = [p for p in copy.get_params(floating=None) if p.name == "sigma_fixfree"][0]
    copied_sigma.floating = True
    assert copy.gradient().shape == (2,) and nll.gradient().shape == (1,)
    result = nfit.minimize.Minuit().minimize(nll)
    assert result.valid and list(result.params) == [mu]
    sigma.floating = True
    assert nfit.minimize.Minuit().minimize(nll).valid and nll.gradient().shape == (2,)
