"""Exponential shape: ``exp(lam * x)``.

>>> round(integral(0.0, 1.0, -1.0), 6)
0.632121
"""
import math

import numpy as np

PARAMS = ("lam",)


def pdf(x, lam):
    return np.exp(lam * x)


def integral(lower, upper, lam):
    width = upper - lower
    if abs(lam * width) < 1e-300:
        return width * math.exp(lam * lower)
    # exp(lam*a) * expm1(lam*(b-a)) / lam: no cancellation for small lam
    return math.exp(lam * lower) * math.expm1(lam * width) / lam
