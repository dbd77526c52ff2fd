"""zfit-style custom pdfs: BasePDF subclasses, @nfit.supports, registered integrals, functors, several
observables — against scipy and closed forms, on both paths."""
import pickle
import warnings

import numpy as np
import pytest
from scipy import stats

import nfit
import nfit.z.numpy as znp
from nfit import z


class MyGauss(nfit.pdf.BasePDF):
    """zfit's tutorial shape: __init__ with a params dict, _unnormalized_pdf(x, params)."""

    def __init__(self, mean, std, obs, extended=None, norm=None, name=None, label=None):
        super().__init__(obs=obs, params={"mean": mean, "std": std}, extended=extended, norm=norm,
                         name=name, label=label)

    @nfit.supports()
    def _unnormalized_pdf(self, x, params):
        return znp.exp(-0.5 * ((x[0] - params["mean"]) / params["std"]) ** 2)


class NormalisedExp(nfit.pdf.BasePDF):
    """A _pdf that normalises itself (supports(norm=True)), reading the range from ``norm``."""

    def __init__(self, obs, lam):
        super().__init__(obs, {"lam": lam})

    @nfit.supports(norm=True)
    def _pdf(self, x, norm, params):
        lam = params["lam"]
        lower, upper = norm.limit1d
        return lam * znp.exp(lam * x[0]) / (znp.exp(lam * upper) - znp.exp(lam * lower))


class Quadratic(nfit.pdf.ZPDF):
    _PARAMS = ["b", "c"]

    @nfit.supports(norm=False)
    def _pdf(self, x, norm, params):
        data = x[0]
        return 1 + params["b"] * data + params["c"] * data ** 2


class Plane3D(nfit.pdf.ZPDF):
    """1 + a x + b y + c z on a box: normalised numerically in three observables."""

    _PARAMS = ["a", "b", "c"]
    _N_OBS = 3

    def _unnormalized_pdf(self, x, params):
        x0, x1, x2 = z.unstack_x(x)
        return 1 + params["a"] * x0 + params["b"] * x1 + params["c"] * x2


class Square(nfit.pdf.BaseFunctor):
    def __init__(self, pdf, name="Square"):
        super().__init__(pdfs=[pdf], obs=pdf.space, name=name)

    @nfit.supports(norm=False)
    def _pdf(self, x, norm, params):
        return self.pdfs[0].pdf(x) ** 2


@pytest.fixture
def obs():
    return nfit.Space("x", -2, 3)


def truncnorm(x, mu, sigma, lo=-2, hi=3):
    return stats.truncnorm.pdf(x, (lo - mu) / sigma, (hi - mu) / sigma, mu, sigma)


def test_basepdf_subclass_matches_scipy_and_fits_with_exact_derivatives(obs, mode):
    mean, std = nfit.Parameter("mean", 0.3, -1, 1), nfit.Parameter("std", 0.9, 0.2, 3)
    pdf = MyGauss(mean=mean, std=std, obs=obs)
    x = np.linspace(-1.9, 2.9, 7)
    np.testing.assert_allclose(pdf.pdf(x, mode=mode), truncnorm(x, 0.3, 0.9), rtol=1e-10)
    assert pdf._derivative_order() == 2
    sample = stats.truncnorm.rvs(-3, 4, 0.1, 0.7, size=4000, random_state=3)
    nll = nfit.loss.UnbinnedNLL(model=pdf, data=nfit.Data.from_numpy(obs, sample), mode=mode)
    result = nfit.minimize.Minuit().minimize(nll)
    assert result.valid and result.info["gradient"] == "exact"
    assert abs(mean.value() - 0.1) < 0.05 and abs(std.value() - 0.7) < 0.05


def test_compiled_and_eager_agree_for_traced_user_pdfs(obs):
    pdfs = [MyGauss(mean=0.2, std=0.8, obs=obs), NormalisedExp(obs, lam=-0.7), Quadratic(obs=obs, b=0.3, c=1.1),
            Square(nfit.pdf.Gauss(mu=0.1, sigma=1.1, obs=obs))]
    x = np.linspace(-1.9, 2.9, 11)
    for pdf in pdfs:
        np.testing.assert_allclose(pdf.pdf(x, mode="compiled"), pdf.pdf(x, mode="eager"), rtol=1e-10)


def test_pdf_that_normalises_itself_is_not_divided_again(obs, mode):
    pdf = NormalisedExp(obs, lam=-0.7)
    x = np.linspace(-1.9, 2.9, 5)
    expected = -0.7 * np.exp(-0.7 * x) / (np.exp(-0.7 * 3) - np.exp(-0.7 * -2))
    np.testing.assert_allclose(pdf.pdf(x, mode=mode), expected, rtol=1e-12)
    closed = (np.exp(-0.7 * 1) - np.exp(-0.7 * -2)) / (np.exp(-0.7 * 3) - np.exp(-0.7 * -2))
    assert float(pdf.integrate((-2, 1))[0]) == pytest.approx(closed, rel=1e-10)


