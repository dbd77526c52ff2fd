"""Products of pdfs over different observables."""
from __future__ import annotations

from .base import _PRODUCT, BasePDF


class ProductPDF(BasePDF):
    """The product of pdfs over disjoint sets of observables: ``f(x, y) = f1(x) f2(y)``.

    The normalisation factorises over a rectangular range: each factor is normalised over its own
    observables' part of it.

    Example
    -------
    >>> import nfit
    >>> x = nfit.Space("x", limits=(-3, 3)); y = nfit.Space("y", limits=(0, 2))
    >>> px = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=x)
    >>> py = nfit.pdf.Exponential(lam=-1.0, obs=y)
    >>> prod = nfit.pdf.ProductPDF([px, py])
    >>> prod.obs, round(float(prod.integrate(((-3, 0), (3, 2)))[0]), 9)
    (('x', 'y'), 1.0)
    """

    def __init__(self, pdfs, obs=None, *, extended=None, norm=None, name="ProductPDF", label=None):
        pdfs = list(pdfs)
        if len(pdfs) < 1 or not all(isinstance(p, BasePDF) for p in pdfs):
            raise TypeError(f"ProductPDF {name!r}: pdfs must be a list of nfit pdfs")
        seen = []
        for p in pdfs:
            shared = [o for o in p.obs if o in seen]
            if shared:
                raise ValueError(f"ProductPDF {name!r}: observables {shared} appear in more than one factor; "
                                 "only products over different observables are supported")
            seen += list(p.obs)
        space = pdfs[0].space
        for p in pdfs[1:]:
            space = space * p.space
        if obs is not None:
            if set(obs.obs) != set(space.obs):
                raise ValueError(f"ProductPDF {name!r}: obs {obs.obs} do not match the factors' {space.obs}")
            space = obs
        self.pdfs = pdfs
        super().__init__(space, {}, name=name, extended=extended, label=label, norm=norm)

    def _children(self):
        return list(self.pdfs)

    def _shape_params(self):
        out = []
        for p in self.pdfs:
            out += p._shape_params()
        return out

    def _derivative_order(self):
        return min(p._derivative_order() for p in self.pdfs)

    def _factor_norm(self, norm, pdf):
        if norm is None:
            return None
        if len(norm.boxes) != 1:
            raise NotImplementedError(
                f"ProductPDF {self.name!r}: a normalisation range made of several boxes does not factorise")
        return norm.with_obs(pdf.obs)

    def _build(self, ctx, x, norm, scale=None):
        total = None
        for i, p in enumerate(self.pdfs):
            part = p._build(ctx, x, self._factor_norm(norm, p), scale if i == 0 else None)
            total = part if total is None else total * part
        return total

    def _normalised_integral(self, values, limits, norm):
        total = 0.0
        for lo, hi in limits.boxes:
            from ..space import Space

            box = Space._from_boxes(limits.obs, [(lo, hi)])
            value = 1.0
            for p in self.pdfs:
                value *= p._normalised_integral(values, box.with_obs(p.obs), self._factor_norm(norm, p))
            total += value
        return total


_PRODUCT.append(ProductPDF)  # what ``pdf1 * pdf2`` makes
