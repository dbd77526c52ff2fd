"""hepstats 0.10 driving nfit's objects: sWeights, discovery, CLs upper limits (asymptotic and with
toys), confidence intervals, against hepstats driving zfit 0.28 on the same model and data (stored in
tests/data/hepstats_zfit_reference.json by tests/data/hepstats_analysis.py)."""
import importlib.util
import json
import pathlib
import warnings

import numpy as np
import pytest

import nfit

pytest.importorskip("hepstats")
HERE = pathlib.Path(__file__).parent / "data"
_spec = importlib.util.spec_from_file_location("hepstats_analysis", HERE / "hepstats_analysis.py")
analysis = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(analysis)
REFERENCE = json.loads((HERE / "hepstats_zfit_reference.json").read_text())


@pytest.fixture(scope="module")
def nfit_run():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return analysis.analyse(nfit)


def _errors():
    _, _, loss, p = analysis.build(nfit)
    result = nfit.minimize.Minuit().minimize(loss)
    result.hesse()
    return {k: result.params[q]["hesse"]["error"] for k, q in p.items()}


def test_fit_and_sweights_agree_with_zfit(nfit_run):
    errors = _errors()
    for key, value in REFERENCE["fit"].items():  # the two minimisers stop within their tolerances
        assert nfit_run["fit"][key] == pytest.approx(value, abs=0.05 * errors[key]), key
    for key in ("nsig", "nbkg"):
        ours, theirs = nfit_run["sweights"][key], REFERENCE["sweights"][key]
        # sWeights sum to the fitted yield (at the minimum), per event as zfit's
        assert ours["sum"] == pytest.approx(nfit_run["fit"][key], rel=1e-6)
        np.testing.assert_allclose(ours["first"], theirs["first"], rtol=5e-3, atol=5e-3)


def test_discovery_upper_limit_and_interval_agree_with_zfit(nfit_run):
    discovery = nfit_run["discovery"]
    assert discovery["significance"] == pytest.approx(REFERENCE["discovery"]["significance"], rel=1e-3)
    assert discovery["pnull"] == pytest.approx(REFERENCE["discovery"]["pnull"], rel=1e-2)
    for key in ("clsb", "clb", "cls", "expected", "expected_p1", "expected_m1"):
        np.testing.assert_allclose(nfit_run["pvalues"][key], REFERENCE["pvalues"][key], atol=1e-2, err_msg=key)
    for key in ("observed", "expected"):
        assert nfit_run["upper_limit"][key] == pytest.approx(REFERENCE["upper_limit"][key], rel=2e-2)
    mu_error = _errors()["mu"]
    for key in ("observed", "lower", "upper"):
        assert nfit_run["interval"][key] == pytest.approx(REFERENCE["interval"][key], abs=0.05 * mu_error)


def test_frequentist_limit_with_toys_matches_the_asymptotic_one():
    from hepstats.hypotests import UpperLimit
    from hepstats.hypotests.calculators import FrequentistCalculator
    from hepstats.hypotests.parameters import POI, POIarray

    nfit.settings.set_seed(20261207)  # 100 toys per point: an unlucky draw left the CLs curve without a root
    loss, minimizer, p, grid = analysis.toys_setup(nfit)
    calc = FrequentistCalculator(input=loss, minimizer=minimizer, ntoysnull=100, ntoysalt=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pvalues = UpperLimit(calc, POIarray(p["nsig"], grid), POI(p["nsig"], 0.0), qtilde=False).pvalues(CLs=True)
    limit = analysis.upper_limit(grid, pvalues["cls"])
    # 100 toys per point: the CLs limit agrees with the asymptotic one to the toys' precision
    assert limit == pytest.approx(REFERENCE["upper_limit"]["observed"], rel=0.15)


def test_frequentist_toys_on_a_dask_cluster():
    """nfit.hypotests.FrequentistCalculator: hepstats' calculator with its toys on Dask workers (issue:
    toys run on the cluster nfit's toys use, where asked). The limit agrees with the asymptotic one as
    the in-process toys do, and every requested toy is there."""
    pytest.importorskip("dask.distributed")
    from dask.distributed import Client, LocalCluster
    from hepstats.hypotests import UpperLimit
    from hepstats.hypotests.parameters import POI, POIarray

    from nfit.hypotests import FrequentistCalculator

    loss, minimizer, p, grid = analysis.toys_setup(nfit)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        calc = FrequentistCalculator(input=loss, minimizer=minimizer, ntoysnull=100, ntoysalt=100, client=client,
                                     batch_size=25, seed=3, progress=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pvalues = UpperLimit(calc, POIarray(p["nsig"], grid), POI(p["nsig"], 0.0),
                                 qtilde=False).pvalues(CLs=True)
    for key, toys in calc._toys.items():
        assert toys.ntoys >= 100 and np.all(np.isfinite(toys.bestfit)), key
    limit = analysis.upper_limit(grid, pvalues["cls"])
    assert limit == pytest.approx(REFERENCE["upper_limit"]["observed"], rel=0.15)
    with pytest.raises(ValueError, match="workers"):
        FrequentistCalculator(input=loss, minimizer=minimizer, workers=0)


def test_what_hepstats_calls_exists():
    model, data, loss, p = analysis.build(nfit)
    nsig = p["nsig"]
    with nsig.set_value(10.0):
        assert nsig.value() == 10.0
    assert nsig.value() == 50.0 and float(np.array(nsig)) == 50.0
    assert data.nevents == data.n_events and data.space.limit1d == (0.1, 3.0)
    assert model.get_models()[0].get_yield() is nsig
    sampler = model.create_sampler(n=100)
    assert set(sampler.params) >= {"hs_mu", "hs_nsig"}
    sampler.resample(param_values={p["mu"]: 1.5, p["nbkg"]: 0.001})   # the signal alone, moved to 1.5
    assert sampler.nevents == 100 and abs(np.median(sampler["x"]) - 1.5) < 0.05
    new = loss.create_new(model=[model], data=[sampler], constraints=loss.constraints)
    assert type(new) is type(loss) and new.data[0] is sampler
    minimizer = nfit.minimize.Minuit()
    minimizer.verbosity = 0
    result = minimizer.minimize(loss=loss)
    assert list(result) == [result.params[q]["value"] for q in loss.get_params()]
    constraint = nfit.constraint.GaussianConstraint(params=[p["mu"]], observation=[1.2], uncertainty=[0.05])
    draws = constraint.sample(2000, rng=1)[p["mu"]]
    assert draws.shape == (2000,) and abs(draws.std() - 0.05) < 0.005
    weighted = type(data).from_numpy(data.space, array=np.array([0.5, 1.0]), weights=np.array([2.0, 3.0]))
    assert weighted.weights.tolist() == [2.0, 3.0]
