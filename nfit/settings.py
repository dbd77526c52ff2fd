"""zfit's ``zfit.settings``: the random seed, the float type, and the switches of warnings.

>>> import nfit
>>> nfit.settings.set_seed(7)
>>> nfit.settings.ztypes.float
<class 'numpy.float64'>
"""
from __future__ import annotations

import types

import numpy as np

__all__ = ["set_seed", "ztypes", "options", "advanced_warnings", "changed_warnings"]

ztypes = types.SimpleNamespace(float=np.float64, complex=np.complex128, int=np.int64)


class _Switches(types.SimpleNamespace):
    """Named on/off switches (zfit's warning settings); ``all`` sets every one."""

    def __setattr__(self, name, value):
        if name == "all":
            for key in list(vars(self)):
                super().__setattr__(key, value)
        super().__setattr__(name, value)


options = types.SimpleNamespace(numerical_grad=None, advanced_warning=True, changed_warning=True)
advanced_warnings = _Switches(all=True)
changed_warnings = _Switches(all=True)


def set_seed(seed=None, numpy=None, backend=None, zfit=None):
    """Seed nfit's random numbers (sampling, ``z.random``) and, unless ``numpy=False``, NumPy's global
    generator, as zfit's ``settings.set_seed`` (``backend`` has no counterpart here and must be None or
    a bool)."""
    from . import sampling
    from .z import random

    if backend not in (None, True, False):
        raise ValueError("set_seed: nfit has no backend generator to seed separately; leave backend=None")
    seed_nfit = seed if zfit is None or zfit is True else zfit
    if zfit is not False:
        sampling.set_seed(seed_nfit)
        random.set_seed(seed_nfit)
    if numpy is False:
        return
    numpy_seed = seed if numpy in (None, True) else numpy
    np.random.seed(None if numpy_seed is None else int(np.asarray(numpy_seed).ravel()[0]) % 2**32)
