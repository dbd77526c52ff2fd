"""``math`` for compiled CPU kernels, with an ``exp`` and a ``log`` that the loop vectoriser can use.

Numba lowers ``math.exp`` and ``math.log`` to calls into the C library, one event at a time: the
event loops of a likelihood spend most of their time there, and LLVM cannot turn those calls into
SIMD instructions without a vector math library, which the llvmlite wheels do not link. The two
functions here are written in plain arithmetic (a range reduction, a polynomial, and the exponent
set or read through the float's bits), with no branches, so a loop that calls them vectorises.
Both are accurate to a few units in the last place over the whole double range (tested against
NumPy), and keep the C library's answers at the edges: ``exp`` overflows to inf and underflows
through the subnormals to 0, ``log`` gives -inf at 0, nan below 0 and for nan, inf at inf.

Generated CPU kernels import this module as their ``math`` (every other name is the ``math``
module's own), and kernel modules compiled for the CPU see it for ``math`` and :data:`NUMPY` for
``np``.

>>> import math
>>> abs(exp(1.0) - math.e) < 1e-15, log(math.e)
(True, 1.0)
"""
from __future__ import annotations

import math as _math
import types
from math import *  # noqa: F401,F403 -- every other name is math's own

import numba
import numpy as np
from numba import types as _nt
from numba.extending import intrinsic, overload

__all__ = ["exp", "log"] + [name for name in dir(_math) if not name.startswith("_") and name not in ("exp", "log")]

_FLAGS = {"contract"}  # fused multiply-adds in the polynomials; no flag that changes nan/inf handling

LN2_HI = 6.93147180369123816490e-01  # ln 2 with its low bits zero, so k * LN2_HI is exact
LN2_LO = 1.90821492927058770002e-10
LOG2E = 1.4426950408889634
SQRT2 = 1.4142135623730951
TWO52 = 4503599627370496.0
TWO54 = 18014398509481984.0
SMALLEST_NORMAL = 2.2250738585072014e-308
_EXP_TAYLOR = tuple(1.0 / _math.factorial(n) for n in range(13, -1, -1))  # 1/13!, ..., 1/1!, 1
_ATANH_SERIES = tuple(1.0 / n for n in range(23, 2, -2))  # 1/23, 1/21, ..., 1/3


@intrinsic
def _bits_to_float(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(_nt.float64))

    return _nt.float64(_nt.int64), codegen


@intrinsic
def _float_to_bits(typingctx, x):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(_nt.int64))

    return _nt.int64(_nt.float64), codegen


# No conversion between float64 and int64 below: x86 has vector instructions for them only with
# AVX-512, and LLVM converts lane by lane without (a quarter of exp's time on an AVX2 CPU). An integral
# float n with 0 <= n < 2**52 is read as an integer from the bits of n + 2**52, and written as one
# the same way.

@numba.njit(fastmath=_FLAGS, error_model="numpy", cache=True)
def _power_of_two(kf):
    """``2**kf`` for an integral float ``kf`` in [-1022, 1023]: the low bits of ``kf + 1023 + 2**52``
    shifted into the exponent field.

    >>> _power_of_two(-3.0), _power_of_two(10.0)
    (0.125, 1024.0)
    """
    return _bits_to_float(_float_to_bits(kf + (TWO52 + 1023.0)) << 52)


@numba.njit(fastmath=_FLAGS, error_model="numpy", cache=True)
def exp(x):
    """e to the ``x``: ``x = k ln2 + r`` with ``|r| <= ln2 / 2``, a degree-13 Taylor polynomial in ``r``,
    times ``2**k`` applied in two halves (so that subnormal results and overflow come out right).

    >>> exp(0.0), exp(-1000.0), exp(1000.0)
    (1.0, 0.0, inf)
    """
    xc = min(max(x, -746.0), 710.0)
    kf = np.floor(xc * LOG2E + 0.5)
    r = (xc - kf * LN2_HI) - kf * LN2_LO
    p = _EXP_TAYLOR[0]
    for c in _EXP_TAYLOR[1:]:  # Horner (the compiler unrolls the loop over a tuple)
        p = p * r + c
    half = np.floor(0.5 * kf)
    y = p * _power_of_two(half) * _power_of_two(kf - half)
    return x if x != x else y


@numba.njit(fastmath=_FLAGS, error_model="numpy", cache=True)
def log(x):
    """The natural logarithm: ``x = m 2**e`` with ``m`` in ``[sqrt(1/2), sqrt(2))``, and
    ``log m = 2 atanh(s)``, ``s = (m - 1) / (m + 1)``, as an odd series in ``s`` (``|s| < 0.172``).

    >>> log(1.0), log(0.0), log(-1.0) != log(-1.0)
    (0.0, -inf, True)
    """
    subnormal = x < SMALLEST_NORMAL
    xs = x * TWO54 if subnormal else x
    bits = _float_to_bits(xs)
    biased = _bits_to_float(((bits >> 52) & 0x7FF) | 0x4330000000000000) - TWO52  # the exponent field, as a float
    m = _bits_to_float((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)
    above = m > SQRT2
    m = 0.5 * m if above else m
    ef = biased - (1023.0 + 54.0 if subnormal else 1023.0) + (1.0 if above else 0.0)
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    series = _ATANH_SERIES[0]
    for c in _ATANH_SERIES[1:]:
        series = series * z + c
    series = series * z
    y = ef * LN2_HI + (ef * LN2_LO + 2.0 * s * (1.0 + series))
    y = _math.inf if x == _math.inf else y
    y = -_math.inf if x == 0.0 else y
    return _math.nan if (x < 0.0 or x != x) else y


def _elementwise(scalar, ufunc):
    """``ufunc`` (NumPy's) for compiled code: :func:`exp` / :func:`log` on a real scalar, NumPy's own
    on anything else (a kernel may apply ``np.exp`` to an array of its own)."""

    def function(x):
        return ufunc(x)

    @overload(function, jit_options={"error_model": "numpy"})
    def _typed(x):
        if isinstance(x, (_nt.Float, _nt.Integer)):
            return lambda x: scalar(x)
        return lambda x: ufunc(x)

    function.__name__ = ufunc.__name__
    return function


def _numpy_namespace():
    """NumPy's names with ``exp`` and ``log`` replaced by the ones here for real scalars (kernel
    modules call ``np.exp`` so that the eager path can hand them arrays; compiled, they take one
    event's scalars)."""
    shim = types.ModuleType("nfit_vecmath_numpy")
    shim.__dict__.update({k: v for k, v in vars(np).items() if not k.startswith("__")})
    shim.exp, shim.log = _elementwise(exp, np.exp), _elementwise(log, np.log)
    return shim


NUMPY = _numpy_namespace()
