"""Uniform shape: 1 on ``[low, high]``, 0 elsewhere; its integral and their derivatives.

The density does not change with its edges except at them (a set of measure zero), so its
parameter derivatives are zero; the integral over a window moves with an edge inside it.

>>> integral(0.0, 2.0, 0.5, 1.5)
1.0
>>> integral_grad(0.0, 2.0, 0.5, 1.5)
(1.0, -1.0, 1.0)
"""

PARAMS = ("low", "high")


def pdf(x, low, high):
    return ((x >= low) & (x <= high)) * 1.0


def pdf_grad(x, low, high):
    v = ((x >= low) & (x <= high)) * 1.0
    return v, 0.0 * v, 0.0 * v


def pdf_hess(x, low, high):
    v = ((x >= low) & (x <= high)) * 1.0
    return v, 0.0 * v, 0.0 * v, 0.0 * v, 0.0 * v, 0.0 * v


def integral(lower, upper, low, high):
    return max(0.0, min(upper, high) - max(lower, low))


def integral_grad(lower, upper, low, high):
    value = integral(lower, upper, low, high)
    if value <= 0.0:
        return value, 0.0, 0.0
    d_low = -1.0 if lower < low else 0.0
    d_high = 1.0 if high < upper else 0.0
    return value, d_low, d_high


def integral_hess(lower, upper, low, high):
    value, d_low, d_high = integral_grad(lower, upper, low, high)
    return value, d_low, d_high, 0.0, 0.0, 0.0
