"""A histogram as a pdf: a binned template (bin probabilities = the histogram's normalised
counts), and at the same time a piecewise-constant density for unbinned events."""
from __future__ import annotations

import numpy as np

from ..kernels import binned
from ..space import Space
from .base import BasePDF
from .binnedpdf import _UNBINNED, BaseBinnedPDF
from .table import TablePDF

__all__ = ["HistogramPDF"]


def _histogram_input(data, obs):
    """(counts, variances or None, binned space) from a hist.Hist, BinnedData or (counts, edges)."""
    from ..binned import VariableBinning
    from ..data import BinnedData

    if isinstance(data, BinnedData):
        return data.values(), data.variances(), data.space, True
    if hasattr(data, "values") and hasattr(data, "axes"):  # a hist.Hist
        bd = BinnedData.from_hist(data)
        return bd.values(), bd.variances(), bd.space, True
    counts, edges = data
    counts, edges = np.asarray(counts, dtype=float), np.asarray(edges, dtype=float)
    if edges.ndim != 1 or counts.shape != (len(edges) - 1,) or np.any(np.diff(edges) <= 0):
        raise ValueError("HistogramPDF: need n counts and n + 1 increasing bin edges")
    if obs is None:
        raise ValueError("HistogramPDF: give obs=Space(...) with (counts, edges)")
    name = obs.obs[0] if isinstance(obs, Space) else str(obs)
    space = Space(name, binning=VariableBinning(edges, name=name))
    if isinstance(obs, Space) and obs.has_limits and not np.allclose(obs.limits, space.limits, rtol=1e-12):
        raise ValueError(f"HistogramPDF: the bin edges span {space.limits}, the space {obs}; they must agree")
    return counts, None, space, False


class HistogramPDF(BaseBinnedPDF, TablePDF):
    """A histogram as a pdf: bin probabilities ``counts / sum(counts)``; for unbinned events a
    density constant in each bin. Its statistical uncertainty (the variances, sums of squared
    weights) is what :class:`nfit.loss.TemplateNLL` profiles.

    ``data``: a ``hist.Hist`` (named axis) or :class:`~nfit.data.BinnedData` — then, as in zfit,
    ``extended=None`` makes it extended with the yield ``sum(counts)`` (``False``: not extended; a
    parameter: that yield) — or nfit's ``(counts, edges)`` with ``obs=`` (not extended unless asked).

    Example
    -------
    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", limits=(0, 3))
    >>> h = HistogramPDF((np.array([1.0, 2.0, 1.0]), np.array([0.0, 1.0, 2.0, 3.0])), obs=obs)
    >>> float(h.pdf(np.array([1.5]))[0]), h.rel_counts().tolist()
    (0.5, [0.25, 0.5, 0.25])
    """

    _kernel_module = binned
    _kernel_function = "histogram"

    def __init__(self, data, extended=None, norm=None, name="HistogramPDF", label=None, *, obs=None):
        counts, variances, space, from_histogram = _histogram_input(data, obs)
        if np.any(counts < 0) or not np.all(np.isfinite(counts)) or not counts.sum() > 0:
            raise ValueError(f"HistogramPDF {name!r}: counts must be finite, non-negative and not all zero")
        if extended is None and from_histogram:
            extended = float(counts.sum())
        if extended is False:
            extended = None
        self.edges, self.counts_ = space.binning[0].edges, counts
        self._variances = variances
        total = counts.sum()
        self._rel = counts / total
        self._rel_var = (counts if variances is None else variances) / total ** 2
        self._densities = counts / np.diff(self.edges)
        self._table = np.concatenate([self.edges, self._densities])
        self._size = len(counts)
        super().__init__(space, extended=extended, norm=norm, name=name, label=label, params={})

    # binned side
    def _tables(self):
        return {"rel": self._rel, "rel_var": self._rel_var}

    def _build_rel(self, ctx, bins):
        from ..ad import Dual

        return Dual(ctx.be, bins.table(self, "rel"))

    def _build_counts_var(self, ctx, bins):
        from ..ad import Dual

        y = ctx.param(self.get_yield())
        return self._build_counts(ctx, bins), Dual(ctx.be, bins.table(self, "rel_var")) * y * y

    # unbinned side: the piecewise-constant density (both paths)
    _build = TablePDF._build
    _derivative_order = TablePDF._derivative_order
    _normalised_integral = TablePDF._normalised_integral

    def _values(self, x):
        return binned.histogram_array(x, self.edges, self._densities)

    def _window(self, a, b):
        return binned.histogram_integral_array(a, b, self.edges, self._densities)

    def _cdf_table(self):
        return binned.piecewise_cdf_table(self.edges, self._densities, np.zeros_like(self._densities))

    _bin_integral_exact = TablePDF._bin_integral_exact
    _build_bin_integral = TablePDF._build_bin_integral

    def pdf(self, x, norm=None, *, mode=None, params=None):
        if getattr(getattr(x, "space", x), "is_binned", False):
            return super().pdf(x, norm, params=params)
        return BasePDF.pdf(self, x, norm, mode=mode, params=params)

    def integrate(self, limits=None, norm=None, *, mode=None, params=None):
        return BasePDF.integrate(self, self.space.with_binning(None) if limits is None else limits, norm,
                                 mode=mode, params=params)

    def _norm_space(self, norm):
        return BasePDF._norm_space(self, norm).with_binning(None) if norm is not False else None


_UNBINNED.append(HistogramPDF)  # what ``binned_pdf.to_unbinned()`` makes
