"""Plots of models and data (matplotlib and mplhep: ``pip install "nfit[plot]"``), with zfit's names.

``model.plot.plotpdf(data)`` (also ``model.plot(data)``) draws the data as a histogram with errors
and the model as a curve scaled to it, with the components of a sum dotted;
``model.plot.comp.plotpdf()`` the components alone; :func:`plot_fit` the data, the model, its
components and a panel of pulls.

>>> import numpy as np, nfit, matplotlib
>>> matplotlib.use("Agg")
>>> obs = nfit.Space("x", limits=(-3, 3))
>>> model = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=obs)
>>> ax = model.plot.plotpdf(model.sample(500, rng=1))
>>> len(ax.lines) >= 1
True
"""
from __future__ import annotations

import numpy as np

__all__ = ["PDFPlotter", "plot_model_pdf", "plot_sumpdf_components_pdfV1", "plot_fit", "fit_counts"]


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - the plot extra is missing
        raise ImportError('plots need matplotlib and mplhep: pip install "nfit[plot]"') from None
    return plt


def _axes(ax):
    plt = _pyplot()
    if ax is None:
        return plt.gca()
    if not isinstance(ax, plt.Axes):
        raise ValueError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
    return ax


def _plot_space(model, obs):
    from .space import Space, as_space

    space = model.space.with_binning(None) if getattr(model.space, "is_binned", False) else model.space
    if obs is not None:
        obs = as_space(obs) if not isinstance(obs, Space) else obs
        if obs.has_limits:
            space = obs
        elif space.n_obs > 1 and obs.n_obs == 1 and obs.obs[0] in space.obs:  # a projection of an n-D model
            k = space.obs.index(obs.obs[0])
            lower, upper = np.atleast_1d(space.lower)[k], np.atleast_1d(space.upper)[k]
            space = Space(obs.obs[0], limits=(float(lower), float(upper)))
        else:
            space = space.with_obs(obs.obs)
    if space.n_obs != 1:
        raise ValueError(f"plots are one-dimensional; model {model.name!r} has observables {space.obs}: give obs= "
                         "a one-dimensional space")
    if not space.has_limits:
        raise ValueError(f"cannot plot model {model.name!r} on {space}: it has no finite limits")
    return space


def plot_model_pdf(model, *, plotfunc=None, extended=None, obs=None, scale=None, ax=None, num=None, full=None,
                   linestyle=None, plotkwargs=None):
    """Draw the density of a one-dimensional model on ``num`` (300) points: ``ext_pdf`` (extended)
    or ``pdf``, times ``scale``; ``full`` (default) also labels the axes and adds a legend.

    Example
    -------
    >>> import nfit, matplotlib
    >>> matplotlib.use("Agg")
    >>> g = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=nfit.Space("x", limits=(-3, 3)))
    >>> ax = plot_model_pdf(g, num=50)
    >>> len(ax.lines[-1].get_xdata())
    50
    """
    space = _plot_space(model, obs)
    extended = model.is_extended if extended is None else extended
    if extended and not model.is_extended:
        raise ValueError(f"extended=True, but model {model.name!r} is not extended")
    num = 300 if num is None else int(num)
    full = True if full is None else full
    plotkwargs = dict(plotkwargs or {})
    x = np.linspace(space.lower, space.upper, num)
    if model.n_obs > 1:
        y = _projection(model, space.obs[0], x, extended)
    else:
        y = np.asarray(model.ext_pdf(x) if extended else model.pdf(x), dtype=float)
    y = y * float(np.asarray(1.0 if scale is None else scale))
    ax = _axes(ax)
    if full and "label" not in plotkwargs:
        plotkwargs["label"] = model.label
    (plotfunc or ax.plot)(x, y, linestyle=linestyle, **plotkwargs)
    if full:
        ax.set_xlabel(space.label)
        ax.set_ylabel("Extended probability density" if extended else "Probability density")
        ax.legend()
    return ax


