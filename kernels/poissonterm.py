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


# log Gamma(a + n) - log Gamma(a) and its derivatives by a, for the Barlow-Beeston-lite template cost
# ("asy") of a binned fit; scalar code, run once per bin on the eager path
SCALAR_FUNCTIONS = ("lgamma_ratio", "lgamma_ratio_grad", "lgamma_ratio_hess")
_LARGE = 20.0  # above it, log Gamma's asymptotic series (error below 1e-13 there)


def _tail(x):
    """log Gamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2): Stirling's series."""
    inv = 1.0 / x
    inv2 = inv * inv
    return inv * (1.0 / 12 - inv2 * (1.0 / 360 - inv2 * (1.0 / 1260 - inv2 / 1680)))


def lgamma_ratio(n, a):
    """``log Gamma(a + n) - log Gamma(a)`` without the cancellation of the two for large ``a``."""
    if a < _LARGE:
        return math.lgamma(a + n) - math.lgamma(a)
    b = a + n
    return (a - 0.5) * math.log1p(n / a) + n * math.log(b) - n + _tail(b) - _tail(a)


def _digamma_difference(n, a):
    """``digamma(a + n) - digamma(a)``, from the asymptotic series for large ``a``."""
    if a < _LARGE:
        return digamma(a + n) - digamma(a)
    b = a + n
    ia, ib = 1.0 / a, 1.0 / b
    ia2, ib2 = ia * ia, ib * ib
    series = (ia2 - ib2) / 12 - (ia2 * ia2 - ib2 * ib2) / 120 + (ia2 ** 3 - ib2 ** 3) / 252
    return math.log1p(n / a) + 0.5 * n * ia * ib + series


def _trigamma_difference(n, a):
    """``trigamma(a + n) - trigamma(a)``."""
    if a < _LARGE:
        return trigamma(a + n) - trigamma(a)
    b = a + n
    ia, ib = 1.0 / a, 1.0 / b
    return (-n * ia * ib - 0.5 * n * (a + b) * ia * ia * ib * ib + (ib ** 3 - ia ** 3) / 6
            - (ib ** 5 - ia ** 5) / 30 + (ib ** 7 - ia ** 7) / 42)


def lgamma_ratio_grad(n, a):
    return lgamma_ratio(n, a), _digamma_difference(n, a)


def lgamma_ratio_hess(n, a):
    return lgamma_ratio(n, a), _digamma_difference(n, a), _trigamma_difference(n, a)
