"""A smooth unbinned density from a binned pdf (zfit's ``SplinePDF``): the bin densities at the bin
centres, interpolated by a polyharmonic spline as zfit does it (order 2, the thin-plate kernel
``phi(r2) = r2 log(r2) / 2`` of the squared distance, plus a linear term).

The spline is linear in the bin densities, which nfit builds in the fused kernel from the binned
pdf's parameters (templates, yields, morphing), so a fit of the smooth density has exact
derivatives; its normalisation integrates the spline in closed form.

>>> import numpy as np, nfit
>>> bobs = nfit.Space("x", limits=(0, 4), binning=4)
>>> hist = nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(bobs, [1.0, 3.0, 3.0, 1.0]), extended=False)
>>> smooth = SplinePDF(hist)
>>> round(float(smooth.integrate((0, 4))[0]), 12)
1.0
"""
from __future__ import annotations

import numpy as np

from ..ad import Dual
from .base import BasePDF
from .binnedpdf import BaseBinnedPDF, Bins, evaluated, table_columns

__all__ = ["SplinePDF"]

EPSILON = 1e-10  # zfit's floor under the squared distance


def phi(r2, order):
    """The polyharmonic kernel of ``order`` at the squared distance ``r2`` (NumPy), as zfit has it."""
    floor = np.maximum(r2, EPSILON)
    if order == 1:
        return np.sqrt(floor)
    if order == 2:
        return 0.5 * r2 * np.log(floor)
    if order == 4:
        return 0.5 * r2 * r2 * np.log(floor)
    if order % 2 == 0:
        return 0.5 * floor ** (0.5 * order) * np.log(floor)
    return floor ** (0.5 * order)


