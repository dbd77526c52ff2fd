"""FFTConvPDFV1 of pairs without a closed form: the numerical convolution on a grid, against closed
forms and scipy quadrature, with exact derivatives, on both paths."""
import pickle

import numdifftools as nd
import numpy as np
import pytest
from nfit.kernels import grid
from scipy import integrate, stats

import nfit

X = nfit.Space("x", limits=(-5.0, 5.0))


@pytest.fixture(params=["eager", "compiled"])
def mode(request):
    return request.param


def _box_gauss(x, low, high, s):
    """A uniform box on [low, high] convolved with N(0, s)."""
    return (stats.norm.cdf((x - low) / s) - stats.norm.cdf((x - high) / s)) / (high - low)


def _normalised(f, lo, hi):
    return f, integrate.quad(f, lo, hi, epsabs=0, epsrel=1e-12, limit=200)[0]


@pytest.mark.parametrize("degree", [1, 2, 3, 4, 5])
def test_grid_interpolation_is_exact_for_polynomials_of_its_degree(degree):
    x0, h, n = -1.0, 0.25, 17
    coeffs = np.arange(1.0, degree + 2.0)
    table = np.concatenate([np.zeros(n), np.polyval(coeffs, x0 + h * np.arange(n))])
    x = np.linspace(-1.0, 3.0, 37)
    expected = np.polyval(coeffs, x)
    np.testing.assert_allclose(grid.interpolate_array(x, table, 1, n, x0, 1 / h, degree), expected, rtol=1e-12)
    scalar = [grid.interpolate(v, table, 1, n, x0, 1 / h, degree) for v in x]
    np.testing.assert_allclose(scalar, expected, rtol=1e-12)
    primitive = np.polyint(coeffs)
    exact = np.polyval(primitive, 2.3) - np.polyval(primitive, -0.7)
    assert grid.integral(-0.7, 2.3, table, 1, n, x0, h, degree) == pytest.approx(exact, rel=1e-12)
    assert grid.integral_array(-0.7, 2.3, table, 1, n, x0, h, degree) == pytest.approx(exact, rel=1e-12)
    assert grid.integral(2.3, -0.7, table, 1, n, x0, h, degree) == pytest.approx(-exact, rel=1e-12)


def _numerical_gauss(mu, sigma, obs):
    """A Gauss that is no Gauss to FFTConvPDFV1 (cut at its space's edges, far out): the numerical path."""
    return nfit.pdf.TruncatedPDF(nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), limits=(obs.lower, obs.upper))


def test_gauss_gauss_numerically_matches_the_closed_form(mode):
    obs = nfit.Space("x", limits=(-10, 10))
    conv = nfit.pdf.FFTConvPDFV1(nfit.pdf.Gauss(mu=1.0, sigma=0.3, obs=obs), _numerical_gauss(0.2, 0.4, obs))
    assert conv._form == "numeric"
    x = np.linspace(-1.5, 3.9, 301)
    ref = stats.norm.pdf(x, 1.2, 0.5)
    value = conv.pdf(x, mode=mode)
    # the documented accuracy of the defaults (401 kernel points, cubic interpolation)
    assert np.abs(value - ref).max() < 2e-5 * ref.max()
    assert float(conv.integrate((-10, 10), mode=mode)[0]) == pytest.approx(1.0, abs=1e-12)
    assert float(conv.integrate((0.7, 1.7), mode=mode)[0]) == pytest.approx(
        stats.norm.cdf(1.7, 1.2, 0.5) - stats.norm.cdf(0.7, 1.2, 0.5), abs=2e-6)


def test_finer_grid_and_higher_degree_converge():
    obs = nfit.Space("x", limits=(-10, 10))
    x = np.linspace(-1.5, 3.9, 301)
    ref = stats.norm.pdf(x, 1.2, 0.5)
    errors = []
    for n, interpolation in ((101, "linear"), (201, "spline"), (401, "spline:5")):
        conv = nfit.pdf.FFTConvPDFV1(nfit.pdf.Gauss(mu=1.0, sigma=0.3, obs=obs), _numerical_gauss(0.2, 0.4, obs),
                                     n=n, interpolation=interpolation)
        errors.append(np.abs(conv.pdf(x) - ref).max())
    assert errors[0] > 30 * errors[1] > 30 * 30 * errors[2]


