"""One NLL pass of the channel-A model at 1e7 events: nfit's compiled kernel against the hand-fused
loop with the same ``exp`` and ``log`` (``nfit.handfused.channel_nll_vecmath``), in one process,
taking turns call by call (issue 15, item 3: at least 0.9 of the hand-fused loop's speed).

    python benchmarks/measure_handfused.py [events] [calls]

``nfit.handfused`` is compiled with the loop hints of nfit's kernels (:mod:`nfit.compile.loops`),
like for like; the same loop is also timed as Numba compiles it without them (defined here, so no
hint reaches it), the loop as a user would write it. Prints the medians and hand-fused time / nfit
time (1 or more: nfit as fast or faster).
"""
import sys

import numba
import numpy as np
from in_turn import times_in_turn

from nfit import handfused, headline
from nfit.bench import channel_a_loss
from nfit.compile import vecmath


@numba.njit(parallel=True, error_model="numpy", fastmath={"reassoc"})
def plain_channel_nll(x, lo, hi, mu, sigma, lam, nsig, nbkg):
    """nfit.handfused's loop, compiled with Numba's defaults."""
    cs = nsig / handfused._gauss_norm(lo, hi, mu, sigma)
    cb = nbkg / handfused._exp_norm(lo, hi, lam)
    inv_sigma = 1.0 / sigma
    acc = 0.0
    for i in numba.prange(x.shape[0]):
        t = (x[i] - mu) * inv_sigma
        acc += vecmath.log(cs * vecmath.exp(-0.5 * t * t) + cb * vecmath.exp(lam * x[i]))
    return nsig + nbkg - acc


def main(n=10_000_000, calls=25):
    x = headline.make_channel_a(n, np.random.default_rng(1))
    truth, scale = headline.TRUTH, n / 25_000
    args = (x, *headline.LIMITS, truth["mu"], truth["sigma"], truth["lam_A"], truth["nsig_A"] * scale,
            truth["nbkg_A"] * scale)
    loss, _ = channel_a_loss(x, "compiled")
    values = np.array([q.value() for q in loss.get_params()])
    functions = {"hand": lambda: handfused.channel_nll_vecmath(*args), "plain": lambda: plain_channel_nll(*args),
                 "ours": lambda: loss(values)}
    for f in functions.values():  # compiled (or loaded) before the clock starts
        f()
    hand, plain, ours = (float(np.median(t)) for t in times_in_turn(functions, calls).values())
    print(f"{n:.0e} events: nfit {1e3 * ours:.1f} ms; hand-fused with nfit's loop hints {1e3 * hand:.1f} ms, "
          f"hand-fused / nfit = {hand / ours:.3f}; with Numba's defaults {1e3 * plain:.1f} ms, {plain / ours:.3f}")


if __name__ == "__main__":
    main(int(float(sys.argv[1])) if len(sys.argv) > 1 else 10_000_000, int(sys.argv[2]) if len(sys.argv) > 2 else 25)
