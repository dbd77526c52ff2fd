"""The headline fit: two channels of signal (Gauss) + background (Exponential), fitted together.

Observable m on [5.0, 5.6]; channels A and B share the signal's mean and width, each has its own
background slope and yields (8 free parameters). The data come from nfit's own seeded generator.

>>> data = make_data(2000, seed=1)
>>> sorted(data), data["A"].size + data["B"].size
(['A', 'B'], 2000)
"""
from __future__ import annotations

import numpy as np

LIMITS = (5.0, 5.6)
TRUTH = {"mu": 5.28, "sigma": 0.025, "lam_A": -1.5, "lam_B": -0.8,
         "nsig_A": 8000.0, "nbkg_A": 17000.0, "nsig_B": 4000.0, "nbkg_B": 21000.0}
START = {"mu": 5.27, "sigma": 0.03, "lam_A": -1.0, "lam_B": -1.0,
         "nsig_A": 6000.0, "nbkg_A": 19000.0, "nsig_B": 5000.0, "nbkg_B": 20000.0}
BOUNDS = {"mu": (5.2, 5.35), "sigma": (0.005, 0.1), "lam_A": (-5.0, 1.0), "lam_B": (-5.0, 1.0),
          "nsig_A": (0.0, 60000.0), "nbkg_A": (0.0, 60000.0), "nsig_B": (0.0, 60000.0),
          "nbkg_B": (0.0, 60000.0)}


def _truncated_normal(rng, n, mu, sigma, lo, hi):
    out = np.empty(0)
    while out.size < n:
        draw = rng.normal(mu, sigma, 2 * n + 16)
        out = np.concatenate([out, draw[(draw >= lo) & (draw <= hi)]])
    return out[:n]


def _truncated_exponential(rng, n, lam, lo, hi):
    u = rng.uniform(size=n)
    # inverse CDF of exp(lam x) on [lo, hi]
    return lo + np.log1p(u * np.expm1(lam * (hi - lo))) / lam


def make_channel(rng, n, frac_sig, mu, sigma, lam, limits=LIMITS):
    """``n`` events: a fraction ``frac_sig`` of Gaussian signal, the rest exponential, shuffled."""
    nsig = int(round(n * frac_sig))
    x = np.concatenate([_truncated_normal(rng, nsig, mu, sigma, *limits),
                        _truncated_exponential(rng, n - nsig, lam, *limits)])
    rng.shuffle(x)
    return x


def make_channel_a(n, rng):
    """``n`` events of channel A at the truth: the one-channel data of the benchmarks.

    >>> make_channel_a(1000, np.random.default_rng(1)).size
    1000
    """
    frac = TRUTH["nsig_A"] / (TRUTH["nsig_A"] + TRUTH["nbkg_A"])
    return make_channel(rng, n, frac, TRUTH["mu"], TRUTH["sigma"], TRUTH["lam_A"])


def make_data(n_events=50_000, seed=20261124) -> dict:
    """Deterministic headline data: ``n_events`` split evenly over channels A and B."""
    rng = np.random.default_rng(seed)
    n_a = n_events // 2
    frac_b = TRUTH["nsig_B"] / (TRUTH["nsig_B"] + TRUTH["nbkg_B"])
    return {"A": make_channel_a(n_a, rng),
            "B": make_channel(rng, n_events - n_a, frac_b, TRUTH["mu"], TRUTH["sigma"], TRUTH["lam_B"])}


def build(data: dict, mode=None, scale=None, backend=None):
    """The headline loss and its parameters (at their start values).

    ``scale`` multiplies the yields' truth, start and bounds (for data sizes other than 50k);
    ``backend``: ``"numba"`` or ``"cuda"`` (default: the global one).

    Example
    -------
    >>> loss, params = build(make_data(2000, seed=1), scale=2000 / 50_000)
    >>> len(loss.get_params())
    8
    """
    import nfit

    if scale is None:
        scale = (data["A"].size + data["B"].size) / 50_000
    obs = nfit.Space("m", limits=LIMITS)
    params = {}
    for name, start in START.items():
        lo, hi = BOUNDS[name]
        factor = scale if name.startswith("n") else 1.0
        params[name] = nfit.Parameter(name, start * factor, lo * factor, hi * factor)
    models, datasets = [], []
    for ch in ("A", "B"):
        sig = nfit.pdf.Gauss(mu=params["mu"], sigma=params["sigma"], obs=obs, extended=params[f"nsig_{ch}"],
                             name=f"sig_{ch}")
        bkg = nfit.pdf.Exponential(lam=params[f"lam_{ch}"], obs=obs, extended=params[f"nbkg_{ch}"],
                                   name=f"bkg_{ch}")
        models.append(nfit.pdf.SumPDF([sig, bkg], name=f"model_{ch}"))
        datasets.append(nfit.Data.from_numpy(obs=obs, array=data[ch], name=f"data_{ch}"))
    loss = nfit.loss.ExtendedUnbinnedNLL(model=models, data=datasets, mode=mode, backend=backend)
    return loss, params


def reset(params, scale=1.0):
    """Put the parameters back at their start values."""
    for name, p in params.items():
        p.set_value(START[name] * (scale if name.startswith("n") else 1.0))
