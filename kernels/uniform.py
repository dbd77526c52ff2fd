"""Uniform shape: 1 on ``[low, high]``, 0 elsewhere.

>>> integral(0.0, 2.0, 0.5, 1.5)
1.0
"""

PARAMS = ("low", "high")


def pdf(x, low, high):
    return ((x >= low) & (x <= high)) * 1.0


def integral(lower, upper, low, high):
    return max(0.0, min(upper, high) - max(lower, low))
