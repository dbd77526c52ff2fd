"""Sums of pdfs: with fractions, or with the yields of extended components."""
from __future__ import annotations

import numpy as np

from ..param import ComposedParameter, convert_to_parameter
from .base import BasePDF


class SumPDF(BasePDF):
    """A weighted sum of pdfs over the same observables.

    Three ways to give the weights:

    - ``fracs`` with one entry fewer than ``pdfs``: the last fraction is one minus the others;
    - ``fracs`` with as many entries as ``pdfs``: the weights are divided by their sum;
    - no ``fracs`` and every pdf extended: the weights are the yields over their sum, and the
      sum is itself extended with the total yield.

    Each component is normalised over the range the sum is normalised over.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("m", limits=(5.0, 5.6))
    >>> sig = nfit.pdf.Gauss(mu=5.28, sigma=0.025, obs=obs)
    >>> bkg = nfit.pdf.Exponential(lam=-1.5, obs=obs)
    >>> model = nfit.pdf.SumPDF([sig, bkg], fracs=0.3)
    >>> round(float(model.integrate((5.0, 5.6))[0]), 9)
    1.0
    """

    def __init__(self, pdfs, fracs=None, obs=None, *, extended=None, norm=None, name="SumPDF", label=None):
        pdfs = list(pdfs) if isinstance(pdfs, (list, tuple)) else [pdfs]
        if len(pdfs) < 1 or not all(isinstance(p, BasePDF) for p in pdfs):
            raise TypeError(f"SumPDF {name!r}: pdfs must be a list of nfit pdfs, got {pdfs!r}")
        obs = obs or pdfs[0].space
        for p in pdfs:
            if set(p.obs) != set(obs.obs):
                raise ValueError(f"SumPDF {name!r}: component {p.name!r} has observables {p.obs}, not {obs.obs}")
            if p.space.with_obs(obs.obs).boxes != obs.boxes:
                raise ValueError(f"SumPDF {name!r}: component {p.name!r} is defined on {p.space}, the sum on {obs}; "
                                 "the components of a sum must share one space (limits included)")
        self.pdfs = pdfs
        if fracs is None:
            not_ext = [p.name for p in pdfs if not p.is_extended]
            if not_ext:
                raise ValueError(
                    f"SumPDF {name!r}: give fracs, or make every component extended "
                    f"(not extended: {not_ext})"
                )
            self._weight_mode = "yields"
            self.fracs = []
            weights = [p.get_yield() for p in pdfs]
        else:
            fracs = list(fracs) if isinstance(fracs, (list, tuple)) else [fracs]
            fracs = [convert_to_parameter(f, name=f"{name}_frac{i}") for i, f in enumerate(fracs)]
            if len(fracs) == len(pdfs) - 1:
                self._weight_mode = "implicit"
            elif len(fracs) == len(pdfs):
                self._weight_mode = "normalised"
            else:
                raise ValueError(
                    f"SumPDF {name!r}: {len(pdfs)} pdfs need {len(pdfs) - 1} or {len(pdfs)} fracs, got {len(fracs)}"
                )
            self.fracs = fracs
            weights = fracs
        params = {f"frac_{i}": f for i, f in enumerate(self.fracs)}
        super().__init__(obs, params, name=name, extended=None, label=label, norm=norm)
        self._weights = weights
        if self._weight_mode == "yields":
            if extended is not None and extended is not False:
                raise ValueError(f"SumPDF {name!r}: components are extended; the sum's yield is their sum")
            total = ComposedParameter(f"{name}_yield", _total, params=list(weights))
            self._yield = total
        elif extended is not None and extended is not False:
            self._set_yield(extended)

    def get_models(self) -> list:
        """The components (zfit's name; hepstats' sWeights call it)."""
        return list(self.pdfs)

    def _children(self):
        return list(self.pdfs)

    def _shape_params(self):
        out = list(self.params.values())
        for child in self.pdfs:
            out += child._shape_params()
        if self._weight_mode == "yields":
            out += list(self._weights)  # the components' yields set the fractions
        return out

    def create_extended(self, yield_, name=None):
        if self._weight_mode == "yields":
            raise ValueError(f"SumPDF {self.name!r} is already extended by its components' yields")
        return super().create_extended(yield_, name=name)

    # ------------------------------------------------------------------ weights
    def _fractions(self) -> list:
        """The components' fractions at the current values (from :meth:`_fraction_duals`)."""
        from ..eager import at_current_values

        return [float(f.v) for f in self._fraction_duals(at_current_values(self))]

    def _fraction_duals(self, ctx):
        w = [ctx.param(p) for p in self._weights]
        total = w[0]
        for x in w[1:]:
            total = total + x
        if self._weight_mode == "implicit":
            return w + [1.0 - total]
        return [x / total for x in w]

    # ------------------------------------------------------------------ exact sampling
    def _has_inverse_cdf(self):
        return all(p._has_inverse_cdf() for p in self.pdfs)

    def _inverse_cdf(self, values, lo, hi, rng, n):
        """Each component in proportion to its probability inside [lo, hi], sampled exactly."""
        from ..space import Space

        window = Space(self.obs, limits=(lo, hi))
        probabilities = np.array([f * p._normalised_integral(window, self.space)
                                  for f, p in zip(self._fractions(), self.pdfs)])
        counts = rng.multinomial(n, probabilities / probabilities.sum())
        x = np.concatenate([p._inverse_cdf(values, lo, hi, rng, k) for p, k in zip(self.pdfs, counts)])
        rng.shuffle(x)
        return x

    # ------------------------------------------------------------------ node interface
    def _normalised_integral(self, limits, norm):
        norm = self.space if norm is None else norm
        return sum(f * p._normalised_integral(limits, norm) for f, p in zip(self._fractions(), self.pdfs))

    def _build_extended(self, ctx, x, norm):
        if self._weight_mode != "yields":
            return super()._build_extended(ctx, x, norm)
        # sum_k nu_k f_k: each yield scales its own component, no fractions needed
        norm = self.space if norm is None else norm
        total = None
        for y, p in zip(self._weights, self.pdfs):
            part = p._build(ctx, x, norm, ctx.param(y))
            total = part if total is None else total + part
        return total

    def _derivative_order(self):
        return min(p._derivative_order() for p in self.pdfs)

    def _bin_integral_exact(self):
        return all(p._bin_integral_exact() for p in self.pdfs)

    def _build_bin_integral(self, ctx, lower, upper, norm, rule, scale=None):
        # each component integrates its own bins (exactly where it can), weighted by its fraction
        norm = self.space if norm is None else norm
        total = None
        for f, p in zip(self._fraction_duals(ctx), self.pdfs):
            part = p._build_bin_integral(ctx, lower, upper, norm, rule, f if scale is None else scale * f)
            total = part if total is None else total + part
        return total

    def _integrates_regions(self) -> bool:
        return all(p._integrates_regions() for p in self.pdfs)

    def _build(self, ctx, x, norm, scale=None):
        norm = self.space if norm is None else norm
        fracs = self._fraction_duals(ctx)
        total = None
        for f, p in zip(fracs, self.pdfs):
            part = p._build(ctx, x, norm, f if scale is None else scale * f)
            total = part if total is None else total + part
        return total


def _total(*yields):
    """The yield of a sum of extended pdfs (a module-level function, so the sum pickles)."""
    return sum(yields)
