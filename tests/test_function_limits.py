"""Normalising over function limits (``Space(..., inside=)``) in two and three observables: the
region's quadrature nodes against closed forms and scipy, and custom shapes (ZPDF,
``@nfit.kernel(n_obs=...)``), products and sums normalised over regions on both paths."""
import pickle

import numpy as np
import pytest
from scipy import integrate, stats

import nfit
from nfit import region, z


class disk:
    """The inside function of a disk (a class, so that spaces using it pickle)."""

    def __init__(self, cx, cy, r):
        self.cx, self.cy, self.r = cx, cy, r

    def __call__(self, v):
        return (v[:, 0] - self.cx) ** 2 + (v[:, 1] - self.cy) ** 2 < self.r ** 2


def disk_integral(f, cx, cy, r):
    """scipy's iterated adaptive quadrature of f(x, y) over a disk."""
    def half(x):
        return np.sqrt(max(0.0, r * r - (x - cx) ** 2))

    return integrate.dblquad(lambda y, x: f(x, y), cx - r, cx + r, lambda x: cy - half(x), lambda x: cy + half(x),
                             epsabs=1e-14, epsrel=1e-13)[0]


# ---------------------------------------------------------------------------- the nodes
@pytest.mark.parametrize("centre, radius", [((0.0311, -0.0537), 0.5), ((0.2, 0.3), 0.77), ((-0.1, 0.05), 1.0)])
def test_disk_area_and_moments(centre, radius):
    space = nfit.Space(["x", "y"], limits=((-1.2, -1.3), (1.25, 1.4)), inside=disk(*centre, radius))
    x, w = region.nodes(space)
    assert np.all(space.inside(x.T))
    assert w.sum() == pytest.approx(np.pi * radius ** 2, rel=1e-12)
    assert w @ x[0] / w.sum() == pytest.approx(centre[0], rel=1e-11)
    second = w @ ((x[0] - centre[0]) ** 2) / w.sum()
    assert second == pytest.approx(radius ** 2 / 4, rel=1e-11)
    assert space.area() == pytest.approx(np.pi * radius ** 2, rel=1e-12)


def test_triangle_and_simplex():
    tri = nfit.Space(["x", "y"], limits=((0, 0), (1, 1)), inside=lambda v: v[:, 0] + v[:, 1] < 1)
    x, w = region.nodes(tri)
    reference = integrate.dblquad(lambda y, x: x * np.exp(y), 0, 1, 0, lambda x: 1 - x, epsabs=1e-14)[0]
    assert w @ (x[0] * np.exp(x[1])) == pytest.approx(reference, rel=1e-12)
    simplex = nfit.Space(["x", "y", "z"], limits=((0, 0, 0), (1, 1, 1)), inside=lambda v: v.sum(axis=1) < 1)
    x, w = region.nodes(simplex)
    assert w.sum() == pytest.approx(1 / 6, rel=1e-12)
    assert w @ (x[0] * x[1] * x[2]) == pytest.approx(1 / 720, rel=1e-10)


def test_dalitz_region_area():
    """The kinematic boundary of a three-body decay, in (m12^2, m23^2): the region a Dalitz fit lives on."""
    M, m1, m2, m3 = 5.279, 0.4937, 0.1396, 0.1396

    def kallen(a, b, c):
        return a * a + b * b + c * c - 2 * (a * b + b * c + c * a)

    def limits23(s12):
        e2 = (s12 - m1 ** 2 + m2 ** 2) / (2 * np.sqrt(s12))
        e3 = (M ** 2 - s12 - m3 ** 2) / (2 * np.sqrt(s12))
        p2, p3 = np.sqrt(np.maximum(e2 ** 2 - m2 ** 2, 0)), np.sqrt(np.maximum(e3 ** 2 - m3 ** 2, 0))
        return (e2 + e3) ** 2 - (p2 + p3) ** 2, (e2 + e3) ** 2 - (p2 - p3) ** 2

    def inside(v):
        lo, hi = limits23(v[:, 0])
        return (v[:, 1] > lo) & (v[:, 1] < hi) & (kallen(v[:, 0], m1 ** 2, m2 ** 2) > 0)

    a, b = (m1 + m2) ** 2, (M - m3) ** 2
    space = nfit.Space(["s12", "s23"], limits=((a, (m2 + m3) ** 2), (b, (M - m1) ** 2)), inside=inside)
    area = integrate.quad(lambda s: np.subtract(*limits23(s)[::-1]), a, b, epsabs=1e-13, epsrel=1e-13, limit=200)[0]
    assert space.area() == pytest.approx(area, rel=1e-9)


