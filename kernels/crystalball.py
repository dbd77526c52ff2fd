"""Crystal Ball shapes: a Gaussian core with power-law tails (RooCBShape's and zfit's definition).

``t = (x - mu) / sigma``; the core ``exp(-t**2 / 2)`` joins a tail ``A (B - t)**-n`` at ``t = -alpha``
(a negative ``alpha`` puts the tail on the right), with ``A = (n/|alpha|)**n exp(-alpha**2/2)`` and
``B = n/|alpha| - |alpha|`` so that value and slope match. ``m`` is the math namespace (nfit.z).

>>> from nfit import z
>>> round(float(pdf(0.0, 0.0, 1.0, 1.5, 3.0, z)), 6)
1.0
"""
import math

PARAMS = ("mu", "sigma", "alpha", "n")
_SQRT_HALF = math.sqrt(0.5)
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)


def _tail(t, a, n, m):
    """The power-law tail at ``t`` (left side, ``t < -a``), for ``a = |alpha| > 0``."""
    return (n / a) ** n * m.exp(-0.5 * a * a) * (n / a - a - t) ** (-n)


def _tail_primitive(t, a, n, m):
    """A primitive of the tail in ``t`` (``n == 1`` has a logarithm)."""
    b = n / a - a
    scale = (n / a) ** n * m.exp(-0.5 * a * a)
    power = scale * (b - t) ** (1.0 - n) / (n - 1.0)
    return m.where(m.abs(n - 1.0) < 1e-12, -scale * m.log(b - t), power)


def _core_integral(t0, t1, m):
    return _SQRT_HALF_PI * (m.erf(t1 * _SQRT_HALF) - m.erf(t0 * _SQRT_HALF))


def pdf(x, mu, sigma, alpha, n, m):
    t = (x - mu) / sigma
    t = m.where(alpha < 0.0, -t, t)
    a = m.abs(alpha)
    return m.where(t > -a, m.exp(-0.5 * t * t), _tail(t, a, n, m))


def _left_tail_integral(t0, t1, a, n, m):
    """Integral over t in [t0, t1] of the shape with its tail on the left (in units of sigma)."""
    core_lo = m.maximum(t0, -a)
    tail_hi = m.minimum(t1, -a)
    core = m.where(t1 > -a, _core_integral(core_lo, t1, m), 0.0)
    tail = m.where(t0 < -a, _tail_primitive(tail_hi, a, n, m) - _tail_primitive(t0, a, n, m), 0.0)
    return core + tail


def integral(lower, upper, mu, sigma, alpha, n, m):
    t0, t1 = (lower - mu) / sigma, (upper - mu) / sigma
    # a right tail is the mirror image of a left one
    lo = m.where(alpha < 0.0, -t1, t0)
    hi = m.where(alpha < 0.0, -t0, t1)
    return sigma * _left_tail_integral(lo, hi, m.abs(alpha), n, m)


def double_pdf(x, mu, sigma, alphal, nl, alphar, nr, m):
    """DoubleCB: tails on both sides, joining at ``t = -alphal`` and ``t = alphar``."""
    t = (x - mu) / sigma
    core = m.exp(-0.5 * t * t)
    left = _tail(t, alphal, nl, m)
    right = _tail(-t, alphar, nr, m)
    return m.where(t < -alphal, left, m.where(t > alphar, right, core))


def double_integral(lower, upper, mu, sigma, alphal, nl, alphar, nr, m):
    t0, t1 = (lower - mu) / sigma, (upper - mu) / sigma
    core_lo, core_hi = m.maximum(t0, -alphal), m.minimum(t1, alphar)
    core = m.where(core_hi > core_lo, _core_integral(core_lo, core_hi, m), 0.0)
    left_hi = m.minimum(t1, -alphal)
    left = m.where(t0 < -alphal, _tail_primitive(left_hi, alphal, nl, m) - _tail_primitive(t0, alphal, nl, m), 0.0)
    # the right tail over [max(t0, alphar), t1] is the left tail over [-t1, -max(t0, alphar)]
    right_lo = m.maximum(t0, alphar)
    right = m.where(t1 > alphar,
                    _tail_primitive(-right_lo, alphar, nr, m) - _tail_primitive(-t1, alphar, nr, m), 0.0)
    return sigma * (core + left + right)


def generalized_pdf(x, mu, sigmal, alphal, nl, sigmar, alphar, nr, m):
    """GeneralizedCB (zfit's): a Crystal Ball with its own width and tail on each side of ``mu``."""
    tl = (x - mu) / sigmal
    tr = (x - mu) / sigmar
    left = m.where(tl < -alphal, _tail(tl, alphal, nl, m), m.exp(-0.5 * tl * tl))
    right = m.where(tr > alphar, _tail(-tr, alphar, nr, m), m.exp(-0.5 * tr * tr))
    return m.where(x < mu, left, right)


def generalized_integral(lower, upper, mu, sigmal, alphal, nl, sigmar, alphar, nr, m):
    # below mu: the left-tailed shape in units of sigmal; above: the mirrored right side in units of sigmar
    a, b = m.minimum(lower, mu), m.minimum(upper, mu)
    c, d = m.maximum(lower, mu), m.maximum(upper, mu)
    left = sigmal * _left_tail_integral((a - mu) / sigmal, (b - mu) / sigmal, alphal, nl, m)
    right = sigmar * _left_tail_integral(-(d - mu) / sigmar, -(c - mu) / sigmar, alphar, nr, m)
    return m.where(b > a, left, 0.0) + m.where(d > c, right, 0.0)
