"""The hepstats analysis that tests/test_hepstats.py runs on nfit and that produced the stored
zfit reference (hepstats_zfit_reference.json): a Gaussian signal on an exponential background,
sWeights, an asymptotic discovery test, an asymptotic CLs upper-limit scan and a confidence interval.

Run with zfit 0.28 and hepstats 0.10.1 installed to remake the reference:
    python tests/data/hepstats_analysis.py zfit > tests/data/hepstats_zfit_reference.json
"""
import json
import sys

import numpy as np

UL_GRID = np.linspace(0.0, 80.0, 15)
CI_GRID = np.linspace(1.15, 1.35, 15)


def events():
    rng = np.random.default_rng(10)
    x = np.concatenate([rng.normal(1.2, 0.1, 50), rng.exponential(1 / 2.0, 2000)])
    return x[(x > 0.1) & (x < 3.0)]


def build(lib):
    obs = lib.Space("x", limits=(0.1, 3.0))
    data = lib.Data.from_numpy(obs=obs, array=events())
    p = {"mu": lib.Parameter("hs_mu", 1.2, 0.5, 2.0), "sigma": lib.Parameter("hs_sigma", 0.1, 0.05, 0.5),
         "lam": lib.Parameter("hs_lam", -2.0, -4.0, -1.0), "nsig": lib.Parameter("hs_nsig", 50.0, -20.0, 500.0),
         "nbkg": lib.Parameter("hs_nbkg", 1900.0, 0.0, 3000.0)}
    sig = lib.pdf.Gauss(mu=p["mu"], sigma=p["sigma"], obs=obs, extended=p["nsig"])
    bkg = lib.pdf.Exponential(lam=p["lam"], obs=obs, extended=p["nbkg"])
    model = lib.pdf.SumPDF([sig, bkg])
    loss = lib.loss.ExtendedUnbinnedNLL(model=model, data=data)
    return model, data, loss, p


def toys_setup(lib):
    """The frequentist limit's starting point: the loss fitted, mu and sigma fixed, and the scan grid
    of the signal yield. Returns (loss, minimizer, parameters, grid)."""
    _, _, loss, p = build(lib)
    minimizer = lib.minimize.Minuit()
    minimizer.minimize(loss)
    p["mu"].floating = False
    p["sigma"].floating = False
    return loss, minimizer, p, np.linspace(30.0, 90.0, 7)


def upper_limit(values, pvalues, alpha=0.05):
    """hepstats' interpolation of an upper limit (a spline through p - alpha, its first root), without
    its float() of a one-element array, which NumPy >= 2.4 refuses (hepstats 0.10.1 then returns None)."""
    from scipy import interpolate

    root = interpolate.sproot(interpolate.splrep(values, np.asarray(pvalues) - alpha, s=0))
    return float(np.ravel(root)[0]) if np.size(root) else None


def analyse(lib):
    from hepstats.hypotests import ConfidenceInterval, Discovery, UpperLimit
    from hepstats.hypotests.calculators import AsymptoticCalculator
    from hepstats.hypotests.parameters import POI, POIarray
    from hepstats.splot import compute_sweights

    model, data, loss, p = build(lib)
    minimizer = lib.minimize.Minuit()
    result = minimizer.minimize(loss)
    out = {"fit": {k: float(q.value()) for k, q in p.items()}}
    weights = compute_sweights(model, data)
    out["sweights"] = {k: {"sum": float(np.sum(weights[q])), "first": np.asarray(weights[q][:5]).tolist()}
                       for k, q in p.items() if q in weights}
    p["mu"].floating = False
    p["sigma"].floating = False
    calc = AsymptoticCalculator(input=loss, minimizer=minimizer)
    pnull, significance = Discovery(calc, POI(p["nsig"], 0.0)).result()
    out["discovery"] = {"pnull": float(np.ravel(pnull)[0]), "significance": float(np.ravel(significance)[0])}
    ul = UpperLimit(calc, POIarray(p["nsig"], UL_GRID), POI(p["nsig"], 0.0), qtilde=False)
    pvalues = ul.pvalues(CLs=True)
    out["pvalues"] = {k: np.asarray(v).tolist() for k, v in pvalues.items()}
    keep = UL_GRID >= calc.bestfit.params[p["nsig"]]["value"]
    out["upper_limit"] = {"observed": upper_limit(UL_GRID[keep], pvalues["cls"][keep]),
                          "expected": upper_limit(UL_GRID, pvalues["expected"])}
    p["mu"].floating = True
    for q in p.values():
        q.set_value(out["fit"][[k for k, v in p.items() if v is q][0]])
    calc_ci = AsymptoticCalculator(input=loss, minimizer=minimizer)
    interval = ConfidenceInterval(calc_ci, POIarray(p["mu"], CI_GRID)).interval(alpha=0.32)
    out["interval"] = {k: float(np.ravel(v)[0]) for k, v in interval.items()}
    del result
    return out


if __name__ == "__main__":
    lib = __import__(sys.argv[1] if len(sys.argv) > 1 else "zfit")
    print(json.dumps(analyse(lib), indent=1))
