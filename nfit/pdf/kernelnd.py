"""Shapes in several observables from a scalar function: ``@nfit.kernel(n_obs=2)``.

The function takes the observables first, then the parameters, and returns the unnormalised
density (scalar math; Numba compiles it into the fused kernel, the eager path calls it with
arrays). It is normalised numerically: a product Gauss–Legendre grid over a box
(:func:`nfit.pdf.custom.product_nodes`), or the nodes of a region with function limits
(:func:`nfit.region.nodes`). Derivatives come from ``@k.gradient`` / ``@k.hessian`` where they are
attached (partials by the parameters), else the loss takes numerical ones.

>>> import nfit
>>> @nfit.kernel(n_obs=2)
... def plane(x, y, a, b):
...     return 1.0 + a * x + b * y
>>> obs = nfit.Space(["x", "y"], limits=((0, 0), (1, 1)))
>>> p = plane.pdf(obs=obs, a=0.5, b=0.2)
>>> round(float(p.pdf([[0.0, 0.0]])[0]), 12)  # 1 / (1 + a/2 + b/2)
0.740740740741
"""
from __future__ import annotations

from .base import BasePDF
from .custom import grid_integral

__all__ = ["KernelPDFND"]


class KernelPDFND(BasePDF):
    """The pdf of a user kernel in several observables (made by ``kernel.pdf(obs=...)``).

    >>> import nfit
    >>> @nfit.kernel(n_obs=2)
    ... def blob(x, y, s):
    ...     return 2.718281828459045 ** (-(x * x + y * y) / (2 * s * s))
    >>> obs = nfit.Space(["x", "y"], limits=((-1, -1), (1, 1)))
    >>> round(float(blob.pdf(obs=obs, s=0.5).integrate(obs)[0]), 9)
    1.0
    """

    def __init__(self, obs, params, kernel, name=None, extended=None, label=None, norm=None):
        self._kernel = kernel
        super().__init__(obs, params, name=name or kernel.__name__, extended=extended, label=label, norm=norm)

    def _args(self):
        return [self.params[k] for k in self._kernel.PARAMS]

    def _derivative_order(self) -> int:
        return 2 if hasattr(self._kernel, "pdf_hess") else (1 if hasattr(self._kernel, "pdf_grad") else 0)

    def _integrates_regions(self) -> bool:
        return True

    def _density(self, ctx, columns):
        return ctx.call(self._kernel, "pdf", list(columns), [ctx.param(p) for p in self._args()])

    def _integral(self, ctx, space):
        """The integral of the unnormalised density over ``space`` (boxes or a region)."""
        return grid_integral(ctx, lambda x: self._density(ctx, x), space, self.obs)

    def _build(self, ctx, x, norm, scale=None):
        value = self._density(ctx, [x[o] for o in self.obs])
        if norm is not None:
            integral = self._integral(ctx, norm)
            scale = 1.0 / integral if scale is None else scale / integral
        return value if scale is None else value * scale

    def _normalised_integral(self, limits, norm) -> float:
        return self._integral_ratio(limits, norm)
