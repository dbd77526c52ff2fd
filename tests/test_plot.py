"""Plots (zfit's model.plot, nfit.plot): the drawn numbers, against scipy and numpy.histogram."""
import matplotlib
import numpy as np
import pytest
from scipy import stats

import nfit

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OBS = nfit.Space("x", limits=(-3, 3))


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _model():
    ns, nb = nfit.Parameter("plot_ns", 300.0, 0, 1e4), nfit.Parameter("plot_nb", 700.0, 0, 1e4)
    gauss = nfit.pdf.Gauss(mu=0.0, sigma=0.5, obs=OBS, extended=ns)
    flat = nfit.pdf.Uniform(-3.0, 3.0, obs=OBS, extended=nb)
    return nfit.pdf.SumPDF([gauss, flat]), gauss


def _gauss_density(x):
    return stats.norm.pdf(x, 0, 0.5) / (stats.norm.cdf(3, 0, 0.5) - stats.norm.cdf(-3, 0, 0.5))


def _curves(ax, num):
    return [line for line in ax.lines if len(line.get_xdata()) == num]


def test_plotpdf_with_data_draws_counts_per_bin():
    model, _ = _model()
    data = model.sample(rng=1)
    fig, ax = plt.subplots()
    assert model.plot.plotpdf(data, ax=ax) is ax
    total, component, flat = _curves(ax, 300)
    x = total.get_xdata()
    width = 6.0 / 50
    np.testing.assert_allclose(total.get_ydata(), (300 * _gauss_density(x) + 700 / 6.0) * width, rtol=1e-10)
    # the components, dotted: each yield times its density, per bin
    np.testing.assert_allclose(component.get_ydata(), 300 * _gauss_density(x) * width, rtol=1e-10)
    np.testing.assert_allclose(flat.get_ydata(), 700 / 6.0 * width, rtol=1e-10)
    assert component.get_linestyle() == ":"
    assert len(_curves(plt.figure().gca(), 300)) == 0
    model.plot(data)  # the same, called


def test_plotpdf_density_components_and_functions():
    model, _ = _model()
    data = model.sample(rng=2)
    ax = model.plot.plotpdf(data, extended=False, density=True, depth=0, num=500, linestyle="--",
                            plotkwargs={"color": "red"})
    (curve,) = _curves(ax, 500)
    x = curve.get_xdata()
    np.testing.assert_allclose(curve.get_ydata(), 0.3 * _gauss_density(x) + 0.7 / 6.0, rtol=1e-10)
    ax = model.plot.comp.plotpdf(extended=True, ax=plt.figure().gca())
    gauss_curve, flat_curve = _curves(ax, 300)
    np.testing.assert_allclose(gauss_curve.get_ydata(), 300 * _gauss_density(gauss_curve.get_xdata()), rtol=1e-10)
    np.testing.assert_allclose(flat_curve.get_ydata(), 700 / 6.0, rtol=1e-10)
    ax = nfit.plot.plot_model_pdf(model, extended=False, num=200, ax=plt.figure().gca())
    assert len(_curves(ax, 200)) == 1
    ax = nfit.plot.plot_sumpdf_components_pdfV1(model, ax=ax)
    np.testing.assert_allclose(_curves(ax, 300)[1].get_ydata(), 700 / 6.0, rtol=1e-10)
    with pytest.raises(ValueError, match="not extended"):
        nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=OBS).plot.plotpdf(extended=True)
    ax = model.plot(data.to_binned(30), ax=plt.figure().gca())   # a binned data set sets the binning
    np.testing.assert_allclose(_curves(ax, 300)[0].get_ydata()[0], (300 * _gauss_density(-3) + 700 / 6) * 0.2,
                               rtol=1e-10)


def _stairs(ax):
    return [patch.get_data() for patch in ax.patches if hasattr(patch, "get_data")]


