"""Write the RooFit side of the HS3 tests: each model as RooFit 6.40's RooJSONFactoryWSTool exports
it (<model>.json, parameters at their start values) and RooFit's fit of it (<model>_fit.json: values
and HESSE errors after fitTo). Needs ROOT (pip install root):

    python tests/data/hs3/make_roofit_reference.py tests/data/hs3
"""
import json
import pathlib
import sys

MODELS = {
    "gauss_exponential": ("SUM::model(nsig[300,0,5000]*sig, nbkg[700,0,5000]*bkg)", [
        "Gaussian::sig(m[5.0,5.6], mu[5.28,5.2,5.35], sigma[0.03,0.005,0.1])",
        "Exponential::bkg(m, c[-1.0,-5,1])"], 1000, True),
    "crystalball_chebychev": ("SUM::model(f[0.4,0,1]*sig, bkg)", [
        "CBShape::sig(m[5.0,5.6], mu[5.28,5.2,5.35], sigma[0.03,0.005,0.1], alpha[1.5,0.2,5], n[3,0.5,20])",
        "Chebychev::bkg(m, {a1[-0.2,-1,1], a2[0.05,-1,1]})"], 2000, False),
    "doublecb_bernstein": ("SUM::model(f[0.5,0,1]*sig, bkg)", [
        "RooCrystalBall::sig(m[5.0,5.6], mu[5.28,5.2,5.35], sigma[0.03,0.005,0.1], alphaL[1.2,0.2,5], nL[4,0.5,20],"
        " alphaR[2.0,0.2,5], nR[6,0.5,20])",
        "Bernstein::bkg(m, {b0[1.0], b1[0.6,0,5], b2[0.3,0,5]})"], 2000, False),
    "argus_bifurgauss": ("SUM::model(f[0.3,0,1]*sig, bkg)", [
        "BifurGauss::sig(m[5.20,5.29], mu[5.279,5.27,5.285], sl[0.003,0.0005,0.02], sr[0.004,0.0005,0.02])",
        "ArgusBG::bkg(m, m0[5.291], c[-20,-100,-1], p[0.5])"], 2000, False),
    "gauss_polynomial": ("SUM::model(f[0.3,0,1]*sig, bkg)", [
        "Gaussian::sig(m[-1,1], mu[0.1,-0.5,0.5], sigma[0.1,0.01,0.5])",
        "Polynomial::bkg(m, {d1[0.3,-1,1], d2[0.2,-1,1]})"], 3000, False),
    "gauss_uniform_constrained": ("PROD::model(mix, mu_constraint)", [
        "Gaussian::sig(m[5.0,5.6], mu[5.28,5.2,5.35], sigma[0.03,0.005,0.1])",
        "Uniform::bkg(m)",
        "SUM::mix(f[0.3,0,1]*sig, bkg)",
        "Gaussian::mu_constraint(mu_obs[5.279], mu, 0.002)"], 1500, False),
}


def main(folder):
    import ROOT

    folder = pathlib.Path(folder)
    ROOT.RooMsgService.instance().setGlobalKillBelow(ROOT.RooFit.WARNING)
    for name, (top, parts, n_events, extended) in MODELS.items():
        ws = ROOT.RooWorkspace(name)
        for part in parts:
            ws.factory(part)
        ws.factory(top)
        if ws.var("mu_obs"):
            ws.var("mu_obs").setConstant(True)
        m = ws.var("m")
        ROOT.RooRandom.randomGenerator().SetSeed(17)
        data = ws.pdf("model").generate(ROOT.RooArgSet(m), n_events)
        data.SetName("obsData")
        ws.Import(data)
        (folder / f"{name}.json").write_text(ROOT.RooJSONFactoryWSTool(ws).exportJSONtoString())
        model = ws.pdf("model")
        options = [ROOT.RooFit.Save(), ROOT.RooFit.PrintLevel(-1), ROOT.RooFit.Extended(extended)]
        if ws.var("mu_obs"):
            options.append(ROOT.RooFit.GlobalObservables(ROOT.RooArgSet(ws.var("mu_obs"))))
        result = model.fitTo(ws.data("obsData"), *options)
        fitted = {p.GetName(): {"value": p.getVal(), "error": p.getError()} for p in result.floatParsFinal()}
        (folder / f"{name}_fit.json").write_text(json.dumps({"status": result.status(), "params": fitted},
                                                            indent=1))