def test_ball_shell_and_cylinder_in_three_observables():
    centre = np.array([0.0311, -0.0537, 0.1])
    ball = nfit.Space(["x", "y", "z"], limits=((-2,) * 3, (2,) * 3),
                      inside=lambda v: ((v - centre) ** 2).sum(axis=1) < 1.37 ** 2)
    x, w = region.nodes(ball)
    assert w.sum() == pytest.approx(4 / 3 * np.pi * 1.37 ** 3, rel=1e-12)
    r2 = ((x.T - centre) ** 2).sum(axis=1)
    gauss = np.exp(-0.5 * r2) / (2 * np.pi) ** 1.5
    assert w @ gauss == pytest.approx(stats.chi(3).cdf(1.37), rel=1e-11)
    cylinder = nfit.Space(["x", "y", "z"], limits=((-1,) * 3, (1,) * 3),
                          inside=lambda v: v[:, 0] ** 2 + v[:, 2] ** 2 < 1)
    x, w = region.nodes(cylinder)
    assert w @ (1 + x[1] ** 2) == pytest.approx(np.pi * (2 + 2 / 3), rel=1e-12)


def test_one_observable_becomes_its_intervals():
    ring = nfit.Space("x", limits=(-2, 2), inside=lambda x: np.abs(x) > np.sqrt(2) / 2)
    assert ring.boxes == [((-2.0,), (-np.sqrt(2) / 2,)), ((np.sqrt(2) / 2,), (2.0,))]
    assert ring.area() == pytest.approx(4 - np.sqrt(2), rel=1e-14)
    assert region.intervals(ring)[1][0] == pytest.approx(np.sqrt(2) / 2, rel=1e-15)


def test_reordered_space_keeps_its_region():
    space = nfit.Space(["x", "y"], limits=((0, 0), (2, 1)), inside=lambda v: v[:, 1] < 0.5 * v[:, 0])
    swapped = space.with_obs(["y", "x"])
    assert swapped.obs == ("y", "x") and swapped.has_function_limits
    np.testing.assert_array_equal(swapped.inside(np.array([[0.2, 1.0], [0.8, 1.0]])), [True, False])
    assert swapped.area() == pytest.approx(1.0, rel=1e-12) and swapped == space.with_obs(["y", "x"])


# ---------------------------------------------------------------------------- shapes over regions
class Blob(nfit.pdf.ZPDF):
    _PARAMS = ["a", "b"]
    _N_OBS = 2

    def _unnormalized_pdf(self, x, params):
        x0, x1 = z.unstack_x(x)
        return z.exp(-params["a"] * x0 ** 2 - params["b"] * (x1 - 0.2) ** 2) * (1 + 0.3 * x0)


def blob(x, y, a=1.3, b=0.7):
    return np.exp(-a * x ** 2 - b * (y - 0.2) ** 2) * (1 + 0.3 * x)


DISK = (0.1, -0.05, np.sqrt(0.8))
POINTS = np.array([[0.1, 0.2], [-0.5, 0.3], [0.7, -0.4], [0.0, -0.9]])


@pytest.fixture
def disk_space():
    return nfit.Space(["x", "y"], limits=((-1, -1), (1, 1)), inside=disk(*DISK))


def test_custom_shape_over_a_disk_matches_scipy(disk_space, mode):
    pdf = Blob(obs=disk_space, a=1.3, b=0.7)
    expected = blob(POINTS[:, 0], POINTS[:, 1]) / disk_integral(blob, *DISK)
    np.testing.assert_allclose(pdf.pdf(POINTS, mode=mode), expected, rtol=1e-10)
    assert float(pdf.integrate(disk_space)[0]) == pytest.approx(1.0, rel=1e-12)
    half = nfit.Space(["x", "y"], limits=((-1, -1), (1, 1)), inside=lambda v: disk(*DISK)(v) & (v[:, 0] > 0.1))
    reference = integrate.dblquad(lambda y, x: blob(x, y), 0.1, 0.1 + DISK[2],
                                  lambda x: -0.05 - np.sqrt(max(0, 0.8 - (x - 0.1) ** 2)),
                                  lambda x: -0.05 + np.sqrt(max(0, 0.8 - (x - 0.1) ** 2)), epsabs=1e-14)[0]
    assert float(pdf.integrate(half)[0]) == pytest.approx(reference / disk_integral(blob, *DISK), rel=1e-10)


