"""Fit results and toys out and back in: to_dict (JSON-able builtins) and from_dict, freeze and pickle."""
import json
import pickle

import numpy as np
import pytest

import nfit


def _fit():
    obs = nfit.Space("x", limits=(-3, 3))
    mu, sigma = nfit.Parameter("ex_mu", 0.1, -1, 1), nfit.Parameter("ex_sigma", 1.1, 0.5, 2)
    x = np.random.default_rng(1).normal(size=800)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs),
                                data=nfit.Data.from_numpy(obs, x[np.abs(x) < 3]))
    result = nfit.minimize.Minuit().minimize(nll)
    return result, mu, sigma


def test_to_dict_round_trip_through_json():
    result, mu, sigma = _fit()
    result.hesse()
    result.errors(params=[mu])
    d = json.loads(json.dumps(result.to_dict()))
    assert d["valid"] is True and d["minimizer"] == "Minuit" and d["loss"] == "UnbinnedNLL"
    assert d["params"]["ex_mu"]["value"] == result.params[mu]["value"]
    assert d["params"]["ex_mu"]["lower"] == -1 and d["params"]["ex_sigma"]["upper"] == 2
    assert d["params"]["ex_mu"]["hesse"]["error"] == pytest.approx(result.params[mu]["hesse"]["error"])
    assert d["params"]["ex_mu"]["errors"]["upper"] == pytest.approx(result.params[mu]["errors"]["upper"])
    assert "errors" not in d["params"]["ex_sigma"]
    back = nfit.result.FitResult.from_dict(d)
    np.testing.assert_allclose(back.covariance(), result.covariance(), rtol=1e-14)
    np.testing.assert_allclose(back.correlation(), result.correlation(), rtol=1e-14)
    assert back.params["ex_sigma"]["value"] == sigma.value() and back.fmin == result.fmin and back.valid
    with pytest.raises(RuntimeError, match="frozen"):
        back.hesse()
    assert pickle.loads(pickle.dumps(back)).covariance().shape == (2, 2)
    # a frozen result exports the same numbers
    frozen = json.loads(json.dumps(result.freeze().to_dict()))
    assert frozen["params"] == d["params"] and frozen["covariance"] == d["covariance"]


def test_toys_round_trip():
    obs = nfit.Space("x", limits=(-3, 3))
    mu = nfit.Parameter("ex_toy_mu", 0.0, -1, 1)
    toys = nfit.toys.run(nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs), 3, nevents=200, seed=2)
    back = nfit.toys.ToyResult.from_dict(json.loads(json.dumps(toys.to_dict())))
    np.testing.assert_array_equal(back.values(mu), toys.values(mu))
    np.testing.assert_array_equal(back.pulls(mu), toys.pulls(mu))
    assert back.n_toys == 3 and back.truth == toys.truth


def test_profile_exports():
    result, mu, _ = _fit()
    d = json.loads(json.dumps(result.profile_to_dict(mu, num=7)))
    values, delta = result.profile(mu, num=7)
    np.testing.assert_allclose(d["values"], values)
    np.testing.assert_allclose(d["delta_nll"], delta, atol=1e-9)
    assert d["errordef"] == 0.5 and d["param"] == "ex_mu"
