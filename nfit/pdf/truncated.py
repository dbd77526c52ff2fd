"""A pdf cut to one or several ranges of its space and renormalised there (zfit's ``TruncatedPDF``)."""
from __future__ import annotations

from ..ad import Dual, where
from ..space import Space
from .base import _TRUNCATED, BasePDF


class TruncatedPDF(BasePDF):
    """``pdf`` restricted to ``limits`` (a Space, ``(low, high)``, or a list of those: several ranges),
    zero elsewhere and normalised over the union of the ranges (within ``norm=`` where given).

    The daughter's own integrals normalise it (closed forms where it has them), so derivatives
    stay exact on both paths.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", -5, 5)
    >>> gauss = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=obs)
    >>> cut = TruncatedPDF(gauss, limits=[(-3, -1), (1, 3)])
    >>> round(float(cut.integrate((1, 3))[0]), 12), float(cut.pdf([0.0])[0])
    (0.5, 0.0)
    """

    def __init__(self, pdf, limits, obs=None, *, extended=None, norm=None, name="TruncatedPDF", label=None):
        if not isinstance(pdf, BasePDF):
            raise TypeError(f"TruncatedPDF {name!r}: pdf must be an nfit pdf, got {pdf!r}")
        space = pdf.space if obs is None else obs
        if not isinstance(space, Space) or set(space.obs) != set(pdf.obs):
            raise ValueError(f"TruncatedPDF {name!r}: obs must be a Space over {pdf.obs}")
        self.pdfs = [pdf]  # zfit's functor attribute (``self.pdf`` is the density method)
        self.limits = _union(limits, pdf.obs, name)
        super().__init__(space, {}, name=name, extended=extended, label=label, norm=norm)

    def _children(self):
        return list(self.pdfs)

    def _shape_params(self):
        return self.pdfs[0]._shape_params()

    def _derivative_order(self):
        return self.pdfs[0]._derivative_order()

    def _region(self, space, required=True):
        """The part of ``space`` inside the truncation ranges (None where they do not overlap)."""
        region = _intersection(space.with_obs(self.pdfs[0].obs), self.limits, self.name)
        if region is None and required:
            raise ValueError(f"TruncatedPDF {self.name!r}: {space} does not overlap the ranges {self.limits}")
        return region

    def _build(self, ctx, x, norm, scale=None):
        inner = None if norm is None else self._region(norm)
        value = self.pdfs[0]._build(ctx, x, inner, scale)
        be = ctx.be
        inside = None
        for lo, hi in self.limits.boxes:
            box = None
            for o, a, b in zip(self.pdfs[0].obs, lo, hi):
                cond = be.mul(be.cmp("ge", x[o], ctx.const(a)), be.cmp("le", x[o], ctx.const(b)))
                box = cond if box is None else be.mul(box, cond)
            inside = box if inside is None else be.add(inside, box)
        zero = Dual(be, be.lift(0.0))
        return where(be, be.cmp("gt", inside, be.lift(0.5)), value, zero)

    def _normalised_integral(self, limits, norm):
        region = self._region(limits, required=False)
        if region is None:
            return 0.0
        return self.pdfs[0]._normalised_integral(region, None if norm is None else self._region(norm))


def _union(limits, obs, name) -> Space:
    """``limits`` as one Space over ``obs``: a Space, ``(low, high)``, or a list of those (disjoint)."""
    if isinstance(limits, Space):
        return limits.with_obs(obs)
    several = isinstance(limits, list) or (isinstance(limits, tuple) and any(
        isinstance(part, (Space, list, tuple)) for part in limits))  # zfit: a tuple of Spaces is several ranges
    if several:
        parts = [_union(part, obs, name) for part in limits]
        if not parts:
            raise ValueError(f"TruncatedPDF {name!r}: give at least one range")
        total = parts[0]
        for part in parts[1:]:
            total = total + part
        return total
    return Space(obs, limits=limits)


def _intersection(a: Space, b: Space, name) -> Space:
    """The boxes where ``a`` and ``b`` overlap (same observables)."""
    boxes = []
    for lo1, hi1 in a.boxes:
        for lo2, hi2 in b.with_obs(a.obs).boxes:
            lo = tuple(max(p, q) for p, q in zip(lo1, lo2))
            hi = tuple(min(p, q) for p, q in zip(hi1, hi2))
            if all(p < q for p, q in zip(lo, hi)):
                boxes.append((lo, hi))
    if not boxes:
        return None
    return Space._from_boxes(a.obs, boxes)


_TRUNCATED.append(TruncatedPDF)  # what ``pdf.to_truncated(limits)`` makes
