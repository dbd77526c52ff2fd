"""zfit's object serialization: to_dict / from_dict, to_json, to_yaml of parameters, spaces, data and
pdfs, and Data through asdf; the rebuilt objects give the same numbers."""
import json

import numpy as np
import pytest

import nfit


def test_parameter_space_round_trips():
    mu = nfit.Parameter("ser_mu", 1.2, -1, 2, label="mean")
    d = json.loads(mu.to_json())
    assert d == {"type": "Parameter", "name": "ser_mu", "value": 1.2, "min": -1.0, "max": 2.0,
                 "stepsize": mu.step_size, "floating": True, "label": "mean"}
    again = nfit.Parameter.from_dict(d)
    assert (again.value(), again.lower, again.upper, again.floating) == (1.2, -1.0, 2.0, True)
    const = nfit.param.ConstantParameter("ser_c", 3.0)
    assert nfit.Parameter.from_dict(const.to_dict()).floating is False
    obs = nfit.Space("x", -2, 3)
    assert nfit.Space.from_dict(json.loads(obs.to_json())) == obs
    binned = obs.with_binning(5)
    assert nfit.Space.from_dict(binned.to_dict()).binning[0].size == 5
    assert "type: Space" in obs.to_yaml()


def test_pdfs_round_trip():
    obs = nfit.Space("x", -2, 3)
    mu, sigma = nfit.Parameter("ser_pmu", 1.2, -1, 2), nfit.Parameter("ser_psigma", 0.5, 0.1, 2)
    gauss = nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs)
    models = [
        nfit.pdf.SumPDF([gauss, nfit.pdf.Exponential(lam=-0.5, obs=obs)], fracs=0.3),
        nfit.pdf.SumPDF([gauss.create_extended(100.0), nfit.pdf.Chebyshev(obs=obs, coeffs=[0.1], extended=50.0)]),
        nfit.pdf.CrystalBall(mu=mu, sigma=sigma, alpha=1.5, n=3.0, obs=obs, extended=20.0),
        nfit.pdf.Bernstein(obs=obs, coeffs=[1.0, 0.5, 2.0]),
    ]
    x = np.linspace(-1.9, 2.9, 7)
    for model in models:
        d = json.loads(model.to_json())
        again = type(model).from_dict(d)
        np.testing.assert_allclose(again.pdf(x), model.pdf(x), rtol=1e-13)
        assert again.is_extended == model.is_extended
        if model.is_extended:
            assert again.get_yield().value() == pytest.approx(model.get_yield().value())
        assert model.from_dict(model.to_dict()).name == model.name
    rebuilt = nfit.pdf.BasePDF.from_dict(models[0].to_dict())
    assert rebuilt.pdfs[0].params["mu"] is not mu and rebuilt.pdfs[0].params["mu"].value() == 1.2


def test_data_round_trips(tmp_path):
    obs = nfit.Space("x", 0, 1) * nfit.Space("y", 0, 2)
    data = nfit.Data.from_numpy(obs, np.array([[0.1, 0.5], [0.7, 1.5]]), weights=np.array([1.0, 2.0]))
    d = data.to_dict()
    assert d["data"].shape == (2, 2) and [s["name"] for s in d["space"]] == ["x", "y"]
    again = nfit.Data.from_dict(d)
    np.testing.assert_array_equal(again.to_numpy(), data.to_numpy())
    np.testing.assert_array_equal(again.weights, data.weights)
    with pytest.raises(TypeError, match="asdf"):
        data.to_json()
    asdf = pytest.importorskip("asdf")
    data.to_asdf().write_to(tmp_path / "data.asdf")
    with asdf.open(tmp_path / "data.asdf") as f:
        np.testing.assert_array_equal(nfit.Data.from_asdf(f).to_numpy(), data.to_numpy())
