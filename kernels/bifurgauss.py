"""Bifurcated Gaussian: widths ``sigmal`` left of ``mu`` and ``sigmar`` right of it (continuous at mu).

>>> from nfit import z
>>> round(float(integral(-10.0, 10.0, 0.0, 1.0, 2.0, z)), 6)
3.759941
"""
import math

PARAMS = ("mu", "sigmal", "sigmar")
_SQRT_HALF = math.sqrt(0.5)
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)


def pdf(x, mu, sigmal, sigmar, m):
    t = (x - mu) / m.where(x < mu, sigmal, sigmar)
    return m.exp(-0.5 * t * t)


def _half(t0, t1, sigma, m):
    return sigma * _SQRT_HALF_PI * (m.erf(t1 * _SQRT_HALF) - m.erf(t0 * _SQRT_HALF))


def integral(lower, upper, mu, sigmal, sigmar, m):
    left_hi = m.minimum(upper, mu)
    right_lo = m.maximum(lower, mu)
    left = m.where(lower < mu, _half((lower - mu) / sigmal, (left_hi - mu) / sigmal, sigmal, m), 0.0)
    right = m.where(upper > mu, _half((right_lo - mu) / sigmar, (upper - mu) / sigmar, sigmar, m), 0.0)
    return left + right