def test_box_convolved_with_gauss_has_no_step_or_shift(mode):
    """A Uniform func: its edges fall between grid points; asymmetric kernel limits shift nothing (zfit#291)."""
    x = np.linspace(-4, 4, 161)
    ref = _box_gauss(x, -1.0, 1.2, 0.4)
    for limits_kernel in (None, (-3.0, 4.5), (-1.9, 2.6)):
        conv = nfit.pdf.FFTConvPDFV1(nfit.pdf.Uniform(-1.0, 1.2, obs=X), nfit.pdf.Gauss(mu=0.0, sigma=0.4, obs=X),
                                     limits_kernel=limits_kernel)
        norm = integrate.quad(lambda t: _box_gauss(t, -1.0, 1.2, 0.4), -5, 5)[0]
        value = conv.pdf(x, mode=mode)
        assert np.abs(value - ref / norm).max() < 2e-4 * ref.max(), limits_kernel
        mean = integrate.quad(lambda t: t * conv.pdf(np.array([t]), mode="eager")[0], -5, 5, limit=200)[0]
        assert mean == pytest.approx(0.1, abs=2e-4)


def test_gauss_convolved_with_a_box_kernel(mode):
    conv = nfit.pdf.FFTConvPDFV1(nfit.pdf.Gauss(mu=0.3, sigma=0.4, obs=X), nfit.pdf.Uniform(-1.0, 1.0, obs=X),
                                 limits_kernel=(-1, 1))
    x = np.linspace(-4, 4, 81)
    ref = _box_gauss(x - 0.3, -1.0, 1.0, 0.4)
    norm = integrate.quad(lambda t: _box_gauss(t - 0.3, -1.0, 1.0, 0.4), -5, 5)[0]
    np.testing.assert_allclose(conv.pdf(x, mode=mode), ref / norm, atol=3e-5 * ref.max())  # O(h**2), h = 0.01


def test_crystalball_convolved_with_gauss_against_scipy_quadrature(mode):
    obs = nfit.Space("m", limits=(4.0, 6.5))
    cb = nfit.pdf.CrystalBall(mu=5.28, sigma=0.03, alpha=1.5, n=2.5, obs=obs)
    resolution = nfit.pdf.Gauss(mu=0.0, sigma=0.02, obs=nfit.Space("m", limits=(-0.2, 0.2)))
    conv = nfit.pdf.FFTConvPDFV1(cb, resolution)
    shape = stats.crystalball(beta=1.5, m=2.5, loc=5.28, scale=0.03)

    def smeared(x):
        return integrate.quad(lambda t: shape.pdf(x - t) * stats.norm.pdf(t, 0.0, 0.02), -0.2, 0.2,
                              epsabs=0, epsrel=1e-11, limit=200)[0]

    x = np.array([4.5, 5.0, 5.15, 5.22, 5.26, 5.28, 5.3, 5.35, 6.0])
    ref = np.array([smeared(v) for v in x])
    # the integral over the space, with the integral over x done by the CDF
    norm = integrate.quad(lambda t: stats.norm.pdf(t, 0.0, 0.02) * (shape.cdf(6.5 - t) - shape.cdf(4.0 - t)),
                          -0.2, 0.2, epsabs=0, epsrel=1e-12, limit=200)[0]
    np.testing.assert_allclose(conv.pdf(x, mode=mode), ref / norm, rtol=1e-4, atol=1e-7 * ref.max() / norm)


