"""Convolutions with a resolution (zfit's ``FFTConvPDFV1``), exact where the pair has a closed form.

A Gaussian resolution convolved with a Gaussian, or with an exponential (truncated to a range: a decay
model), has a closed form (:mod:`nfit.kernels.convolution`): nfit uses it, with no grid, so the result
is exact, fused into the kernel, with exact derivatives, and works with per-event parameters
(:class:`~nfit.pdf.ConditionalPDFV1`). Every other pair is convolved numerically on a grid, once
per call: the func and the kernel are tabulated (with their derivatives), convolved by a discrete sum
(trapezoid rule over the kernel), and the table is interpolated at the events (local Lagrange
polynomials, :mod:`nfit.kernels.grid`); its integral, the normalisation, is exact for the
interpolant. See ``docs/convolution.md`` for the accuracy.

>>> import nfit
>>> obs = nfit.Space("t", limits=(-1, 8))
>>> decay = nfit.pdf.TruncatedPDF(nfit.pdf.Exponential(lam=-0.7, obs=obs), limits=(0, 8))
>>> conv = FFTConvPDFV1(decay, nfit.pdf.Gauss(mu=0.0, sigma=0.1, obs=obs))
>>> round(float(conv.integrate((-1, 8))[0]), 12)
1.0
"""
from __future__ import annotations

import numpy as np

from .. import z
from ..context import DualOps
from ..kernels import convolution
from ..space import Space
from .base import BasePDF
from .shape import Exponential, Gauss, Uniform, normalised
from .truncated import TruncatedPDF

__all__ = ["FFTConvPDFV1"]

_INTERPOLATIONS = ("linear", "spline") + tuple(f"spline:{k}" for k in range(1, 6))
MAX_POINTS = 1_000_000


def default_points(space, kernel_range) -> int:
    """Kernel points of the numerical convolution when ``n`` is not given: 401 (zfit's default, 51,
    is much coarser), fewer where the kernel is narrow, so that the space holds about 1000 grid
    points at most; at least 51."""
    ratio = (kernel_range[1] - kernel_range[0]) / (float(space.upper) - float(space.lower))
    return int(np.clip(round(1000 * ratio) + 1, 51, 401))


def _degree(interpolation) -> int:
    """The degree of the local Lagrange interpolation: ``linear`` 1, ``spline`` (the default) 3,
    ``spline:k`` k."""
    if interpolation in (None, "spline"):
        return 3
    if interpolation == "linear":
        return 1
    return int(interpolation.split(":")[1])


def _cut_inside(gauss, limits) -> bool:
    """Whether ``limits`` cut a Gauss (at its current values) within 8 sigma of its mean (beyond, the
    cut-off mass, below 1e-15, is below what the closed forms' rounding leaves)."""
    mu, sigma = gauss.params["mu"].value(), gauss.params["sigma"].value()
    return limits[0] > mu - 8 * sigma or limits[1] < mu + 8 * sigma


class _GridPlan:
    """Where a numerical convolution tabulates: the output grid ``x0 + i h`` (``n_out`` points over
    the pdf's space and a margin for the stencils), the kernel at ``k_hi - j h`` (reversed, so the
    convolution is a correlation) with trapezoid weights, and the func at ``x0 - k_hi + m h``
    weighted by the part of each point's cell inside the func's range."""

    def __init__(self, space, func_range, kernel_range, n, degree, who):
        f_lo, f_hi = func_range
        k_lo, k_hi = kernel_range
        if not (np.isfinite([f_lo, f_hi, k_lo, k_hi]).all() and f_hi > f_lo and k_hi > k_lo):
            raise ValueError(f"{who}: the func range {func_range} and the kernel range {kernel_range} must be "
                             "finite and not empty")
        x_lo, x_hi = float(space.lower), float(space.upper)
        self.degree = degree
        self.h = h = (k_hi - k_lo) / (n - 1)
        margin = degree + 1
        self.n_out = int(np.ceil((x_hi - x_lo) / h)) + 1 + 2 * margin
        if self.n_out + n > MAX_POINTS:
            raise ValueError(f"{who}: the grid would have {self.n_out + n} points (spacing {h:.3g} from the kernel's "
                             f"{n} points over {kernel_range}, across the space {x_lo, x_hi}); give a smaller n or "
                             "narrower limits_kernel")
        self.x0 = x_lo - margin * h
        self.kernel_nodes = k_hi - h * np.arange(n)
        self.kernel_weights = np.full(n, h)
        self.kernel_weights[[0, -1]] = 0.5 * h
        u = self.x0 - k_hi + h * np.arange(self.n_out + n - 1)
        self.func_weights = np.clip((np.minimum(u + 0.5 * h, f_hi) - np.maximum(u - 0.5 * h, f_lo)) / h, 0.0, 1.0)
        self.func_nodes = np.clip(u, f_lo, f_hi)  # never evaluated outside its range (weight 0 there)


