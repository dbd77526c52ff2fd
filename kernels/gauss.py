"""Gaussian shape: ``exp(-((x - mu) / sigma)**2 / 2)``.

>>> round(integral(-1.0, 1.0, 0.0, 1.0), 6)
1.711249
"""
import math

import numpy as np

PARAMS = ("mu", "sigma")
_SQRT_HALF = math.sqrt(0.5)
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)


def pdf(x, mu, sigma):
    # multiply by the inverse: inside an event loop the division is hoisted out of the loop
    t = (x - mu) * (1.0 / sigma)
    return np.exp(-0.5 * t * t)


def integral(lower, upper, mu, sigma):
    a = (lower - mu) / sigma * _SQRT_HALF
    b = (upper - mu) / sigma * _SQRT_HALF
    # erfc on the far tail keeps precision where erf(b) - erf(a) would cancel
    if a > 0.0:
        diff = math.erfc(a) - math.erfc(b)
    elif b < 0.0:
        diff = math.erfc(-b) - math.erfc(-a)
    else:
        diff = math.erf(b) - math.erf(a)
    return _SQRT_HALF_PI * abs(sigma) * diff
