"""Toy studies: pulls of a simple model, failures reported, and a Dask LocalCluster run equal to the
same run in-process."""
import os

import numpy as np
import pytest

import nfit


def make_model():
    obs = nfit.Space("m", limits=(5.0, 5.6))
    mu = nfit.Parameter("mu", 5.28, 5.2, 5.35)
    sigma = nfit.Parameter("sigma", 0.025, 0.005, 0.1)
    lam = nfit.Parameter("lam", -1.5, -5, 1)
    nsig, nbkg = nfit.Parameter("nsig", 300, 0, 1e5), nfit.Parameter("nbkg", 700, 0, 1e5)
    sig = nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs, extended=nsig)
    bkg = nfit.pdf.Exponential(lam=lam, obs=obs, extended=nbkg)
    return nfit.pdf.SumPDF([sig, bkg])


def test_pulls_are_standard_normal():
    model = make_model()
    result = nfit.toys.run(model, 200, seed=5, progress=False)
    assert result.n_toys == 200 and result.valid.all() and not result.failed
    assert len(set(result.nevents)) > 20  # Poisson-fluctuated toy sizes around 1000
    assert abs(np.mean(result.nevents) - 1000) < 4 * np.sqrt(1000 / 200)
    for name, s in result.pull_summary().items():
        assert abs(s["mean"]) < 3.5 * s["mean_error"] + 0.02, name
        assert abs(s["width"] - 1.0) < 3.5 * s["width_error"] + 0.02, name
    # the parameters are back at the truth afterwards
    assert {p.name: p.value() for p in model.get_params()} == result.truth


def test_toy_result_tables():
    pd = pytest.importorskip("pandas")
    result = nfit.toys.run(make_model(), 6, seed=1, progress=False)
    frame = result.to_pandas()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 6
    for column in ("toy", "valid", "fmin", "mu", "mu_error", "mu_pull", "nsig_pull"):
        assert column in frame
    np.testing.assert_allclose(frame["mu_pull"][result.valid], result.pulls("mu"))
    assert list(frame["toy"]) == list(range(6))
    with pytest.raises(KeyError, match="no parameter 'nope'"):
        result.pulls("nope")


def test_same_seed_same_toys_and_fixed_size():
    a = nfit.toys.run(make_model(), 5, seed=9, progress=False)
    b = nfit.toys.run(make_model(), 5, seed=9, batch_size=2, progress=False)
    np.testing.assert_array_equal(a.values("mu"), b.values("mu"))
    c = nfit.toys.run(make_model(), 3, seed=9, nevents=500, progress=False)
    assert list(c.nevents) == [500, 500, 500]


def test_failed_toys_are_reported_not_dropped():
    result = nfit.toys.run(make_model(), 4, seed=2, minimizer=nfit.minimize.Minuit(maxiter=3), progress=False)
    assert result.n_toys == 4
    assert not result.valid.any()
    assert len(result.failed) == 4 and all("call limit" in message for _, message in result.failed)
    assert len(result.pulls("mu")) == 0 and len(result.pulls("mu", valid_only=False)) == 4


def test_custom_loss_and_non_extended_model():
    obs = nfit.Space("x", limits=(-3, 3))
    mu = nfit.Parameter("mu_plain", 0.1, -1, 1)
    model = nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs)
    with pytest.raises(ValueError, match="give nevents"):
        nfit.toys.run(model, 2, progress=False)
    calls = []

    def loss(m, data):
        calls.append(1)
        return nfit.loss.UnbinnedNLL(model=m, data=data, mode="eager")

    result = nfit.toys.run(model, 3, nevents=400, loss=loss, seed=4, progress=False)
    assert result.valid.all() and calls == [1]


def test_pull_plot():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    result = nfit.toys.run(make_model(), 10, seed=3, progress=False)
    ax = result.plot_pulls("mu")
    assert "mu" in ax.get_title()


def test_local_cluster_equals_in_process():
    pytest.importorskip("dask.distributed")
    model = make_model()
    here = nfit.toys.run(model, 16, seed=7, progress=False)
    there = nfit.toys.run(model, 16, seed=7, workers=2, batch_size=3, progress=False)
    assert there.n_toys == 16 and [r["toy"] for r in there.records] == list(range(16))
    for name in here.truth:
        np.testing.assert_allclose(there.values(name), here.values(name), rtol=1e-9)
        np.testing.assert_allclose(there.errors(name), here.errors(name), rtol=1e-6)
    np.testing.assert_array_equal(there.nevents, here.nevents)


def test_the_workers_of_a_local_cluster_share_the_cores_without_oversubscribing_them():
    pytest.importorskip("dask.distributed")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with nfit.toys.dask_client(workers=2) as client:
        threads = client.run(lambda: __import__("numba").get_num_threads())
        dask_threads = client.nthreads()
    assert len(threads) == 2
    assert all(n == max(1, cores // 2) for n in threads.values())
    assert all(n == 1 for n in dask_threads.values())
    assert sum(threads.values()) <= max(cores, 2)  # one thread each where there are fewer cores than workers
