"""Per-event parameters read from the data (zfit's ``ConditionalPDFV1``): a decay-time fit with a
per-event resolution, fused into the kernel like any other pdf."""
from __future__ import annotations

from ..param import ComposedParameter, Parameter
from ..space import Space
from .base import BasePDF

__all__ = ["ConditionalPDFV1"]


class ConditionalPDFV1(BasePDF):
    """``pdf`` with the parameters in ``cond`` ({parameter: Space of a data column}) taken, event by
    event, from that column; each event's density is normalised over ``pdf``'s observables with its own
    values. The data carry both the pdf's observables and the conditional ones. Parameters computed
    from a conditional one (``sigma_i * scale``, a traced ComposedParameter) follow it.

    Example
    -------
    >>> import numpy as np, nfit
    >>> x = nfit.Space("x", limits=(-5, 5)); s = nfit.Space("s", limits=(0.1, 3))
    >>> sigma = nfit.Parameter("sigma_cond", 1.0)
    >>> cond = ConditionalPDFV1(nfit.pdf.Gauss(mu=0.0, sigma=sigma, obs=x), cond={sigma: s})
    >>> data = nfit.Data.from_numpy(x * s, np.array([[0.0, 1.0], [0.0, 2.0]]))
    >>> np.round(cond.pdf(data), 6).tolist()     # each Gauss of width sigma_i, normalised over x
    [0.398943, 0.20198]
    """

    def __init__(self, pdf, cond, *, extended=None, norm=None, name="ConditionalPDFV1", label=None):
        if not isinstance(pdf, BasePDF):
            raise TypeError(f"ConditionalPDFV1 {name!r}: pdf must be an nfit pdf, got {pdf!r}")
        if not isinstance(cond, dict) or not cond:
            raise TypeError(f"ConditionalPDFV1 {name!r}: cond must be a dict {{parameter: Space}}, got {cond!r}")
        self.pdfs = [pdf]
        self.cond = {}
        for p, space in cond.items():
            if not isinstance(p, Parameter):
                raise TypeError(f"ConditionalPDFV1 {name!r}: the keys of cond must be Parameters, got {p!r}")
            if p not in pdf.get_params(floating=None):
                raise ValueError(f"ConditionalPDFV1 {name!r}: pdf {pdf.name!r} does not depend on {p.name!r}")
            if not isinstance(space, Space) or space.n_obs != 1:
                raise TypeError(f"ConditionalPDFV1 {name!r}: cond[{p.name!r}] must be a one-dimensional Space")
            if space.obs[0] in pdf.obs:
                raise ValueError(f"ConditionalPDFV1 {name!r}: {space.obs[0]!r} is an observable of the pdf itself")
            self.cond[p] = space
        full = pdf.space
        for space in self.cond.values():
            full = full * space
        super().__init__(full, {}, name=name, extended=extended, label=label, norm=norm)

    def _children(self):
        return list(self.pdfs)

    def _shape_params(self):
        # the conditional parameters are data here, not parameters of the model; a parameter computed
        # from one is computed per event, so only its other inputs are the model's
        found = []

        def add(p):
            if p in self.cond or p in found:
                return
            if isinstance(p, ComposedParameter) and _depends(p, self.cond):
                for q in p.params.values():
                    add(q)
                return
            found.append(p)

        for p in self.pdfs[0]._shape_params():
            add(p)
        return found

    def _derivative_order(self):
        return self.pdfs[0]._derivative_order()

    def _build(self, ctx, x, norm, scale=None):
        from ..ad import Dual

        pdf = self.pdfs[0]
        inner = pdf.obs
        per_event = {p: Dual(ctx.be, x[space.obs[0]]) for p, space in self.cond.items()}
        for p in _composed_users(pdf, self.cond):
            if p.traced() is None:
                raise NotImplementedError(f"ConditionalPDFV1 {self.name!r}: ComposedParameter {p.name!r} depends on a "
                                          "conditional parameter through a Python function; write it with nfit.z "
                                          "math so that it can follow the data")
        saved = ctx._params
        ctx._params = dict(per_event)  # composed parameters are rebuilt from the per-event values
        try:
            pdf_norm = None if norm is None else norm.with_obs(inner)
            return pdf._build(ctx, {o: x[o] for o in inner}, pdf_norm, scale)
        finally:
            ctx._params = saved

    def sample(self, n=None, limits=None, *, rng=None, params=None):
        raise NotImplementedError(f"ConditionalPDFV1 {self.name!r}: sampling needs the conditional values of the "
                                  "events; sample the pdf at fixed values of them instead")


def _depends(p, cond) -> bool:
    return p in cond or (isinstance(p, ComposedParameter) and any(_depends(q, cond) for q in p.params.values()))


def _composed_users(pdf, cond):
    """The ComposedParameters of ``pdf`` that depend on a conditional parameter."""
    return [p for p in pdf._shape_params() if isinstance(p, ComposedParameter) and _depends(p, cond)]