def _projection(model, name, x, extended, order=64):
    """The density of an n-D model projected onto observable ``name`` at ``x``: the other observables
    integrated out over the model's space (Gauss-Legendre, ``order`` nodes each; points outside a
    space of several boxes or function limits count zero)."""
    others = [o for o in model.obs if o != name]
    lower, upper = np.atleast_1d(model.space.lower), np.atleast_1d(model.space.upper)
    t, w = np.polynomial.legendre.leggauss(order)
    grids, weights = [], np.ones(1)
    for o in others:
        k = model.obs.index(o)
        half = 0.5 * (upper[k] - lower[k])
        grids.append(lower[k] + half * (t + 1.0))
        weights = np.multiply.outer(weights, half * w).ravel()
    mesh = np.stack([g.ravel() for g in np.meshgrid(*grids, indexing="ij")], axis=1)
    points = np.empty((len(x) * len(mesh), len(model.obs)))
    points[:, model.obs.index(name)] = np.repeat(x, len(mesh))
    for j, o in enumerate(others):
        points[:, model.obs.index(o)] = np.tile(mesh[:, j], len(x))
    inside = model.space.inside(points)
    values = np.zeros(len(points))
    chosen = points[inside]
    values[inside] = np.asarray(model.ext_pdf(chosen) if extended else model.pdf(chosen), dtype=float)
    return values.reshape(len(x), len(mesh)) @ weights


def _sum_parts(model, extended):
    """(component, scale, extended) to draw each component of a sum with."""
    if not _is_sum(model):
        raise ValueError(f"components can be drawn for a SumPDF, not {type(model).__name__} {model.name!r}")
    fractions = model._fractions()
    if extended and model._weight_mode == "yields":
        return [(p, 1.0, True) for p in model.pdfs]
    scale = float(model.get_yield().value()) if extended else 1.0
    return [(p, scale * f, False) for p, f in zip(model.pdfs, fractions)]


def plot_sumpdf_components_pdfV1(model, *, plotfunc=None, scale=1, ax=None, linestyle=None, plotkwargs=None,
                                 extended=None):
    """Draw each component of a :class:`~nfit.pdf.SumPDF` (dashed by default), scaled by its
    fraction (or, extended, by its yield).

    Example
    -------
    >>> import nfit, matplotlib
    >>> matplotlib.use("Agg")
    >>> obs = nfit.Space("x", limits=(0, 1))
    >>> s = nfit.pdf.SumPDF([nfit.pdf.Uniform(0.0, 1.0, obs=obs), nfit.pdf.Gauss(mu=0.5, sigma=0.1, obs=obs)], 0.3)
    >>> import matplotlib.pyplot as plt
    >>> len(plot_sumpdf_components_pdfV1(s, ax=plt.figure().gca()).lines)
    2
    """
    extended = model.is_extended if extended is None else extended
    draw = plot_model_pdf if plotfunc is None else plotfunc
    ax = _axes(ax)
    for component, factor, ext in _sum_parts(model, extended):
        draw(component, scale=scale * factor, ax=ax, linestyle="--" if linestyle is None else linestyle,
             extended=ext, plotkwargs=dict(plotkwargs or {}))
    return ax


def _histogram_of(data, bins=50):
    """(values, errors or None, edges, label) of unbinned data in ``bins`` bins, or of BinnedData."""
    from .data import BinnedData

    if not isinstance(data, BinnedData):
        data = data.to_binned(bins)
    variances = data.variances()
    return (np.array(data.values(), dtype=float), None if variances is None else np.sqrt(variances),
            data.space.binning[0].edges, data.label)