def test_fit_over_a_disk_same_on_both_paths_with_exact_derivatives(disk_space):
    a, b = nfit.Parameter("a", 1.3, 0.1, 5), nfit.Parameter("b", 0.7, 0.1, 5)
    pdf = Blob(obs=disk_space, a=a, b=b)
    data = pdf.sample(3000, rng=1)
    assert np.all(disk_space.inside(data.to_numpy()))
    fitted = {}
    for mode in ("eager", "compiled"):
        a.set_value(1.0)
        b.set_value(1.0)
        nll = nfit.loss.UnbinnedNLL(pdf, data, mode=mode)
        result = nfit.minimize.Minuit().minimize(nll)
        result.hesse()
        assert result.valid and result.info["gradient"] == "exact"
        fitted[mode] = [(p.value(), r["hesse"]["error"]) for p, r in result.params.items()]
    np.testing.assert_allclose(fitted["eager"], fitted["compiled"], rtol=1e-7)
    (fa, ea), (fb, eb) = fitted["compiled"]
    assert abs(fa - 1.3) < 3 * ea and abs(fb - 0.7) < 3 * eb


def test_gradient_of_region_normalisation_matches_numerical(disk_space):
    a, b = nfit.Parameter("a", 1.1, 0.1, 5), nfit.Parameter("b", 0.9, 0.1, 5)
    pdf = Blob(obs=disk_space, a=a, b=b)
    data = nfit.Data.from_numpy(disk_space, POINTS)
    for mode in ("eager", "compiled"):
        nll = nfit.loss.UnbinnedNLL(pdf, data, mode=mode)
        _, grad = nll.value_gradient()

        def value(pa, pb):
            norm = disk_integral(lambda x, y: blob(x, y, pa, pb), *DISK)
            return -np.sum(np.log(blob(POINTS[:, 0], POINTS[:, 1], pa, pb) / norm))

        h = 1e-5
        numeric = [(value(1.1 + h, 0.9) - value(1.1 - h, 0.9)) / (2 * h),
                   (value(1.1, 0.9 + h) - value(1.1, 0.9 - h)) / (2 * h)]
        np.testing.assert_allclose(grad, numeric, rtol=1e-6)


def test_three_observables_over_a_ball(mode):
    class Iso(nfit.pdf.ZPDF):
        _PARAMS = ["s", "k"]
        _N_OBS = 3

        def _unnormalized_pdf(self, x, params):
            x0, x1, x2 = z.unstack_x(x)
            r2 = (x0 - 0.1) ** 2 + x1 ** 2 + (x2 + 0.2) ** 2
            return z.exp(-0.5 * r2 / params["s"] ** 2) * (1 + params["k"] * (x0 - 0.1))

    space = nfit.Space(["x", "y", "z"], limits=((-2,) * 3, (2,) * 3),
                       inside=lambda v: (v[:, 0] - 0.1) ** 2 + v[:, 1] ** 2 + (v[:, 2] + 0.2) ** 2 < 1.5 ** 2)
    pdf = Iso(obs=space, s=0.8, k=0.4)
    points = np.array([[0.1, 0.0, -0.2], [0.5, -0.3, 0.4]])
    r2 = (points[:, 0] - 0.1) ** 2 + points[:, 1] ** 2 + (points[:, 2] + 0.2) ** 2
    mass = stats.chi(3).cdf(1.5 / 0.8) * (2 * np.pi * 0.8 ** 2) ** 1.5  # the odd term integrates to zero
    expected = np.exp(-0.5 * r2 / 0.64) * (1 + 0.4 * (points[:, 0] - 0.1)) / mass
    np.testing.assert_allclose(pdf.pdf(points, mode=mode), expected, rtol=1e-10)


