"""Voigt profile: a Gaussian (``sigma``) convolved with a Lorentzian (``gamma``, half width at half
maximum), through the Faddeeva function: ``V = Re w(z) / (sigma sqrt(2 pi))`` with
``z = (x - m + i gamma) / (sigma sqrt(2))``, as ``scipy.special.voigt_profile``.

``w`` is computed with Weideman's rational approximation (SIAM J. Numer. Anal. 31 (1994) 1497)
with 32 terms, valid in the upper half plane (gamma > 0); its derivatives follow from
``w'(z) = -2 z w(z) + 2i / sqrt(pi)``. The same code runs on floats (Numba) and on NumPy arrays.

>>> round(float(pdf(0.0, 0.0, 1.0, 0.5)), 10)
0.2789554704
"""
import math

import numpy as np

PARAMS = ("m", "sigma", "gamma")
_N = 32
_L = math.sqrt(_N / math.sqrt(2.0))
_SQRT_PI = math.sqrt(math.pi)
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _coefficients():
    m = 2 * _N
    k = np.arange(-m + 1, m)
    t = _L * np.tan(k * np.pi / (2 * m))
    f = np.concatenate([[0.0], np.exp(-t * t) * (_L * _L + t * t)])
    a = np.real(np.fft.fft(np.fft.fftshift(f))) / (2 * m)
    return np.ascontiguousarray(a[1:_N + 1][::-1])


_A = _coefficients()


def faddeeva(z):
    """w(z) for Im z > 0 (complex float or complex array)."""
    zz = (_L + 1j * z) / (_L - 1j * z)
    p = 0.0 * zz
    for a in _A:
        p = p * zz + a
    d = _L - 1j * z
    return 2.0 * p / (d * d) + (1.0 / _SQRT_PI) / d


def pdf(x, m, sigma, gamma):
    z = (x - m + 1j * gamma) / (sigma * _SQRT2)
    return faddeeva(z).real * _INV_SQRT_2PI / sigma


def _parts(x, m, sigma, gamma):
    s2 = sigma * _SQRT2
    z = (x - m + 1j * gamma) / s2
    w = faddeeva(z)
    w1 = -2.0 * z * w + 2j / _SQRT_PI
    prefactor = _INV_SQRT_2PI / sigma
    # dz/dm, dz/dsigma, dz/dgamma
    dz = (-1.0 / s2 + 0.0j, -z / sigma, 1j / s2)
    return z, w, w1, prefactor, dz


def pdf_grad(x, m, sigma, gamma):
    z, w, w1, p, dz = _parts(x, m, sigma, gamma)
    r = w.real
    return (p * r, p * (w1 * dz[0]).real, p * (w1 * dz[1]).real - p / sigma * r, p * (w1 * dz[2]).real)


def pdf_hess(x, m, sigma, gamma):
    z, w, w1, p, dz = _parts(x, m, sigma, gamma)
    w2 = -2.0 * w - 2.0 * z * w1
    s2 = sigma * _SQRT2
    # second derivatives of z: only those with sigma are non-zero
    dz_ms = 1.0 / (sigma * s2) + 0.0j
    dz_ss = 2.0 * z / (sigma * sigma)
    dz_sg = -1j / (sigma * s2)
    r = w.real
    rm, rs, rg = (w1 * dz[0]).real, (w1 * dz[1]).real, (w1 * dz[2]).real
    p_s = -p / sigma
    p_ss = 2.0 * p / (sigma * sigma)
    r_mm = (w2 * dz[0] * dz[0]).real
    r_ms = (w2 * dz[0] * dz[1] + w1 * dz_ms).real
    r_mg = (w2 * dz[0] * dz[2]).real
    r_ss = (w2 * dz[1] * dz[1] + w1 * dz_ss).real
    r_sg = (w2 * dz[1] * dz[2] + w1 * dz_sg).real
    r_gg = (w2 * dz[2] * dz[2]).real
    return (p * r, p * rm, p * rs + p_s * r, p * rg,
            p * r_mm, p * r_ms + p_s * rm, p * r_mg,
            p * r_ss + 2.0 * p_s * rs + p_ss * r, p * r_sg + p_s * rg,
            p * r_gg)
