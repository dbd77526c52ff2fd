"""Per-event parameters read from the data (zfit's ``ConditionalPDFV1``): a decay-time fit with a
per-event resolution, fused into the kernel like any other pdf."""
from __future__ import annotations

import numpy as np

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

    def sample(self, n=None, limits=None, *, x=None, rng=None, params=None):
        """One event per row of ``x`` (as zfit: a Data, or an array, with the conditional columns),
        drawn from the pdf at that row's conditional values, inside ``limits`` (default: the pdf's
        space); the result carries the drawn observables and ``x``'s conditional columns. ``n``, if
        given, must be the number of rows of ``x``.

        Example
        -------
        >>> import numpy as np, nfit
        >>> t = nfit.Space("t", limits=(-3, 3)); s = nfit.Space("s", limits=(0.1, 2))
        >>> sigma = nfit.Parameter("sigma_cond_sample", 1.0)
        >>> model = ConditionalPDFV1(nfit.pdf.Gauss(mu=0.0, sigma=sigma, obs=t), cond={sigma: s})
        >>> widths = nfit.Data.from_numpy(s, np.array([0.2, 0.2, 1.5]))
        >>> draws = model.sample(x=widths, rng=1)
        >>> draws.obs, draws.nevents
        (('t', 's'), 3)
        """
        from .. import sampling
        from ..data import Data

        cond_obs = [space.obs[0] for space in self.cond.values()]
        if x is None:
            raise ValueError(f"ConditionalPDFV1 {self.name!r}: sampling needs the conditional values: give x= (a Data "
                             f"or an array with the columns {cond_obs}), one event is drawn per row, as in zfit")
        if isinstance(x, Data):
            missing = [o for o in cond_obs if o not in x.obs]
            if missing:
                raise ValueError(f"ConditionalPDFV1 {self.name!r}: x has no column {missing[0]!r} (it has {x.obs})")
            values = np.column_stack([x.column(o) for o in cond_obs])
        else:
            values = np.asarray(x, dtype=float).reshape(len(x), -1)
            if values.shape[1] != len(cond_obs):
                raise ValueError(f"ConditionalPDFV1 {self.name!r}: x must have {len(cond_obs)} column(s) {cond_obs}, "
                                 f"got {values.shape[1]}")
        if n is not None and int(n) != len(values):
            raise ValueError(f"ConditionalPDFV1 {self.name!r}: n={n} but x has {len(values)} rows; one event is "
                             "drawn per row of x")
        for j, space in enumerate(self.cond.values()):
            outside = ~space.inside(values[:, j:j + 1])
            if np.any(outside):
                raise ValueError(f"ConditionalPDFV1 {self.name!r}: {int(outside.sum())} value(s) of {cond_obs[j]!r} in "
                                 f"x lie outside its space {space}")
        inner = self.pdfs[0].space if limits is None else (
            limits if isinstance(limits, Space) else Space(self.pdfs[0].obs, limits=limits))
        generator = sampling._generator(rng)
        with self._values_from(params):
            drawn = _draw_per_row(self, inner, values, generator)
        space = inner
        for cond_space in self.cond.values():
            space = space * cond_space
        return Data.from_numpy(space, np.column_stack([drawn, values]), name=f"sample of {self.name}")


def _draw_per_row(model, inner, values, rng, chunk=20_000):
    """One point of ``inner`` per row of conditional ``values``, by accept-reject under each row's
    own envelope (1.5 times the largest density on a grid, widened where a draw exceeds it)."""
    from ..sampling import _uniform_in

    inner_count = inner.n_obs
    order = [model.obs.index(o) for o in inner.obs] + [model.obs.index(s.obs[0]) for s in model.cond.values()]

    def density(points, rows):
        full = np.empty((len(rows), len(model.obs)))
        full[:, order] = np.column_stack([points, values[rows]])
        return np.asarray(model.pdf(full), dtype=float)

    if inner_count == 1:
        grid = np.concatenate([np.linspace(lo[0], hi[0], 257) for lo, hi in inner.boxes])[:, None]
    else:
        grid = _uniform_in(inner, 2000, rng)
    m = len(values)
    top = np.empty(m)
    per_chunk = max(1, chunk // len(grid))
    for start in range(0, m, per_chunk):
        rows = np.arange(start, min(m, start + per_chunk))
        dens = density(np.tile(grid, (len(rows), 1)), np.repeat(rows, len(grid)))
        top[rows] = 1.5 * dens.reshape(len(rows), len(grid)).max(axis=1)
    if np.any(~np.isfinite(top)) or np.any(top <= 0):
        raise ValueError(f"ConditionalPDFV1 {model.name!r}: the density is zero or not finite inside {inner} for "
                         "some rows of x")
    out = np.empty((m, inner_count))
    pending = np.arange(m)
    while len(pending):
        points = _uniform_in(inner, len(pending), rng)
        dens = density(points, pending)
        above = dens > top[pending]
        top[pending[above]] = 2.0 * dens[above]  # the grid missed a peak: those rows draw again
        accept = (rng.uniform(size=len(pending)) * top[pending] < dens) & ~above
        out[pending[accept]] = points[accept]
        pending = pending[~accept]
    return out


def _depends(p, cond) -> bool:
    return p in cond or (isinstance(p, ComposedParameter) and any(_depends(q, cond) for q in p.params.values()))


def _composed_users(pdf, cond):
    """The ComposedParameters of ``pdf`` that depend on a conditional parameter."""
    return [p for p in pdf._shape_params() if isinstance(p, ComposedParameter) and _depends(p, cond)]
