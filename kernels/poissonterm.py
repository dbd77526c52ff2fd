"""The Poisson penalty of a count parameter: ``-log Poisson(n; rate) = rate - n log(rate) + lgamma(n + 1)``,
continuous in ``n``, with its derivatives by ``n`` (digamma and trigamma of ``n + 1``).

The derivative functions return the value first, then the derivative by ``n`` (and for ``*_hess``
the second derivative).

>>> round(nll(3.0, 2.0), 6)  # rate 3, count 2: 3 - 2 log 3 + log 2
1.495923
>>> [round(v, 6) for v in nll_grad(3.0, 2.0)]  # digamma(3) - log 3
[1.495923, -0.175828]
"""
import math


def digamma(x):
    """psi(x) for x > 0: the recurrence up to x >= 10, then the asymptotic series (error below 1e-15)."""
    shift = 0.0
    while x < 10.0:
        shift -= 1.0 / x
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252 - inv2 * (
        1.0 / 240 - inv2 * (1.0 / 132 - inv2 * 691.0 / 32760)))))
    return shift + math.log(x) - 0.5 * inv - series


def trigamma(x):
    """psi'(x) for x > 0: the recurrence up to x >= 10, then the asymptotic series (relative error below 1e-13)."""
    shift = 0.0
    while x < 10.0:
        shift += 1.0 / (x * x)
        x += 1.0
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv * (1.0 + inv * (0.5 + inv * (1.0 / 6 - inv2 * (1.0 / 30 - inv2 * (
        1.0 / 42 - inv2 * (1.0 / 30 - inv2 * (5.0 / 66 - inv2 * 691.0 / 2730)))))))
    return shift + series


def nll(rate, n):
    return rate - n * math.log(rate) + math.lgamma(n + 1.0)


def nll_grad(rate, n):
    return nll(rate, n), digamma(n + 1.0) - math.log(rate)


def nll_hess(rate, n):
    value, first = nll_grad(rate, n)
    return value, first, trigamma(n + 1.0)


# log Gamma(x) and its derivatives, for the Barlow-Beeston-lite template cost ("asy") of a binned fit
SCALAR_FUNCTIONS = ("lgamma", "lgamma_grad", "lgamma_hess")


def lgamma(x):
    return math.lgamma(x)


def lgamma_grad(x):
    return math.lgamma(x), digamma(x)


def lgamma_hess(x):
    return math.lgamma(x), digamma(x), trigamma(x)
