"""The headline model with its Gaussian written by the user (``@nfit.kernel``), for the benchmarks."""
import math

import numpy as np

import nfit
from nfit import headline


@nfit.kernel
def user_gauss(x, mu, sigma):
    t = (x - mu) * (1.0 / sigma)
    return np.exp(-0.5 * t * t)


@nfit.kernel
def user_gauss_numeric(x, mu, sigma):
    """The same density with no integral attached: normalised by quadrature."""
    t = (x - mu) * (1.0 / sigma)
    return np.exp(-0.5 * t * t)


@user_gauss.integral
def _user_gauss_integral(lower, upper, mu, sigma):
    s = sigma * math.sqrt(2.0)
    return math.sqrt(0.5 * math.pi) * sigma * (math.erf((upper - mu) / s) - math.erf((lower - mu) / s))


def _gradient(x, mu, sigma):
    inv = 1.0 / sigma
    t = (x - mu) * inv
    v = np.exp(-0.5 * t * t)
    return v * t * inv, v * t * t * inv


def _hessian(x, mu, sigma):
    inv = 1.0 / sigma
    t = (x - mu) * inv
    v = np.exp(-0.5 * t * t) * inv * inv
    return v * (t * t - 1.0), v * t * (t * t - 2.0), v * t * t * (t * t - 3.0)


for _k in (user_gauss, user_gauss_numeric):
    _k.gradient(_gradient)
    _k.hessian(_hessian)


def build(data, signal="builtin"):
    """The headline loss with its signal shape built in, user-defined, or user-defined without integral."""
    obs = nfit.Space("m", limits=headline.LIMITS)
    scale = (data["A"].size + data["B"].size) / 50_000
    p = {k: nfit.Parameter(k, v * (scale if k.startswith("n") else 1.0),
                           *[b * (scale if k.startswith("n") else 1.0) for b in headline.BOUNDS[k]])
         for k, v in headline.START.items()}
    models, datasets = [], []
    for ch in "AB":
        kw = dict(mu=p["mu"], sigma=p["sigma"], extended=p[f"nsig_{ch}"])
        if signal == "builtin":
            sig = nfit.pdf.Gauss(obs=obs, **kw)
        else:
            sig = (user_gauss if signal == "decorator" else user_gauss_numeric).pdf(obs=obs, **kw)
        bkg = nfit.pdf.Exponential(lam=p[f"lam_{ch}"], obs=obs, extended=p[f"nbkg_{ch}"])
        models.append(nfit.pdf.SumPDF([sig, bkg]))
        datasets.append(nfit.Data.from_numpy(obs, data[ch]))
    return nfit.loss.ExtendedUnbinnedNLL(model=models, data=datasets), p, scale
