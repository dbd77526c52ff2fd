"""Gaussian with an exponential tail (zfit's ``GaussExpTail``): ``t = (x - mu) / sigma``, the core
``exp(-t**2 / 2)`` joins ``exp(alpha**2 / 2 + alpha t)`` at ``t = -alpha`` with matching value and slope
(a negative ``alpha`` puts the tail on the right). ``m`` is the math namespace (nfit.z).

>>> from nfit import z
>>> round(float(pdf(-2.0, 0.0, 1.0, 1.0, z)), 6)    # exp(1/2 - 2)
0.22313
"""
import math

PARAMS = ("mu", "sigma", "alpha")
_SQRT_HALF = math.sqrt(0.5)
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)


def pdf(x, mu, sigma, alpha, m):
    t = (x - mu) / sigma
    t = m.where(alpha < 0.0, -t, t)
    a = m.abs(alpha)
    return m.where(t < -a, m.exp(0.5 * a * a + a * t), m.exp(-0.5 * t * t))


def _left(t0, t1, a, m):
    """Integral over t in [t0, t1] with the tail on the left."""
    core_lo = m.maximum(t0, -a)
    tail_hi = m.minimum(t1, -a)
    core = m.where(t1 > -a, _SQRT_HALF_PI * (m.erf(t1 * _SQRT_HALF) - m.erf(core_lo * _SQRT_HALF)), 0.0)
    tail = m.where(t0 < -a, (m.exp(0.5 * a * a + a * tail_hi) - m.exp(0.5 * a * a + a * t0)) / a, 0.0)
    return core + tail


def integral(lower, upper, mu, sigma, alpha, m):
    t0, t1 = (lower - mu) / sigma, (upper - mu) / sigma
    lo = m.where(alpha < 0.0, -t1, t0)
    hi = m.where(alpha < 0.0, -t0, t1)
    return sigma * _left(lo, hi, m.abs(alpha), m)
