"""Exact derivatives against numdifftools: kernels, losses of every composite, both paths; and fits
with and without them reaching the same minimum and errors."""
import sys
import textwrap
import warnings

import numdifftools as nd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nfit.kernels import exponential, gauss, uniform
from scipy import integrate

import nfit
from nfit.numdiff import gradient as num_gradient
from nfit.numdiff import hessian as num_hessian

LO, HI = 5.0, 5.6


def close(actual, expected, rtol=1e-6, atol=0.0):
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    scale = np.maximum(np.abs(expected), 1e-3 * np.max(np.abs(expected)) + 1e-12)
    assert np.all(np.abs(actual - expected) <= rtol * scale + atol), (actual, expected)


def check_kernel(module, x, params, scale):
    """pdf_grad and pdf_hess against numdifftools by the parameters; integral_grad and
    integral_hess against quad integrals of pdf_grad and pdf_hess over [LO, HI]."""
    m = len(params)
    p0 = np.array(params, float)
    grad = module.pdf_grad(x, *params)
    hess = module.pdf_hess(x, *params)
    assert grad[0] == pytest.approx(module.pdf(x, *params), rel=1e-14)
    assert hess[0] == pytest.approx(grad[0], rel=1e-14)
    # near a stationary point the partials vanish: compare there on the scale of value / scale
    atol = 1e-9 * abs(grad[0]) / min(scale)
    close(grad[1:], num_gradient(lambda p: module.pdf(x, *p), p0, scale), 1e-7, atol)
    close(hess[1:1 + m], grad[1:], 1e-12)
    ref = num_hessian(lambda p: module.pdf(x, *p), p0, scale)
    close(hess[1 + m:], [ref[a, b] for a in range(m) for b in range(a, m)], 1e-5, atol / min(scale))

    igrad = module.integral_grad(LO, HI, *params)
    ihess = module.integral_hess(LO, HI, *params)
    assert igrad[0] == pytest.approx(module.integral(LO, HI, *params), rel=1e-14)
    grid = np.linspace(LO, HI, 2001)
    for k, value in enumerate(list(igrad[1:]) + list(ihess[1 + m:])):
        source = module.pdf_grad if k < m else module.pdf_hess
        index = 1 + k if k < m else 1 + m + (k - m)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", integrate.IntegrationWarning)  # integrands that are nearly zero
            expected = integrate.quad(lambda t: source(t, *params)[index], LO, HI, epsabs=0, epsrel=1e-12,
                                      limit=200)[0]
        floor = 1e-9 * (HI - LO) * np.max(np.abs(source(grid, *params)[index])) + 1e-300
        assert abs(value - expected) <= 1e-8 * abs(expected) + floor, (k, value, expected)


@settings(max_examples=30, deadline=None)
@given(x=st.floats(LO, HI), mu=st.floats(5.0, 5.6), sigma=st.floats(0.01, 0.5))
def test_gauss_kernel_derivatives(x, mu, sigma):
    check_kernel(gauss, x, [mu, sigma], [sigma, sigma])


@settings(max_examples=30, deadline=None)
@given(x=st.floats(LO, HI), lam=st.one_of(st.floats(-5, 5), st.floats(-1e-6, 1e-6)))
def test_exponential_kernel_derivatives(x, lam):
    check_kernel(exponential, x, [lam], [0.1])


def test_exponential_integral_derivatives_near_zero_slope():
    # the series branch and the closed form meet at |lam * width| = 0.5
    for lam in (0.5 / 0.6 - 1e-9, 0.5 / 0.6 + 1e-9, 1e-12, -3e-4):
        _, d1, d2 = exponential.integral_hess(LO, HI, lam)
        x = np.linspace(LO, HI, 200001)
        close([d1, d2], [np.trapezoid(x * np.exp(lam * x), x), np.trapezoid(x * x * np.exp(lam * x), x)], 1e-9)


