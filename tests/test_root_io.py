"""Data.from_root through uproot: trees in directories, aliases, weights (branch or array), integer and
float32 branches, events outside the space dropped with their weights, chunked reading, clear errors."""
import numpy as np
import pytest

import nfit

uproot = pytest.importorskip("uproot")


@pytest.fixture(scope="module")
def root_file(tmp_path_factory):
    rng = np.random.default_rng(5)
    n = 5000
    path = tmp_path_factory.mktemp("root") / "events.root"
    columns = {"B_M": rng.uniform(4.8, 5.8, n), "B_PT": rng.exponential(5.0, n).astype(np.float32),
               "nTracks": rng.integers(0, 50, n).astype(np.int32), "sw": rng.uniform(0.5, 1.5, n)}
    with uproot.recreate(path) as f:
        f["Dir/DecayTree"] = columns
        f["flat"] = {"x": np.array([0.1, 0.5, 0.9])}
    return str(path), columns


def test_read_with_alias_weights_and_cut(root_file):
    path, columns = root_file
    obs = nfit.Space("m", limits=(5.0, 5.6))
    with pytest.warns(UserWarning, match="dropped"):
        data = nfit.Data.from_root(path, "Dir/DecayTree", obs=obs, weights="sw", obs_alias={"m": "B_M"})
    keep = (columns["B_M"] >= 5.0) & (columns["B_M"] <= 5.6)
    np.testing.assert_array_equal(data["m"], columns["B_M"][keep])
    np.testing.assert_array_equal(data.weights, columns["sw"][keep])
    assert data.n_dropped == int((~keep).sum()) and data.nevents == int(keep.sum())
    # weights given as an array over the whole tree are cut together with the events
    w = np.arange(len(columns["B_M"]), dtype=float)
    with pytest.warns(UserWarning):
        data = nfit.data.from_root(path, "Dir/DecayTree", obs=obs, weights=w, obs_alias={"m": "B_M"})
    np.testing.assert_array_equal(data.weights, w[keep])


def test_types_two_observables_and_chunks(root_file):
    import nfit.rootio as rootio

    path, columns = root_file
    space = nfit.Space("B_PT", limits=(0, 100)) * nfit.Space("nTracks", limits=(0, 100))
    full = nfit.Data.from_root(path, "Dir/DecayTree", obs=space)
    chunked = rootio.read_columns(path, "Dir/DecayTree", space, step_size=700)[0]  # many small chunks
    assert full["B_PT"].dtype == np.float64 and full["nTracks"].dtype == np.float64
    np.testing.assert_array_equal(full["B_PT"], columns["B_PT"].astype(np.float64))
    np.testing.assert_array_equal(chunked["nTracks"], columns["nTracks"].astype(np.float64))
    loss = nfit.loss.UnbinnedNLL(nfit.pdf.Exponential(lam=nfit.Parameter("lam_root", -0.2, -2, 0),
                                                      obs=nfit.Space("B_PT", limits=(0, 100))),
                                 full.with_obs("B_PT"))
    assert nfit.minimize.Minuit().minimize(loss).valid


def test_errors_name_what_is_missing(root_file, tmp_path):
    path, _ = root_file
    obs = nfit.Space("x", limits=(0, 1))
    with pytest.raises(FileNotFoundError, match="nope.root"):
        nfit.Data.from_root(str(tmp_path / "nope.root"), "flat", obs=obs)
    with pytest.raises(KeyError, match="no tree 'missing'"):
        nfit.Data.from_root(path, "missing", obs=obs)
    with pytest.raises(KeyError, match="no branch"):
        nfit.Data.from_root(path, "Dir/DecayTree", obs=obs)
    with pytest.raises(KeyError, match="'w_missing'"):
        nfit.Data.from_root(path, "flat", obs=obs, weights="w_missing")
    with pytest.raises(ValueError, match="removed"):
        nfit.Data.from_root(path, "flat", obs=obs, branches=["x"])
    data = nfit.Data.from_root(path, "flat", obs=obs)
    assert data["x"].tolist() == [0.1, 0.5, 0.9] and data.n_dropped == 0
