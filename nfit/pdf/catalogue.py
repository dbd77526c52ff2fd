"""The shape catalogue: the workhorses of HEP fits, with zfit's names and parameter names.

Each shape's math lives in a module of ``nfit.kernels`` (see :mod:`nfit.pdf.shape`).

>>> import nfit
>>> obs = nfit.Space("m", limits=(5.0, 5.6))
>>> cb = nfit.pdf.CrystalBall(mu=5.28, sigma=0.02, alpha=1.5, n=3.0, obs=obs)
>>> round(float(cb.integrate((5.0, 5.6))[0]), 9)
1.0
"""
from __future__ import annotations

import numpy as np

from ..kernels import argus, bifurgauss, cauchy, crystalball, johnsonsu, lognormal, studentt, voigt
from .shape import ShapePDF

__all__ = ["Voigt", "CrystalBall", "DoubleCB", "Cauchy", "BifurGauss", "JohnsonSU", "LogNormal", "StudentT", "Argus"]


class CrystalBall(ShapePDF):
    """Crystal Ball: Gaussian core, power-law tail below ``mu - alpha sigma`` (above for alpha < 0).

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("m", limits=(5.0, 5.6))
    >>> CrystalBall(mu=5.28, sigma=0.02, alpha=1.5, n=3.0, obs=obs).params["n"].value()
    3.0
    """

    _kernel = crystalball
    _positive = ("sigma", "n")

    def __init__(self, mu, sigma, alpha, n, obs, *, extended=None, norm=None, name="CrystalBall", label=None):
        super().__init__(obs, {"mu": mu, "sigma": sigma, "alpha": alpha, "n": n}, name=name, extended=extended,
                         label=label, norm=norm)

    def _check_values(self):
        super()._check_values()
        if self.params["alpha"].value() == 0:
            raise ValueError(f"CrystalBall {self.name!r}: parameter 'alpha' ({self.params['alpha'].name!r}) "
                             "must not be zero")


class DoubleCB(ShapePDF):
    """Double-sided Crystal Ball: tails below ``mu - alphal sigma`` and above ``mu + alphar sigma``.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("m", limits=(5.0, 5.6))
    >>> dcb = DoubleCB(mu=5.28, sigma=0.02, alphal=1.2, nl=3.0, alphar=1.8, nr=4.0, obs=obs)
    >>> round(float(dcb.integrate((5.0, 5.6))[0]), 9)
    1.0
    """

    _kernel = crystalball
    _functions = ("double_pdf", "double_integral")
    _param_names = ("mu", "sigma", "alphal", "nl", "alphar", "nr")
    _positive = ("sigma", "alphal", "nl", "alphar", "nr")

    def __init__(self, mu, sigma, alphal, nl, alphar, nr, obs, *, extended=None, norm=None, name="DoubleCB",
                 label=None):
        super().__init__(obs, {"mu": mu, "sigma": sigma, "alphal": alphal, "nl": nl, "alphar": alphar, "nr": nr},
                         name=name, extended=extended, label=label, norm=norm)


def _uniform_between(rng, n, a, b):
    return a + rng.uniform(size=n) * (b - a)


class Cauchy(ShapePDF):
    """Cauchy (Breit–Wigner): ``1 / (1 + ((x - m) / gamma)**2)``, ``gamma`` the half width.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("m", limits=(0, 10))
    >>> round(float(Cauchy(m=5.0, gamma=1.0, obs=obs).integrate((4, 6))[0]), 6)
    0.571864
    """

    _kernel = cauchy
    _positive = ("gamma",)

    def _has_inverse_cdf(self):
        return True

    def _inverse_cdf(self, values, lo, hi, rng, n):
        m, g = values[self.params["m"]], values[self.params["gamma"]]
        a, b = np.arctan((lo - m) / g), np.arctan((hi - m) / g)
        return m + g * np.tan(_uniform_between(rng, n, a, b))

    def __init__(self, m, gamma, obs, *, extended=None, norm=None, name="Cauchy", label=None):
        super().__init__(obs, {"m": m, "gamma": gamma}, name=name, extended=extended, label=label, norm=norm)


class BifurGauss(ShapePDF):
    """Bifurcated Gaussian: width ``sigmal`` below ``mu``, ``sigmar`` above.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(-10, 10))
    >>> round(float(BifurGauss(mu=0.0, sigmal=1.0, sigmar=2.0, obs=obs).integrate((-10, 0))[0]), 6)
    0.333333
    """

    _kernel = bifurgauss
    _positive = ("sigmal", "sigmar")

    def __init__(self, mu, sigmal, sigmar, obs, *, extended=None, norm=None, name="BifurGauss", label=None):
        super().__init__(obs, {"mu": mu, "sigmal": sigmal, "sigmar": sigmar}, name=name, extended=extended,
                         label=label, norm=norm)


