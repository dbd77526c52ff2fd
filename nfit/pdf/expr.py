"""Shapes whose math is written once, with a math namespace, in a module of ``nfit.kernels``.

Such a kernel defines ``pdf(x, *params, m)`` and optionally ``integral(lower, upper, *params, m)``
using only arithmetic and ``m.exp``, ``m.where``, ``m.erf``, ...; nfit passes :mod:`nfit.z` as
``m`` and *traces* them into expressions. The expressions become fused code on the compiled path,
NumPy on the eager path, and give exact first and second derivatives of the density and of its
closed-form integral on both, by :mod:`nfit.ad`. Without ``integral`` the shape is normalised by
quadrature.
"""
from __future__ import annotations

from .. import quadrature, z
from ..ad import Dual
from ..context import DualOps
from .base import BasePDF


class ExprPDF(BasePDF):
    """Base of the shapes defined by an expression kernel (see the module docstring).

    Subclasses set ``_kernel`` and, for parameters that must be positive, ``_positive``.
    """

    _kernel = None
    _functions = ("pdf", "integral")  # names of the density and of its integral in the kernel
    _param_names: tuple = ()  # default: the kernel's PARAMS
    _positive: tuple = ()

    def __init__(self, obs, params, name=None, extended=None, label=None, panels=None, norm=None):
        super().__init__(obs, params, name=name, extended=extended, label=label, norm=norm)
        if self.space.n_obs != 1:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs a one-dimensional space, got {self.space}")
        self._panels = panels or quadrature.PANELS
        self._traces = {}
        self._check_values()

    def _check_values(self):
        for key in self._positive:
            value = self.params[key].value()
            if not value > 0:
                raise ValueError(f"{type(self).__name__} {self.name!r}: parameter {key!r} "
                                 f"({self.params[key].name!r}) must be positive, got {value}")

    def _args(self):
        return [self.params[k] for k in (self._param_names or self._kernel.PARAMS)]

    @property
    def _has_integral(self):
        return hasattr(self._kernel, self._functions[1])

    def _trace(self, which):
        if which not in self._traces:
            symbols = [z.Symbol(p) for p in self._args()]
            if which == "pdf":
                expr = getattr(self._kernel, self._functions[0])(z.Symbol("x"), *symbols, m=z)
            else:
                expr = getattr(self._kernel, self._functions[1])(z.Symbol("lo"), z.Symbol("hi"), *symbols, m=z)
            self._traces[which] = z.as_expr(expr)
        return self._traces[which]

    def _derivative_order(self):
        return 2

    def _inputs(self, ctx, extra):
        values = {p: ctx.param(p) for p in self._args()}
        values.update({k: Dual(ctx.be, v) for k, v in extra.items()})
        return values

    def _density(self, ctx, x):
        return self._trace("pdf").apply(self._inputs(ctx, {"x": x}), DualOps(ctx.be))

    def _integral_dual(self, ctx, lo, hi):
        if self._has_integral:
            inputs = self._inputs(ctx, {"lo": ctx.limit(lo), "hi": ctx.limit(hi)})
            return self._trace("integral").apply(inputs, DualOps(ctx.be))
        return ctx.quad_sum(lambda node: self._density(ctx, node), self._quad_nodes(lo, hi))

    def _build(self, ctx, x, norm, scale=None):
        return normalised(self, ctx, self._density(ctx, x[self.obs[0]]), norm, scale)

    def _bin_integral_exact(self):
        return self._has_integral

    def _build_bin_integral(self, ctx, lower, upper, norm, rule, scale=None):
        if not self._has_integral:
            return super()._build_bin_integral(ctx, lower, upper, norm, rule, scale)
        return normalised(self, ctx, self._integral_dual(ctx, lower, upper), norm, scale)


def normalised(pdf, ctx, value, norm, scale):
    """``scale * value / integral over norm`` (``norm`` None: no division), the integral from the
    pdf's ``_integral_dual(ctx, lower, upper)`` over each box of ``norm``. The division happens
    once per call: it folds into the per-call coefficient of the shape."""
    if norm is not None:
        integral = None
        for lo, hi in norm.with_obs(pdf.obs).boxes:
            part = pdf._integral_dual(ctx, lo[0], hi[0])
            integral = part if integral is None else integral + part
        scale = 1.0 / integral if scale is None else scale / integral
    return value if scale is None else value * scale