def phi_primitive(u, order):
    """A primitive in ``u`` of ``phi(u**2)`` (the floor under ``r2`` left out: it changes the integral by
    less than 1e-15)."""
    u = np.asarray(u, dtype=float)
    if order % 2 == 1:
        return u * np.abs(u) ** order / (order + 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        log = np.where(u == 0.0, 0.0, np.log(np.where(u == 0.0, 1.0, u * u)))
    return u ** (order + 1) / (order + 1) * (0.5 * log - 1.0 / (order + 1))


def spline_system(centers, order) -> tuple:
    """``(W, V)``: the interpolant of values ``f`` at ``centers`` is ``sum_j phi((x - c_j)**2) (W f)_j +
    (V f)_0 x + (V f)_1``."""
    c = np.asarray(centers, dtype=float)
    n = len(c)
    system = np.zeros((n + 2, n + 2))
    system[:n, :n] = phi((c[:, None] - c[None, :]) ** 2, order)
    system[:n, n] = system[n, :n] = c
    system[:n, n + 1] = system[n + 1, :n] = 1.0
    inverse = np.linalg.inv(system)[:, :n]
    return inverse[:n], inverse[n:]


class SplinePDF(BasePDF):
    """The binned ``pdf`` made smooth by spline interpolation of its bin densities at the bin centres
    (zfit's signature). ``order``: the polyharmonic order of the spline, 1 to 5 (default 2, what zfit's
    ``pdf`` uses; zfit applies its ``order`` argument, default 3, to ``ext_pdf`` only, nfit to the
    density). ``obs``: the unbinned space (default: the pdf's without binning). Extended as the
    binned pdf is, unless ``extended`` says otherwise. Unlike zfit, nfit normalises the spline over
    the normalisation range (zfit returns it as it is; its integral is 1 only approximately).

    Example
    -------
    >>> import nfit
    >>> bobs = nfit.Space("x", limits=(0, 2), binning=2)
    >>> hist = nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(bobs, [2.0, 2.0]))
    >>> SplinePDF(hist).pdf([0.3, 1.7]).round(6).tolist()   # flat histogram, flat spline
    [0.5, 0.5]
    """

    def __init__(self, pdf, order=None, obs=None, *, extended=None, norm=None, name="SplinePDF", label=None):
        if not isinstance(pdf, BaseBinnedPDF):
            raise TypeError(f"SplinePDF {name!r}: pdf must be a binned nfit pdf, got {pdf!r}")
        if pdf.n_obs != 1:
            raise NotImplementedError(f"SplinePDF {name!r}: {pdf.name!r} has {pdf.n_obs} observables; one is supported")
        order = 2 if order is None else order
        if order not in (1, 2, 3, 4, 5):
            raise ValueError(f"SplinePDF {name!r}: order must be 1 to 5, got {order!r}")
        if extended is None or extended is True:
            if extended is True and not pdf.is_extended:
                raise ValueError(f"SplinePDF {name!r}: extended=True takes the yield of {pdf.name!r}, which is not "
                                 "extended")
            extended = pdf.get_yield() if pdf.is_extended else None
        elif extended is False:
            extended = None
        space = pdf.space.with_binning(None) if obs is None else obs
        self.pdfs = [pdf]
        self.order = int(order)
        binning = pdf.space.binning[0]
        self._edges = np.asarray(binning.edges, dtype=float)
        self._centers = 0.5 * (self._edges[:-1] + self._edges[1:])
        self._w, self._v = spline_system(self._centers, self.order)
        super().__init__(space, {}, name=name, extended=extended, label=label or f"splined_{pdf.label}", norm=norm)

    def _children(self):
        return list(self.pdfs)

    def _shape_params(self):
        return list(self.pdfs[0]._shape_params())

    def _derivative_order(self):
        return self.pdfs[0]._derivative_order()

    def _coefficients(self, ctx):
        """Per call: the spline's weights ``(A_j, B0, B1)`` from the binned pdf's densities, as Duals."""
        store = ctx.__dict__.setdefault("_spline_coefficients", {})
        if id(self) in store:
            return store[id(self)]
        pdf = self.pdfs[0]
        columns = table_columns(pdf)
        if ctx.writes_code and any(callable(table) for _, _, table in columns):
            raise NotImplementedError(f"SplinePDF {self.name!r}: {pdf.name!r} computes its bins in Python "
                                      "(_rel_counts and friends); fit this SplinePDF with mode='eager'")
        tables = [(leaf, key, np.asarray(evaluated(table, None), dtype=float)) for leaf, key, table in columns]
        per_bin = [Bins(ctx.const(self._edges[j]), ctx.const(self._edges[j + 1]),
                        {(leaf._uid, key): ctx.const(float(table[j])) for leaf, key, table in tables})
                   for j in range(len(self._centers))]
        if pdf.is_extended:
            # the counts over their sum: every bin is at hand here, so also pdfs whose probabilities
            # need the sum over all bins (a BinwiseScaleModifier) work
            counts = [pdf._build_counts(ctx, bins) for bins in per_bin]
            total = counts[0]
            for c in counts[1:]:
                total = total + c
            rel = [c / total for c in counts]
        else:
            rel = [pdf._build_rel(ctx, bins) for bins in per_bin]
        widths = np.diff(self._edges)
        densities = [r * (1.0 / w) for r, w in zip(rel, widths)]

        def combine(row):
            total = None
            for weight, d in zip(row, densities):
                if weight != 0.0:
                    part = d * float(weight)
                    total = part if total is None else total + part
            return total if total is not None else Dual(ctx.be, ctx.be.lift(0.0))

        store[id(self)] = ([combine(row) for row in self._w], combine(self._v[0]), combine(self._v[1]))
        return store[id(self)]

    def _kernel(self, ctx, u):
        """``phi(u**2)`` as a Dual of the events' (or limits') distance ``u`` (a backend number)."""
        be = ctx.be
        r2 = be.mul(u, u)
        floor = be.where(be.cmp("gt", r2, be.lift(EPSILON)), r2, be.lift(EPSILON))
        order = self.order
        if order == 1:
            value = be.func("sqrt", floor)
        elif order % 2 == 0:
            power = r2 if order == 2 else (be.mul(r2, r2) if order == 4 else be.pow(floor, be.lift(0.5 * order)))
            value = be.mul(be.mul(be.lift(0.5), power), be.func("log", floor))
        else:
            value = be.pow(floor, be.lift(0.5 * order))
        return value

    def _spline(self, ctx, x):
        weights, slope, offset = self._coefficients(ctx)
        total = slope * Dual(ctx.be, x) + offset
        for c, a in zip(self._centers, weights):
            u = ctx.be.sub(x, ctx.const(c))
            total = total + a * Dual(ctx.be, self._kernel(ctx, u))
        return total

    def _integral_dual(self, ctx, lower, upper):
        weights, slope, offset = self._coefficients(ctx)
        lower, upper = float(lower), float(upper)
        total = slope * (0.5 * (upper * upper - lower * lower)) + offset * (upper - lower)
        for c, a in zip(self._centers, weights):
            piece = float(phi_primitive(upper - c, self.order) - phi_primitive(lower - c, self.order))
            total = total + a * piece
        return total

    def _build(self, ctx, x, norm, scale=None):
        from .shape import normalised

        return normalised(self, ctx, self._spline(ctx, x[self.obs[0]]), norm, scale)