class JohnsonSU(ShapePDF):
    """Johnson's SU distribution (zfit's parameter names: mu, lambd, gamma, delta).

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(-20, 20))
    >>> round(float(JohnsonSU(mu=0.0, lambd=1.0, gamma=0.0, delta=1.0, obs=obs).integrate((-20, 0))[0]), 6)
    0.5
    """

    _kernel = johnsonsu
    _positive = ("lambd", "delta")

    def _has_inverse_cdf(self):
        return True

    def _inverse_cdf(self, values, lo, hi, rng, n):
        from scipy.special import ndtr, ndtri

        mu, lam = values[self.params["mu"]], values[self.params["lambd"]]
        gamma, delta = values[self.params["gamma"]], values[self.params["delta"]]
        a, b = (ndtr(gamma + delta * np.arcsinh((v - mu) / lam)) for v in (lo, hi))
        return mu + lam * np.sinh((ndtri(_uniform_between(rng, n, a, b)) - gamma) / delta)

    def __init__(self, mu, lambd, gamma, delta, obs, *, extended=None, norm=None, name="JohnsonSU", label=None):
        super().__init__(obs, {"mu": mu, "lambd": lambd, "gamma": gamma, "delta": delta}, name=name,
                         extended=extended, label=label, norm=norm)


class LogNormal(ShapePDF):
    """Log-normal: ``log(x)`` is normal with mean ``mu`` and width ``sigma`` (x > 0).

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(0.01, 100))
    >>> round(float(LogNormal(mu=0.0, sigma=0.5, obs=obs).integrate((0.01, 1.0))[0]), 6)
    0.5
    """

    _kernel = lognormal
    _positive = ("sigma",)

    def _has_inverse_cdf(self):
        return True

    def _inverse_cdf(self, values, lo, hi, rng, n):
        from scipy.special import ndtr, ndtri

        mu, sigma = values[self.params["mu"]], values[self.params["sigma"]]
        a, b = (ndtr((np.log(v) - mu) / sigma) for v in (lo, hi))
        return np.exp(mu + sigma * ndtri(_uniform_between(rng, n, a, b)))

    def __init__(self, mu, sigma, obs, *, extended=None, norm=None, name="LogNormal", label=None):
        super().__init__(obs, {"mu": mu, "sigma": sigma}, name=name, extended=extended, label=label, norm=norm)
        if self.space.lower <= 0:
            raise ValueError(f"LogNormal {self.name!r}: the space must lie above 0, got {self.space}")


class StudentT(ShapePDF):
    """Student's t with ``ndof`` degrees of freedom, location ``mu`` and scale ``sigma``.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(-5, 5))
    >>> round(float(StudentT(ndof=3.0, mu=0.0, sigma=1.0, obs=obs).integrate((-5, 0))[0]), 9)
    0.5
    """

    _kernel = studentt
    _positive = ("ndof", "sigma")

    def __init__(self, ndof, mu, sigma, obs, *, extended=None, norm=None, name="StudentT", label=None):
        super().__init__(obs, {"ndof": ndof, "mu": mu, "sigma": sigma}, name=name, extended=extended, label=label,
                         norm=norm)


class Argus(ShapePDF):
    """ARGUS background (RooArgusBG): ``x (1 - (x/m0)**2)**p exp(c (1 - (x/m0)**2))`` below ``m0``.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("m", limits=(5.2, 5.3))
    >>> round(float(Argus(m0=5.29, c=-20.0, p=0.5, obs=obs).integrate((5.2, 5.3))[0]), 9)
    1.0
    """

    _kernel = argus
    _positive = ("m0",)

    def __init__(self, m0, c, p, obs, *, extended=None, norm=None, name="Argus", label=None):
        super().__init__(obs, {"m0": m0, "c": c, "p": p}, name=name, extended=extended, label=label, norm=norm)


class Voigt(ShapePDF):
    """Voigt profile: Gaussian width ``sigma`` convolved with a Lorentzian of half width ``gamma``
    (exact, through the Faddeeva function; as ``scipy.special.voigt_profile``). Normalised over the
    space numerically.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("m", limits=(-5, 5))
    >>> round(float(Voigt(m=0.0, sigma=1.0, gamma=0.5, obs=obs).integrate((-5, 0))[0]), 9)
    0.5
    """

    _kernel = voigt
    _positive = ("sigma", "gamma")

    def __init__(self, m, sigma, gamma, obs, *, extended=None, norm=None, name="Voigt", label=None):
        super().__init__(obs, {"m": m, "sigma": sigma, "gamma": gamma}, name=name, extended=extended, label=label,
                         norm=norm)
