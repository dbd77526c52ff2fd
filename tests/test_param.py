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
