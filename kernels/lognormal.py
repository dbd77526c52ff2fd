"""Log-normal shape (zfit's ``LogNormal``): ``exp(-(log(x) - mu)**2 / (2 sigma**2)) / x`` for x > 0.

>>> from nfit import z
>>> import math
>>> round(float(integral(1e-300, 1e300, 0.0, 1.0, z)) / (math.sqrt(2 * math.pi)), 6)
1.0
"""
import math

PARAMS = ("mu", "sigma")
_SQRT_HALF = math.sqrt(0.5)
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)


def pdf(x, mu, sigma, m):
    t = (m.log(x) - mu) / sigma
    return m.exp(-0.5 * t * t) / x


def integral(lower, upper, mu, sigma, m):
    t0, t1 = (m.log(lower) - mu) / sigma, (m.log(upper) - mu) / sigma
    return sigma * _SQRT_HALF_PI * (m.erf(t1 * _SQRT_HALF) - m.erf(t0 * _SQRT_HALF))
