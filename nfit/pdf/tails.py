"""Peaks with tails that differ on the two sides: zfit's ``GeneralizedCB`` and ``GaussExpTail``."""
from __future__ import annotations

from ..kernels import crystalball, gaussexptail
from .shape import ShapePDF


class GeneralizedCB(ShapePDF):
    """A Crystal Ball with its own width and power-law tail on each side of ``mu`` (zfit's): below
    ``mu`` width ``sigmal`` and tail below ``mu - alphal sigmal``, above ``mu`` width ``sigmar`` and tail
    above ``mu + alphar sigmar``. Normalised in closed form.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("m", limits=(5.0, 5.6))
    >>> gcb = GeneralizedCB(mu=5.28, sigmal=0.02, alphal=1.2, nl=3.0, sigmar=0.03, alphar=1.8, nr=4.0, obs=obs)
    >>> round(float(gcb.integrate((5.0, 5.28))[0] / gcb.integrate((5.28, 5.6))[0]), 3) < 1
    True
    """

    _kernel = crystalball
    _functions = ("generalized_pdf", "generalized_integral")
    _param_names = ("mu", "sigmal", "alphal", "nl", "sigmar", "alphar", "nr")
    _positive = ("sigmal", "alphal", "nl", "sigmar", "alphar", "nr")

    def __init__(self, mu, sigmal, alphal, nl, sigmar, alphar, nr, obs, *, extended=None, norm=None,
                 name="GeneralizedCB", label=None):
        super().__init__(obs, {"mu": mu, "sigmal": sigmal, "alphal": alphal, "nl": nl, "sigmar": sigmar,
                               "alphar": alphar, "nr": nr}, name=name, extended=extended, label=label, norm=norm)


class GaussExpTail(ShapePDF):
    """A Gaussian core with an exponential tail below ``mu - alpha sigma`` (above ``mu + |alpha| sigma``
    for a negative ``alpha``), as zfit's; value and slope continuous. Normalised in closed form.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(-5, 5))
    >>> round(float(GaussExpTail(mu=0.0, sigma=1.0, alpha=1.0, obs=obs).integrate((-5, 5))[0]), 9)
    1.0
    """

    _kernel = gaussexptail
    _positive = ("sigma",)

    def __init__(self, mu, sigma, alpha, obs, *, extended=None, norm=None, name="GaussExpTail", label=None):
        super().__init__(obs, {"mu": mu, "sigma": sigma, "alpha": alpha}, name=name, extended=extended, label=label,
                         norm=norm)

    def _check_values(self):
        super()._check_values()
        if self.params["alpha"].value() == 0:
            raise ValueError(f"GaussExpTail {self.name!r}: parameter 'alpha' ({self.params['alpha'].name!r}) "
                             "must not be zero")
