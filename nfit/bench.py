"""``nfit bench``: one NLL evaluation of the headline channel-A model, eager vs compiled (and the
hand-fused reference kernel of :mod:`nfit.handfused`),
reported as events per second and ratios.

>>> report = run_bench(sizes=[2000], repeats=2, quiet=True)
>>> report["sizes"][0]["events"]
2000
"""
from __future__ import annotations

import time

import numpy as np

from . import handfused, headline


def _best_time(function, repeats):
    function()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def channel_a_loss(x, mode, backend=None):
    """The headline channel-A model (extended Gauss + Exponential) on events ``x``."""
    import nfit

    scale = x.size / 25_000
    obs = nfit.Space("m", limits=headline.LIMITS)
    p = {k: nfit.Parameter(k, headline.TRUTH[k] * (scale if k.startswith("n") else 1.0))
         for k in ("mu", "sigma", "lam_A", "nsig_A", "nbkg_A")}
    sig = nfit.pdf.Gauss(mu=p["mu"], sigma=p["sigma"], obs=obs, extended=p["nsig_A"])
    bkg = nfit.pdf.Exponential(lam=p["lam_A"], obs=obs, extended=p["nbkg_A"])
    data = nfit.Data.from_numpy(obs=obs, array=x)
    model = nfit.pdf.SumPDF([sig, bkg])
    return nfit.loss.ExtendedUnbinnedNLL(model=model, data=data, mode=mode, backend=backend), p


def run_bench(sizes=(10_000, 100_000, 1_000_000), repeats=5, quiet=False) -> dict:
    hand = handfused
    rows = []
    rng = np.random.default_rng(1)
    for n in sizes:
        x = headline.make_channel_a(n, rng)
        row = {"events": n}
        for mode in ("eager", "compiled"):
            loss, p = channel_a_loss(x, mode)
            values = np.array([q.value() for q in loss.get_params()])
            row[f"{mode}_s"] = _best_time(lambda: loss(values), repeats)
        if hand is not None:
            t = headline.TRUTH
            s = n / 25_000
            row["handfused_s"] = _best_time(lambda: hand.channel_nll(
                x, *headline.LIMITS, t["mu"], t["sigma"], t["lam_A"], t["nsig_A"] * s, t["nbkg_A"] * s), repeats)
        rows.append(row)
    report = {"sizes": rows}
    if not quiet:
        print(f"{'events':>10}{'eager ev/s':>14}{'compiled ev/s':>15}{'hand ev/s':>12}"
              f"{'compiled/eager':>16}{'compiled/hand':>15}")
        for r in rows:
            hand_rate = r["events"] / r["handfused_s"] if "handfused_s" in r else float("nan")
            print(f"{r['events']:>10}{r['events'] / r['eager_s']:>14.3g}{r['events'] / r['compiled_s']:>15.3g}"
                  f"{hand_rate:>12.3g}{r['eager_s'] / r['compiled_s']:>16.2f}"
                  f"{r.get('handfused_s', float('nan')) / r['compiled_s']:>15.2f}")
        print("(ratios are speed-ups: above 1 means the compiled path is faster)")
    return report
