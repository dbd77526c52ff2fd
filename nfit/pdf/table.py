"""Parameter-free densities evaluated by a kernel function that reads a table of numbers."""
from __future__ import annotations

import numpy as np

from ..ad import Dual
from .base import BasePDF


class TablePDF(BasePDF):
    """A density with no free parameters, computed from a table (histogram bins, KDE points).

    Subclasses set ``_kernel_module`` and ``_kernel_function`` (a scalar function
    ``f(x, c, offset, size)`` reading its table from the constants array), ``_table`` and ``_size``,
    and define ``_values(x)`` (the same for a NumPy array) and ``_window(a, b)`` (its integral).
    """

    _kernel_module = None
    _kernel_function = None

    def _derivative_order(self):
        return 2

    def _values(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def _window(self, a, b):  # pragma: no cover - abstract
        raise NotImplementedError

    def _integral(self, space):
        return sum(self._window(lo[0], hi[0]) for lo, hi in space.with_obs(self.obs).boxes)

    def _normalised_integral(self, limits, norm):
        value = self._integral(limits)
        return value if norm is None else value / self._integral(norm)

    def _cdf_table(self):
        """The table of :func:`nfit.kernels.binned.piecewise_cdf` (knots, cumulative integrals,
        values and slopes) where the density is piecewise linear, so that bins integrate exactly;
        None otherwise (bins are then integrated by quadrature)."""
        return None

    def _bin_integral_exact(self):
        return self._cdf_table() is not None

    def _build_bin_integral(self, ctx, lower, upper, norm, rule, scale=None):
        table = self._cdf_table()
        if table is None:
            return super()._build_bin_integral(ctx, lower, upper, norm, rule, scale)
        n = (len(table) - 2) // 4
        if ctx.writes_code:
            be = ctx.be
            off = len(be.constants)
            be.constants.extend(table.tolist())
            value = Dual(be, be.sub(be.call(self._kernel_module, "piecewise_cdf", [upper, "c", str(off), str(n)]),
                                    be.call(self._kernel_module, "piecewise_cdf", [lower, "c", str(off), str(n)])))
        else:
            cdf = self._kernel_module.piecewise_cdf_array
            value = Dual(ctx.be, cdf(upper, table, n) - cdf(lower, table, n))
        if norm is not None:
            total = self._integral(norm)
            inverse = Dual(ctx.be, ctx.const(1.0 / total))
            scale = inverse if scale is None else scale * inverse
        return value if scale is None else value * scale

    def _build(self, ctx, x, norm, scale=None):
        column = x[self.obs[0]]
        if ctx.writes_code:  # the table travels in the kernel's constants array
            be = ctx.be
            off = len(be.constants)
            be.constants.extend(self._table.tolist())
            value = Dual(be, be.call(self._kernel_module, self._kernel_function,
                                     [column, "c", str(off), str(self._size)]))
        else:
            value = Dual(ctx.be, self._values(np.atleast_1d(column)))
        if norm is not None:
            total = self._integral(norm)
            if not total > 0:
                raise ValueError(f"{type(self).__name__} {self.name!r} is zero everywhere in {norm}")
            inverse = Dual(ctx.be, ctx.const(1.0 / total))
            scale = inverse if scale is None else scale * inverse
        return value if scale is None else value * scale


def remembers_arguments(init):
    """Decorator of a KDE's ``__init__``: keeps the arguments it was given (``self._arguments``), so
    that the estimate can be written out and built again from them (:mod:`nfit.hs3`)."""
    import functools
    import inspect

    signature = inspect.signature(init)

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        if "_arguments" not in self.__dict__:  # a subclass's __init__ calling its base's keeps its own
            self._arguments = {k: v for k, v in bound.arguments.items() if k != "self"}
        init(self, *args, **kwargs)

    return wrapper
