"""Leaf shapes: one kernel module of ``nfit.kernels`` each, plus their parameter names."""
from __future__ import annotations

import numpy as np

from .. import quadrature
from ..kernels import exponential as _exponential
from ..kernels import gauss as _gauss
from ..kernels import uniform as _uniform
from .base import BasePDF
from .expr import normalised


class KernelPDF(BasePDF):
    """A shape whose math lives in a kernel module (``pdf`` and optionally ``integral``).

    Subclasses set ``_kernel`` (the module) and ``_positive`` (parameters that must be > 0).
    The kernel's ``PARAMS`` order is the order of the arguments after ``x``.
    """

    _kernel = None
    _positive: tuple = ()

    def __init__(self, obs, params, name=None, extended=None, label=None, kernel=None, panels=None, norm=None):
        if kernel is not None:
            self._kernel = kernel
        self._panels = panels or quadrature.PANELS
        super().__init__(obs, params, name=name, extended=extended, label=label, norm=norm)
        if self.space.n_obs != 1:
            raise ValueError(f"{type(self).__name__} {self.name!r} needs a one-dimensional space, got {self.space}")
        self._check_values()

    def _check_values(self):
        for key in self._positive:
            value = self.params[key].value()
            if not value > 0:
                raise ValueError(
                    f"{type(self).__name__} {self.name!r}: parameter {key!r} "
                    f"({self.params[key].name!r}) must be positive, got {value}"
                )

    def _args(self):
        return [self.params[k] for k in self._kernel.PARAMS]

    @property
    def _analytic(self) -> bool:
        """True when the kernel gives its integral in closed form (else: numerical normalisation)."""
        return hasattr(self._kernel, "integral")

    def _analytic_for(self, order) -> bool:
        """Closed-form normalisation with derivatives of ``order``; else quadrature, which gets its
        derivatives from the density's."""
        return hasattr(self._kernel, ("integral", "integral_grad", "integral_hess")[order])

    def _derivative_order(self):
        k = self._kernel
        return 2 if hasattr(k, "pdf_hess") else (1 if hasattr(k, "pdf_grad") else 0)

    def _integral_dual(self, ctx, lower, upper):
        args = [ctx.param(p) for p in self._args()]
        if self._analytic_for(ctx.be.order if any(not a.constant for a in args) else 0):
            return ctx.call(self._kernel, "integral", [ctx.limit(lower), ctx.limit(upper)], args)
        return ctx.quad_sum(lambda node: ctx.call(self._kernel, "pdf", [node], args), self._quad_nodes(lower, upper))

    def _build(self, ctx, x, norm, scale=None):
        args = [ctx.param(p) for p in self._args()]
        return normalised(self, ctx, ctx.call(self._kernel, "pdf", [x[self.obs[0]]], args), norm, scale)

    def _bin_integral_exact(self):
        return self._analytic_for(self._derivative_order())

    def _build_bin_integral(self, ctx, lower, upper, norm, rule, scale=None):
        if not self._analytic_for(ctx.be.order):
            return super()._build_bin_integral(ctx, lower, upper, norm, rule, scale)
        return normalised(self, ctx, self._integral_dual(ctx, lower, upper), norm, scale)


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


class Gauss(KernelPDF):
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


class Exponential(KernelPDF):
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


class Uniform(KernelPDF):
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

