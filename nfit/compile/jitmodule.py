"""Compiled copies of a kernel module's functions, for generated kernels.

Kernel modules import nothing from Numba (they are pure math, and the eager path calls them with
NumPy arrays). A generated kernel needs them compiled, including the calls a kernel function makes
to its module's other functions: each function is cloned with globals in which every function of
the module is replaced by its compiled clone. :func:`jit_module` gives CPU (``numba.njit``) clones,
:func:`cuda_module` CUDA device functions (``numba.cuda.jit(device=True)``) of the same source.

A CPU clone comes in two flavours, each compiled with its own floating-point flags whoever calls it
first: the ones a generated kernel calls once per call (normalisation integrals, in exact IEEE
arithmetic), and the ones its event loops call (``loop=True``: :data:`LOOP_FASTMATH`, the flags of
the loops themselves). Numba would otherwise compile a function called from a ``fastmath`` function
with its caller's flags, and keep the first compilation for every later caller (in the process and
in its disk cache), so that a kernel's arithmetic depended on what the process compiled first.

>>> from nfit.kernels import gauss
>>> round(jit_module(gauss).integral_grad(-1.0, 1.0, 0.0, 1.0)[0], 6)
1.711249
"""
from __future__ import annotations

import math
import types
from pathlib import Path

import numpy as np

_modules: dict = {}

# the floating-point liberties of the event loops (LLVM's fast-math flags):
# - reassoc: the sums over events may be reordered, so the loop vectorises;
# - contract: a product and a sum become one fused multiply-add (a Hessian loop has dozens);
# - arcp: a division by a value the loop does not change becomes a product with its reciprocal,
#   computed once before the loop. Without it, LLVM folds a reciprocal that the loop uses once back
#   into a division per event (``(x - mu) * (1 / sigma)`` into ``(x - mu) / sigma``), and a division
#   takes several times as long as a product.
LOOP_FASTMATH = frozenset({"reassoc", "contract", "arcp"})


def jit_module(module, loop=False):
    """A namespace with a ``numba.njit`` clone of every function defined in ``module``.

    The clones of nfit's own kernel modules are cached on disk by Numba (see
    :func:`_register_clone_cache`), so a fresh process compiling a new model compiles only its
    generated module; a user kernel's clones are compiled in each process.

    The clones see :mod:`nfit.compile.vecmath` for ``math`` and its :data:`~nfit.compile.vecmath.NUMPY`
    for ``np``: the same names, with an ``exp`` and a ``log`` that let the event loop vectorise.
    ``loop``: the clones an event loop calls, compiled with :data:`LOOP_FASTMATH` (else with none).
    """
    import numba

    from . import loops

    loops.install()  # before the generated module that asks for these compiles
    cached = not hasattr(module, "kernel_functions")
    if cached:
        _register_clone_cache()

    fastmath = set(LOOP_FASTMATH) if loop else False  # given, never inherited from the caller
    flavour = "loop" if loop else ""

    def compile_function(clone):
        clone._nfit_clone = cached
        clone._nfit_flavour = flavour  # its own files in Numba's cache (numba_api.add_cache_locators)
        if getattr(clone, "inline_when_compiled", False):
            # glue that calls the user's functions (pdf_grad = pdf and gradient): inlined by Numba, so
            # that LLVM sees the user's functions one by one, each small enough to inline into the
            # event loop (the glue with both inside is not, and a call stops the loop vectorising)
            return numba.njit(error_model="numpy", fastmath=fastmath, inline="always")(clone)
        return numba.njit(error_model="numpy", fastmath=fastmath, cache=cached)(clone)

    return _clone(module, "cpu-loop" if loop else "cpu", compile_function)


# what compiled kernel code depends on besides its own source: the cloning here, the vectorising math
# and the choice of vector width
COMPILER_SOURCES = [Path(__file__).with_name(name) for name in ("jitmodule.py", "vecmath.py", "loops.py")]
_registered = []


def _register_clone_cache():
    """Teach Numba's cache where the kernel clones live and when they are stale.

    A clone's machine code depends on its module's source, and also on the ``math`` it was
    compiled against (:mod:`.vecmath`, inlined into it) and on this module: Numba stamps a cached
    function with its own source file only, so the clones' locators add those two files to the
    stamp. The files go where Numba would put them (``NUMBA_CACHE_DIR`` if set, else the package's
    ``__pycache__``, or Numba's per-user cache folder where that cannot be written).
    """
    if _registered:
        return
    from .numba_api import add_cache_locators

    add_cache_locators(COMPILER_SOURCES, lambda py_func: getattr(py_func, "_nfit_clone", False),
                       lambda py_func: py_func._nfit_flavour)
    _registered.append(True)