def test_uniform_kernel_derivatives():
    v, d_low, d_high = uniform.integral_grad(0.0, 2.0, 0.5, 1.5)
    assert (v, d_low, d_high) == (1.0, -1.0, 1.0)
    assert uniform.integral_grad(0.0, 2.0, -1.0, 3.0)[1:] == (0.0, 0.0)
    x = np.array([0.2, 1.0, 1.7])
    v, dl, dh = uniform.pdf_grad(x, 0.5, 1.5)
    np.testing.assert_array_equal(v, [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(dl, 0.0)


def make_case(kind, rng, obs):
    """A loss of a given kind, and the points to check it at."""
    mu = nfit.Parameter("mu", 5.28, 5.2, 5.35)
    sigma = nfit.Parameter("sigma", 0.03, 0.005, 0.1)
    lam = nfit.Parameter("lam", -1.2, -5, 5)
    x = np.concatenate([rng.normal(5.28, 0.03, 300), rng.uniform(LO, HI, 500)])
    x = x[(x > LO) & (x < HI)]
    weights = rng.uniform(0.2, 2.0, x.size) if kind == "weighted" else None
    data = nfit.Data.from_numpy(obs, x, weights=weights)
    constraints = None
    if kind in ("fracs", "weighted", "constraint"):
        frac = nfit.Parameter("frac", 0.4, 0, 1)
        model = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), nfit.pdf.Exponential(lam=lam, obs=obs)],
                                fracs=frac)
        if kind == "constraint":
            constraints = nfit.constraint.GaussianConstraint([mu, sigma], [5.27, 0.025],
                                                             cov=[[1e-4, 2e-6], [2e-6, 1e-5]])
        return nfit.loss.UnbinnedNLL(model=model, data=data, constraints=constraints)
    if kind == "composed":
        k = nfit.Parameter("k", 1.5, 0.5, 3)
        wide = nfit.ComposedParameter("wide", lambda p: p["s"] * p["k"], params={"s": sigma, "k": k})
        odd = nfit.ComposedParameter("odd", lambda p: float(np.tanh(p["l"])) - 1.0, params={"l": lam})
        g1 = nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs)
        g2 = nfit.pdf.Gauss(mu=mu, sigma=wide, obs=obs)
        e = nfit.pdf.Exponential(lam=odd, obs=obs)
        return nfit.loss.UnbinnedNLL(model=nfit.pdf.SumPDF([g1, g2, e], fracs=[0.3, 0.3]), data=data)
    nsig, nbkg = nfit.Parameter("nsig", 300, 0, 5000), nfit.Parameter("nbkg", 500, 0, 5000)
    sig = nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs, extended=nsig)
    bkg = nfit.pdf.Exponential(lam=lam, obs=obs, extended=nbkg)
    if kind == "extended":
        return nfit.loss.ExtendedUnbinnedNLL(model=nfit.pdf.SumPDF([sig, bkg]), data=data)
    # simultaneous: a second channel sharing mu and sigma
    lam2 = nfit.Parameter("lam2", 0.5, -5, 5)
    n2 = nfit.Parameter("n2", 700, 0, 5000)
    other = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), nfit.pdf.Exponential(lam=lam2, obs=obs)],
                            fracs=0.2, extended=n2)
    data2 = nfit.Data.from_numpy(obs, rng.uniform(LO, HI, 700))
    return nfit.loss.ExtendedUnbinnedNLL(model=[nfit.pdf.SumPDF([sig, bkg]), other], data=[data, data2])


def jacobian_of_gradient(loss, params, x0, scale):
    def grad(u):
        for p, v in zip(params, x0 + u * scale):
            p.set_value(v)
        return loss.gradient()

    return nd.Jacobian(grad, step=nd.MaxStepGenerator(base_step=0.1))(np.zeros_like(x0)) / scale[None, :]


