"""zfit's ``z.random``: random numbers from one NumPy generator (``get_prng``), with zfit's argument
names (``shape``, ``mean``/``stddev``, ``minval``/``maxval``).

>>> set_seed(3); x = normal((2,)); x.shape
(2,)
"""
from __future__ import annotations

import numpy as np

_state = {"rng": np.random.default_rng()}


def get_prng() -> np.random.Generator:
    """The generator every function here draws from."""
    return _state["rng"]


def set_seed(seed) -> None:
    """Start the generator anew from ``seed``."""
    _state["rng"] = np.random.default_rng(seed)


def normal(shape, mean=0.0, stddev=1.0, dtype=None):
    return get_prng().normal(mean, stddev, size=shape)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None):
    return get_prng().uniform(minval, maxval, size=shape)


def poisson(lam, shape=None, dtype=None):
    lam = np.asarray(lam, dtype=float)
    size = shape if shape is None or np.ndim(lam) == 0 else tuple(np.atleast_1d(shape)) + lam.shape
    return get_prng().poisson(lam, size=size).astype(float)
