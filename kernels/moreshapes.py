"""Shapes of zfit's catalogue normalised numerically (their CDFs need incomplete gamma or beta
functions): the q-Gaussian, the Gamma distribution, the chi-square and a continuous Poisson. ``m`` is
the math namespace (nfit.z).

>>> from nfit import z
>>> float(qgauss(0.0, 2.0, 0.0, 1.0, z)), float(gamma(1.0, 1.0, 1.0, 0.0, z))
(1.0, 0.36787944117144233)
"""


def qgauss(x, q, mu, sigma, m):
    """``[1 + (q - 1) t**2 / 2]**(-1 / (q - 1))``, t = (x - mu) / sigma, for 1 < q < 3 (zfit's, a
    Student's t with ``(3 - q) / (q - 1)`` degrees of freedom)."""
    t = (x - mu) / sigma
    return (1.0 + 0.5 * (q - 1.0) * t * t) ** (-1.0 / (q - 1.0))


def gamma(x, gamma, beta, mu, m):
    """``(x - mu)**(gamma - 1) exp(-(x - mu) / beta)`` above ``mu`` (RooGamma's, zfit's)."""
    u = m.maximum(x - mu, 0.0)
    return m.where(x > mu, m.exp((gamma - 1.0) * m.log(m.maximum(u, 1e-300)) - u / beta), 0.0)


def chisquared(x, ndof, m):
    """``x**(ndof/2 - 1) exp(-x/2)`` for x > 0."""
    u = m.maximum(x, 1e-300)
    return m.where(x > 0.0, m.exp((0.5 * ndof - 1.0) * m.log(u) - 0.5 * x), 0.0)


def poisson(x, lam, m):
    """``lam**x exp(-lam) / Gamma(x + 1)``, continuous in x >= 0."""
    return m.where(x >= 0.0, m.exp(x * m.log(lam) - lam - m.lgamma(m.maximum(x, 0.0) + 1.0)), 0.0)