def test_registered_analytic_integral_is_used_and_traced(obs, mode):
    calls = []

    class Poly(Quadratic):
        pass

    def cdf(t, b, c):
        return t + 0.5 * b * t ** 2 + c * t ** 3 / 3

    def integral(limits, norm, params, model):
        calls.append(limits)
        lower, upper = limits.v1.limits
        return cdf(upper, params["b"], params["c"]) - cdf(lower, params["b"], params["c"])

    Poly.register_analytic_integral(func=integral, limits=nfit.Space(axes=(0,), limits=(nfit.Space.ANY,
                                                                                         nfit.Space.ANY)))
    b = nfit.Parameter("b", 0.3, -1, 1)
    pdf = Poly(obs=obs, b=b, c=1.1)
    x = np.linspace(-1.9, 2.9, 5)
    exact = (1 + 0.3 * x + 1.1 * x ** 2) / (cdf(3, 0.3, 1.1) - cdf(-2, 0.3, 1.1))
    np.testing.assert_allclose(pdf.pdf(x, mode=mode), exact, rtol=1e-12)
    assert calls and calls[0].limit1d == (-2.0, 3.0)
    assert float(pdf.integrate((0, 1))[0]) == pytest.approx((cdf(1, 0.3, 1.1) - cdf(0, 0.3, 1.1))
                                                            / (cdf(3, 0.3, 1.1) - cdf(-2, 0.3, 1.1)), rel=1e-12)
    assert pdf._derivative_order() == 2
    assert not Quadratic._analytic_integrals  # the subclass's registration stays its own


def test_registered_integral_decides_the_normalisation(obs):
    """As in zfit, a registered integral is trusted: a wrong one gives a wrongly normalised pdf."""

    class Flat(nfit.pdf.ZPDF):
        _PARAMS = ["k"]

        def _unnormalized_pdf(self, x, params):
            return params["k"] + 0.0 * x[0]

    Flat.register_analytic_integral(lambda limits, params, model: 42.0,
                                    nfit.Space(axes=0, lower=nfit.Space.ANY_LOWER, upper=nfit.Space.ANY_UPPER))
    np.testing.assert_allclose(Flat(obs=obs, k=2.0).pdf([0.5]), [2.0 / 42.0], rtol=1e-14)


def test_registered_integral_outside_its_limits_is_not_used(obs):
    class Line(nfit.pdf.ZPDF):
        _PARAMS = ["s"]

        def _unnormalized_pdf(self, x, params):
            return 1 + params["s"] * x[0]

    Line.register_analytic_integral(lambda limits, params, model: 1e6, nfit.Space(axes=0, limits=(10, 20)))
    pdf = Line(obs=nfit.Space("x", 0, 1), s=1.0)
    np.testing.assert_allclose(pdf.pdf([0.5]), [1.5 / 1.5], rtol=1e-12)


def test_three_observables_normalised_numerically(mode):
    space = nfit.Space("x", -1, 1) * nfit.Space("y", 0, 2) * nfit.Space("t", -np.pi, np.pi)
    pdf = Plane3D(obs=space, a=0.3, b=-0.2, c=0.1)
    volume = 2 * 2 * 2 * np.pi
    norm = volume * (1 + (-0.2) * 1.0)  # the mean of y is 1, of x and t 0
    pts = np.array([[0.5, 1.5, 1.0], [-0.9, 0.1, -3.0]])
    expected = (1 + 0.3 * pts[:, 0] - 0.2 * pts[:, 1] + 0.1 * pts[:, 2]) / norm
    np.testing.assert_allclose(pdf.pdf(pts, mode=mode), expected, rtol=1e-12)
    assert float(pdf.integrate(space)[0]) == pytest.approx(1.0, rel=1e-12)
    data = pdf.sample(n=300, rng=2)
    assert data.nevents == 300 and np.all(space.inside(data.to_numpy()))


def test_functor_squares_a_gaussian(obs, mode):
    mu, sigma = nfit.Parameter("fmu", 0.2, -1, 1), nfit.Parameter("fsigma", 0.8, 0.3, 2)
    square = Square(nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs))
    x = np.linspace(-1.9, 2.9, 6)
    np.testing.assert_allclose(square.pdf(x, mode=mode), truncnorm(x, 0.2, 0.8 / np.sqrt(2)), rtol=1e-9)
    assert set(square.get_params()) == {mu, sigma} and square._derivative_order() == 2
    data = nfit.Data.from_numpy(obs, stats.truncnorm.rvs(-3, 3, 0.0, 0.5, size=3000, random_state=4))
    result = nfit.minimize.Minuit().minimize(nfit.loss.UnbinnedNLL(model=square, data=data, mode=mode))
    assert result.valid and result.info["gradient"] == "exact"
    assert abs(sigma.value() / np.sqrt(2) - 0.5) < 0.03


