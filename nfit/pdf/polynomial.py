"""Polynomial shapes: Chebyshev, Legendre, Bernstein and plain monomials over the pdf's range."""
from __future__ import annotations

from .. import z
from ..kernels import polynomials
from ..param import convert_to_parameter
from .shape import ShapePDF


class _PolynomialPDF(ShapePDF):
    """A series ``sum_k c_k B_k(x)`` on the pdf's range; subclasses pick the basis ``B_k``."""

    _kernel = polynomials
    _basis = None
    _fixed_first = True  # c_0 fixed to 1 unless given (zfit's convention), else all coefficients given

    def __init__(self, obs, coeffs, *, coeff0=None, extended=None, norm=None, name=None, label=None):
        coeffs = list(coeffs) if isinstance(coeffs, (list, tuple)) else [coeffs]
        if self._fixed_first:
            first = 1.0 if coeff0 is None else coeff0
            coeffs = [first] + coeffs
        if not coeffs:
            raise ValueError(f"{type(self).__name__}: give at least one coefficient")
        params = {f"c_{i}": convert_to_parameter(c, name=f"{name or type(self).__name__}_c_{i}")
                  for i, c in enumerate(coeffs)}
        self._functions = (self._basis, self._basis + "_integral")
        super().__init__(obs, params, name=name or type(self).__name__, extended=extended, label=label, norm=norm)

    @property
    def degree(self) -> int:
        return len(self.params) - 1

    def _args(self):
        return [self.params[f"c_{i}"] for i in range(len(self.params))]

    def _trace(self, which):
        if which not in self._traces:
            coeffs = [z.Symbol(p) for p in self._args()]
            lo, hi = z.Symbol("xlo"), z.Symbol("xhi")
            if which == "pdf":
                expr = getattr(self._kernel, self._basis)(z.Symbol("x"), lo, hi, coeffs, z)
            else:
                expr = getattr(self._kernel, self._basis + "_integral")(z.Symbol("lo"), z.Symbol("hi"), lo, hi,
                                                                       coeffs, z)
            self._traces[which] = z.as_expr(expr)
        return self._traces[which]

    def _inputs(self, ctx, extra):
        extra = dict(extra, xlo=ctx.const(self.space.lower), xhi=ctx.const(self.space.upper))
        return super()._inputs(ctx, extra)


class Chebyshev(_PolynomialPDF):
    """Chebyshev series ``1 + sum_k c_k T_k(u)``, u the observable scaled to [-1, 1] over the space.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(0, 4))
    >>> cheb = Chebyshev(obs=obs, coeffs=[0.1, -0.2])
    >>> round(float(cheb.integrate((0, 4))[0]), 12)
    1.0
    """

    _basis = "chebyshev"

    def __init__(self, obs, coeffs, *, coeff0=None, extended=None, norm=None, name="Chebyshev", label=None):
        super().__init__(obs, coeffs, coeff0=coeff0, extended=extended, name=name, label=label, norm=norm)


class Legendre(_PolynomialPDF):
    """Legendre series ``1 + sum_k c_k P_k(u)``, u scaled to [-1, 1] over the space.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(-1, 1))
    >>> round(float(Legendre(obs=obs, coeffs=[0.3]).integrate((0, 1))[0]), 6)
    0.575
    """

    _basis = "legendre"

    def __init__(self, obs, coeffs, *, coeff0=None, extended=None, norm=None, name="Legendre", label=None):
        super().__init__(obs, coeffs, coeff0=coeff0, extended=extended, name=name, label=label, norm=norm)


class Polynomial(_PolynomialPDF):
    """Monomial series ``1 + sum_k c_k u**k``, u scaled to [-1, 1] over the space.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(-1, 1))
    >>> round(float(Polynomial(obs=obs, coeffs=[0.5]).pdf([0.5], mode="eager")[0]), 6)
    0.625
    """

    _basis = "monomial"

    def __init__(self, obs, coeffs, *, coeff0=None, extended=None, norm=None, name="Polynomial", label=None):
        super().__init__(obs, coeffs, coeff0=coeff0, extended=extended, name=name, label=label, norm=norm)


class Bernstein(_PolynomialPDF):
    """Bernstein polynomial ``sum_k c_k b_{k,n}(v)``, v scaled to [0, 1]; all n + 1 coefficients given
    (non-negative coefficients keep the density non-negative).

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(0, 2))
    >>> round(float(Bernstein(obs=obs, coeffs=[1.0, 2.0, 3.0]).integrate((0, 1))[0]), 6)
    0.375
    """

    _basis = "bernstein"
    _fixed_first = False

    def __init__(self, obs, coeffs, *, extended=None, norm=None, name="Bernstein", label=None):
        super().__init__(obs, coeffs, extended=extended, name=name, label=label, norm=norm)
