"""Convolutions with a resolution (zfit's ``FFTConvPDFV1``), exact where the pair has a closed form.

A Gaussian resolution convolved with a Gaussian, or with an exponential (truncated to a range: a decay
model), has a closed form (:mod:`nfit.kernels.convolution`): nfit uses it, with no grid, so the result
is exact, fused into the kernel, with exact derivatives, and works with per-event parameters
(:class:`~nfit.pdf.ConditionalPDFV1`). Other pairs need the numerical FFT convolution, which is not
built yet: they are an error that says so.

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
from .shape import Exponential, Gauss, normalised
from .truncated import TruncatedPDF

__all__ = ["FFTConvPDFV1"]

_INTERPOLATIONS = ("linear", "spline") + tuple(f"spline:{k}" for k in range(1, 6))


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

    Closed forms (exact; ``n`` and ``interpolation``, the FFT grid's settings, change nothing there):
    Gauss ⊗ Gauss, and Exponential (or a truncated one) ⊗ Gauss. Other pairs raise
    ``NotImplementedError``.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(-10, 10))
    >>> conv = FFTConvPDFV1(nfit.pdf.Gauss(mu=1.0, sigma=0.3, obs=obs), nfit.pdf.Gauss(mu=0.0, sigma=0.4, obs=obs))
    >>> round(float(conv.pdf([1.0])[0]), 6)   # a Gauss of width 0.5
    0.797885
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

    @staticmethod
    def _closed_form(func, kernel, limits_func, limits_kernel, name):
        who = f"FFTConvPDFV1 {name!r}"
        if not isinstance(kernel, Gauss):
            raise NotImplementedError(f"{who}: only a Gauss kernel has a closed form in nfit; the numerical FFT "
                                      f"convolution of {type(func).__name__} with {type(kernel).__name__} is not "
                                      "built yet")
        if limits_kernel is not None:
            lo, hi = _limits(limits_kernel, kernel.obs, who)
            mu, sigma = kernel.params["mu"].value(), kernel.params["sigma"].value()
            if lo > mu - 10 * sigma or hi < mu + 10 * sigma:
                raise NotImplementedError(f"{who}: the kernel is cut at {limits_kernel}, inside 10 sigma of its "
                                          "mean; a truncated resolution has no closed form here")
        given = _limits(limits_func, func.obs, who)
        if isinstance(func, Gauss):
            if given is not None:
                raise NotImplementedError(f"{who}: a Gauss cut to limits_func={limits_func} has no closed form here")
            return "gauss", None
        inner, box = func, None
        if isinstance(func, TruncatedPDF) and isinstance(func.pdfs[0], Exponential):
            if func.limits.n_limits != 1:
                raise NotImplementedError(f"{who}: an exponential truncated to several ranges has no closed form here")
            inner, box = func.pdfs[0], (float(func.limits.lower), float(func.limits.upper))
        if isinstance(inner, Exponential):
            box = box or given or (inner.space.lower, inner.space.upper)
            if given is not None:
                box = (max(box[0], given[0]), min(box[1], given[1]))
            return "exp", box
        raise NotImplementedError(f"{who}: the convolution of {type(func).__name__} with a Gauss has no closed form "
                                  "here, and the numerical FFT convolution is not built yet")

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
        return 2

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
        inputs = self._inputs(ctx, {"lo": ctx.limit(lower), "hi": ctx.limit(upper)})
        return self._trace("integral").apply(inputs, DualOps(ctx.be))

    def _bin_integral_exact(self):
        return True

    def _build_bin_integral(self, ctx, lower, upper, norm, rule, scale=None):
        return normalised(self, ctx, self._integral_dual(ctx, lower, upper), norm, scale)

    def _build(self, ctx, x, norm, scale=None):
        density = self._trace("pdf").apply(self._inputs(ctx, {"x": x[self.obs[0]]}), DualOps(ctx.be))
        return normalised(self, ctx, density, norm, scale)

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_traces", None)
        return state