class PDFPlotter:
    """``model.plot``: zfit's plotting interface of a pdf (see the module docstring).

    Example
    -------
    >>> import nfit, matplotlib
    >>> matplotlib.use("Agg")
    >>> g = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=nfit.Space("x", limits=(-3, 3)), extended=100.0)
    >>> ax = g.plot(g.sample(rng=2))   # data in counts per bin, the model scaled to them
    """

    def __init__(self, pdf, components=False):
        self.pdf = pdf
        self._components = components

    @property
    def comp(self):
        """The plotter of the components (a SumPDF), or None."""
        if self._components or not _is_sum(self.pdf):
            return None
        return PDFPlotter(self.pdf, components=True)

    def __call__(self, data=None, **kwargs):
        return self.plotpdf(data, **kwargs)

    def plotpdf(self, data=None, *, depth=None, density=None, plotfunc=None, extended=None, obs=None, scale=None,
                ax=None, num=None, full=None, linestyle=None, plotkwargs=None, histplotkwargs=None):
        """The model's density as a curve (300 points); with ``data`` (unbinned: in 50 bins, or
        BinnedData with its own binning) the data's histogram too, and the curve scaled to it:
        counts per bin for an extended model, else both normalised (``density=True``: per unit of
        x). ``depth`` (1): the components of a sum, dotted."""
        pdf = self.pdf
        extended = pdf.is_extended if extended is None else extended
        if extended and not pdf.is_extended:
            raise ValueError(f"extended=True, but model {pdf.name!r} is not extended")
        scale = 1.0 if scale is None else float(np.asarray(scale))
        depth = 1 if depth is None else depth
        ax = _axes(ax)
        if data is None:
            if density is not None or histplotkwargs is not None:
                raise ValueError("density= and histplotkwargs= need data to plot")
        else:
            import mplhep

            density = (not extended) if density is None else density
            values, errors, edges, label = _histogram_of(data)
            widths = np.diff(edges)
            total = values.sum()
            if density:
                values, errors = values / widths, None if errors is None else errors / widths
            else:
                scale *= float(np.mean(widths))  # a density per unit of x becomes a count per bin
            if not extended:
                values, errors = values / total, None if errors is None else errors / total
            mplhep.histplot((values, edges), yerr=errors, ax=ax, label=label, **dict(histplotkwargs or {}))
        options = dict(plotfunc=plotfunc, obs=obs, ax=ax, num=num, full=full, plotkwargs=plotkwargs)
        if self._components:
            parts = _sum_parts(pdf, extended)
            for component, factor, ext in parts:
                plot_model_pdf(component, extended=ext, scale=scale * factor, linestyle=linestyle or "--", **options)
            return ax
        plot_model_pdf(pdf, extended=extended, scale=scale, linestyle=linestyle, **options)
        if depth and self.comp is not None:
            self.comp.plotpdf(extended=extended, scale=scale, linestyle=linestyle or ":", depth=depth - 1,
                              **options)
        return ax


