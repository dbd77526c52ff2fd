"""SplineMorphingPDF: the numbers zfit 0.28 gives (tests/data/morphing_zfit_reference.json), and a
morphing fit with exact derivatives in alpha, on both paths."""
import json
import pathlib

import numdifftools as nd
import numpy as np
import pytest

import nfit

HERE = pathlib.Path(__file__).parent / "data"
VALUES = [[10., 20., 30., 20., 10.], [15., 25., 25., 15., 10.], [30., 25., 20., 10., 5.], [40., 20., 10., 5., 5.]]
BOBS = nfit.Space("x", binning=nfit.binned.RegularBinning(5, 0, 5, name="x"))


def _morph(knots, name):
    hists = {k: nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(BOBS, np.array(v)))
             for k, v in zip(knots, VALUES)}
    alpha = nfit.Parameter(name, 0.0)
    return nfit.pdf.SplineMorphingPDF(alpha, hists), alpha


@pytest.mark.parametrize("knots", [[-1.0, 0.0, 1.0], [-2.0, -0.5, 1.0, 2.5]])
def test_counts_are_zfits(knots):
    reference = json.loads((HERE / "morphing_zfit_reference.json").read_text())
    morph, alpha = _morph(knots, f"mz_alpha_{len(knots)}")
    for a in (-0.7, 0.0, 0.3, 1.5):
        alpha.set_value(a)
        np.testing.assert_allclose(morph.counts(), reference[f"{len(knots)}_{a}_counts"], rtol=1e-12)
        np.testing.assert_allclose(morph.rel_counts(), reference[f"{len(knots)}_{a}_rel"], rtol=1e-12)
        assert morph.rel_counts().sum() == pytest.approx(1.0, abs=1e-12)  # the coefficients sum to 1
    alpha.set_value(1.0)
    if 1.0 in knots:  # at a knot, the template itself
        np.testing.assert_allclose(morph.counts(), VALUES[knots.index(1.0)], rtol=1e-12)


def test_list_of_three_and_bad_input():
    hists = [nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(BOBS, np.array(v))) for v in VALUES[:3]]
    alpha = nfit.Parameter("mz_list_alpha", -1.0)
    morph = nfit.pdf.SplineMorphingPDF(alpha, hists)
    np.testing.assert_allclose(morph.counts(), VALUES[0], rtol=1e-12)
    with pytest.raises(ValueError, match="three"):
        nfit.pdf.SplineMorphingPDF(alpha, hists[:2])
    other = nfit.Space("x", binning=nfit.binned.RegularBinning(4, 0, 5, name="x"))
    with pytest.raises(ValueError, match="binned as"):
        nfit.pdf.SplineMorphingPDF(alpha, {0.0: hists[0], 1.0: nfit.pdf.HistogramPDF(
            nfit.data.BinnedData.from_tensor(other, np.ones(4)))})
    shapes = [nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(BOBS, np.array(v)), extended=False)
              for v in VALUES[:3]]
    assert not nfit.pdf.SplineMorphingPDF(alpha, shapes).is_extended
    with pytest.raises(ValueError, match="extended"):
        nfit.pdf.SplineMorphingPDF(alpha, shapes, extended=True)


def test_morphing_fit_with_a_constrained_alpha_on_both_paths():
    morph, alpha = _morph([-1.0, 0.0, 1.0], "mz_fit_alpha")
    alpha.lower, alpha.upper = -3.0, 3.0
    truth = 0.4
    alpha.set_value(truth)
    data = nfit.data.BinnedData.from_tensor(BOBS, np.random.default_rng(3).poisson(morph.counts()).astype(float))
    constraint = nfit.constraint.GaussianConstraint(alpha, observation=0.0, uncertainty=1.0)
    results = {}
    for mode in ("eager", "compiled"):
        alpha.set_value(0.0)
        loss = nfit.loss.ExtendedBinnedNLL(morph, data, constraints=constraint, mode=mode)
        result = nfit.minimize.Minuit().minimize(loss)
        result.hesse()
        assert result.valid
        results[mode] = (alpha.value(), result.params[alpha]["hesse"]["error"], loss)
    assert results["compiled"][0] == pytest.approx(results["eager"][0], abs=1e-6)
    assert results["compiled"][1] == pytest.approx(results["eager"][1], rel=1e-5)
    loss = results["compiled"][2]

    def f(x):
        alpha.set_value(x[0])
        return float(loss.value())

    for point in (-0.8, 0.0, 0.35):  # also exactly at a knot
        alpha.set_value(point)
        gradient, hessian = np.asarray(loss.gradient()), np.asarray(loss.hessian())
        np.testing.assert_allclose(gradient, nd.Gradient(f, step=1e-5)([point]), rtol=1e-6, atol=1e-6)
        if point != 0.0:  # at a knot the kernel's second derivative sees zfit's floor under r2
            np.testing.assert_allclose(hessian, nd.Hessian(f, step=1e-4)([point]), rtol=1e-4)