def _limits(value, obs, who):
    if value is None:
        return None
    space = value if isinstance(value, Space) else Space(obs, limits=tuple(value))
    if space.n_limits != 1:
        raise ValueError(f"{who}: limits must be one range, got {space}")
    return float(space.lower), float(space.upper)


class FFTConvPDFV1(BasePDF):
    """``func`` convolved with ``kernel`` (zfit's signature). ``func`` is evaluated as a plain function
    on ``limits_func`` (default: its space); an Exponential truncated to a range (``TruncatedPDF``) is
    that range. The kernel is zero outside ``limits_kernel``.

    Closed forms (exact; ``n`` and ``interpolation``, the grid's settings, change nothing there):
    Gauss ⊗ Gauss, and Exponential (or a truncated one) ⊗ Gauss. Other pairs are convolved
    numerically on a grid of ``n`` kernel points (default: up to 401) with ``interpolation``
    ``"spline"`` (cubic, the default), ``"linear"`` or ``"spline:k"`` (degree k up to 5).

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(-10, 10))
    >>> conv = FFTConvPDFV1(nfit.pdf.Gauss(mu=1.0, sigma=0.3, obs=obs), nfit.pdf.Gauss(mu=0.0, sigma=0.4, obs=obs))
    >>> round(float(conv.pdf([1.0])[0]), 6)   # a Gauss of width 0.5
    0.797885
    >>> box = FFTConvPDFV1(nfit.pdf.Uniform(-1.0, 1.0, obs=obs), nfit.pdf.Gauss(mu=0.0, sigma=0.3, obs=obs))
    >>> round(float(box.pdf([0.0])[0]), 4)   # Phi(1 / 0.3) - Phi(-1 / 0.3), over the box's width 2
    0.4996
    """

    def __init__(self, func, kernel, n=None, limits_func=None, limits_kernel=None, interpolation=None, obs=None, *,
                 extended=None, norm=None, name="FFTConvV1", label=None):
        for what, pdf in (("func", func), ("kernel", kernel)):
            if not isinstance(pdf, BasePDF) or pdf.n_obs != 1:
                raise TypeError(f"FFTConvPDFV1 {name!r}: {what} must be a one-dimensional nfit pdf, got {pdf!r}")
        if n is not None and (int(n) != n or n < 3):
            raise ValueError(f"FFTConvPDFV1 {name!r}: n must be an integer >= 3, got {n!r}")
        if interpolation is not None and interpolation not in _INTERPOLATIONS:
            raise ValueError(f"FFTConvPDFV1 {name!r}: interpolation must be one of {_INTERPOLATIONS}, got "
                             f"{interpolation!r}")
        space = func.space if obs is None else obs
        if not isinstance(space, Space):
            space = Space(func.obs, limits=tuple(space))
        self.pdfs = [func, kernel]  # zfit's functor attribute
        self.n, self.interpolation = n, interpolation
        self._form, self._range = self._closed_form(func, kernel, limits_func, limits_kernel, name)
        super().__init__(space, {}, name=name, extended=extended, label=label, norm=norm)
        self._plan = None
        if self._form == "numeric":
            who = f"FFTConvPDFV1 {name!r}"
            kernel_range = self._kernel_range(kernel, limits_kernel, who)
            points = default_points(self.space, kernel_range) if n is None else int(n)
            self._plan = _GridPlan(self.space, self._func_range(func, limits_func, kernel_range, who), kernel_range,
                                   points, _degree(interpolation), who)

    @staticmethod
    def _func_range(func, limits_func, kernel_range, who):
        """Where the func is convolved, as zfit's code does it: ``limits_func`` (default: the func's
        space; as in zfit's docstring a float widens the space by that fraction of its width on each
        side) widened by the kernel's range, ``[lower + kernel lower, upper + kernel upper]``; the func
        is a plain function there (an Exponential is not zero below its space) and zero outside. A
        func truncated to one range is cut there too."""
        lo, hi = float(func.space.lower), float(func.space.upper)
        if isinstance(limits_func, (int, float)) and not isinstance(limits_func, bool):
            if limits_func < 0:
                raise ValueError(f"{who}: limits_func as a fraction must be >= 0, got {limits_func}")
            width = hi - lo
            lo, hi = lo - limits_func * width, hi + limits_func * width
        elif limits_func is not None:
            lo, hi = _limits(limits_func, func.obs, who)
        lo, hi = lo + kernel_range[0], hi + kernel_range[1]
        if isinstance(func, TruncatedPDF) and func.limits.n_limits == 1:
            lo, hi = max(lo, float(func.limits.lower)), min(hi, float(func.limits.upper))
        return lo, hi

    @staticmethod
    def _kernel_range(kernel, limits_kernel, who):
        if limits_kernel is not None:
            return _limits(limits_kernel, kernel.obs, who)
        if kernel.space.n_limits != 1:
            raise ValueError(f"{who}: the kernel's space must be one range (or give limits_kernel)")
        return float(kernel.space.lower), float(kernel.space.upper)

    @staticmethod
    def _closed_form(func, kernel, limits_func, limits_kernel, name):
        """``("gauss" | "exp", range)`` where the pair has a closed form, else ``("numeric", None)``."""
        who = f"FFTConvPDFV1 {name!r}"
        if not isinstance(kernel, Gauss) or isinstance(limits_func, (int, float)):
            return "numeric", None
        kernel_range = FFTConvPDFV1._kernel_range(kernel, limits_kernel, who)
        if _cut_inside(kernel, kernel_range):
            return "numeric", None  # a resolution cut inside its tails
        if isinstance(func, Gauss):
            cut = _cut_inside(func, FFTConvPDFV1._func_range(func, limits_func, kernel_range, who))
            return ("numeric", None) if cut else ("gauss", None)
        inner = func.pdfs[0] if isinstance(func, TruncatedPDF) else func
        if isinstance(inner, Exponential):
            if isinstance(func, TruncatedPDF) and func.limits.n_limits != 1:
                return "numeric", None
            # the exponential on the range zfit evaluates it over (see _func_range), exactly
            return "exp", FFTConvPDFV1._func_range(func, limits_func, kernel_range, who)
        return "numeric", None

    def _children(self):
        return list(self.pdfs)

    def _shape_params(self):
        params = []
        for pdf in self.pdfs:
            for p in pdf._shape_params():
                if p not in params:
                    params.append(p)
        return params

    def _derivative_order(self):
        if self._form == "numeric":
            return min(pdf._derivative_order() for pdf in self.pdfs)
        return 2

    # ------------------------------------------------------------------ the numerical convolution
    def _table(self, ctx):
        """The convolution tabulated on the output grid (with its derivatives), once per context."""
        tables = ctx.__dict__.setdefault("_convolution_tables", {})
        if id(self) not in tables:
            func, kernel = self.pdfs
            plan = self._plan
            for p in self._shape_params():
                if ctx.is_per_event(ctx.param(p)):
                    raise NotImplementedError(
                        f"FFTConvPDFV1 {self.name!r}: parameter {p.name!r} varies from event to event (a conditional "
                        "parameter); a numerical convolution is one table for all events. Per-event parameters work "
                        "with the closed forms (a Gauss kernel with a Gauss or an exponential)")
            f = ctx.grid_values(lambda u: self._func_cells(ctx, u), plan.func_nodes, plan.func_weights)
            g = ctx.grid_values(lambda t: kernel._build(ctx, {kernel.obs[0]: t}, None), plan.kernel_nodes,
                                plan.kernel_weights)
            tables[id(self)] = ctx.grid_correlate(f, g)
        return tables[id(self)]

    def _func_cells(self, ctx, u):
        """The func at the grid points ``u``. A Uniform func (a box with edges that may float) is the part
        of each point's cell inside the box instead: its edges then fall between grid points without a
        step of the grid's size in the result."""
        func = self.pdfs[0]
        if not isinstance(func, Uniform):
            return func._build(ctx, {func.obs[0]: u}, None)
        from ..ad import Dual, where

        be, half = ctx.be, 0.5 * self._plan.h
        point = Dual(be, u)
        low, high = ctx.param(func.params["low"]), ctx.param(func.params["high"])
        lower, upper = point - half, point + half
        lower = where(be, be.cmp("gt", low.v, lower.v), low, lower)
        upper = where(be, be.cmp("lt", high.v, upper.v), high, upper)
        inside = upper - lower
        zero = Dual(be, be.lift(0.0))
        return where(be, be.cmp("gt", inside.v, be.lift(0.0)), inside, zero) * (1.0 / self._plan.h)

    def _numeric_integral(self, ctx, lower, upper):
        plan = self._plan
        return ctx.grid_integral(self._table(ctx), lower, upper, plan.x0, plan.h, plan.degree)

    # the closed forms, traced once into expressions of the parameters
    def _trace(self, which):
        traces = self.__dict__.setdefault("_traces", {})
        if which not in traces:
            func, kernel = self.pdfs
            m, s = z.Symbol(kernel.params["mu"]), z.Symbol(kernel.params["sigma"])
            x, lo, hi = z.Symbol("x"), z.Symbol("lo"), z.Symbol("hi")
            if self._form == "gauss":
                mu = z.Symbol(func.params["mu"]) + m
                width = z.sqrt(z.Symbol(func.params["sigma"]) ** 2 + s * s)
                t = (x - mu) / width
                density = z.exp(-0.5 * t * t)
                root_half = float(np.sqrt(0.5))
                primitive = float(np.sqrt(0.5 * np.pi))
                integral = primitive * width * (z.erf((hi - mu) / width * root_half)
                                                - z.erf((lo - mu) / width * root_half))
            else:
                lam = (func.pdfs[0] if isinstance(func, TruncatedPDF) else func).params["lam"]
                a, b = self._range
                density = convolution.exp_gauss(x, z.Symbol(lam), a, b, m, s, z)
                integral = convolution.exp_gauss_integral(lo, hi, z.Symbol(lam), a, b, m, s, z)
            traces["pdf"], traces["integral"] = z.as_expr(density), z.as_expr(integral)
        return traces[which]

    def _inputs(self, ctx, extra):
        values = {p: ctx.param(p) for p in self._shape_params()}
        from ..ad import Dual

        values.update({k: Dual(ctx.be, v) for k, v in extra.items()})
        return values

    def _integral_dual(self, ctx, lower, upper):
        if self._form == "numeric":
            return self._numeric_integral(ctx, lower, upper)
        inputs = self._inputs(ctx, {"lo": ctx.limit(lower), "hi": ctx.limit(upper)})
        return self._trace("integral").apply(inputs, DualOps(ctx.be))

    def _bin_integral_exact(self):
        return True  # the numerical convolution's interpolant is integrated exactly too

    def _build_bin_integral(self, ctx, lower, upper, norm, rule, scale=None):
        return normalised(self, ctx, self._integral_dual(ctx, lower, upper), norm, scale)

    def _build(self, ctx, x, norm, scale=None):
        if self._form == "numeric":
            plan = self._plan
            density = ctx.grid_interpolate(self._table(ctx), x[self.obs[0]], plan.x0, plan.h, plan.degree)
            return normalised(self, ctx, density, norm, scale)
        density = self._trace("pdf").apply(self._inputs(ctx, {"x": x[self.obs[0]]}), DualOps(ctx.be))
        return normalised(self, ctx, density, norm, scale)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_traces", None)
        return state
