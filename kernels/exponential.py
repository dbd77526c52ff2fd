"""Exponential shape: ``exp(lam * x)``, its integral and their derivatives by ``lam``.

>>> round(integral(0.0, 1.0, -1.0), 6)
0.632121
>>> [round(v, 6) for v in integral_hess(0.0, 1.0, 1e-9)]
[1.0, 0.5, 0.333333]
"""
import math

import numpy as np

PARAMS = ("lam",)


def pdf(x, lam):
    return np.exp(lam * x)


def pdf_grad(x, lam):
    v = np.exp(lam * x)
    return v, x * v


def pdf_hess(x, lam):
    v = np.exp(lam * x)
    return v, x * v, x * x * v


def _moments(lam, width):
    """``M_k = integral_0^width u**k exp(lam u) du`` for k = 0, 1, 2, without cancellation."""
    z = lam * width
    if abs(z) < 0.5:
        # power series in z: M_k = width**(k+1) * sum_n z**n / (n! (n + k + 1))
        m0 = m1 = m2 = 0.0
        term = 1.0
        for n in range(40):
            m0 += term / (n + 1)
            m1 += term / (n + 2)
            m2 += term / (n + 3)
            term *= z / (n + 1)
        return width * m0, width * width * m1, width ** 3 * m2
    e = math.exp(z)
    m0 = math.expm1(z) / lam
    m1 = (width * e - m0) / lam
    m2 = (width * width * e - 2.0 * m1) / lam
    return m0, m1, m2


def integral(lower, upper, lam):
    width = upper - lower
    if abs(lam * width) < 1e-300:
        return width * math.exp(lam * lower)
    # exp(lam*a) * expm1(lam*(b-a)) / lam: no cancellation for small lam
    return math.exp(lam * lower) * math.expm1(lam * width) / lam


def integral_grad(lower, upper, lam):
    m0, m1, _ = _moments(lam, upper - lower)
    scale = math.exp(lam * lower)
    # integral of x**k exp(lam x) over [a, b], with x = a + u
    return scale * m0, scale * (lower * m0 + m1)


def integral_hess(lower, upper, lam):
    m0, m1, m2 = _moments(lam, upper - lower)
    scale = math.exp(lam * lower)
    return scale * m0, scale * (lower * m0 + m1), scale * (lower * lower * m0 + 2.0 * lower * m1 + m2)
