"""Template morphing (zfit's ``SplineMorphingPDF``): histograms at a few values of a nuisance
parameter ``alpha``, interpolated bin by bin as zfit does it, with a polyharmonic spline of order 2
(the thin-plate kernel ``phi(r2) = r2 log(r2) / 2`` of the squared distance ``r2``, plus a linear
term) through the ``(alpha_k, value_k)`` points.

The spline is linear in the values, so each bin's morphed value is ``sum_k c_k(alpha) value_k`` with
coefficients ``c_k`` that depend on alpha only (they sum to 1); nfit builds them from alpha in the
fused kernel, so the fit gets exact derivatives in alpha and in every parameter of the templates.

>>> import numpy as np, nfit
>>> bobs = nfit.Space("x", limits=(0, 3), binning=3)
>>> hists = [nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(bobs, v), extended=False)
...          for v in ([1.0, 2.0, 1.0], [1.0, 1.0, 1.0], [2.0, 1.0, 1.0])]
>>> alpha = nfit.Parameter("alpha_morph", 0.0)
>>> morph = SplineMorphingPDF(alpha, hists)
>>> morph.rel_counts().round(4).tolist()     # at alpha = 0: the middle template
[0.3333, 0.3333, 0.3333]
"""
from __future__ import annotations

from .. import z
from ..ad import Dual, where
from ..param import ComposedParameter, convert_to_parameter
from .binnedpdf import BaseBinnedPDF
from .interpolation import EPSILON, spline_system

__all__ = ["SplineMorphingPDF"]

def spline_coefficients(knots) -> tuple:
    """``(W, V)`` of the order-2 polyharmonic spline through ``knots`` (see :func:`spline_system`)."""
    return spline_system(knots, 2)


class _MorphedYield:
    """The interpolated yield as a ComposedParameter's function (traceable with nfit.z: picklable)."""

    def __init__(self, knots):
        self.knots = [float(k) for k in knots]
        self.w, self.v = spline_coefficients(self.knots)

    def __call__(self, params):
        alpha = params["alpha"]
        yields = [params[f"yield{k}"] for k in range(len(self.knots))]
        total = 0.0
        for i, y in enumerate(yields):
            c = self.v[0, i] * alpha + self.v[1, i]
            for j, knot in enumerate(self.knots):
                r2 = (alpha - knot) ** 2
                c = c + self.w[j, i] * (0.5 * r2 * z.log(z.maximum(r2, EPSILON)))
            total = total + c * y
        return total


class SplineMorphingPDF(BaseBinnedPDF):
    """Binned templates morphed in ``alpha`` (zfit's signature). ``hists``: a {alpha value: binned pdf
    or histogram} mapping, or three of them for alpha = -1, 0, +1. ``extended``: None (extended when
    every template is), True (the yield is the templates' yields, morphed the same way), False, or a
    yield.

    Example
    -------
    >>> import nfit
    >>> bobs = nfit.Space("x", limits=(0, 2), binning=2)
    >>> low, mid, high = (nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(bobs, v))
    ...                   for v in ([30.0, 10.0], [20.0, 20.0], [10.0, 30.0]))
    >>> morph = SplineMorphingPDF(nfit.Parameter("alpha_doc", 1.0), [low, mid, high])
    >>> morph.counts().round(6).tolist()
    [10.0, 30.0]
    """

    def __init__(self, alpha, hists, *, extended=None, norm=None, name="SplineMorphingPDF", label=None):
        from .histogram import HistogramPDF

        if isinstance(hists, (list, tuple)):
            if len(hists) != 3:
                raise ValueError(f"SplineMorphingPDF {name!r}: a list of templates means alpha = -1, 0, +1 and needs "
                                 f"three, got {len(hists)}")
            hists = {float(k - 1): h for k, h in enumerate(hists)}
        if not isinstance(hists, dict) or len(hists) < 2:
            raise TypeError(f"SplineMorphingPDF {name!r}: hists must be a {{alpha value: template}} mapping (two or "
                            "more) or a list of three")
        templates = {}
        for value, hist in hists.items():
            templates[float(value)] = hist if isinstance(hist, BaseBinnedPDF) else HistogramPDF(hist)
        first = next(iter(templates.values()))
        for value, hist in templates.items():
            if hist.space.binning != first.space.binning or hist.obs != first.obs:
                raise ValueError(f"SplineMorphingPDF {name!r}: the template at alpha = {value} is binned as "
                                 f"{hist.space}, the first as {first.space}")
        self.hists = templates
        self.alpha = alpha = convert_to_parameter(alpha, name=f"{name}_alpha")
        self._knots = list(templates)
        self._w, self._v = spline_coefficients(self._knots)
        every_extended = all(h.is_extended for h in templates.values())
        self._morphed_yield = extended is True or (extended is None and every_extended)
        if extended is True and not every_extended:
            raise ValueError(f"SplineMorphingPDF {name!r}: extended=True morphs the templates' yields, so every "
                             "template must be extended")
        if self._morphed_yield:
            yields = {f"yield{k}": h.get_yield() for k, h in enumerate(templates.values())}
            extended = ComposedParameter(f"{name}_yield", _MorphedYield(self._knots), params={**yields, "alpha": alpha})
        elif extended is False:
            extended = None
        super().__init__(first.space, extended=extended, norm=norm, name=name, label=label, params={"alpha": alpha})

    @property
    def pdfs(self) -> list:
        return list(self.hists.values())

    def _children(self):
        return list(self.hists.values())

    def _shape_params(self):
        params = [self.alpha]
        for h in self.hists.values():
            for q in h._all_params() if self._morphed_yield else h._shape_params():
                if q not in params:
                    params.append(q)
        return params

    def _coefficients(self, ctx) -> list:
        """The spline's coefficient of each template at alpha, as Duals."""
        be = ctx.be
        alpha = ctx.param(self.alpha)
        floor = Dual(be, be.lift(EPSILON))
        kernels = []
        for knot in self._knots:
            d = alpha - knot
            r2 = d * d
            clipped = where(be, be.cmp("gt", r2.v, be.lift(EPSILON)), r2, floor)
            kernels.append(r2 * clipped.func("log") * 0.5)
        coefficients = []
        for i in range(len(self._knots)):
            c = alpha * float(self._v[0, i]) + float(self._v[1, i])
            for j, phi in enumerate(kernels):
                c = c + phi * float(self._w[j, i])
            coefficients.append(c)
        return coefficients

    def _build_rel(self, ctx, bins):
        total = None
        for c, hist in zip(self._coefficients(ctx), self.hists.values()):
            part = hist._build_rel(ctx, bins) * c
            total = part if total is None else total + part
        return total

    def _build_counts(self, ctx, bins):
        self._require_extended("counts")
        if not self._morphed_yield:
            return super()._build_counts(ctx, bins)
        total = None
        for c, hist in zip(self._coefficients(ctx), self.hists.values()):
            part = hist._build_counts(ctx, bins) * c
            total = part if total is None else total + part
        return total
