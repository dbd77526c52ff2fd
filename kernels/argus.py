"""ARGUS background shape (RooArgusBG): ``x (1 - (x/m0)**2)**p exp(c (1 - (x/m0)**2))`` below m0,
zero above. Normalised numerically.

>>> from nfit import z
>>> float(pdf(6.0, 5.29, -20.0, 0.5, z))
0.0
"""

PARAMS = ("m0", "c", "p")


def pdf(x, m0, c, p, m):
    u = 1.0 - (x / m0) ** 2
    inside = m.maximum(u, 0.0)
    return m.where(u > 0.0, x * inside ** p * m.exp(c * inside), 0.0)
