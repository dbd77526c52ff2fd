"""Numba-compiled copies of a kernel module's functions, for generated kernels.

Kernel modules import nothing from Numba (they are pure math, and the eager path calls them with
NumPy arrays). A generated kernel needs them jitted, including the calls a kernel function makes
to its module's other functions: each function is cloned with globals in which every function of
the module is replaced by its jitted clone.

>>> from nfit.kernels import gauss
>>> round(jit_module(gauss).integral_grad(-1.0, 1.0, 0.0, 1.0)[0], 6)
1.711249
"""
from __future__ import annotations

import types

_modules: dict = {}


def jit_module(module):
    """A namespace with a jitted clone of every function defined in ``module``."""
    if module.__name__ not in _modules:
        import numba

        if hasattr(module, "kernel_functions"):  # a user kernel (nfit.kernel): its functions' own globals
            functions = module.kernel_functions()
            namespace = {}
            for obj in functions.values():
                namespace.update(obj.__globals__)
        else:
            functions = {name: obj for name, obj in vars(module).items()
                         if isinstance(obj, types.FunctionType) and obj.__module__ == module.__name__}
            namespace = dict(vars(module))
        jitted = {}
        for name, obj in functions.items():
            clone = types.FunctionType(obj.__code__, namespace, name, obj.__defaults__, obj.__closure__)
            clone.__qualname__ = obj.__qualname__
            jitted[name] = numba.njit(error_model="numpy")(clone)
        namespace.update(jitted)
        _modules[module.__name__] = types.SimpleNamespace(**jitted)
    return _modules[module.__name__]
