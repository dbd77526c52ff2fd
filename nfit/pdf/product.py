"""Products of pdfs: over different observables (the normalisation factorises), or on the same
observable (an efficiency times a shape: one density, normalised numerically)."""
from __future__ import annotations

from ..space import Space
from .base import _PRODUCT, BasePDF


class ProductPDF(BasePDF):
    """The product of pdfs: ``f(x, y) = f1(x) f2(y)`` over different observables, where the
    normalisation factorises over a rectangular range (each factor normalised over its part of it);
    or factors sharing observables (an efficiency times a shape, ``eff(x) * g(x)``), whose product
    is normalised numerically (adaptive quadrature in one observable, a product grid in more).

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
        self._shared = False  # factors over the same observables: one joint density, normalised numerically
        for p in pdfs:
            self._shared |= any(o in seen for o in p.obs)
            seen += [o for o in p.obs if o not in seen]
        space = _joint_space(pdfs, name) if self._shared else pdfs[0].space
        if not self._shared:
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
        if self._shared:
            return None
        if norm is None:
            return None
        if len(norm.boxes) != 1:
            raise NotImplementedError(
                f"ProductPDF {self.name!r}: a normalisation range made of several boxes does not factorise")
        return norm.with_obs(pdf.obs)

    def _integrates_regions(self) -> bool:
        return True

    def _build(self, ctx, x, norm, scale=None):
        if self._shared or _region(norm):  # one joint density, normalised numerically
            value = self._joint(ctx, x)
            if norm is not None:
                integral = self._integral(ctx, norm)
                scale = 1.0 / integral if scale is None else scale / integral
            return value if scale is None else value * scale
        total = None
        for i, p in enumerate(self.pdfs):
            part = p._build(ctx, x, self._factor_norm(norm, p), scale if i == 0 else None)
            total = part if total is None else total * part
        return total

    # ------------------------------------------------------------------ factors on shared observables
    def _joint(self, ctx, x):
        """The product of the factors' unnormalised densities (their constants cancel in the norm)."""
        total = None
        for p in self.pdfs:
            part = p._build(ctx, {o: x[o] for o in p.obs}, None)
            total = part if total is None else total * part
        return total

    def _integral(self, ctx, space):
        """The integral of the unnormalised product over ``space``, by quadrature."""
        from .custom import grid_integral

        if self.n_obs > 1:
            return grid_integral(ctx, lambda x: self._joint(ctx, dict(zip(self.obs, x))), space, self.obs)
        total = None
        for lo, hi in space.with_obs(self.obs).boxes:
            part = ctx.quad_sum(lambda node: self._joint(ctx, {self.obs[0]: node}), self._quad_nodes(lo[0], hi[0]))
            total = part if total is None else total + part
        return total

    def _normalised_integral(self, limits, norm):
        if self._shared or _region(limits) or _region(norm):
            return self._integral_ratio(limits, norm)
        total = 0.0
        for lo, hi in limits.boxes:
            from ..space import Space

            box = Space._from_boxes(limits.obs, [(lo, hi)])
            value = 1.0
            for p in self.pdfs:
                value *= p._normalised_integral(box.with_obs(p.obs), self._factor_norm(norm, p))
            total += value
        return total


def _region(space) -> bool:
    """Whether ``space`` has function limits in several observables (its volume does not factorise)."""
    return space is not None and space.has_function_limits and space.n_obs > 1


def _joint_space(pdfs, name):
    """The space of factors that share observables: each observable with the range of the first
    factor that has it (one box each)."""
    obs, lower, upper = [], [], []
    for p in pdfs:
        if len(p.space.boxes) != 1:
            raise NotImplementedError(f"ProductPDF {name!r}: factors on shared observables need plain ranges")
        lo, hi = p.space.boxes[0]
        for o, a, b in zip(p.obs, lo, hi):
            if o not in obs:
                obs.append(o)
                lower.append(a)
                upper.append(b)
    return Space(tuple(obs), limits=(lower, upper))


_PRODUCT.append(ProductPDF)  # what ``pdf1 * pdf2`` makes
