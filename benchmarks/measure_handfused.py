"""One NLL pass of the channel-A model at 1e7 events: nfit's compiled kernel against the hand-fused
loop with the same ``exp`` and ``log`` (``nfit.handfused.channel_nll_vecmath``), in one process,
the two taking turns call by call (issue 15, item 3: at least 0.9 of the hand-fused loop's speed).

    python benchmarks/measure_handfused.py [events] [calls]

Prints the medians and hand-fused time / nfit time (1 or more: nfit as fast or faster).
"""
import sys
import time

import numpy as np

from nfit import handfused, headline
from nfit.bench import channel_a_loss


def main(n=10_000_000, calls=25):
    x = headline.make_channel_a(n, np.random.default_rng(1))
    truth, scale = headline.TRUTH, n / 25_000
    args = (x, *headline.LIMITS, truth["mu"], truth["sigma"], truth["lam_A"], truth["nsig_A"] * scale,
            truth["nbkg_A"] * scale)
    loss, _ = channel_a_loss(x, "compiled")
    values = np.array([q.value() for q in loss.get_params()])
    hand, ours = [], []
    handfused.channel_nll_vecmath(*args)
    loss(values)
    for _ in range(calls):
        start = time.perf_counter()
        handfused.channel_nll_vecmath(*args)
        hand.append(time.perf_counter() - start)
        start = time.perf_counter()
        loss(values)
        ours.append(time.perf_counter() - start)
    print(f"{n:.0e} events: hand-fused {1e3 * np.median(hand):.1f} ms, nfit {1e3 * np.median(ours):.1f} ms, "
          f"hand-fused / nfit = {np.median(hand) / np.median(ours):.3f}")


if __name__ == "__main__":
    main(int(float(sys.argv[1])) if len(sys.argv) > 1 else 10_000_000, int(sys.argv[2]) if len(sys.argv) > 2 else 25)