def test_spline_pdf_is_zfits_spline_normalised():
    """zfit's SplinePDF returns the spline through the bin densities as it is (its integral is 0.998
    here); nfit's unnormalised density is that spline (to 1e-10), and its pdf integrates to 1."""
    from scipy import integrate

    reference = json.loads((HERE / "splinepdf_zfit_reference.json").read_text())
    obs = nfit.Space("x", binning=nfit.binned.RegularBinning(8, -4, 4, name="x"))
    counts = np.array([2., 8., 25., 60., 58., 30., 9., 3.])
    hist = nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(obs, counts), extended=False)
    smooth = nfit.pdf.SplinePDF(hist)
    x = np.array(reference["x"])
    for mode in ("eager", "compiled"):
        np.testing.assert_allclose(smooth.pdf(x, norm=False, mode=mode), reference["pdf"], rtol=1e-10)
    total = integrate.quad(lambda t: smooth.pdf(np.array([t]), mode="eager")[0], -4, 4, limit=200, epsabs=1e-13)[0]
    assert total == pytest.approx(1.0, abs=1e-10)
    for order in (1, 3, 4, 5):  # the closed-form normalisation of every order
        other = nfit.pdf.SplinePDF(hist, order=order)
        total = integrate.quad(lambda t: other.pdf(np.array([t]), mode="eager")[0], -4, 4, limit=200)[0]
        assert total == pytest.approx(1.0, abs=1e-9), order
        centers = obs.binning[0].centers
        np.testing.assert_allclose(other.pdf(centers, norm=False), counts / counts.sum(), rtol=1e-9)
    with pytest.raises(ValueError, match="order"):
        nfit.pdf.SplinePDF(hist, order=7)
    with pytest.raises(TypeError, match="binned"):
        nfit.pdf.SplinePDF(nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=nfit.Space("x", -4, 4)))


def test_spline_of_a_morphed_template_fits_with_exact_derivatives():
    morph, alpha = _morph([-1.0, 0.0, 1.0], "ms_alpha")
    alpha.lower, alpha.upper = -2.0, 2.0
    smooth = nfit.pdf.SplinePDF(morph)
    assert smooth.is_extended and smooth.get_yield() is morph.get_yield()
    alpha.set_value(0.5)
    data = nfit.Data.from_numpy(smooth.space, smooth.sample(3000, rng=np.random.default_rng(4)).value())
    losses = {mode: nfit.loss.UnbinnedNLL(smooth, data, mode=mode) for mode in ("eager", "compiled")}
    for point in (-0.6, 0.3):
        alpha.set_value(point)
        values = {mode: (float(loss.value()), np.asarray(loss.gradient())) for mode, loss in losses.items()}
        assert values["compiled"][0] == pytest.approx(values["eager"][0], rel=1e-12)
        np.testing.assert_allclose(values["compiled"][1], values["eager"][1], rtol=1e-9)

        def f(x):
            alpha.set_value(x[0])
            return float(losses["eager"].value())

        np.testing.assert_allclose(values["eager"][1], nd.Gradient(f, step=1e-5)([point]), rtol=1e-6)
        alpha.set_value(point)
    alpha.set_value(0.0)
    result = nfit.minimize.Minuit().minimize(losses["compiled"])
    result.hesse()
    assert result.valid and abs(alpha.value() - 0.5) < 4 * result.params[alpha]["hesse"]["error"]


def test_spline_of_a_binwise_scaled_template():
    """Bin probabilities that need all bins (BinwiseScaleModifier): the spline takes counts over their sum."""
    obs = nfit.Space("x", binning=nfit.binned.RegularBinning(5, 0, 5, name="x"))
    hist = nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(obs, np.array(VALUES[0])))
    modified = nfit.pdf.BinwiseScaleModifier(hist, modifiers=True)
    modified.params[modified._names[2]].set_value(1.5)
    scaled = np.array(VALUES[0]) * np.array([1, 1, 1.5, 1, 1])
    plain = nfit.pdf.SplinePDF(nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(obs, scaled)))
    x = np.linspace(0.1, 4.9, 13)
    for mode in ("eager", "compiled"):
        np.testing.assert_allclose(nfit.pdf.SplinePDF(modified).pdf(x, mode=mode), plain.pdf(x, mode=mode), rtol=1e-12)
