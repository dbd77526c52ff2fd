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
