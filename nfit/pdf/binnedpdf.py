"""Binned pdfs: expected counts per bin of a binned space, built once for both paths.

A binned pdf gives, for each bin, its probability (``rel_counts``) and, when extended, its expected
count (``counts`` = yield × probability). Like an unbinned node it builds those numbers as
:class:`nfit.ad.Dual` values in a build context, from per-bin inputs (:class:`Bins`: the bin's
edges and the per-bin tables of template leaves): the eager context gives arrays over the bins, the
code context the body of a kernel's loop over bins (:mod:`nfit.binnedloss`).

>>> import numpy as np, nfit
>>> obs = nfit.Space("x", limits=(0, 4))
>>> g = nfit.pdf.Gauss(mu=2.0, sigma=1.0, obs=obs)
>>> b = g.to_binned(4)
>>> b.rel_counts().round(4).tolist()     # exact bin integrals, not the density at the centres
[0.1424, 0.3576, 0.3576, 0.1424]
"""
from __future__ import annotations

import numpy as np

from ..ad import Dual
from ..param import convert_to_parameter, model_params
from ..space import Space
from ..tensorlike import numpy_result
from .base import _BINNED, BasePDF

__all__ = ["BaseBinnedPDF", "BinnedFromUnbinnedPDF", "BinnedSumPDF", "BinwiseScaleModifier", "Bins",
           "NotExtendedPDFError"]


_UNBINNED = []  # nfit.pdf.histogram.HistogramPDF, registered there (it builds on this module)


class NotExtendedPDFError(ValueError):
    """An extended pdf was needed (counts, an extended loss) but the pdf has no yield."""


class Bins:
    """The per-bin numbers a binned pdf builds from, as backend numbers of one context: ``lower``
    and ``upper`` edges, and the tables of template leaves (``table(leaf, key)``)."""

    def __init__(self, lower, upper, tables):
        self.lower, self.upper = lower, upper
        self._tables = tables

    def table(self, leaf, key):
        return self._tables[(leaf._uid, key)]


def table_columns(model) -> list:
    """``[(leaf, key, table)]``: every per-bin table the binned tree ``model`` reads, in order; a
    table is an array, or (a user's binned pdf, :class:`BaseBinnedPDF`) a function of the parameter
    values ({parameter: value}) that gives the array."""
    found, seen = [], set()

    def visit(node):
        if not isinstance(node, BaseBinnedPDF):
            return
        for key, array in node._tables().items():
            if (node._uid, key) not in seen:
                seen.add((node._uid, key))
                found.append((node, key, array))
        for child in node._children():
            visit(child)

    visit(model)
    return found


def bin_rule(order=10, panels=1):
    """Gauss-Legendre nodes and weights on [0, 1]: ``panels`` equal panels of ``order`` nodes."""
    x, w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(0.0, 1.0, panels + 1)
    half = 0.5 * np.diff(edges)
    nodes = (edges[:-1, None] + half[:, None] * (x[None, :] + 1.0)).ravel()
    return nodes, (half[:, None] * w[None, :]).ravel()


_USER_METHODS = ("_rel_counts", "_counts", "_pdf", "_ext_pdf")


