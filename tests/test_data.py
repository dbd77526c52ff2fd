import numpy as np
import pytest

import nfit


def test_from_numpy_drops_outside_with_count(obs):
    x = np.array([4.0, 5.1, 5.2, 7.0, 5.5])
    with pytest.warns(UserWarning, match="2 of 5 event"):
        data = nfit.Data.from_numpy(obs=obs, array=x)
    assert data.nevents == 3
    np.testing.assert_array_equal(data.to_numpy()[:, 0], [5.1, 5.2, 5.5])


def test_nan_and_inf_name_the_observable(obs):
    with pytest.raises(ValueError, match="observable 'm'.*NaN or infinite"):
        nfit.Data.from_numpy(obs=obs, array=np.array([5.1, np.nan]))
    with pytest.raises(ValueError, match="observable 'm'"):
        nfit.Data.from_numpy(obs=obs, array=np.array([5.1, np.inf]))


def test_weights(obs):
    data = nfit.Data.from_numpy(obs=obs, array=np.array([5.1, 5.2, 5.9]), weights=np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(data.weights, [1.0, 2.0])
    with pytest.raises(ValueError, match="weights"):
        nfit.Data.from_numpy(obs=obs, array=np.array([5.1]), weights=np.array([np.nan]))
    with pytest.raises(ValueError, match="2 weights for 1 events"):
        nfit.Data.from_numpy(obs=obs, array=np.array([5.1]), weights=np.array([1.0, 2.0]))


def test_shape_mismatch(obs):
    with pytest.raises(ValueError, match="does not match the observables"):
        nfit.Data.from_numpy(obs=obs, array=np.zeros((3, 2)) + 5.1)


def test_from_pandas(obs):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"m": [5.1, 5.3, 9.0], "w": [1.0, 0.5, 2.0]})
    with pytest.warns(UserWarning):
        data = nfit.Data.from_pandas(df, obs=obs, weights="w")
    assert data.nevents == 2
    np.testing.assert_array_equal(data.weights, [1.0, 0.5])
    with pytest.raises(ValueError, match="no column"):
        nfit.Data.from_pandas(pd.DataFrame({"x": [1.0]}), obs=obs)


def test_multidimensional_data():
    xy = nfit.Space("x", limits=(0, 1)) * nfit.Space("y", limits=(0, 2))
    data = nfit.Data.from_numpy(obs=xy, array=np.array([[0.5, 1.0], [0.2, 1.5]]))
    np.testing.assert_array_equal(data["y"], [1.0, 1.5])
