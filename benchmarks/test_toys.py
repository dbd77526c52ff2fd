"""Toy studies (zfit issue 664's benchmark): 1000 toys of an extended Gauss + Exponential with 2000
expected events, MIGRAD + HESSE each; in one process and on Dask LocalClusters of 1 and 2 workers.
Also sampling throughput. Toys/s and events/s go to extra_info."""
import pytest

import nfit
from nfit import headline


def toy_model():
    obs = nfit.Space("m", limits=headline.LIMITS)
    mu = nfit.Parameter("mu", 5.28, 5.2, 5.35)
    sigma = nfit.Parameter("sigma", 0.025, 0.005, 0.1)
    lam = nfit.Parameter("lam", -1.5, -5, 1)
    nsig, nbkg = nfit.Parameter("nsig", 640, 0, 1e5), nfit.Parameter("nbkg", 1360, 0, 1e5)
    return nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs, extended=nsig),
                            nfit.pdf.Exponential(lam=lam, obs=obs, extended=nbkg)])


@pytest.mark.parametrize("workers", [None, 1, 2])
def test_toy_study(benchmark, workers):
    model = toy_model()
    nfit.toys.run(model, 3, seed=0, progress=False)  # compile in this process (workers use the disk cache)
    result = benchmark.pedantic(lambda: nfit.toys.run(model, 1000, seed=1, workers=workers, progress=False),
                                rounds=1, iterations=1)
    assert result.valid.mean() > 0.99
    benchmark.extra_info.update(toys_per_second=result.toys_per_second, workers=workers or 0,
                                pull_mean_mu=result.pull_summary()["mu"]["mean"])


@pytest.mark.parametrize("shape", ["gauss", "crystalball", "headline_sum"])
def test_sampling_throughput(benchmark, shape):
    obs = nfit.Space("m", limits=headline.LIMITS)
    pdf = {"gauss": lambda: nfit.pdf.Gauss(mu=5.28, sigma=0.025, obs=obs),
           "crystalball": lambda: nfit.pdf.CrystalBall(mu=5.28, sigma=0.025, alpha=1.5, n=3.0, obs=obs),
           "headline_sum": toy_model}[shape]()
    n = 1_000_000
    benchmark.pedantic(lambda: pdf.sample(n=n, rng=1), rounds=3, iterations=1)
    benchmark.extra_info["events_per_second"] = n / benchmark.stats.stats.median
