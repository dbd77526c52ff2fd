"""Leaf shapes: a kernel module of ``nfit.kernels`` (or a user's ``@nfit.kernel``) and its parameter names.

Every shape of the catalogue is a :class:`ShapePDF` subclass that names its kernel (``_kernel``),
the kernel's functions (``_functions``, default ``("pdf", "integral")``), its parameters in the
kernel's argument order (``_param_names``, default the kernel's ``PARAMS``) and those that must be
positive (``_positive``). The kernel gives the unnormalised density and, optionally, its integral,
in one of two forms:

- **traced** (most shapes): ``pdf(x, *params, m)`` and ``integral(lower, upper, *params, m)`` written
  with arithmetic and ``m.exp``, ``m.where``, ``m.erf``, ...; nfit passes :mod:`nfit.z` as ``m``
  (the last argument) and traces them into expressions, which give exact first and second
  derivatives of the density and of its integral on both paths;
- **called**: plain scalar functions with their derivatives supplied (``pdf_grad``, ``pdf_hess``,
  ``integral_grad``, ``integral_hess``: value, partials, upper triangle of second partials), as
  Gauss, Exponential and Uniform (hand-tuned for the event loop), Voigt (complex arithmetic) and
  users' ``@nfit.kernel`` functions have them.

Without an integral the shape is normalised by adaptive quadrature.

>>> import nfit
>>> g = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=nfit.Space("x", -1, 1))
>>> g._traced, nfit.pdf.CrystalBall(mu=0.0, sigma=1.0, alpha=1.0, n=2.0, obs=g.space)._traced
(False, True)
"""
from __future__ import annotations

import functools
import inspect

import numpy as np

from .. import quadrature, z
from ..ad import Dual
from ..context import DualOps
from ..kernels import exponential as _exponential
from ..kernels import gauss as _gauss
from ..kernels import uniform as _uniform
from .base import BasePDF

__all__ = ["ShapePDF", "KernelPDF", "Gauss", "Exponential", "Uniform", "normalised"]


@functools.lru_cache(maxsize=None)
def _takes_math_namespace(function) -> bool:
    """Whether a kernel function is written for tracing: its last argument is the math namespace ``m``."""
    try:
        parameters = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return False
    return bool(parameters) and parameters[-1] == "m"


class ShapePDF(BasePDF):
    """A one-dimensional shape whose math lives in a kernel module (see the module docstring)."""

    _kernel = None
    _functions = ("pdf", "integral")
    _param_names: tuple = ()
    _positive: tuple = ()

    def __init__(self, obs, params, name=None, extended=None, label=None, kernel=None, panels=None, norm=None):
        if kernel is not None:
            self._kernel = kernel
        self._panels = panels or quadrature.PANELS
        self._traces = {}
        super().__init__(obs, params, name=name, extended=extended, label=label, norm=norm)
        if self.space.n_obs != 1:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs a one-dimensional space, got {self.space}")
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
    def _traced(self) -> bool:
        """Whether the kernel is traced math (else called functions with supplied derivatives)."""
        if hasattr(self._kernel, "kernel_functions"):  # a user's @nfit.kernel
            return False
        return _takes_math_namespace(getattr(self._kernel, self._functions[0]))

    @property
    def _has_integral(self) -> bool:
        """Whether the kernel gives its integral in closed form (else: numerical normalisation)."""
        return hasattr(self._kernel, self._functions[1])

    _analytic = _has_integral

    def _analytic_for(self, order) -> bool:
        """Closed-form normalisation with derivatives of ``order``; else quadrature, which gets its
        derivatives from the density's."""
        if self._traced:
            return self._has_integral
        return hasattr(self._kernel, self._functions[1] + ("", "_grad", "_hess")[order])

    def _derivative_order(self):
        if self._traced:
            return 2
        first = self._functions[0]
        return 2 if hasattr(self._kernel, first + "_hess") else (1 if hasattr(self._kernel, first + "_grad") else 0)

    # ------------------------------------------------------------------ traced kernels
    def _trace(self, which):
        if which not in self._traces:
            symbols = [z.Symbol(p) for p in self._args()]
            if which == "pdf":
                expr = getattr(self._kernel, self._functions[0])(z.Symbol("x"), *symbols, m=z)
            else:
                expr = getattr(self._kernel, self._functions[1])(z.Symbol("lo"), z.Symbol("hi"), *symbols, m=z)
            self._traces[which] = z.as_expr(expr)
        return self._traces[which]

    def _inputs(self, ctx, extra):
        values = {p: ctx.param(p) for p in self._args()}
        values.update({k: Dual(ctx.be, v) for k, v in extra.items()})
        return values

    # ------------------------------------------------------------------ the node protocol
    def _density(self, ctx, x):
        """The unnormalised density at ``x`` (a backend number) as a Dual."""
        if self._traced:
            return self._trace("pdf").apply(self._inputs(ctx, {"x": x}), DualOps(ctx.be))
        return ctx.call(self._kernel, self._functions[0], [x], [ctx.param(p) for p in self._args()])

    def _integral_dual(self, ctx, lower, upper):
        if self._traced:
            if self._has_integral:
                inputs = self._inputs(ctx, {"lo": ctx.limit(lower), "hi": ctx.limit(upper)})
                return self._trace("integral").apply(inputs, DualOps(ctx.be))
        else:
            args = [ctx.param(p) for p in self._args()]
            if self._analytic_for(ctx.be.order if any(not a.constant for a in args) else 0):
                return ctx.call(self._kernel, self._functions[1], [ctx.limit(lower), ctx.limit(upper)], args)
        return ctx.quad_sum(lambda node: self._density(ctx, node), self._quad_nodes(lower, upper))

    def _build(self, ctx, x, norm, scale=None):
        return normalised(self, ctx, self._density(ctx, x[self.obs[0]]), norm, scale)

    def _bin_integral_exact(self):
        return self._analytic_for(self._derivative_order())

    def _build_bin_integral(self, ctx, lower, upper, norm, rule, scale=None):
        if not self._analytic_for(ctx.be.order):
            return super()._build_bin_integral(ctx, lower, upper, norm, rule, scale)
        return normalised(self, ctx, self._integral_dual(ctx, lower, upper), norm, scale)

    def __getstate__(self):
        state = super().__getstate__()
        state["_traces"] = {}  # traced expressions are rebuilt on first use
        return state


