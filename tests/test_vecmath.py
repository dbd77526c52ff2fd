"""The compiled kernels' exp and log (nfit.compile.vecmath) against NumPy's, over the whole double range,
at the edges, and in a loop that must vectorise."""
import re

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nfit.compile import vecmath


@numba.njit(error_model="numpy")
def _apply(f, x):
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = f(x[i])
    return out


def _ulps(a, b):
    return np.abs(a - b) / np.spacing(np.abs(b))


def _same_specials(a, b):
    special = ~np.isfinite(b) | ~np.isfinite(a)
    return np.array_equal(a[special], b[special], equal_nan=True)


def test_exp_matches_numpy_within_two_ulps():
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.uniform(-708.0, 709.7, 500_000), rng.normal(0.0, 3.0, 500_000),
                        rng.uniform(-1e-8, 1e-8, 10_000), np.arange(-700.0, 700.0, 0.5 * np.log(2.0))])
    got, want = _apply(vecmath.exp, x), np.exp(x)
    assert _ulps(got, want).max() <= 2.0  # 1.0 measured with fused multiply-adds


def test_exp_edges_are_the_c_library_ones():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 709.78, 709.79, 1000.0, -745.1, -745.2, -1000.0])
    with np.errstate(over="ignore"):
        want = np.exp(x)
    got = _apply(vecmath.exp, x)
    assert _same_specials(got, want)
    assert got[5] == pytest.approx(want[5], rel=1e-15) and got[8] == want[8] == 5e-324


def test_exp_subnormal_results_are_rounded_once():
    x = np.linspace(-745.0, -708.5, 20_001)
    got, want = _apply(vecmath.exp, x), np.exp(x)
    assert np.abs(got - want).max() <= 5e-324  # one unit of the smallest subnormal


def test_log_matches_numpy_within_four_ulps():
    rng = np.random.default_rng(8)
    x = np.concatenate([10.0 ** rng.uniform(-307.0, 308.0, 500_000), rng.uniform(0.0, 3.0, 500_000),
                        1.0 + rng.uniform(-1e-9, 1e-9, 10_000), [np.sqrt(2.0), np.nextafter(np.sqrt(2.0), 0.0), 2.0]])
    got, want = _apply(vecmath.log, x), np.log(x)
    nonzero = want != 0.0
    assert _ulps(got[nonzero], want[nonzero]).max() <= 4.0  # 3.0 measured
    assert np.all(got[~nonzero] == 0.0)


def test_log_edges_and_subnormals():
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, -1.0, 5e-324, 1e-310, 2.2250738585072014e-308,
                  1.7976931348623157e308])
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.log(x)
    got = _apply(vecmath.log, x)
    assert _same_specials(got, want)
    finite = np.isfinite(want)
    assert _ulps(got[finite], want[finite]).max() <= 1.0


@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True, width=64))
def test_any_double(x):
    with np.errstate(all="ignore"):
        for ours, numpys in ((vecmath.exp, np.exp), (vecmath.log, np.log)):
            got, want = ours(x), numpys(np.float64(x))
            if np.isfinite(want) and want != 0.0:
                assert abs(got - want) <= 4 * np.spacing(abs(want)) or abs(got - want) <= 5e-324
            else:
                assert got == want or (np.isnan(got) and np.isnan(want))


@numba.njit(error_model="numpy", fastmath={"reassoc"})
def _log_likelihood(x, mu, sigma, lam, frac):
    total = 0.0
    for i in range(x.size):
        z = (x[i] - mu) / sigma
        total += vecmath.log(frac * vecmath.exp(-0.5 * z * z) + (1.0 - frac) * vecmath.exp(lam * x[i]))
    return total


def test_a_loop_calling_them_vectorises_and_agrees_with_numpy():
    x = np.random.default_rng(9).uniform(5.0, 5.6, 10_000)
    got = _log_likelihood(x, 5.28, 0.025, -1.5, 0.3)
    z = (x - 5.28) / 0.025
    want = np.sum(np.log(0.3 * np.exp(-0.5 * z * z) + 0.7 * np.exp(-1.5 * x)))
    assert got == pytest.approx(want, rel=1e-13)
    ir = _log_likelihood.inspect_llvm(_log_likelihood.signatures[0])
    assert re.search(r"<\d+ x double>", ir), "the event loop did not vectorise"
