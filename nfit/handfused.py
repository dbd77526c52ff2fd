"""A hand-written fused Numba NLL of the headline model: the practical speed limit.

Written the way an expert would write it by hand for exactly this model (two channels of
Gauss + Exponential, extended), with no generality. The benchmarks compare nfit's generated
kernel against it. ``channel_nll`` uses ``math.exp`` and ``math.log`` (the C library, one event at a
time), as one would write it; ``channel_nll_vecmath`` is the same loop with nfit's vectorising
``exp`` and ``log`` (``nfit.compile.vecmath``), the limit for nfit's own kernels, which use them.
Both are vectorised as nfit's kernels are (:mod:`nfit.compile.loops`).
"""
import math

import numba

from .compile import loops, vecmath

loops.install()
# Numba's disk cache does not know how the loops were compiled: cached code only where LLVM chose
_CACHE = not loops.tuned()

_SQRT_HALF = math.sqrt(0.5)
_SQRT_HALF_PI = math.sqrt(0.5 * math.pi)


@numba.njit(cache=_CACHE)
def _gauss_norm(lo, hi, mu, sigma):
    return _SQRT_HALF_PI * sigma * (math.erf((hi - mu) / sigma * _SQRT_HALF) - math.erf((lo - mu) / sigma * _SQRT_HALF))


@numba.njit(cache=_CACHE)
def _exp_norm(lo, hi, lam):
    return (math.exp(lam * hi) - math.exp(lam * lo)) / lam


def _channel_nll(m, fastmath):
    """The fused loop for one channel, with the ``exp`` and ``log`` of module ``m``."""

    @numba.njit(cache=_CACHE, parallel=True, error_model="numpy", fastmath=fastmath)
    def channel_nll(x, lo, hi, mu, sigma, lam, nsig, nbkg):
        cs = nsig / _gauss_norm(lo, hi, mu, sigma)
        cb = nbkg / _exp_norm(lo, hi, lam)
        inv_sigma = 1.0 / sigma
        acc = 0.0
        for i in numba.prange(x.shape[0]):
            t = (x[i] - mu) * inv_sigma
            acc += m.log(cs * m.exp(-0.5 * t * t) + cb * m.exp(lam * x[i]))
        nu = nsig + nbkg
        return nu - acc

    return channel_nll


channel_nll = _channel_nll(math, fastmath=False)
# the same loop with nfit's exp and log, its sums reassociable and products fused with sums, as nfit's
# kernels have them
channel_nll_vecmath = _channel_nll(vecmath, fastmath={"reassoc", "contract"})


def headline_nll(xa, xb, lo=5.0, hi=5.6):
    """f(params) for the headline fit: params = mu, sigma, lam_A, nsig_A, nbkg_A, lam_B, nsig_B, nbkg_B."""

    def nll(p):
        mu, sigma, lam_a, nsig_a, nbkg_a, lam_b, nsig_b, nbkg_b = p
        return (channel_nll(xa, lo, hi, mu, sigma, lam_a, nsig_a, nbkg_a)
                + channel_nll(xb, lo, hi, mu, sigma, lam_b, nsig_b, nbkg_b))

    nll.errordef = 0.5
    return nll


PARAM_ORDER = ("mu", "sigma", "lam_A", "nsig_A", "nbkg_A", "lam_B", "nsig_B", "nbkg_B")
