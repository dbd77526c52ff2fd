"""zfit's statistical distributions normalised numerically: ``QGauss``, ``Gamma``, ``ChiSquared`` and a
continuous ``Poisson``."""
from __future__ import annotations

from ..kernels import moreshapes
from .shape import ShapePDF


class _Numerical(ShapePDF):
    _kernel = moreshapes

    def __init__(self, obs, params, name, extended, label, norm):
        self._functions = (self._function, self._function + "_integral")
        super().__init__(obs, params, name=name, extended=extended, label=label, norm=norm)


class QGauss(_Numerical):
    """The q-Gaussian ``[1 + (q - 1) t**2 / 2]**(-1/(q - 1))``, ``t = (x - mu) / sigma``, for 1 < q < 3
    (zfit's; a Student's t with ``(3 - q)/(q - 1)`` degrees of freedom and scale ``sigma sqrt(2/(3 - q))``).

    Example
    -------
    >>> import nfit
    >>> q = QGauss(q=1.5, mu=0.0, sigma=1.0, obs=nfit.Space("x", limits=(-5, 5)))
    >>> round(float(q.integrate((-5, 0))[0]), 9)
    0.5
    """

    _function = "qgauss"
    _param_names = ("q", "mu", "sigma")
    _positive = ("sigma",)

    def __init__(self, q, mu, sigma, obs, *, extended=None, norm=None, name="QGauss", label=None):
        super().__init__(obs, {"q": q, "mu": mu, "sigma": sigma}, name, extended, label, norm)

    def _check_values(self):
        super()._check_values()
        q = self.params["q"].value()
        if not 1.0 < q < 3.0:
            raise ValueError(f"QGauss {self.name!r}: parameter 'q' ({self.params['q'].name!r}) must lie in (1, 3), "
                             f"got {q} (q = 1 is a Gauss)")


class Gamma(_Numerical):
    """The Gamma distribution ``(x - mu)**(gamma - 1) exp(-(x - mu)/beta)`` above ``mu`` (RooGamma's and
    zfit's parameters).

    Example
    -------
    >>> import nfit
    >>> g = Gamma(gamma=2.0, beta=1.0, mu=0.0, obs=nfit.Space("x", limits=(0, 50)))
    >>> round(float(g.integrate((0, 1))[0]), 6)   # 1 - 2/e
    0.264241
    """

    _function = "gamma"
    _param_names = ("gamma", "beta", "mu")
    _positive = ("gamma", "beta")

    def __init__(self, gamma, beta, mu, obs, *, extended=None, norm=None, name="Gamma", label=None):
        super().__init__(obs, {"gamma": gamma, "beta": beta, "mu": mu}, name, extended, label, norm)


class ChiSquared(_Numerical):
    """The chi-square distribution with ``ndof`` degrees of freedom (continuous in ``ndof``).

    Example
    -------
    >>> import nfit
    >>> c = ChiSquared(ndof=2.0, obs=nfit.Space("x", limits=(0, 100)))
    >>> round(float(c.integrate((0, 2))[0]), 6)   # 1 - 1/e
    0.632121
    """

    _function = "chisquared"
    _param_names = ("ndof",)
    _positive = ("ndof",)

    def __init__(self, ndof, obs, *, extended=None, norm=None, name="ChiSquared", label=None):
        super().__init__(obs, {"ndof": ndof}, name, extended, label, norm)


class Poisson(_Numerical):
    """``lam**x exp(-lam) / Gamma(x + 1)``, continuous in ``x >= 0``, normalised over its space by its
    integral (zfit 0.28 divides by the discrete CDF's difference instead: its values differ by that
    constant).

    Example
    -------
    >>> import nfit
    >>> p = Poisson(lam=3.0, obs=nfit.Space("x", limits=(0, 30)))
    >>> round(float(p.integrate((0, 30))[0]), 9)
    1.0
    """

    _function = "poisson"
    _param_names = ("lam",)
    _positive = ("lam",)

    def __init__(self, lam, obs, *, extended=None, norm=None, name="Poisson", label=None):
        super().__init__(obs, {"lam": lam}, name, extended, label, norm)