def test_untraceable_user_pdf_warns_once_and_runs_eagerly(obs):
    class NumpyGauss(nfit.pdf.ZPDF):
        _PARAMS = ["mu", "sigma"]

        @nfit.supports()
        def _unnormalized_pdf(self, x, params):
            nfit.run.assert_executing_eagerly()
            return np.exp(-0.5 * (x[0] - params["mu"]) ** 2 / params["sigma"] ** 2)

    pdf = NumpyGauss(obs=obs, mu=0.0, sigma=1.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = pdf.integrate((-1, 0))
        pdf.pdf([0.1], mode="eager")
    messages = [str(w.message) for w in caught if "could not be traced" in str(w.message)]
    assert len(messages) == 1 and "eager path" in messages[0]
    gauss = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=obs)
    assert float(value[0]) == pytest.approx(float(gauss.integrate((-1, 0))[0]), rel=1e-10)
    with pytest.raises(TypeError, match="cannot be compiled"):
        pdf.pdf([0.1], mode="compiled")


def test_negative_density_samples_with_a_warning(obs):
    with pytest.warns(UserWarning, match="negative"):
        data = Quadratic(obs=obs, b=3.0, c=0.2).sample(n=200, rng=1)
    x = data.to_numpy()[:, 0]
    assert np.all(1 + 3.0 * x + 0.2 * x ** 2 >= 0)


def test_user_pdfs_pickle(obs):
    pdf = MyGauss(mean=0.2, std=0.8, obs=obs)
    x = np.linspace(-1, 1, 4)
    before = pdf.pdf(x)
    again = pickle.loads(pickle.dumps(pdf))
    np.testing.assert_allclose(again.pdf(x), before, rtol=1e-14)
    square = pickle.loads(pickle.dumps(Square(nfit.pdf.Gauss(mu=0.1, sigma=1.1, obs=obs))))
    np.testing.assert_allclose(square.pdf(x), truncnorm(x, 0.1, 1.1 / np.sqrt(2)), rtol=1e-9)


def test_pdf_times_pdf_and_yield_times_pdf(obs):
    other = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=nfit.Space("y", -3, 3))
    product = MyGauss(mean=0.2, std=0.8, obs=obs) * other
    assert isinstance(product, nfit.pdf.ProductPDF) and product.obs == ("x", "y")
    extended = nfit.Parameter("n_sig", 50.0) * other
    assert extended.is_extended and extended.get_yield().value() == 50.0


def test_a_class_without_a_density_says_what_to_write(obs):
    class Empty(nfit.pdf.BasePDF):
        pass

    with pytest.raises(NotImplementedError, match="_unnormalized_pdf"):
        Empty(obs).pdf([0.0])


class Bump(nfit.func.ZFuncV1):
    _PARAMS = ["mu"]

    def _func(self, x):
        return znp.exp(-0.5 * (x[0] - self.params["mu"]) ** 2)


def test_zfit_functions_evaluate_integrate_and_fit_as_pdfs(obs, mode):
    mu = nfit.Parameter("bump_mu", 0.2, -1, 1)
    bump = Bump(obs=obs, mu=mu)
    x = np.linspace(-1.9, 2.9, 5)
    np.testing.assert_allclose(bump.func(x), np.exp(-0.5 * (x - 0.2) ** 2), rtol=1e-14)
    np.testing.assert_allclose(bump.func(x, params={"bump_mu": 0.0}), np.exp(-0.5 * x ** 2), rtol=1e-14)
    closed = np.sqrt(2 * np.pi) * (stats.norm.cdf(3, 0.2) - stats.norm.cdf(-2, 0.2))
    assert float(bump.integrate(obs)[0]) == pytest.approx(closed, rel=1e-12)
    both = bump + nfit.func.SimpleFuncV1(obs=obs, func=lambda x: 0.5 + 0.0 * x[0])
    np.testing.assert_allclose(both.func(x), np.exp(-0.5 * (x - 0.2) ** 2) + 0.5, rtol=1e-14)
    pdf = bump.as_pdf()
    np.testing.assert_allclose(pdf.pdf(x, mode=mode), truncnorm(x, 0.2, 1.0), rtol=1e-10)
    assert pdf._derivative_order() == 2 and list(pdf.get_params()) == [mu]
    data = nfit.Data.from_numpy(obs, stats.truncnorm.rvs(-2.5, 2.5, 0.5, 1, size=3000, random_state=1))
    result = nfit.minimize.Minuit().minimize(nfit.loss.UnbinnedNLL(model=pdf, data=data, mode=mode))
    assert result.valid and result.info["gradient"] == "exact" and abs(mu.value() - 0.5) < 0.1