def test_user_kernel_in_two_observables(disk_space, mode):
    kernel = nfit.kernel(n_obs=2)(_blob_kernel)
    pdf = kernel.pdf(obs=disk_space, a=1.3, b=0.7)
    expected = blob(POINTS[:, 0], POINTS[:, 1]) / disk_integral(blob, *DISK)
    np.testing.assert_allclose(pdf.pdf(POINTS, mode=mode), expected, rtol=1e-10)
    box = nfit.Space(["x", "y"], limits=((-1, -1), (1, 1)))
    on_box = kernel.pdf(obs=box, a=1.3, b=0.7)
    reference = integrate.dblquad(lambda y, x: blob(x, y), -1, 1, -1, 1, epsabs=1e-14)[0]
    np.testing.assert_allclose(on_box.pdf(POINTS, mode=mode), blob(POINTS[:, 0], POINTS[:, 1]) / reference, rtol=1e-10)
    with pytest.raises(ValueError, match="n_obs=2"):
        nfit.kernel(_blob_kernel).pdf(obs=box, y=0.0, a=1.3, b=0.7)
    with pytest.raises(TypeError, match="one observable"):
        kernel.integral(lambda lower, upper, a, b: 1.0)


def _blob_kernel(x, y, a, b):
    return np.exp(-a * x * x - b * (y - 0.2) ** 2) * (1 + 0.3 * x)


@nfit.kernel(n_obs=2)
def module_blob(x, y, a, b):
    return np.exp(-a * x * x - b * (y - 0.2) ** 2) * (1 + 0.3 * x)


@module_blob.gradient
def _module_blob_gradient(x, y, a, b):
    f = np.exp(-a * x * x - b * (y - 0.2) ** 2) * (1 + 0.3 * x)
    return -x * x * f, -(y - 0.2) ** 2 * f


def test_user_kernel_fits_with_its_gradient_and_pickles(disk_space):
    a, b = nfit.Parameter("a", 1.3, 0.1, 5), nfit.Parameter("b", 0.7, 0.1, 5)
    pdf = module_blob.pdf(obs=disk_space, a=a, b=b)
    data = pdf.sample(2000, rng=4)
    copy = pickle.loads(pickle.dumps(pdf))
    np.testing.assert_allclose(copy.pdf(POINTS), pdf.pdf(POINTS), rtol=1e-14)
    values = []
    for mode in ("eager", "compiled"):
        a.set_value(1.0)
        b.set_value(1.0)
        with pytest.warns(UserWarning, match="no exact Hessian"):
            result = nfit.minimize.Minuit().minimize(nfit.loss.UnbinnedNLL(pdf, data, mode=mode))
        assert result.valid and result.info["gradient"] == "exact"
        values.append([a.value(), b.value()])
    np.testing.assert_allclose(values[0], values[1], rtol=1e-7)


def test_product_and_sum_over_a_disk(mode):
    space = nfit.Space(["x", "y"], limits=((-1, -1), (1, 1)), inside=lambda v: (v ** 2).sum(axis=1) < 1)
    gx = nfit.pdf.Gauss(0.0, 1.0, obs=nfit.Space("x", -1, 1))
    gy = nfit.pdf.Gauss(0.0, 1.0, obs=nfit.Space("y", -1, 1))
    product = nfit.pdf.ProductPDF([gx, gy], obs=space)
    inside_mass = (1 - np.exp(-0.5)) * 2 * np.pi  # the standard 2-D Gauss over the unit disk, unnormalised
    np.testing.assert_allclose(product.pdf(np.array([[0.0, 0.0], [0.3, -0.5]]), mode=mode),
                               np.exp(-0.5 * np.array([0.0, 0.34])) / inside_mass, rtol=1e-12)
    other = Blob(obs=space, a=0.5, b=2.0)
    mix = nfit.pdf.SumPDF([product, other], fracs=[0.3])
    unit = disk_integral(lambda x, y: blob(x, y, 0.5, 2.0), 0.0, 0.0, 1.0)
    expected = 0.3 * np.exp(-0.5 * (POINTS[:3] ** 2).sum(axis=1)) / inside_mass + \
        0.7 * blob(POINTS[:3, 0], POINTS[:3, 1], 0.5, 2.0) / unit
    np.testing.assert_allclose(mix.pdf(POINTS[:3], mode=mode), expected, rtol=1e-10)
    assert float(mix.integrate(space)[0]) == pytest.approx(1.0, rel=1e-12)
