"""Closed forms of convolutions with a Gaussian resolution ``N(m, s)``: a Gaussian ``N(mu, sigma)``
gives ``N(mu + m, sqrt(sigma**2 + s**2))``; an exponential ``exp(lam t)`` on ``[a, b]`` gives

    g(x) = exp(lam (x - m) + lam**2 s**2 / 2) [Phi((b - c) / s) - Phi((a - c) / s)],  c = x - m + lam s**2

(the exponentially modified Gaussian; RooGExpModel, RooDecay with RooGaussModel), with the primitive
``G(X) = (exp(lam b) Phi((X - m - b)/s) - exp(lam a) Phi((X - m - a)/s) + g(X)) / lam``. ``m`` is the
math namespace (nfit.z).

>>> from nfit import z
>>> round(float(exp_gauss(0.5, -1.0, 0.0, 50.0, 0.0, 0.1, z)), 6)   # about exp(-0.5) far from the edge
0.609571
"""
import math

_SQRT_HALF = math.sqrt(0.5)


def _phi_difference(upper, lower, m):
    """Phi(upper) - Phi(lower), through erfc on the side where it keeps its precision."""
    high = 0.5 * (m.erfc(-upper * _SQRT_HALF) - m.erfc(-lower * _SQRT_HALF))
    low = 0.5 * (m.erfc(lower * _SQRT_HALF) - m.erfc(upper * _SQRT_HALF))
    return m.where(lower > 0.0, low, high)


def exp_gauss(x, lam, a, b, mean, s, m):
    """``exp(lam t)`` on ``[a, b]`` convolved with ``N(mean, s)``, at ``x``."""
    c = x - mean + lam * s * s
    return m.exp(lam * (x - mean) + 0.5 * lam * lam * s * s) * _phi_difference((b - c) / s, (a - c) / s, m)


def _phi(z, m):
    return 0.5 * m.erfc(-z * _SQRT_HALF)


def exp_gauss_primitive(x, lam, a, b, mean, s, m):
    """A primitive in ``x`` of :func:`exp_gauss`."""
    edges = m.exp(lam * b) * _phi((x - mean - b) / s, m) - m.exp(lam * a) * _phi((x - mean - a) / s, m)
    return (edges + exp_gauss(x, lam, a, b, mean, s, m)) / lam


def exp_gauss_integral(lower, upper, lam, a, b, mean, s, m):
    return exp_gauss_primitive(upper, lam, a, b, mean, s, m) - exp_gauss_primitive(lower, lam, a, b, mean, s, m)