class BaseBinnedPDF(BasePDF):
    """Base of the binned pdfs: a binned space, optional yield, and per-bin probabilities.

    nfit's binned pdfs give ``_build_rel(ctx, bins)`` (the bin probabilities as a Dual), and, for
    leaves that read per-bin tables, ``_tables()``; ``_build_counts`` and ``_build_counts_var``
    (expected counts and their template variance) default to the yield times the probabilities.

    A subclass as zfit users write it instead defines ``_rel_counts(self, x, norm)``,
    ``_counts(self, x, norm)``, ``_pdf(self, x, norm)`` or ``_ext_pdf(self, x, norm)``, an array over
    all bins computed from ``self.params`` (NumPy or ``nfit.z.numpy``). nfit calls it with the
    parameters' values at each evaluation and hands the array to the fused loss as a per-bin table;
    its derivatives are numerical.

    Example
    -------
    >>> import numpy as np, nfit
    >>> class Slope(nfit.pdf.BaseBinnedPDF):
    ...     def __init__(self, obs, a, extended=None, norm=None, name="Slope"):
    ...         super().__init__(obs=obs, params={"a": a}, extended=extended, norm=norm, name=name)
    ...     def _rel_counts(self, x, norm):
    ...         values = np.exp(self.params["a"] * self.space.binning.centers[0])
    ...         return values / values.sum()
    >>> bobs = nfit.Space("x", limits=(0, 3), binning=3)
    >>> Slope(bobs, a=0.0).rel_counts().round(4).tolist()
    [0.3333, 0.3333, 0.3333]
    """

    def __init__(self, obs, extended=None, norm=None, name=None, label=None, *, params=None, **kwargs):
        if isinstance(extended, dict) and params is None:  # nfit's own order: (obs, params, ...)
            extended, params = None, extended
        if not isinstance(obs, Space) or not obs.is_binned:
            raise ValueError(f"{type(self).__name__}: needs a binned space (Space(..., binning=...)), got {obs!r}")
        if norm is not None and norm is not False and not (isinstance(norm, Space) and norm.limits == obs.limits):
            raise ValueError(f"{type(self).__name__}: a binned pdf is normalised over its own space; norm={norm!r} "
                             "is not supported")
        automatic = extended is True
        super().__init__(obs, params, name=name, extended=None if automatic else extended, label=label, **kwargs)
        if automatic:
            # zfit's extended=True: the yield is the sum of the counts the subclass computes
            if self._user_method() not in ("_counts", "_ext_pdf"):
                raise ValueError(f"{type(self).__name__} {self.name!r}: extended=True takes the yield from the "
                                 "counts; define _counts (or _ext_pdf), or give the yield (extended=parameter)")
            from ..param import ComposedParameter

            self._yield = ComposedParameter(f"{self.name}_yield", _UserTotal(self),
                                            params=model_params_of(self.__dict__["_params"].values()))

    # ------------------------------------------------------------------ node interface
    @classmethod
    def _user_method(cls):
        """The zfit-style method a user's subclass defines (see the class docstring), or None."""
        for name in _USER_METHODS:
            for klass in cls.__mro__:
                if klass is BaseBinnedPDF:
                    break
                if name in vars(klass):
                    return name
        return None

    def _tables(self) -> dict:
        """{key: per-bin array} this node reads (template leaves); none by default. A user's
        subclass reads its own values, recomputed at each parameter point."""
        if self._user_method() is None:
            return {}
        return {"user": self._user_values}

    def _user_values(self, values) -> np.ndarray:
        """The user's method at the parameter ``values`` ({parameter: value}), as bin probabilities
        (``_rel_counts``, ``_pdf``) or counts (``_counts``, ``_ext_pdf``)."""
        from ..param import ComposedParameter

        def value_of(p):
            if isinstance(p, ComposedParameter) and p not in values:
                return p._call({k: value_of(q) for k, q in p.params.items()})
            return float(values[p]) if p in values else float(p.value())

        method = self._user_method()
        numbers = {k: value_of(p) for k, p in self.__dict__["_params"].items()}
        function = getattr(self, method)
        with self._params_as(numbers), np.errstate(all="ignore"):
            result = np.asarray(_call_user(function, self.space, self.space, numbers), dtype=float).reshape(-1)
        if result.size != self._binning.size:
            raise ValueError(f"{type(self).__name__} {self.name!r}.{method} returned {result.size} values for "
                             f"{self._binning.size} bins")
        if method in ("_pdf", "_ext_pdf"):
            result = result * self._binning.widths
        return result

    def _build_rel(self, ctx, bins) -> Dual:
        method = self._user_method()
        if method is None:
            raise NotImplementedError(f"{type(self).__name__} defines no bin probabilities: write _rel_counts(self, x, "
                                      "norm) (or _counts, _pdf, _ext_pdf) returning an array over the bins")
        value = Dual(ctx.be, bins.table(self, "user"))
        if method in ("_counts", "_ext_pdf"):
            return value / ctx.param(self.get_yield())
        return value

    def _build_counts(self, ctx, bins) -> Dual:
        """The expected count of each bin (extended pdfs): the yield times the probability."""
        self._require_extended("counts")
        if self._user_method() in ("_counts", "_ext_pdf"):
            return Dual(ctx.be, bins.table(self, "user"))
        return self._build_rel(ctx, bins) * ctx.param(self.get_yield())

    def _build_counts_var(self, ctx, bins):
        """(expected counts, their variance from finite template statistics, or None)."""
        return self._build_counts(ctx, bins), None

    def _require_extended(self, what):
        if not self.is_extended:
            raise NotExtendedPDFError(f"{type(self).__name__} {self.name!r} is not extended, so it has no {what}; "
                                      "give it a yield (extended=...)")

    @property
    def _binning(self):
        return self.space.binning[0]

    # ------------------------------------------------------------------ evaluation
    def _edges_of(self, x):
        if x is None:
            return self._binning.edges
        space = getattr(x, "space", x)
        if not isinstance(space, Space) or not space.is_binned:
            raise ValueError(f"{type(self).__name__} {self.name!r}: expected a binned Space or BinnedData, got {x!r}")
        edges = space.binning[0].edges
        if table_columns(self) and space.binning[0] != self._binning:
            raise ValueError(f"{type(self).__name__} {self.name!r}: its templates are binned as {self._binning}; "
                             f"cannot evaluate them on {space.binning[0]}")
        return edges

    def _eager_bins(self, what, x=None, params=None):
        """``rel`` or ``counts`` on the bins of ``x`` (default: the pdf's), eagerly at the current values."""
        from ..eager import at_current_values

        with self._values_from(params):
            edges = self._edges_of(x)
            ctx = at_current_values(self)
            tables = {(leaf._uid, key): evaluated(array, None) for leaf, key, array in table_columns(self)}
            bins = Bins(edges[:-1], edges[1:], tables)
            with np.errstate(divide="ignore", invalid="ignore"):
                value = (self._build_rel if what == "rel" else self._build_counts)(ctx, bins).v
            return np.broadcast_to(np.asarray(value, dtype=float), (edges.size - 1,)).copy()

    @numpy_result
    def rel_counts(self, x=None, norm=None, *, params=None) -> np.ndarray:
        """The probability of each bin (of ``x``, a binned Space or BinnedData; default: the pdf's own)."""
        _check_norm(self, norm)
        return self._eager_bins("rel", x, params)

    @numpy_result
    def counts(self, x=None, norm=None, *, params=None) -> np.ndarray:
        """The expected count of each bin: yield × :meth:`rel_counts` (extended pdfs only)."""
        _check_norm(self, norm)
        self._require_extended("counts")
        return self._eager_bins("counts", x, params)

    @numpy_result
    def values(self, *, params=None) -> np.ndarray:
        """:meth:`counts` for an extended pdf, else :meth:`rel_counts`."""
        return self.counts(params=params) if self.is_extended else self.rel_counts(params=params)

    def _density_at(self, x, what, params):
        edges = self._binning.edges
        if isinstance(x, BaseBinnedPDF) or getattr(getattr(x, "space", x), "is_binned", False):
            return self._eager_bins(what, x, params) / np.diff(self._edges_of(x))
        from ..evaluate import columns_of

        points = columns_of(x, self.obs)[self.obs[0]]
        index = self._binning.index(points)
        inside = (index >= 0) & (index < edges.size - 1)
        per_bin = self._eager_bins(what, None, params) / np.diff(edges)
        return np.where(inside, per_bin[np.clip(index, 0, edges.size - 2)], 0.0)

    @numpy_result
    def pdf(self, x, norm=None, *, mode=None, params=None):
        """The density: on a binned Space or BinnedData, ``rel_counts / bin width``; at unbinned
        points, the density of each point's bin (0 outside the space)."""
        _check_norm(self, norm)
        return self._density_at(x, "rel", params)

    @numpy_result
    def ext_pdf(self, x, norm=None, *, mode=None, params=None):
        """``counts / bin width`` (extended pdfs), on bins or at points as :meth:`pdf`."""
        _check_norm(self, norm)
        self._require_extended("ext_pdf")
        return self._density_at(x, "counts", params)

    @numpy_result
    def log_pdf(self, x, norm=None, *, mode=None, params=None):
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x, norm, params=params))

    def sample(self, n=None, limits=None, *, rng=None, params=None):
        """A histogram drawn from the pdf: ``n`` events spread multinomially over the bins, or
        (``n`` None, extended pdf) a Poisson count in each bin. Returns :class:`~nfit.data.BinnedData`."""
        from ..data import BinnedData

        if limits is not None:
            raise ValueError(f"{type(self).__name__}.sample: limits= is not supported for binned pdfs")
        rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        if n is None or n == "extended":
            self._require_extended("sample(n=None)")
            values = rng.poisson(np.maximum(self.counts(params=params), 0.0)).astype(float)
        else:
            p = np.maximum(self.rel_counts(params=params), 0.0)
            values = rng.multinomial(int(n), p / p.sum()).astype(float)
        return BinnedData(self.space, values, values.copy(), name=f"{self.name}_sample")

    def to_hist(self):
        """The expected values (:meth:`values`) as a ``hist.Hist``."""
        import hist

        h = hist.Hist(self._binning.to_hist_axis(), storage=hist.storage.Double())
        h.view()[...] = self.values()
        return h

    def to_binneddata(self, *, params=None):
        """The expected histogram (:meth:`values`, no variances) as :class:`~nfit.data.BinnedData`."""
        from ..data import BinnedData

        return BinnedData(self.space, self.values(params=params), None, name=f"{self.name}_expected")

    def to_binned(self, space, *, extended=None, norm=None, name=None):
        """This pdf on ``space``; the same binning gives the pdf itself."""
        target = space if isinstance(space, Space) else self.space.with_binning(space)
        if target == self.space and extended is None:
            return self
        raise ValueError(f"{type(self).__name__} {self.name!r} is binned already (as {self._binning}); rebinning "
                         "is not supported")

    def to_unbinned(self):
        """The unbinned piecewise-constant pdf of the current bin probabilities (a HistogramPDF on
        the unbinned space; extended with the current yield if this pdf is)."""
        return _UNBINNED[0]((self.rel_counts(), self._binning.edges), obs=self.space.with_binning(None),
                            extended=float(self.get_yield().value()) if self.is_extended else None,
                            name=f"{self.name}_unbinned")

    @numpy_result
    def integrate(self, limits=None, norm=None, *, mode=None, params=None):
        """The probability in ``limits`` (whole bins; default: the whole space, 1)."""
        rel = self.rel_counts(params=params)
        if limits is None:
            return np.array([rel.sum()])
        space = limits if isinstance(limits, Space) else Space(self.obs, limits=limits)
        centers = self._binning.centers
        return np.array([rel[space.inside(centers)].sum()])

    def _build(self, ctx, x, norm, scale=None):
        """The unbinned density at events (eager path): each event's bin's probability over its width."""
        if ctx.writes_code:
            raise NotImplementedError(
                f"{type(self).__name__} {self.name!r} as a density of unbinned events runs on the eager path only "
                "(mode='eager'), or use pdf.to_unbinned()")
        edges = self._binning.edges
        points = np.asarray(x[self.obs[0]], dtype=float)
        index = np.clip(self._binning.index(points), 0, edges.size - 2)
        tables = {(leaf._uid, key): evaluated(array, None)[index] for leaf, key, array in table_columns(self)}
        bins = Bins(edges[index], edges[index + 1], tables)
        value = self._build_rel(ctx, bins) * Dual(ctx.be, 1.0 / np.diff(edges)[index])
        return value if scale is None else value * scale

    def _derivative_order(self):
        own = 0 if self._user_method() is not None else 2
        return min([own] + [c._derivative_order() for c in self._children()])