def fit_counts(model, data, bins=50):
    """``(edges, observed, expected, pulls)`` per bin: the data's counts (unbinned data in ``bins``
    bins over the model's range, or BinnedData's own bins), the model's expected counts (its yield,
    or the data's total, times its exact bin probabilities; a binned model's own counts) and the
    pulls ``(n - mu) / sqrt(n)`` (0 in empty bins) that :func:`plot_fit` draws.

    Example
    -------
    >>> import nfit
    >>> u = nfit.pdf.Uniform(0.0, 1.0, obs=nfit.Space("x", limits=(0, 1)))
    >>> data = nfit.data.BinnedData.from_tensor(nfit.Space("x", limits=(0, 1), binning=2), [4.0, 6.0])
    >>> fit_counts(u, data)[2].tolist()
    [5.0, 5.0]
    """
    data = _binned_for(model, data, bins)
    values = np.array(data.values(), dtype=float)
    edges = data.space.binning[0].edges
    expected = _expected(model, data, values.sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        pulls = np.where(values > 0, (values - expected) / np.sqrt(values), 0.0)
    return edges, values, expected, pulls


def _binned_model(model, data):
    """The model on the data's bins: a binned model as it is (same binning), an unbinned one binned."""
    if getattr(model.space, "is_binned", False):
        if model.space.binning != data.space.binning:
            raise ValueError(f"model {model.name!r} is binned as {model.space}, the data as {data.space}")
        return model
    space = _plot_space(model, None).with_binning(_binning_of(data.space.binning[0].edges, model.obs[0]))
    return model.to_binned(space)


def _expected(model, data, total):
    """The expected counts per bin of the data's binning: extended models their yield's share, others
    the data's total's."""
    binned = _binned_model(model, data)
    if model.is_extended:
        return np.asarray(binned.counts(), dtype=float) if binned.is_extended else \
            float(model.get_yield().value()) * binned.rel_counts()
    return total * binned.rel_counts()


def _component_counts(model, data, total):
    """[(label, expected counts per bin)] of the components of a sum (unbinned or binned)."""
    parts = []
    if _is_sum(model) and not getattr(model.space, "is_binned", False):
        scale = float(model.get_yield().value()) if model.is_extended else total
        for component, fraction, _ in _sum_parts(model, False):
            parts.append((component.label, scale * fraction * _binned_model(component, data).rel_counts()))
    elif hasattr(model, "get_models") and getattr(model.space, "is_binned", False):
        if model.is_extended and all(m.is_extended for m in model.get_models()):
            parts = [(m.label, np.asarray(m.counts(), dtype=float)) for m in model.get_models()]
        else:
            fractions = [f.value() for f in model._fracs]
            fractions.append(1.0 - sum(fractions))
            parts = [(m.label, total * f * m.rel_counts()) for m, f in zip(model.get_models(), fractions)]
    return parts


def plot_fit(model, data, bins=50, components=True, pulls=True, ax=None):
    """The data with Poisson errors, the model and its components as expected counts per bin (exact
    bin integrals, drawn as steps), and a panel of pulls ``(n_i - mu_i) / sqrt(n_i)``; unbinned or
    binned models and data. Returns ``(ax, ax_pulls)`` (``ax_pulls`` None without pulls).

    Example
    -------
    >>> import nfit, matplotlib
    >>> matplotlib.use("Agg")
    >>> g = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=nfit.Space("x", limits=(-3, 3)))
    >>> ax, ax_pulls = plot_fit(g, g.sample(1000, rng=3), bins=20)
    >>> ax_pulls.patches[0].get_data().values.size
    20
    """
    import mplhep

    plt = _pyplot()
    binned = _binned_for(model, data, bins)
    edges, values, expected, pull = fit_counts(model, binned, bins)
    _, errors, _, label = _histogram_of(binned)
    if ax is None:
        if pulls:
            _, (ax, ax_pulls) = plt.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
        else:
            ax, ax_pulls = plt.gca(), None
    else:
        ax_pulls = ax.inset_axes([0.0, -0.35, 1.0, 0.25], sharex=ax) if pulls else None
    errors = np.sqrt(values) if errors is None else errors
    mplhep.histplot((values, edges), yerr=errors, ax=ax, histtype="errorbar", color="black", label=label)
    ax.stairs(expected, edges, label=model.label, linewidth=1.5)
    if components:
        for name, counts in _component_counts(model, binned, values.sum()):
            ax.stairs(counts, edges, label=name, linestyle="--")
    widths = np.diff(edges)
    ax.set_ylabel(f"Counts / {widths[0]:.3g}" if np.allclose(widths, widths[0]) else "Counts per bin")
    ax.legend()
    if ax_pulls is not None:
        ax_pulls.stairs(pull, edges, fill=True, alpha=0.6)
        ax_pulls.axhline(0.0, color="black", linewidth=0.8)
        ax_pulls.set_ylabel("pull")
        ax_pulls.set_xlabel(model.space.label)
    else:
        ax.set_xlabel(model.space.label)
    return ax, ax_pulls


def _binned_for(model, data, bins):
    """BinnedData as it is, or unbinned data in ``bins`` bins over the model's range."""
    from .data import BinnedData

    if isinstance(data, BinnedData):
        return data
    return data.to_binned(_plot_space(model, None).with_binning(bins))


def _is_sum(model):
    # a SumPDF (duck-typed: nfit.pdf builds on this module, not the other way round)
    return hasattr(model, "_weight_mode") and hasattr(model, "pdfs")


def _binning_of(edges, name):
    from .binned import VariableBinning

    return VariableBinning(edges, name=name)
