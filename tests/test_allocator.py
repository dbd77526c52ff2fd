"""The eager path's temporaries kept by glibc's allocator (nfit.allocator): set once, on the first
eager pass over enough events for glibc to map its arrays afresh, and not where the user chose
glibc's thresholds."""
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator only")

EAGER_PASS = """
import numpy as np, nfit
from nfit import allocator
assert allocator._outcome is None                       # importing nfit changes nothing
obs = nfit.Space("x", -5, 5)
mu, sigma = nfit.Parameter("mu", 0.1), nfit.Parameter("sigma", 1.1, 0.1, 5)
def loss(n):
    x = np.random.default_rng(2).normal(0.0, 1.0, n).clip(-4.9, 4.9)
    return nfit.loss.UnbinnedNLL(nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), nfit.Data.from_numpy(obs, x),
                                 mode="eager")
small = loss(allocator.EVENTS_TO_KEEP - 1)
small.derivatives(small.point(None, 2), 2)
assert allocator._outcome is None                       # arrays glibc keeps anyway
large = loss(allocator.EVENTS_TO_KEEP)
value, gradient, hessian = large.derivatives(large.point(None, 2), 2)
print(allocator._outcome, repr(float(value)))
"""


def _run(env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", EAGER_PASS], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    kept, value = out.stdout.split()
    return kept == "True", float(value)


@glibc
def test_an_eager_pass_keeps_its_temporaries_unless_the_user_chose_glibcs_thresholds():
    kept, value = _run({})
    users, users_value = _run({"MALLOC_TRIM_THRESHOLD_": "131072"})
    assert kept and not users
    assert value == users_value  # the allocator changes where arrays live, not what they hold


def test_keeping_the_temporaries_is_decided_once():
    from nfit import allocator

    first = allocator.keep_eager_temporaries()
    assert allocator.keep_eager_temporaries() is first


def test_a_sliced_eager_pass_equals_one_over_all_events():
    import nfit
    from nfit import eager

    obs = nfit.Space("x", -5, 5)
    mu, sigma = nfit.Parameter("mu_slices", 0.1), nfit.Parameter("sigma_slices", 1.1, 0.1, 5)
    x = np.random.default_rng(3).normal(0.0, 1.0, 2 * eager.EagerContext.CHUNK + 17).clip(-4.9, 4.9)
    loss = nfit.loss.UnbinnedNLL(nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), nfit.Data.from_numpy(obs, x),
                                 mode="eager")
    point = loss.point(None, 2)
    sliced = loss.derivatives(point, 2)
    before = eager.EagerContext.CHUNK
    eager.EagerContext.CHUNK = 10 * x.size
    try:
        whole = loss.derivatives(point, 2)
    finally:
        eager.EagerContext.CHUNK = before
    for a, b in zip(sliced, whole):
        np.testing.assert_allclose(a, b, rtol=1e-12)