def model_params_of(params) -> list:
    """The independent parameters behind ``params`` (composed ones replaced by their inputs)."""
    from ..param import independent_params

    return independent_params(list(params))


def _call_user(function, x, norm, params):
    """A user's ``_rel_counts``/``_counts``/``_pdf``/``_ext_pdf`` called as zfit does: ``x``, then
    ``norm`` or ``params`` by the name of its second argument."""
    import inspect

    names = list(inspect.signature(function).parameters)
    if len(names) >= 2 and names[1] == "params":
        return function(x, params)
    if "params" in names:
        return function(x, norm, params=params)
    return function(x, norm) if len(names) >= 2 else function(x)


class _UserTotal:
    """The yield of a user's binned pdf made with ``extended=True``: the sum of its counts (picklable)."""

    def __init__(self, pdf):
        self.pdf = pdf

    def __call__(self, *values):
        inputs = model_params_of(self.pdf.__dict__["_params"].values())
        return float(np.sum(self.pdf._user_values(dict(zip(inputs, values)))))


def evaluated(table, values):
    """A per-bin table as an array: a user's table computed at ``values`` (None: the current ones)."""
    if callable(table):
        if values is None:
            from ..layout import ParamLayout

            layout = ParamLayout(model_params(table.__self__))
            values = layout.values(layout.vector())
        return table(values)
    return table