def test_both_paths_agree_with_exact_derivatives():
    mu, sigma = nfit.Parameter("nc_mu", 0.4), nfit.Parameter("nc_sigma", 0.7, 0.1, 3)
    alpha, power = nfit.Parameter("nc_alpha", 1.2, 0.3, 5), nfit.Parameter("nc_n", 3.0, 1.1, 20)
    width, lam = nfit.Parameter("nc_width", 0.35, 0.05, 2), nfit.Parameter("nc_lam", -0.2, -2, 0)
    frac = nfit.Parameter("nc_frac", 0.8, 0, 1)
    peak = nfit.pdf.CrystalBall(mu=mu, sigma=sigma, alpha=alpha, n=power, obs=X)
    # a step inside a sum (a Uniform in a SumPDF) is resolved to the grid's spacing only, so the
    # derivative check uses smooth shapes
    func = nfit.pdf.SumPDF([peak, nfit.pdf.Exponential(lam=lam, obs=X)], fracs=[frac])
    conv = nfit.pdf.FFTConvPDFV1(func, nfit.pdf.Gauss(mu=0.0, sigma=width, obs=X), n=201)
    rng = np.random.default_rng(5)
    data = nfit.Data.from_numpy(X, np.clip(rng.normal(0.4, 0.9, 5000), -4.9, 4.9))
    nll = nfit.loss.UnbinnedNLL(conv, data)
    params = nll.get_params()
    results = {}
    with nfit.run.mode("eager"):
        results["eager"] = (float(nll.value()), np.asarray(nll.gradient()), np.asarray(nll.hessian()))
    with nfit.run.mode("compiled"):
        results["compiled"] = (float(nll.value()), np.asarray(nll.gradient()), np.asarray(nll.hessian()))
    value, gradient, hessian = results["eager"]
    assert results["compiled"][0] == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(results["compiled"][1], gradient, rtol=1e-9, atol=1e-9 * np.abs(gradient).max())
    np.testing.assert_allclose(results["compiled"][2], hessian, rtol=1e-9, atol=1e-9 * np.abs(hessian).max())

    start = np.array([p.value() for p in params])

    def f(x):
        for p, v in zip(params, x):
            p.set_value(v)
        return float(nll.value())

    try:
        numeric_gradient = nd.Gradient(f, step=1e-5)(start)
        numeric_hessian = nd.Hessian(f, step=2e-4)(start)
    finally:
        for p, v in zip(params, start):
            p.set_value(v)
    np.testing.assert_allclose(gradient, numeric_gradient, rtol=1e-6, atol=1e-6 * np.abs(gradient).max())
    np.testing.assert_allclose(hessian, numeric_hessian, rtol=1e-4, atol=1e-4 * np.abs(hessian).max())


def test_fit_in_a_sum_extended_and_binned(mode):
    mu, sigma = nfit.Parameter(f"nf_mu_{mode}", 0.2, -1, 1), nfit.Parameter(f"nf_sigma_{mode}", 0.6, 0.2, 2)
    alpha = nfit.Parameter(f"nf_alpha_{mode}", 1.0, 0.3, 5)
    lam = nfit.Parameter(f"nf_lam_{mode}", -0.2, -2, 0)
    n_sig, n_bkg = nfit.Parameter(f"nf_nsig_{mode}", 3000, 0, 20000), nfit.Parameter(f"nf_nbkg_{mode}", 2000, 0, 20000)
    peak = nfit.pdf.CrystalBall(mu=mu, sigma=sigma, alpha=alpha, n=4.0, obs=X)
    conv = nfit.pdf.FFTConvPDFV1(peak, nfit.pdf.Gauss(mu=0.0, sigma=0.3, obs=X), n=201, extended=n_sig)
    model = nfit.pdf.SumPDF([conv, nfit.pdf.Exponential(lam=lam, obs=X, extended=n_bkg)])
    truth = {mu: 0.0, sigma: 0.5, alpha: 1.5, lam: -0.3, n_sig: 4000, n_bkg: 3000}
    with nfit.param.set_values(list(truth), list(truth.values())):
        data = model.sample(7000, rng=np.random.default_rng(11))
    assert np.all((data.value()[:, 0] > -5) & (data.value()[:, 0] < 5))
    with nfit.run.mode(mode):
        result = nfit.minimize.Minuit().minimize(nfit.loss.ExtendedUnbinnedNLL(model, data))
        result.hesse()
    assert result.valid
    for p, true in truth.items():
        assert abs(result.params[p]["value"] - true) < 4 * result.params[p]["hesse"]["error"], p.name
    # the binned version: bin integrals of the interpolant, exactly the unbinned pdf's integrals
    binned = model.to_binned(nfit.Space("x", binning=nfit.binned.RegularBinning(20, -5, 5, name="x")))
    edges = np.linspace(-5, 5, 21)
    expected = [float(model.ext_integrate((a, b))[0]) for a, b in zip(edges[:-1], edges[1:])]
    np.testing.assert_allclose(binned.counts(), expected, rtol=1e-10)


def test_sampling_follows_the_density():
    conv = nfit.pdf.FFTConvPDFV1(nfit.pdf.Uniform(-1.0, 1.2, obs=X), nfit.pdf.Gauss(mu=0.0, sigma=0.4, obs=X))
    x = conv.sample(20000, rng=np.random.default_rng(2)).value()[:, 0]

    def primitive(u):  # of _box_gauss: the integral of Phi((u - a) / s) is s * (z Phi(z) + phi(z))
        def psi(a):
            z = (u - a) / 0.4
            return 0.4 * (z * stats.norm.cdf(z) + stats.norm.pdf(z))
        return (psi(-1.0) - psi(1.2)) / 2.2

    def cdf(v):
        return (primitive(np.asarray(v)) - primitive(-5.0)) / (primitive(5.0) - primitive(-5.0))

    assert stats.kstest(x, cdf).pvalue > 1e-3


