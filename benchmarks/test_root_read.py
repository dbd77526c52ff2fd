"""Reading 1e7 events of one observable (cut to a range, with a weight branch) from a ROOT file with
five branches: Data.from_root (chunked, only the branches it needs) against uproot's arrays() of the
same two branches alone (no cut, no Data)."""
import numpy as np
import pytest

import nfit

uproot = pytest.importorskip("uproot")
N = 10_000_000


@pytest.fixture(scope="module")
def big_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("big") / "big.root"
    rng = np.random.default_rng(1)
    with uproot.recreate(path) as f:
        f.mktree("tree", {name: np.float64 for name in ("B_M", "w", "a", "b", "c")})
        for _ in range(10):
            n = N // 10
            f["tree"].extend({"B_M": rng.uniform(4.8, 5.8, n), "w": rng.uniform(0.5, 1.5, n), "a": rng.normal(size=n),
                              "b": rng.normal(size=n), "c": rng.normal(size=n)})
    return str(path)


def test_read_nfit(benchmark, big_file):
    obs = nfit.Space("m", limits=(5.0, 5.6))

    def read():
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nfit.Data.from_root(big_file, "tree", obs=obs, weights="w", obs_alias={"m": "B_M"})

    data = benchmark.pedantic(read, rounds=3, iterations=1)
    assert 0.55 * N < data.nevents < 0.65 * N


def test_read_uproot_arrays(benchmark, big_file):
    def read():
        with uproot.open(big_file) as f:
            return f["tree"].arrays(["B_M", "w"], library="np")

    arrays = benchmark.pedantic(read, rounds=3, iterations=1)
    assert arrays["B_M"].size == N