def _check_norm(pdf, norm):
    if norm not in (None, False) and not (isinstance(norm, Space) and norm.limits == pdf.space.limits):
        raise ValueError(f"{type(pdf).__name__} {pdf.name!r}: a binned pdf is normalised over its own space; "
                         f"norm={norm!r} is not supported")


class BinnedFromUnbinnedPDF(BaseBinnedPDF):
    """An unbinned pdf on a binned space: each bin's probability is the pdf's exact integral over
    the bin (a closed-form CDF difference where the shape has one, Gauss-Legendre quadrature in
    each bin otherwise), normalised over the space. Usually made by ``pdf.to_binned(space)``.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(0, 2))
    >>> b = BinnedFromUnbinnedPDF(nfit.pdf.Uniform(0.0, 2.0, obs=obs), obs.with_binning(2), extended=10.0)
    >>> b.counts().tolist()
    [5.0, 5.0]
    """

    def __init__(self, pdf, space, extended=None, norm=None, name=None, label=None):
        binned_only = isinstance(pdf, BaseBinnedPDF) and type(pdf)._build is BaseBinnedPDF._build
        if not isinstance(pdf, BasePDF) or binned_only:
            raise TypeError(f"BinnedFromUnbinnedPDF: pdf must be an unbinned nfit pdf, got {pdf!r}")
        if pdf.n_obs != 1:
            raise NotImplementedError(f"BinnedFromUnbinnedPDF: {pdf.name!r} has {pdf.n_obs} observables; binned "
                                      "pdfs have one here")
        if not isinstance(space, Space):
            space = pdf.space.with_binning(space)
        if space.obs != pdf.obs:
            raise ValueError(f"BinnedFromUnbinnedPDF: space {space} is not on the observable {pdf.obs} of {pdf.name!r}")
        from ..space import within

        if not within(space.with_binning(None), pdf.space):
            raise ValueError(f"BinnedFromUnbinnedPDF: the bins {space} reach beyond the space of {pdf.name!r}")
        _check_norm_arg(norm)
        self._unbinned = pdf
        if extended is None and pdf.is_extended:
            extended = pdf.get_yield()
        super().__init__(space, name=name or f"{pdf.name}_binned", extended=extended, label=label, params={})
        self._rule = None

    @property
    def pdfs(self) -> list:
        """The unbinned pdf (zfit's functor attribute)."""
        return [self._unbinned]

    def _children(self):
        return [self._unbinned]

    def _shape_params(self):
        return self._unbinned._shape_params()

    def _norm_limits(self):
        return self.space.with_binning(None)

    def _quadrature_rule(self):
        """Nodes per bin, enough for 1e-13 relative accuracy at the values of the first use."""
        if self._rule is None:
            if self._unbinned._bin_integral_exact():
                self._rule = bin_rule(1, 1)
            else:
                self._rule = self._converged_rule()
        return self._rule

    def _converged_rule(self):
        from ..eager import at_current_values

        edges = self._binning.edges
        ctx = at_current_values(self._unbinned)
        norm = self._norm_limits()
        previous = None
        for panels in (1, 2, 4, 8, 16, 32, 64):
            rule = bin_rule(10, panels)
            with np.errstate(all="ignore"):
                value = np.asarray(self._unbinned._build_bin_integral(ctx, edges[:-1], edges[1:], norm, rule).v)
            if previous is not None and np.all(np.abs(value - previous) <= 1e-13 * np.abs(value).max() + 1e-300):
                return rule
            previous = value
        return rule

    def _build_rel(self, ctx, bins):
        return self._unbinned._build_bin_integral(ctx, bins.lower, bins.upper, self._norm_limits(),
                                                  self._quadrature_rule())

    def _build_counts(self, ctx, bins):
        self._require_extended("counts")
        if self.get_yield() is self._unbinned.get_yield() and hasattr(self._unbinned, "_weight_mode") \
                and self._unbinned._weight_mode == "yields":
            # an extended sum of extended shapes: each yield scales its own component
            norm, rule = self._norm_limits(), self._quadrature_rule()
            total = None
            for y, p in zip(self._unbinned._weights, self._unbinned.pdfs):
                part = p._build_bin_integral(ctx, bins.lower, bins.upper, norm, rule, ctx.param(y))
                total = part if total is None else total + part
            return total
        return super()._build_counts(ctx, bins)

    def __getstate__(self):
        state = super().__getstate__()
        state["_rule"] = None
        return state