def test_pickles_and_rejects_bad_input():
    conv = nfit.pdf.FFTConvPDFV1(nfit.pdf.Uniform(-1.0, 1.2, obs=X), nfit.pdf.Gauss(mu=0.0, sigma=0.4, obs=X))
    copy = pickle.loads(pickle.dumps(conv))
    np.testing.assert_allclose(copy.pdf(np.array([0.0, 1.5])), conv.pdf(np.array([0.0, 1.5])), rtol=1e-14)
    with pytest.raises(ValueError, match="n must be"):
        nfit.pdf.FFTConvPDFV1(nfit.pdf.Uniform(-1.0, 1.2, obs=X), nfit.pdf.Gauss(mu=0.0, sigma=0.4, obs=X), n=2)
    with pytest.raises(ValueError, match="grid would have"):
        nfit.pdf.FFTConvPDFV1(nfit.pdf.Uniform(-1.0, 1.2, obs=X), nfit.pdf.Gauss(mu=0.0, sigma=0.4, obs=X),
                              n=2_000_001)
    with pytest.raises(ValueError, match="limits_func"):
        nfit.pdf.FFTConvPDFV1(nfit.pdf.Uniform(-1.0, 1.2, obs=X), nfit.pdf.Gauss(mu=0.0, sigma=0.4, obs=X),
                              limits_func=-0.5)


def test_the_func_is_cut_where_zfit_cuts_it(mode):
    """zfit's code: the func is a plain function on limits_func (default: its space) widened by the
    kernel's range, zero outside; a float limits_func (zfit's docstring) widens the space first."""
    narrow = nfit.Space("x", limits=(-1.0, 1.0))
    gauss = nfit.pdf.Gauss(mu=0.9, sigma=0.3, obs=narrow)
    kernel = nfit.pdf.Gauss(mu=0.0, sigma=0.1, obs=nfit.Space("x", limits=(-0.5, 0.5)))
    x = np.linspace(-2, 2.5, 46)
    # the default: the func on (-1.5, 1.5) — the Gauss is cut at 2 sigma above its mean
    for limits_func, (lo, hi) in ((None, (-1.5, 1.5)), ((-1.0, 0.8), (-1.5, 1.3))):
        conv = nfit.pdf.FFTConvPDFV1(gauss, kernel, obs=X, limits_func=limits_func)
        assert conv._form == "numeric"

        def smeared(v, lo=lo, hi=hi):
            a, b = max(-0.5, v - hi), min(0.5, v - lo)
            if b <= a:
                return 0.0
            return integrate.quad(lambda t: stats.norm.pdf(v - t, 0.9, 0.3) * stats.norm.pdf(t, 0.0, 0.1), a, b,
                                  epsabs=0, epsrel=1e-11)[0]

        norm = integrate.quad(smeared, -5, 5, points=[lo - 0.5, hi + 0.5], limit=200)[0]
        ref = np.array([smeared(v) for v in x]) / norm
        np.testing.assert_allclose(conv.pdf(x, mode=mode), ref, atol=3e-4 * ref.max())
    wide = nfit.pdf.FFTConvPDFV1(gauss, kernel, obs=X, limits_func=1.0)  # (-3, 3) widened by the kernel: no cut
    np.testing.assert_allclose(wide.pdf(x, mode=mode), stats.norm.pdf(x, 0.9, np.hypot(0.3, 0.1)), atol=2e-5)


def test_per_event_parameters_need_a_closed_form():
    s = nfit.Space("s", limits=(0.1, 1.0))
    sigma = nfit.Parameter("nc_cond_sigma", 0.3)
    conv = nfit.pdf.FFTConvPDFV1(nfit.pdf.Uniform(-1.0, 1.2, obs=X), nfit.pdf.Gauss(mu=0.0, sigma=sigma, obs=X))
    model = nfit.pdf.ConditionalPDFV1(conv, cond={sigma: s})
    data = nfit.Data.from_numpy(X * s, np.array([[0.0, 0.3], [0.5, 0.5]]))
    with pytest.raises(NotImplementedError, match="nc_cond_sigma"):
        model.pdf(data, mode="eager")
