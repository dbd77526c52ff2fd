"""zfit's kernel density estimates (bandwidth rules, padding, grid, FFT and ISJ), against the values
zfit 0.28 gives for the same sample (stored in tests/data/zfit_kde_reference.json), and against scipy."""
import json
import pathlib

import numpy as np
import pytest
from scipy import stats

import nfit

REFERENCE = json.loads((pathlib.Path(__file__).parent / "data" / "zfit_kde_reference.json").read_text())
# the exact estimates agree to rounding; grid ones to their interpolation (documented in the classes)
TOLERANCE = {"KDE1DimExact": 1e-12, "KDE1DimGrid": 5e-4, "KDE1DimFFT": 1e-5, "KDE1DimISJ": 1e-3}


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda c: f"{c['class']}-{c['kwargs']}")
def test_kde_matches_zfit(case, mode):
    x, w = np.array(REFERENCE["x"]), np.array(REFERENCE["w"])
    obs = nfit.Space("x", *REFERENCE["obs"])
    kwargs = dict(case["kwargs"])
    if kwargs.pop("weights", None):
        kwargs["weights"] = w
    kde = getattr(nfit.pdf, case["class"])(x, obs=obs, **kwargs)
    tolerance = TOLERANCE[case["class"]]
    if case["class"] == "KDE1DimExact" and kwargs.get("bandwidth") == "isj":
        tolerance = 1e-4  # the ISJ root is found to zfit's tolerance, not to rounding
    np.testing.assert_allclose(kde.pdf(np.array(REFERENCE["points"]), mode=mode), case["values"], rtol=tolerance)
    assert float(kde.integrate(obs)[0]) == pytest.approx(1.0, abs=1e-12)


def test_rules_of_thumb_are_zfits():
    x = np.random.default_rng(4).normal(size=2000)
    obs = nfit.Space("x", -5, 5)
    spread = min(np.std(x), np.percentile(x, 75, method="nearest") - np.percentile(x, 25, method="nearest"))
    for name, factor in (("scott", 1.059), ("silverman", 0.9)):
        kde = nfit.pdf.KDE1DimExact(x, obs=obs, bandwidth=name)
        h = factor * spread * len(x) ** -0.2
        np.testing.assert_allclose(kde.bandwidth, h, rtol=1e-14)
        reference = stats.gaussian_kde(x, bw_method=h / np.std(x, ddof=1))
        points = np.linspace(-3, 3, 7)
        np.testing.assert_allclose(kde.pdf(points), reference(points) / reference.integrate_box_1d(-5, 5),
                                   rtol=1e-10)


def test_padding_mirrors_the_data_at_the_limits():
    x = np.random.default_rng(5).uniform(0, 1, 400)
    obs = nfit.Space("x", 0, 1)
    padded = nfit.pdf.KDE1DimExact(x, obs=obs, bandwidth=0.05, padding={"lowermirror": 0.1})
    near = x[x < 0.1]
    np.testing.assert_allclose(np.sort(padded.points[: len(near)]), np.sort(-near))
    plain = nfit.pdf.KDE1DimExact(x, obs=obs, bandwidth=0.05)
    # the mirrored points keep the density up at the lower edge (a uniform sample: 1 there)
    assert abs(padded.pdf([0.0])[0] - 1.0) < abs(plain.pdf([0.0])[0] - 1.0)
    with pytest.raises(ValueError, match="padding keys"):
        nfit.pdf.KDE1DimExact(x, obs=obs, padding={"left": 0.1})


def test_unsupported_choices_are_errors():
    x = np.random.default_rng(6).normal(size=300)
    obs = nfit.Space("x", -4, 4)
    with pytest.raises(ValueError, match="not supported on a grid"):
        nfit.pdf.KDE1DimGrid(x, obs=obs, bandwidth="isj")
    with pytest.raises(NotImplementedError, match="Gaussian kernel"):
        nfit.pdf.KDE1DimExact(x, obs=obs, kernel="cauchy")
    with pytest.raises(ValueError, match="binning_method"):
        nfit.pdf.KDE1DimGrid(x, obs=obs, binning_method="cubic")
    with pytest.raises(ValueError, match="fft_method"):
        nfit.pdf.KDE1DimFFT(x, obs=obs, fft_method="slow")


def test_truncated_kernels_keep_their_weight_inside():
    x = np.array([0.05, 0.5, 0.95])
    obs = nfit.Space("x", 0, 1)
    kde = nfit.pdf.GaussianKDE1DimV1(obs, x, bandwidth=0.1, truncate=True)
    # each kernel normalised inside [0, 1]: the density is the mean of three truncated normals
    expected = np.mean([stats.truncnorm.pdf(0.3, (0 - m) / 0.1, (1 - m) / 0.1, m, 0.1) for m in x])
    assert kde.pdf([0.3])[0] == pytest.approx(expected, rel=1e-12)
