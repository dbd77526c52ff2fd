"""Gaussian shape: ``exp(-((x - mu) / sigma)**2 / 2)``, its integral and their derivatives.

Derivative functions return the value first, then the partials by each parameter, then (for
``*_hess``) the second partials of the upper triangle row by row: ``(mu, mu), (mu, sigma),
(sigma, sigma)``.

>>> round(integral(-1.0, 1.0, 0.0, 1.0), 6)
1.711249
>>> [round(float(v), 6) for v in pdf_grad(1.0, 0.0, 2.0)]
[0.882497, 0.220624, 0.110312]
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


def pdf_grad(x, mu, sigma):
    inv = 1.0 / sigma
    t = (x - mu) * inv
    v = np.exp(-0.5 * t * t)
    d_mu = v * t * inv
    return v, d_mu, d_mu * t


def pdf_hess(x, mu, sigma):
    inv = 1.0 / sigma
    t = (x - mu) * inv
    t2 = t * t
    v = np.exp(-0.5 * t2)
    d_mu = v * t * inv
    w = v * inv * inv
    return v, d_mu, d_mu * t, w * (t2 - 1.0), w * t * (t2 - 2.0), w * t2 * (t2 - 3.0)


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


def integral_grad(lower, upper, mu, sigma):
    value = integral(lower, upper, mu, sigma)
    inv = 1.0 / sigma
    ta, tb = (lower - mu) * inv, (upper - mu) * inv
    pa, pb = math.exp(-0.5 * ta * ta), math.exp(-0.5 * tb * tb)
    # moving mu moves the window over the shape; sigma stretches it
    return value, pa - pb, value * inv - (tb * pb - ta * pa)


def integral_hess(lower, upper, mu, sigma):
    value, d_mu, d_sigma = integral_grad(lower, upper, mu, sigma)
    inv = 1.0 / sigma
    ta, tb = (lower - mu) * inv, (upper - mu) * inv
    pa, pb = math.exp(-0.5 * ta * ta), math.exp(-0.5 * tb * tb)
    d_mu_mu = (pa * ta - pb * tb) * inv
    d_mu_sigma = (pa * ta * ta - pb * tb * tb) * inv
    edge = tb * pb - ta * pa
    d_sigma_sigma = -edge * inv - (pb * (tb ** 3 - tb) - pa * (ta ** 3 - ta)) * inv
    return value, d_mu, d_sigma, d_mu_mu, d_mu_sigma, d_sigma_sigma
