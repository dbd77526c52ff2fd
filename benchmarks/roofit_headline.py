"""The headline model in RooFit 6.40, as source for a child interpreter that has ``ROOT`` (and need not
have nfit): ``model_source(scale)`` builds ``p`` (the RooRealVars by name), ``sim`` (the RooSimultaneous)
and ``combined`` (the data set) from ``headline`` (nfit/headline.py loaded by path) and ``data``
(its ``make_data`` output) already in the child's namespace. ``scale`` multiplies the yields, as
``headline.build`` does for sizes other than 50k events."""


def model_source(scale: float = 1.0) -> str:
    return f"""
import ROOT
ROOT.RooMsgService.instance().setGlobalKillBelow(ROOT.RooFit.WARNING)
m = ROOT.RooRealVar("m", "m", *headline.LIMITS)
p = {{}}
for name, start in headline.START.items():
    lo, hi = headline.BOUNDS[name]
    f = {scale!r} if name.startswith("n") else 1.0
    p[name] = ROOT.RooRealVar(name, name, start * f, lo * f, hi * f)
cat = ROOT.RooCategory("channel", "channel")
sim = ROOT.RooSimultaneous("sim", "", cat)
keep = []
for ch in ("A", "B"):
    cat.defineType(ch)
    g = ROOT.RooGaussian("sig_" + ch, "", m, p["mu"], p["sigma"])
    e = ROOT.RooExponential("bkg_" + ch, "", m, p["lam_" + ch])
    s = ROOT.RooAddPdf("model_" + ch, "", ROOT.RooArgList(g, e), ROOT.RooArgList(p["nsig_" + ch], p["nbkg_" + ch]))
    keep += [g, e, s]
    sim.addPdf(s, ch)
parts = {{ch: ROOT.RooDataSet.from_numpy({{"m": data[ch]}}, ROOT.RooArgSet(m)) for ch in ("A", "B")}}
combined = ROOT.RooDataSet("data", "", ROOT.RooArgSet(m), ROOT.RooFit.Index(cat),
                           ROOT.RooFit.Import("A", parts["A"]), ROOT.RooFit.Import("B", parts["B"]))
"""