KINDS = ["fracs", "weighted", "constraint", "composed", "extended", "simultaneous"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("path", ["eager", "compiled"])
def test_loss_gradient_and_hessian_against_numdifftools(kind, path, obs):
    rng = np.random.default_rng(KINDS.index(kind))
    loss = make_case(kind, rng, obs)
    params = loss.get_params()
    scale = np.array([0.1 * p.step_size for p in params])
    start = np.array([p.value() for p in params])
    for shift in (0.0, 0.3, -0.5):
        x = start + shift * scale * 5
        for p, v in zip(params, x):
            p.set_value(v)
        with nfit.run.mode(path):
            value, grad, hess = loss.value_gradient_hessian()
            assert value == pytest.approx(loss.value(), rel=1e-13)
            close(grad, num_gradient(loss, x, scale), 1e-6)
            close(loss.gradient(), grad, 1e-12)
            # the Hessian against numdifftools' Jacobian of the (checked) gradient: a numerical
            # Hessian of the loss itself is only good to about 1e-3 here
            close(hess, jacobian_of_gradient(loss, params, x, scale), 1e-6)
            for p, v in zip(params, x):
                p.set_value(v)


@pytest.mark.parametrize("kind", KINDS)
def test_paths_give_the_same_derivatives(kind, obs):
    loss = make_case(kind, np.random.default_rng(7), obs)
    with nfit.run.mode("eager"):
        e = loss.value_gradient_hessian()
    with nfit.run.mode("compiled"):
        c = loss.value_gradient_hessian()
    for a, b in zip(e, c):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * np.max(np.abs(b)))


def test_gradient_of_a_subset(obs):
    loss = make_case("extended", np.random.default_rng(1), obs)
    full = loss.gradient()
    names = [p.name for p in loss.get_params()]
    part = loss.gradient(params=["nbkg", "mu"])
    np.testing.assert_allclose(part, [full[names.index("nbkg")], full[names.index("mu")]], rtol=1e-14)
    assert loss.hessian(params=["mu"]).shape == (1, 1)


@pytest.mark.parametrize("path", ["eager", "compiled"])
def test_fits_with_and_without_exact_derivatives_agree(obs, path):
    rng = np.random.default_rng(3)
    results = {}
    for gradient in ("minuit", "exact", "numdifftools"):
        loss = make_case("extended", np.random.default_rng(3), obs)
        with nfit.run.mode(path):
            result = nfit.minimize.Minuit(gradient=gradient).minimize(loss)
            result.hesse()
        assert result.valid
        assert result.info["gradient"] == gradient
        results[gradient] = result
    ref = results["minuit"]
    for gradient in ("exact", "numdifftools"):
        r = results[gradient]
        assert r.fmin == pytest.approx(ref.fmin, abs=1e-3)
        for name in ("mu", "sigma", "lam", "nsig", "nbkg"):
            err = ref.params[name]["hesse"]["error"]
            assert abs(r.params[name]["value"] - ref.params[name]["value"]) < 0.02 * err
            assert r.params[name]["hesse"]["error"] == pytest.approx(err, rel=0.01)
    assert results["exact"].info["hessian"] == "exact"
    assert results["exact"].info["n_eval"] < results["minuit"].info["n_eval"]
    _ = rng


def test_hesse_methods_agree_within_a_percent(obs):
    loss = make_case("simultaneous", np.random.default_rng(4), obs)
    result = nfit.minimize.Minuit().minimize(loss)
    errors = {}
    for method in ("auto", "minuit", "numdifftools"):
        result.hesse(method=method)
        errors[method] = np.sqrt(np.diag(result.covariance()))
    assert result.info["hesse_method"] == "numdifftools"
    np.testing.assert_allclose(errors["auto"], errors["minuit"], rtol=0.01)
    np.testing.assert_allclose(errors["auto"], errors["numdifftools"], rtol=0.01)
    with pytest.raises(ValueError, match="unknown method"):
        result.hesse(method="guess")


