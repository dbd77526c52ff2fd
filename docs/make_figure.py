"""Make docs/plot_fit.png, the figure the README shows: python docs/make_figure.py"""
import pathlib

import matplotlib
import numpy as np

import nfit

matplotlib.use("Agg")


def main():
    obs = nfit.Space("m", limits=(5.0, 5.6), label="m [GeV]")
    mu = nfit.Parameter("mu", 5.27, 5.2, 5.35)
    sigma = nfit.Parameter("sigma", 0.03, 0.005, 0.1)
    lam = nfit.Parameter("lam", -1.0, -5, 1)
    nsig, nbkg = nfit.Parameter("nsig", 500, 0, 10_000), nfit.Parameter("nbkg", 1500, 0, 10_000)
    model = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs, extended=nsig, label="signal"),
                             nfit.pdf.Exponential(lam=lam, obs=obs, extended=nbkg, label="background")],
                            label="fit")
    x = np.concatenate([np.random.default_rng(1).normal(5.28, 0.025, 500),
                        np.random.default_rng(2).uniform(5.0, 5.6, 1500)])
    data = nfit.Data.from_numpy(obs=obs, array=x, name="data")
    nfit.minimize.Minuit().minimize(nfit.loss.ExtendedUnbinnedNLL(model=model, data=data))
    ax, _ = nfit.plot.plot_fit(model, data, bins=40)
    ax.figure.set_size_inches(6, 4.5)
    ax.figure.savefig(pathlib.Path(__file__).parent / "plot_fit.png", dpi=80, bbox_inches="tight")


if __name__ == "__main__":
    main()