_BINNED.append(BinnedFromUnbinnedPDF)


def _check_norm_arg(norm):
    if norm is not None and norm is not False:
        raise ValueError("binned pdfs are normalised over their own binned space; norm= is not supported")


class BinnedSumPDF(BaseBinnedPDF):
    """The sum of binned pdfs: of extended ones (the yield is the sum of their yields, each
    component's counts its own), or of ``n - 1`` fractions ``fracs`` (not extended).

    Example
    -------
    >>> import nfit
    >>> bobs = nfit.Space("x", limits=(0, 2), binning=2)
    >>> a = nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(bobs, [3.0, 1.0]))
    >>> b = nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(bobs, [1.0, 3.0]))
    >>> BinnedSumPDF([a, b]).counts().tolist()
    [4.0, 4.0]
    """

    def __init__(self, pdfs, fracs=None, obs=None, extended=None, name="BinnedSumPDF", label=None):
        pdfs = list(pdfs)
        if len(pdfs) < 2 and fracs is not None:
            raise ValueError("BinnedSumPDF: fractions need at least two pdfs")
        for p in pdfs:
            if not isinstance(p, BaseBinnedPDF):
                raise TypeError(f"BinnedSumPDF: {p!r} is not a binned pdf (use pdf.to_binned(space))")
        space = pdfs[0].space if obs is None else obs
        for p in pdfs:
            if p.space.binning != space.binning or p.obs != space.obs:
                raise ValueError(f"BinnedSumPDF: {p.name!r} is binned as {p.space}, the sum as {space}")
        self.pdfs = pdfs
        if fracs is not None:
            fracs = list(fracs) if isinstance(fracs, (list, tuple)) else [fracs]
            if len(fracs) != len(pdfs) - 1:
                raise ValueError(f"BinnedSumPDF: {len(pdfs)} pdfs need {len(pdfs) - 1} fraction(s), got {len(fracs)}")
            self._fracs = [convert_to_parameter(f, name=f"{name}_frac{k}") for k, f in enumerate(fracs)]
            self._mode = "fracs"
        else:
            extended_flags = [p.is_extended for p in pdfs]
            if not all(extended_flags):
                which = [p.name for p, e in zip(pdfs, extended_flags) if not e]
                raise ValueError(f"BinnedSumPDF: without fracs every pdf must be extended; {which} are not "
                                 "(give them yields, or give fracs=)")
            self._fracs = []
            self._mode = "yields"
            # the yield is the sum of the components' unless one is given: then the counts are its share
            self._sum_of_yields = extended is None
            if extended is None:
                from ..param import ComposedParameter
                from .sum import _total

                yields = [p.get_yield() for p in pdfs]
                extended = ComposedParameter(f"{name}_yield", _total, params=yields)
        super().__init__(space, name=name, extended=extended, label=label,
                         params={f"frac_{k}": f for k, f in enumerate(self._fracs)})

    def get_models(self) -> list:
        """The components (zfit's name)."""
        return list(self.pdfs)

    def _children(self):
        return list(self.pdfs)

    def _shape_params(self):
        params = list(self._fracs)
        for p in self.pdfs:
            for q in p._all_params() if self._mode == "yields" else p._shape_params():
                if q not in params:
                    params.append(q)
        return params

    def _fraction_duals(self, ctx):
        f = [ctx.param(p) for p in self._fracs]
        total = f[0]
        for x in f[1:]:
            total = total + x
        return f + [1.0 - total]

    def _component_counts(self, ctx, bins, with_var=False):
        total = var = None
        for p in self.pdfs:
            counts, v = p._build_counts_var(ctx, bins) if with_var else (p._build_counts(ctx, bins), None)
            total = counts if total is None else total + counts
            if v is not None:
                var = v if var is None else var + v
        return total, var

    def _build_rel(self, ctx, bins):
        if self._mode == "fracs":
            total = None
            for f, p in zip(self._fraction_duals(ctx), self.pdfs):
                part = p._build_rel(ctx, bins) * f
                total = part if total is None else total + part
            return total
        counts, _ = self._component_counts(ctx, bins)
        return counts / ctx.param(self.get_yield())

    def _build_counts(self, ctx, bins):
        self._require_extended("counts")
        if self._mode == "yields" and self._sum_of_yields:
            return self._component_counts(ctx, bins)[0]
        return super()._build_counts(ctx, bins)

    def _build_counts_var(self, ctx, bins):
        if self._mode == "yields":
            return self._component_counts(ctx, bins, with_var=True)
        return super()._build_counts_var(ctx, bins)


