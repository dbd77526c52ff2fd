"""One NLL evaluation of the channel-A model at 1e4 ... 1e7 events: eager, compiled, hand-fused (C library exp/log, and
nfit's vectorising ones)."""
import numpy as np
import pytest
from conftest import SIZES

from nfit import handfused, headline
from nfit.bench import channel_a_loss


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("path", ["eager", "compiled", "handfused", "handfused_vecmath", "compiled_gradient"])
def test_nll(benchmark, scaling_data, path, n):
    x = scaling_data[n]
    if path.startswith("handfused"):
        t, s = headline.TRUTH, n / 25_000
        args = (x, *headline.LIMITS, t["mu"], t["sigma"], t["lam_A"], t["nsig_A"] * s, t["nbkg_A"] * s)
        kernel = handfused.channel_nll_vecmath if path == "handfused_vecmath" else handfused.channel_nll

        def function():
            return kernel(*args)
    elif path == "compiled_gradient":
        loss, _ = channel_a_loss(x, "compiled")

        def function():
            return loss.value_gradient()
    else:
        loss, _ = channel_a_loss(x, path)
        values = np.array([q.value() for q in loss.get_params()])

        def function():
            return loss(values)

    function()
    rounds = 3 if (n >= 10_000_000 or (path == "eager" and n >= 1_000_000)) else 20
    benchmark.pedantic(function, rounds=rounds, iterations=1, warmup_rounds=1)
    benchmark.extra_info["events"] = n
