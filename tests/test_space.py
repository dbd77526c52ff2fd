import numpy as np
import pytest

import nfit


def test_one_dimensional_space():
    s = nfit.Space("m", limits=(5.0, 5.6))
    assert s.obs == ("m",)
    assert s.lower == 5.0 and s.upper == 5.6
    assert s.area() == pytest.approx(0.6)
    x = np.array([4.99, 5.0, 5.3, 5.6, 5.61])
    np.testing.assert_array_equal(s.inside(x), [False, True, True, True, False])
    np.testing.assert_array_equal(s.filter(x), [5.0, 5.3, 5.6])


def test_lower_upper_keywords_as_zfit():
    s = nfit.Space("x", lower=-1, upper=2)
    assert (s.lower, s.upper) == (-1.0, 2.0)


def test_product_space():
    xy = nfit.Space("x", limits=(-1, 1)) * nfit.Space("y", limits=(0, 2))
    assert xy.obs == ("x", "y")
    assert xy.area() == pytest.approx(4.0)
    pts = np.array([[0.0, 1.0], [0.0, 3.0], [-2.0, 1.0]])
    np.testing.assert_array_equal(xy.inside(pts), [True, False, False])
    assert xy.lower == (-1.0, 0.0) and xy.upper == (1.0, 2.0)
    assert xy.with_obs("y") == nfit.Space("y", limits=(0, 2))


def test_union_of_ranges():
    side = nfit.Space("m", limits=(5.0, 5.2)) + nfit.Space("m", limits=(5.35, 5.6))
    assert side.area() == pytest.approx(0.45)
    np.testing.assert_array_equal(side.inside(np.array([5.1, 5.3, 5.5])), [True, False, True])
    assert side.lower == 5.0 and side.upper == 5.6


def test_space_errors_name_the_problem():
    with pytest.raises(ValueError, match="lower < upper"):
        nfit.Space("m", limits=(5.6, 5.0))
    with pytest.raises(ValueError, match="overlap"):
        nfit.Space("m", limits=(0, 2)) + nfit.Space("m", limits=(1, 3))
    with pytest.raises(ValueError, match="appear in both"):
        nfit.Space("m", limits=(0, 1)) * nfit.Space("m", limits=(0, 1))
    with pytest.raises(ValueError, match="same observables"):
        nfit.Space("m", limits=(0, 1)) + nfit.Space("x", limits=(2, 3))


def test_function_limits_inside_filter_area():
    circle = nfit.Space(["x", "y"], limits=((-1, -1), (1, 1)), inside=lambda v: v[:, 0] ** 2 + v[:, 1] ** 2 <= 1)
    assert circle.has_function_limits
    assert circle.area() == pytest.approx(np.pi, rel=1e-3)
    np.testing.assert_array_equal(circle.inside(np.array([[0.0, 0.0], [0.9, 0.9], [2.0, 0.0]])), [True, False, False])
    ring = nfit.Space("x", limits=(-2, 2), inside=lambda x: np.abs(x) > 1)
    assert ring.area() == pytest.approx(2.0, rel=1e-3)
    np.testing.assert_array_equal(ring.filter(np.array([-1.5, 0.2, 1.7, 3.0])), [-1.5, 1.7])
    with pytest.warns(UserWarning, match="2 of 4"):
        data = nfit.Data.from_numpy(ring, np.array([-1.5, 0.2, 1.7, 3.0]))
    assert data.nevents == 2
    with pytest.raises(TypeError, match="inside="):
        nfit.Space("x", limits=(0, 1), inside=3)


def test_sampling_inside_function_limits_and_normalising_over_them():
    from scipy import stats

    full = nfit.Space("x", limits=(-2, 2))
    ring = nfit.Space("x", limits=(-2, 2), inside=lambda x: np.abs(x) > 1)
    gauss = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=full)
    x = gauss.sample(n=20_000, limits=ring, rng=1)["x"]
    assert np.all(np.abs(x) > 1)
    norm = stats.norm
    mass = 2 * (norm.cdf(2) - norm.cdf(1))

    def cdf(t):
        t = np.asarray(t)
        below = np.clip(t, -2, -1)
        above = np.clip(t, 1, 2)
        return ((norm.cdf(below) - norm.cdf(-2)) + (norm.cdf(above) - norm.cdf(1))) / mass

    assert stats.kstest(x, cdf).pvalue > 0.01
    data = nfit.Data.from_numpy(ring, x)
    # normalised over the ring, on both paths: the intervals the function leaves, each end exact
    for mode in ("eager", "compiled"):
        np.testing.assert_allclose(gauss.pdf(np.array([1.5, -1.2]), norm=ring, mode=mode),
                                   norm.pdf([1.5, -1.2]) / mass, rtol=1e-12)
        nll = nfit.loss.UnbinnedNLL(model=gauss, data=data, mode=mode)
        assert nll.value() == pytest.approx(-np.sum(np.log(norm.pdf(x) / mass)), rel=1e-12)
