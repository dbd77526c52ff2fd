"""nfit: model fitting for particle physics with zfit's vocabulary and fused Numba kernels.

>>> import numpy as np, nfit
>>> obs = nfit.Space("x", limits=(-3, 3))
>>> mu = nfit.Parameter("mu_init", 0.1, -1, 1); sigma = nfit.Parameter("sigma_init", 1.2, 0.1, 3)
>>> data = nfit.Data.from_numpy(obs=obs, array=np.random.default_rng(0).normal(size=2000).clip(-2.9, 2.9))
>>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), data=data)
>>> result = nfit.minimize.Minuit().minimize(nll)
>>> result.valid
True
"""
from . import cache, constraint, loss, minimize, param, pdf, run, z
from ._version import __version__
from .data import Data
from .param import ComposedParameter, ConstantParameter, Parameter
from .space import Space

__all__ = [
    "__version__", "Space", "Parameter", "ComposedParameter", "ConstantParameter", "Data", "pdf", "loss",
    "constraint", "minimize", "run", "cache", "param", "z",
]