@pytest.fixture
def no_derivative_shape(tmp_path, monkeypatch):
    (tmp_path / "nfit_test_plainkernel.py").write_text(textwrap.dedent("""
        import numpy as np
        PARAMS = ("m", "g")

        def pdf(x, m, g):
            return 1.0 / ((x - m) ** 2 + 0.25 * g * g)

        def integral(lower, upper, m, g):
            h = 0.5 * g
            return (np.arctan((upper - m) / h) - np.arctan((lower - m) / h)) / h
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    import nfit_test_plainkernel

    class BreitWigner(nfit.pdf.KernelPDF):
        _kernel = nfit_test_plainkernel

        def __init__(self, m, g, obs):
            super().__init__(obs, {"m": m, "g": g}, name="BW")

    yield BreitWigner
    sys.modules.pop("nfit_test_plainkernel", None)


@pytest.mark.parametrize("path", ["eager", "compiled"])
def test_node_without_derivatives_falls_back_with_one_warning(no_derivative_shape, obs, path):
    m = nfit.Parameter("m", 5.3, 5.2, 5.4)
    g = nfit.Parameter("g", 0.05, 0.01, 0.2)
    frac = nfit.Parameter("f", 0.5, 0, 1)
    x = np.random.default_rng(2).uniform(LO, HI, 400)
    model = nfit.pdf.SumPDF([no_derivative_shape(m, g, obs), nfit.pdf.Exponential(lam=-1.0, obs=obs)], fracs=frac)
    loss = nfit.loss.UnbinnedNLL(model=model, data=nfit.Data.from_numpy(obs, x), mode=path)
    assert loss.derivative_order == 0
    with pytest.warns(UserWarning, match="no exact gradient") as record:
        grad = loss.gradient()
        loss.gradient()
    assert sum("no exact gradient" in str(w.message) for w in record) == 1
    close(grad, nd.Gradient(loss)(np.array([p.value() for p in loss.get_params()])), 1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "auto" uses MINUIT's own gradient: nothing to warn about
        result = nfit.minimize.Minuit().minimize(loss)
    assert result.valid and result.info["gradient"] == "minuit"


def test_minuit_gradient_option_errors():
    with pytest.raises(ValueError, match="gradient="):
        nfit.minimize.Minuit(gradient="magic")


def test_many_parameters_take_the_gradient_route_for_the_hessian(obs):
    """Above EXACT_HESSIAN_MAX_PARAMS free parameters the Hessian is the exact gradient
    differentiated numerically (no warning: every part has derivatives); it agrees with the exact one."""
    from nfit import baseloss as loss_module

    shapes, fracs = [], []
    for i in range(5):
        shapes.append(nfit.pdf.Gauss(mu=nfit.Parameter(f"m{i}", 5.05 + 0.1 * i, 5.0, 5.6),
                                     sigma=nfit.Parameter(f"s{i}", 0.04, 0.01, 0.2), obs=obs))
        fracs.append(nfit.Parameter(f"f{i}", 0.15, 0.0, 0.3))
    model = nfit.pdf.SumPDF(shapes + [nfit.pdf.Uniform(low=5.0, high=5.6, obs=obs)], fracs=fracs)
    data = nfit.Data.from_numpy(obs, np.random.default_rng(1).uniform(LO, HI, 2000))
    nll = nfit.loss.UnbinnedNLL(model=model, data=data)
    assert len(nll.get_params()) == 15 > loss_module.EXACT_HESSIAN_MAX_PARAMS
    assert nll.derivative_order == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hess = nll.hessian()
    old = loss_module.EXACT_HESSIAN_MAX_PARAMS
    loss_module.EXACT_HESSIAN_MAX_PARAMS = 100
    try:
        exact = nfit.loss.UnbinnedNLL(model=model, data=data, mode="eager").hessian()
    finally:
        loss_module.EXACT_HESSIAN_MAX_PARAMS = old
    np.testing.assert_allclose(hess, exact, rtol=1e-5, atol=1e-6 * np.max(np.abs(exact)))