def simultaneous(folder):
    """Two channels sharing mu, with a ModelConfig: RooFit 6.40 then writes a likelihood and an analysis."""
    import ROOT

    ws = ROOT.RooWorkspace("w")
    for part in ["Gaussian::sigA(m[5.0,5.6], mu[5.28,5.2,5.35], sigma[0.03,0.005,0.1])",
                 "Exponential::bkgA(m, c[-1.0,-5,1])", "SUM::modelA(nsigA[300,0,5000]*sigA, nbkgA[700,0,5000]*bkgA)",
                 "Gaussian::sigB(m, mu, sigmaB[0.05,0.005,0.1])", "Exponential::bkgB(m, cB[-0.5,-5,1])",
                 "SUM::modelB(nsigB[200,0,5000]*sigB, nbkgB[500,0,5000]*bkgB)",
                 "SIMUL::simPdf(channelCat[A=0,B=1], A=modelA, B=modelB)"]:
        ws.factory(part)
    m, cat = ws.var("m"), ws.cat("channelCat")
    ROOT.RooRandom.randomGenerator().SetSeed(3)
    data_a = ws.pdf("modelA").generate(ROOT.RooArgSet(m), 1000)
    data_b = ws.pdf("modelB").generate(ROOT.RooArgSet(m), 700)
    combined = ROOT.RooDataSet("obsDataSim", "", ROOT.RooArgSet(m), ROOT.RooFit.Index(cat),
                               ROOT.RooFit.Import({"A": data_a, "B": data_b}))
    ws.Import(combined)
    config = ROOT.RooStats.ModelConfig("ModelConfig", ws)
    config.SetPdf("simPdf")
    config.SetObservables(ROOT.RooArgSet(m, cat))
    config.SetParametersOfInterest(ROOT.RooArgSet(ws.var("nsigA")))
    ws.Import(config)
    (folder / "simultaneous.json").write_text(ROOT.RooJSONFactoryWSTool(ws).exportJSONtoString())
    result = ws.pdf("simPdf").fitTo(ws.data("obsDataSim"), ROOT.RooFit.Save(), ROOT.RooFit.PrintLevel(-1),
                                    ROOT.RooFit.Extended(True))
    fitted = {p.GetName(): {"value": p.getVal(), "error": p.getError()} for p in result.floatParsFinal()}
    (folder / "simultaneous_fit.json").write_text(json.dumps({"status": result.status(), "params": fitted},
                                                             indent=1))


def binned(folder):
    """Binned data (RooDataHist): a template fit of two RooHistPdf with yields, and a Gauss plus
    exponential fitted to binned data with the pdf integrated over the bins (IntegrateBins)."""
    import ROOT

    ROOT.RooMsgService.instance().setGlobalKillBelow(ROOT.RooFit.WARNING)
    ws = ROOT.RooWorkspace("templates")
    for part in ["Gaussian::sigshape(m[5.0,5.6], mu_t[5.28], sigma_t[0.03])", "Exponential::bkgshape(m, c_t[-1.5])"]:
        ws.factory(part)
    m = ws.var("m")
    m.setBins(30)
    ROOT.RooRandom.randomGenerator().SetSeed(23)
    sig_hist = ROOT.RooDataHist("sig_template", "", ROOT.RooArgSet(m),
                                ws.pdf("sigshape").generate(ROOT.RooArgSet(m), 5000))
    bkg_hist = ROOT.RooDataHist("bkg_template", "", ROOT.RooArgSet(m),
                                ws.pdf("bkgshape").generate(ROOT.RooArgSet(m), 5000))
    sig = ROOT.RooHistPdf("sig", "", ROOT.RooArgSet(m), sig_hist)
    bkg = ROOT.RooHistPdf("bkg", "", ROOT.RooArgSet(m), bkg_hist)
    nsig, nbkg = ROOT.RooRealVar("nsig", "", 400, 0, 5000), ROOT.RooRealVar("nbkg", "", 900, 0, 5000)
    model = ROOT.RooAddPdf("model", "", ROOT.RooArgList(sig, bkg), ROOT.RooArgList(nsig, nbkg))
    truth = ROOT.RooAddPdf("truth", "", ROOT.RooArgList(ws.pdf("sigshape"), ws.pdf("bkgshape")),
                           ROOT.RooArgList(nsig, nbkg))
    data = ROOT.RooDataHist("obsData", "", ROOT.RooArgSet(m), truth.generate(ROOT.RooArgSet(m), 1300))
    out = ROOT.RooWorkspace("templates_out")
    out.Import(model)
    out.Import(data)
    (folder / "templates_binned.json").write_text(ROOT.RooJSONFactoryWSTool(out).exportJSONtoString())
    result = model.fitTo(data, ROOT.RooFit.Save(), ROOT.RooFit.PrintLevel(-1), ROOT.RooFit.Extended(True))
    fitted = {p.GetName(): {"value": p.getVal(), "error": p.getError()} for p in result.floatParsFinal()}
    (folder / "templates_binned_fit.json").write_text(json.dumps({"status": result.status(), "params": fitted},
                                                                 indent=1))

    ws = ROOT.RooWorkspace("gauss_exponential_binned")
    for part in ["Gaussian::sig(m[5.0,5.6], mu[5.28,5.2,5.35], sigma[0.03,0.005,0.1])",
                 "Exponential::bkg(m, c[-1.0,-5,1])", "SUM::model(f[0.3,0,1]*sig, bkg)"]:
        ws.factory(part)
    m = ws.var("m")
    m.setBins(40)
    ROOT.RooRandom.randomGenerator().SetSeed(29)
    data = ROOT.RooDataHist("obsData", "", ROOT.RooArgSet(m), ws.pdf("model").generate(ROOT.RooArgSet(m), 3000))
    ws.Import(data)
    (folder / "gauss_exponential_binned.json").write_text(ROOT.RooJSONFactoryWSTool(ws).exportJSONtoString())
    result = ws.pdf("model").fitTo(data, ROOT.RooFit.Save(), ROOT.RooFit.PrintLevel(-1),
                                   ROOT.RooFit.IntegrateBins(1e-9))
    fitted = {p.GetName(): {"value": p.getVal(), "error": p.getError()} for p in result.floatParsFinal()}
    (folder / "gauss_exponential_binned_fit.json").write_text(json.dumps({"status": result.status(),
                                                                          "params": fitted}, indent=1))


if __name__ == "__main__":
    target = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent)
    if "--binned" not in sys.argv:
        main(target)
        simultaneous(target)
    binned(target)
