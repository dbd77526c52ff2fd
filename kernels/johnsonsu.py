"""Johnson's SU distribution (zfit's ``JohnsonSU``): ``z = (x - mu) / lambd``,
``pdf = delta / (lambd sqrt(2 pi)) / sqrt(1 + z**2) * exp(-(gamma + delta asinh(z))**2 / 2)``;
its integral is a difference of normal CDFs of ``gamma + delta asinh(z)``.

>>> from nfit import z
>>> round(float(integral(-50.0, 50.0, 0.0, 1.0, 0.0, 1.0, z)), 6)
0.999996
"""
import math

PARAMS = ("mu", "lambd", "gamma", "delta")
_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def pdf(x, mu, lambd, gamma, delta, m):
    t = (x - mu) / lambd
    u = gamma + delta * m.asinh(t)
    return delta / lambd * _INV_SQRT_2PI / m.sqrt(1.0 + t * t) * m.exp(-0.5 * u * u)


def integral(lower, upper, mu, lambd, gamma, delta, m):
    u0 = gamma + delta * m.asinh((lower - mu) / lambd)
    u1 = gamma + delta * m.asinh((upper - mu) / lambd)
    return 0.5 * (m.erf(u1 * _SQRT_HALF) - m.erf(u0 * _SQRT_HALF))