def cuda_module(module):
    """A namespace with a CUDA device-function clone of every function defined in ``module``.

    The clones see :data:`SCALAR_NUMPY` for ``np``: kernels call ``np.exp`` so that the eager path
    can hand them arrays, and on a GPU those calls take scalars, so they are the ``math`` ones.
    """
    from numba import config, cuda

    return _clone(module, "cuda-simulator" if config.ENABLE_CUDASIM else "cuda",
                  lambda f: cuda.jit(device=True)(f))


def _clone(module, target, compile_function):
    key = (module.__name__, target)
    if key not in _modules:
        if hasattr(module, "kernel_functions"):  # a user kernel (nfit.kernel): its functions' own globals
            functions = module.kernel_functions()
            namespace = {}
            for obj in functions.values():
                namespace.update(obj.__globals__)
        else:
            functions = {name: obj for name, obj in vars(module).items()
                         if isinstance(obj, types.FunctionType) and obj.__module__ == module.__name__}
            namespace = dict(vars(module))
        if target.startswith("cpu"):
            from . import vecmath

            swap = {id(np): vecmath.NUMPY, id(math): vecmath, id(math.exp): vecmath.exp, id(math.log): vecmath.log,
                    id(np.exp): vecmath.NUMPY.exp, id(np.log): vecmath.NUMPY.log}  # also `from math import exp`
            for name, value in list(namespace.items()):
                if id(value) in swap:
                    namespace[name] = swap[id(value)]
        elif target.startswith("cuda"):
            simulator = target == "cuda-simulator"
            for name, value in list(namespace.items()):
                if value is np:
                    namespace[name] = SIMULATOR_NUMPY if simulator else SCALAR_NUMPY
                elif value is math and simulator:
                    namespace[name] = SIMULATOR_MATH
        compiled = {}
        for name, obj in functions.items():
            clone = types.FunctionType(obj.__code__, namespace, name, obj.__defaults__, obj.__closure__)
            clone.__qualname__ = obj.__qualname__
            clone.__dict__.update(obj.__dict__)
            compiled[name] = compile_function(clone)
        namespace.update(compiled)
        _modules[key] = types.SimpleNamespace(**compiled)
    return _modules[key]


def _scalar_numpy():
    """NumPy's names, with its element-wise functions replaced by the ``math`` functions of scalars."""
    shim = types.ModuleType("nfit_scalar_numpy")
    shim.__dict__.update({k: v for k, v in vars(np).items() if not k.startswith("__")})
    same = ("exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "expm1", "log1p",
            "floor", "ceil", "fabs", "isnan", "isinf", "isfinite", "log10", "copysign")
    for name in same:
        setattr(shim, name, getattr(math, name))
    for np_name, math_name in (("arctan", "atan"), ("arcsin", "asin"), ("arccos", "acos"),
                               ("arcsinh", "asinh"), ("arctan2", "atan2"), ("power", "pow")):
        setattr(shim, np_name, getattr(math, math_name))
    shim.abs = shim.absolute = abs
    return shim


SCALAR_NUMPY = _scalar_numpy()


def _simulator_function(name, scalar):
    ufunc = getattr(np, {"atan": "arctan", "asin": "arcsin", "acos": "arccos", "asinh": "arcsinh",
                         "atan2": "arctan2", "pow": "power"}.get(name, name), None)

    def safe(*args):
        # as on a GPU (and in Numba's error_model="numpy"): nan or inf, never a Python exception
        if isinstance(ufunc, np.ufunc):
            with np.errstate(all="ignore"):
                return ufunc(*(np.float64(a) if isinstance(a, float) else a for a in args))
        try:
            return np.float64(scalar(*args))
        except OverflowError:
            return np.float64(np.inf)
        except (ValueError, ZeroDivisionError):
            return np.float64(np.nan)

    safe.__name__ = name
    return safe


def _simulator_namespace(name, base):
    """``base`` (math or SCALAR_NUMPY) with its functions returning nan/inf instead of raising, for
    kernels run in Numba's CUDA simulator, where device code is plain Python."""
    shim = types.ModuleType(name)
    for key, value in vars(base).items():
        if key.startswith("__"):
            continue
        if isinstance(value, types.BuiltinFunctionType) and getattr(math, key, None) is value:
            value = _simulator_function(key, value)
        setattr(shim, key, value)
    return shim


SIMULATOR_MATH = _simulator_namespace("nfit_simulator_math", math)
SIMULATOR_NUMPY = _simulator_namespace("nfit_simulator_numpy", SCALAR_NUMPY)
