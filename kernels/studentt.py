"""Student's t shape (zfit's ``StudentT``): ``(1 + t**2 / ndof)**(-(ndof + 1) / 2)``, t = (x - mu) / sigma.
Normalised numerically (its CDF needs the incomplete beta function).

>>> from nfit import z
>>> float(pdf(0.0, 3.0, 0.0, 1.0, z))
1.0
"""

PARAMS = ("ndof", "mu", "sigma")


def pdf(x, ndof, mu, sigma, m):
    t = (x - mu) / sigma
    return (1.0 + t * t / ndof) ** (-0.5 * (ndof + 1.0))
