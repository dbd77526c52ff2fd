"""Cauchy (Breit–Wigner) shape, as zfit: ``1 / (1 + ((x - m) / gamma)**2)``, gamma the half width.

>>> from nfit import z
>>> round(float(integral(-1.0, 1.0, 0.0, 1.0, z)), 6)
1.570796
"""

PARAMS = ("m", "gamma")


def pdf(x, m_, gamma, m):
    t = (x - m_) / gamma
    return 1.0 / (1.0 + t * t)


def integral(lower, upper, m_, gamma, m):
    return gamma * (m.atan((upper - m_) / gamma) - m.atan((lower - m_) / gamma))
