"""zfit's ``BaseFunctor``: a custom shape built from other pdfs.

Its ``_pdf`` or ``_unnormalized_pdf`` calls ``self.pdfs[i].pdf(x)``; when traced, each such call
becomes a node of the expression (the daughter builds its own code, normalisation included), so
the functor fuses into one kernel with exact derivatives like any other shape.
"""
from __future__ import annotations

from .base import BasePDF


class BaseFunctor(BasePDF):
    """Base class of a pdf made of daughter pdfs, as zfit's ``zfit.pdf.BaseFunctor``.

    ``obs`` defaults to the daughters' observables (all of them, in first-seen order); the
    parameters of the daughters count as the functor's own.

    Example
    -------
    >>> import nfit
    >>> class Square(nfit.pdf.BaseFunctor):
    ...     def __init__(self, pdf, name="Square"):
    ...         super().__init__(pdfs=[pdf], obs=pdf.space, name=name)
    ...     @nfit.supports()
    ...     def _unnormalized_pdf(self, x, params):
    ...         return self.pdfs[0].pdf(x) ** 2
    >>> gauss = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=nfit.Space("x", -5, 5))
    >>> square = Square(gauss)  # a Gaussian of width 1/sqrt(2)
    >>> round(float(square.integrate((-1, 1))[0]), 6)
    0.842701
    """

    def __init__(self, pdfs, obs=None, params=None, name="BaseFunctor", label=None, extended=None, norm=None,
                 **kwargs):
        pdfs = list(pdfs) if isinstance(pdfs, (list, tuple)) else [pdfs]
        if not pdfs or not all(isinstance(p, BasePDF) for p in pdfs):
            raise TypeError(f"{type(self).__name__} {name!r}: pdfs must be nfit pdfs, got {pdfs!r}")
        self.pdfs = pdfs
        if obs is None:
            obs = pdfs[0].space
            for p in pdfs[1:]:
                extra = [o for o in p.obs if o not in obs.obs]
                if extra:
                    obs = obs * p.space.with_obs(extra)
        super().__init__(obs, params, name=name, label=label, extended=extended, norm=norm, **kwargs)

    @property
    def models(self) -> list:
        return list(self.pdfs)

    def get_models(self, names=None) -> list:
        """The daughter pdfs (those named ``names``, if given)."""
        if names is None:
            return list(self.pdfs)
        names = [names] if isinstance(names, str) else list(names)
        return [p for p in self.pdfs if p.name in names]

    @property
    def pdfs_extended(self) -> list:
        return [p.is_extended for p in self.pdfs]

    def _children(self) -> list:
        return list(self.pdfs)

    def _shape_params(self) -> list:
        found = list(self.params.values())
        for p in self.pdfs:
            found += [q for q in p._shape_params() if q not in found]
        return found

    def _derivative_order(self) -> int:
        return min([super()._derivative_order()] + [p._derivative_order() for p in self.pdfs])