def test_fit_counts_and_plot_fit():
    model, _ = _model()
    data = model.sample(rng=3)
    edges, observed, expected, pulls = nfit.plot.fit_counts(model, data, bins=20)
    counts, ref_edges = np.histogram(data["x"], bins=20, range=(-3, 3))
    c = stats.norm.cdf(ref_edges, 0, 0.5)
    gauss_part = 300 * np.diff(c) / (c[-1] - c[0])
    flat_part = 700 * np.diff(ref_edges) / 6.0
    reference = gauss_part + flat_part
    np.testing.assert_allclose(edges, ref_edges)
    np.testing.assert_allclose(observed, counts)
    np.testing.assert_allclose(expected, reference, rtol=1e-10)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref_pulls = np.where(counts > 0, (counts - reference) / np.sqrt(counts), 0)
    np.testing.assert_allclose(pulls, ref_pulls, rtol=1e-10)
    ax, ax_pulls = nfit.plot.plot_fit(model, data, bins=20, components=True, pulls=True)
    drawn = _stairs(ax)  # the model, then its components: expected counts per bin (bin integrals)
    np.testing.assert_allclose(drawn[0].values, reference, rtol=1e-10)
    np.testing.assert_allclose(drawn[1].values, gauss_part, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(drawn[2].values, flat_part, rtol=1e-10)
    np.testing.assert_allclose(_stairs(ax_pulls)[0].values, ref_pulls, rtol=1e-10)
    ax, none = nfit.plot.plot_fit(model, data, pulls=False, ax=plt.figure().gca())
    assert none is None and len(_stairs(ax)[0].values) == 50


def test_plot_fit_of_binned_models_and_data():
    bobs = OBS.with_binning(12)
    ns = nfit.Parameter("plot_bns", 400.0)
    template = nfit.data.BinnedData.from_tensor(bobs, np.arange(1.0, 13.0))
    model = nfit.pdf.BinnedSumPDF([nfit.pdf.Gauss(mu=0.0, sigma=0.5, obs=OBS, extended=ns).to_binned(bobs),
                                   nfit.pdf.HistogramPDF(template, extended=600.0)])
    data = model.sample(rng=4)
    ax, ax_pulls = nfit.plot.plot_fit(model, data)
    drawn = _stairs(ax)
    c = stats.norm.cdf(bobs.binning[0].edges, 0, 0.5)
    gauss = 400 * np.diff(c) / (c[-1] - c[0])
    flat = 600 * np.arange(1.0, 13.0) / 78.0
    np.testing.assert_allclose(drawn[0].values, gauss + flat, rtol=1e-10)
    np.testing.assert_allclose(drawn[1].values, gauss, rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(drawn[2].values, flat, rtol=1e-10)
    np.testing.assert_allclose(_stairs(ax_pulls)[0].values,
                               (data.values() - gauss - flat) / np.sqrt(data.values()), rtol=1e-10)


def test_profile_plot_and_progress():
    model, _ = _model()
    data = model.sample(rng=5)
    result = nfit.minimize.Minuit().minimize(nfit.loss.ExtendedUnbinnedNLL(model=model, data=data))
    ns = [p for p in model.get_params() if p.name == "plot_ns"][0]
    ax = result.plot_profile(ns, num=7, progress=False)
    x, y = ax.lines[0].get_xdata(), ax.lines[0].get_ydata()
    assert len(x) == 7 and abs(y.min()) < 1e-3 and ax.lines[1].get_ydata()[0] == 0.5


def test_projection_of_a_2d_model():
    """zfit's ``plot.plotpdf(obs="x")`` of a 2-D model: the other observable integrated out."""
    space = nfit.Space("px", limits=(-3, 3)) * nfit.Space("py", limits=(0, 2))
    gx = nfit.pdf.Gauss(mu=0.5, sigma=0.8, obs=nfit.Space("px", limits=(-3, 3)))
    gy = nfit.pdf.Exponential(lam=-1.0, obs=nfit.Space("py", limits=(0, 2)))
    model = nfit.pdf.ProductPDF([gx, gy])
    assert model.space.obs == space.obs
    fig, ax = plt.subplots()
    model.plot.plotpdf(obs="px", ax=ax, num=40)
    x, y = ax.lines[-1].get_xdata(), ax.lines[-1].get_ydata()
    cut = stats.norm.cdf(3, 0.5, 0.8) - stats.norm.cdf(-3, 0.5, 0.8)
    np.testing.assert_allclose(y, stats.norm.pdf(x, 0.5, 0.8) / cut, rtol=1e-9)
    plt.close(fig)
