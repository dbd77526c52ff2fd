"""The binned benchmark model: 100 bins, a Gaussian signal (a parametric shape with exact bin
integrals) on two Monte-Carlo templates with finite statistics, fitted with Barlow-Beeston lite."""
import numpy as np
from scipy import stats

import nfit

LO, HI, BINS = 0.0, 10.0, 100
EDGES = np.linspace(LO, HI, BINS + 1)
START = {"nsig": 900.0, "mu": 5.2, "nbkg1": 4000.0, "nbkg2": 2500.0}


def histograms(seed=11):
    rng = np.random.default_rng(seed)
    obs = nfit.Space("x", limits=(LO, HI))
    bobs = obs.with_binning(BINS)

    def binned(x, weights=None):
        keep = (x > LO) & (x < HI)
        return nfit.Data.from_numpy(obs, x[keep], weights=None if weights is None else weights[keep]).to_binned(bobs)

    mc1 = rng.exponential(4.0, 20_000)
    mc2 = 10 * rng.beta(2.0, 1.5, 8_000)
    template1, template2 = binned(mc1, rng.uniform(0.5, 1.5, mc1.size)), binned(mc2)
    observed = np.concatenate([rng.normal(5.0, 0.5, 1000), rng.exponential(4.0, 5000), 10 * rng.beta(2.0, 1.5, 3000)])
    return obs, bobs, template1, template2, binned(observed)


def nfit_loss(mode):
    obs, bobs, t1, t2, data = histograms()
    nsig = nfit.Parameter("bench_nsig", START["nsig"], 0, 20_000)
    mu = nfit.Parameter("bench_mu", START["mu"], 3, 7)
    n1 = nfit.Parameter("bench_nbkg1", START["nbkg1"], 0, 20_000)
    n2 = nfit.Parameter("bench_nbkg2", START["nbkg2"], 0, 20_000)
    signal = nfit.pdf.Gauss(mu=mu, sigma=0.5, obs=obs, extended=nsig).to_binned(bobs)
    model = nfit.pdf.BinnedSumPDF([signal, nfit.pdf.HistogramPDF(t1, extended=n1),
                                   nfit.pdf.HistogramPDF(t2, extended=n2)])
    return nfit.loss.TemplateNLL(model, data, method="da", mode=mode), [nsig, mu, n1, n2]


def reset(params):
    for p, value in zip(params, START.values()):
        p.set_value(value)


def iminuit_cost():
    from iminuit import cost

    _, _, t1, t2, data = histograms()

    def signal_cdf(xe, nsig, mu):
        c = stats.norm.cdf(xe, mu, 0.5)
        return nsig * (c - c[0]) / (c[-1] - c[0])

    return cost.Template(data.values(), EDGES, [signal_cdf, np.stack([t1.values(), t1.variances()], -1),
                                                 np.stack([t2.values(), t2.variances()], -1)], method="da")


def pyhf_model():
    """The nearest HistFactory model (pyhf): the signal a fixed template (HistFactory has no
    parametric shapes), three free normalisations, and the templates' statistical uncertainty as
    ``staterror`` (one constrained nuisance parameter per bin, which pyhf fits)."""
    import pyhf

    _, bobs, t1, t2, data = histograms()
    c = stats.norm.cdf(EDGES, 5.0, 0.5)
    signal = np.diff(c) / (c[-1] - c[0])

    def sample(name, rel, variances=None):
        modifiers = [{"name": f"n_{name}", "type": "normfactor", "data": None}]
        if variances is not None:
            modifiers.append({"name": "staterror_ch", "type": "staterror", "data": np.sqrt(variances).tolist()})
        return {"name": name, "data": rel.tolist(), "modifiers": modifiers}

    s1, s2 = t1.values().sum(), t2.values().sum()
    spec = {"channels": [{"name": "ch", "samples": [
        sample("sig", signal), sample("bkg1", t1.values() / s1, t1.variances() / s1 ** 2),
        sample("bkg2", t2.values() / s2, t2.variances() / s2 ** 2)]}]}
    model = pyhf.Model(spec, poi_name="n_sig")
    init = model.config.suggested_init()
    bounds = model.config.suggested_bounds()
    for name, start in (("n_sig", START["nsig"]), ("n_bkg1", START["nbkg1"]), ("n_bkg2", START["nbkg2"])):
        index = model.config.par_slice(name).start
        init[index], bounds[index] = start, (0.0, 20_000.0)
    return model, list(data.values()) + model.config.auxdata, init, bounds