KernelPDF = ShapePDF  # the name a user's @nfit.kernel shape has (nfit.pdf.KernelPDF)


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


def _gauss_inverse_cdf(mu, sigma, lo, hi, rng, n):
    from scipy.special import ndtr, ndtri

    a, b = (lo - mu) / sigma, (hi - mu) / sigma
    if a > 0:  # upper tail: sample the mirror image, where ndtr keeps its digits
        return mu - sigma * ndtri(ndtr(-b) + rng.uniform(size=n) * (ndtr(-a) - ndtr(-b)))
    return mu + sigma * ndtri(ndtr(a) + rng.uniform(size=n) * (ndtr(b) - ndtr(a)))


def _exponential_inverse_cdf(lam, lo, hi, rng, n):
    u = rng.uniform(size=n)
    if abs(lam * (hi - lo)) < 1e-12:
        return lo + u * (hi - lo)
    return lo + np.log1p(u * np.expm1(lam * (hi - lo))) / lam


class Gauss(ShapePDF):
    """Gaussian (normal) density.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("m", limits=(5.0, 5.6))
    >>> g = nfit.pdf.Gauss(mu=5.28, sigma=0.025, obs=obs)
    >>> round(float(g.integrate((5.0, 5.6))[0]), 6)
    1.0
    """

    _kernel = _gauss
    _positive = ("sigma",)

    def _has_inverse_cdf(self):
        return True

    def _inverse_cdf(self, values, lo, hi, rng, n):
        return _gauss_inverse_cdf(values[self.params["mu"]], values[self.params["sigma"]], lo, hi, rng, n)

    def __init__(self, mu, sigma, obs, *, extended=None, norm=None, name="Gauss", label=None):
        super().__init__(obs, {"mu": mu, "sigma": sigma}, name=name, extended=extended, label=label, norm=norm)


class Exponential(ShapePDF):
    """Exponential density, proportional to ``exp(lam * x)``.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("m", limits=(5.0, 5.6))
    >>> e = nfit.pdf.Exponential(lam=-1.5, obs=obs)
    >>> round(float(e.integrate((5.0, 5.3))[0]), 6)
    0.610639
    """

    _kernel = _exponential

    def _has_inverse_cdf(self):
        return True

    def _inverse_cdf(self, values, lo, hi, rng, n):
        return _exponential_inverse_cdf(values[self.params["lam"]], lo, hi, rng, n)

    def __init__(self, lam=None, obs=None, *, extended=None, norm=None, name="Exponential", label=None,
                 lambda_=None):
        lam = lambda_ if lam is None else lam
        if lam is None:
            raise TypeError("Exponential needs lam=")
        super().__init__(obs, {"lam": lam}, name=name, extended=extended, label=label, norm=norm)


class Uniform(ShapePDF):
    """Uniform density on ``[low, high]`` (zero elsewhere in the space).

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(0, 4))
    >>> u = nfit.pdf.Uniform(low=1.0, high=3.0, obs=obs)
    >>> float(u.integrate((0, 2))[0])
    0.5
    """

    _kernel = _uniform

    def _has_inverse_cdf(self):
        return True

    def _inverse_cdf(self, values, lo, hi, rng, n):
        a = max(lo, values[self.params["low"]])
        b = min(hi, values[self.params["high"]])
        return a + rng.uniform(size=n) * (b - a)

    def __init__(self, low, high, obs, *, extended=None, norm=None, name="Uniform", label=None):
        super().__init__(obs, {"low": low, "high": high}, name=name, extended=extended, label=label, norm=norm)

    def _check_values(self):
        low, high = self.params["low"].value(), self.params["high"].value()
        if not low < high:
            raise ValueError(f"Uniform {self.name!r}: needs low < high, got low={low}, high={high}")
        lo, hi = self.space.lower, self.space.upper
        if high <= lo or low >= hi:
            raise ValueError(f"Uniform {self.name!r}: [{low}, {high}] does not overlap the space {self.space}")