class BinwiseScaleModifier(BaseBinnedPDF):
    """An extended binned pdf with each bin's count multiplied by a parameter ``beta_i``
    (``modifiers=True``: new parameters starting at 1; or a {name: parameter} dict, or a list).
    With a Gaussian constraint on each ``beta_i`` this is HistFactory's ``staterror``. The yield
    is the sum of the scaled counts.

    Example
    -------
    >>> import nfit
    >>> bobs = nfit.Space("x", limits=(0, 2), binning=2)
    >>> h = nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(bobs, [3.0, 1.0]))
    >>> mod = BinwiseScaleModifier(h, modifiers=True)
    >>> _ = mod.params[mod._names[0]].set_value(2.0)
    >>> mod.counts().tolist()
    [6.0, 1.0]
    """

    def __init__(self, pdf, modifiers=None, extended=None, name="BinwiseScaleModifier", label=None):
        if not isinstance(pdf, BaseBinnedPDF):
            raise TypeError(f"BinwiseScaleModifier: {pdf!r} is not a binned pdf")
        if not pdf.is_extended:
            raise NotExtendedPDFError(f"BinwiseScaleModifier: pdf {pdf.name!r} must be extended")
        if extended is not None:
            raise ValueError("BinwiseScaleModifier: the yield is the sum of the scaled counts; extended= is not taken")
        nbins = pdf.space.binning[0].size
        if modifiers is None or modifiers is True:
            from ..param import Parameter

            modifiers = {f"{name}_sysbin_{i}": Parameter(f"{name}_sysbin_{i}", 1.0, 0.0, 100.0) for i in range(nbins)}
        elif isinstance(modifiers, (list, tuple)):
            modifiers = {getattr(m, "name", f"{name}_sysbin_{i}"): m for i, m in enumerate(modifiers)}
        elif not isinstance(modifiers, dict):
            raise TypeError(f"BinwiseScaleModifier: modifiers must be True, a dict or a list, got {modifiers!r}")
        if len(modifiers) != nbins:
            raise ValueError(f"BinwiseScaleModifier: {len(modifiers)} modifiers for the {nbins} bins of {pdf.name!r}")
        self._inner = pdf
        self._names = list(modifiers)
        super().__init__(pdf.space, name=name, label=label, params=modifiers)
        from ..param import ComposedParameter

        inner = [p for p in model_params(pdf) if p not in self.params.values()]
        self._yield = ComposedParameter(f"{name}_yield", _ScaledTotal(pdf, inner),
                                        params=[self.params[k] for k in self._names] + inner)

    @property
    def pdfs(self) -> list:
        return [self._inner]

    def _children(self):
        return [self._inner]

    def _shape_params(self):
        params = [self.params[k] for k in self._names]
        for q in self._inner._all_params():
            if q not in params:
                params.append(q)
        return params

    def _all_params(self):
        # the yield is the sum of the scaled counts, built from these; it is no parameter of its own
        return self._shape_params()

    def _tables(self):
        eye = np.eye(len(self._names))
        return {f"bin{i}": eye[i] for i in range(len(self._names))}

    def _betas(self, ctx, bins):
        """Each bin's modifier: ``sum_k beta_k [bin == k]`` over the one-hot tables, so that a bin's
        count depends on its own parameter only, with derivatives in that parameter's slot."""
        total = None
        for i, key in enumerate(self._names):
            beta = ctx.param(self.params[key]) * Dual(ctx.be, bins.table(self, f"bin{i}"))
            total = beta if total is None else total + beta
        return total

    def _build_counts(self, ctx, bins):
        return self._inner._build_counts(ctx, bins) * self._betas(ctx, bins)

    def _build_counts_var(self, ctx, bins):
        counts, var = self._inner._build_counts_var(ctx, bins)
        beta = self._betas(ctx, bins)
        return counts * beta, None if var is None else var * beta * beta

    def _build_rel(self, ctx, bins):
        if ctx.writes_code or np.ndim(bins.lower) == 0 or len(bins.lower) != len(self._names) \
                or np.any(np.asarray(bins.lower) != self._binning.edges[:-1]):
            raise NotImplementedError(
                f"BinwiseScaleModifier {self.name!r}: its bin probabilities need the sum over all bins, which a "
                "non-extended fit's kernel loop does not see; fit it with an extended loss (ExtendedBinnedNLL, "
                "ExtendedBinnedChi2, TemplateNLL)")
        counts = self._build_counts(ctx, bins)
        return counts / _summed(ctx.be, counts)


def _summed(be, d):
    """A Dual of arrays over the bins, summed over the bins (the eager path)."""
    return Dual(be, np.sum(d.v), {j: np.sum(v) for j, v in d.g.items()}, {jk: np.sum(v) for jk, v in d.h.items()})


class _ScaledTotal:
    """The yield of a BinwiseScaleModifier from the modifiers' and the inner pdf's values (picklable)."""

    def __init__(self, pdf, inner_params):
        self.pdf, self.inner_params = pdf, inner_params

    def __call__(self, *values):
        n = len(values) - len(self.inner_params)
        inner = dict(zip(self.inner_params, values[n:]))
        return float(np.sum(self.pdf.counts(params=inner) * np.asarray(values[:n])))
