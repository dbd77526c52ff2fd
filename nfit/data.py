"""Unbinned data: events on the observables of a space, with optional weights.

>>> import numpy as np, nfit
>>> obs = nfit.Space("m", limits=(5.0, 5.6))
>>> data = nfit.Data.from_numpy(obs=obs, array=np.array([5.1, 5.3, 5.5]))
>>> data.nevents
3
"""
from __future__ import annotations

import warnings

import numpy as np

from .space import Space

__all__ = ["Data"]


class Data:
    """Events in a :class:`~nfit.Space`: one contiguous float64 column per observable.

    Build it with :meth:`from_numpy` or :meth:`from_pandas`. Events outside the space are dropped
    (a warning says how many); NaN or infinite values are an error naming the observable.

    Example
    -------
    >>> import numpy as np
    >>> obs = Space("x", limits=(0, 1))
    >>> d = Data.from_numpy(obs=obs, array=np.array([0.2, 0.4]), weights=np.array([1.0, 0.5]))
    >>> d.to_numpy().shape, float(d.weights.sum())
    ((2, 1), 1.5)
    """

    def __init__(self, space: Space, columns: dict, weights=None, name=None):
        self.space = space
        self.name = name or "Data"
        self._columns = columns
        self._weights = weights
        self.n_dropped = 0  # events left out for lying outside the space (from_numpy)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_numpy(cls, obs, array, weights=None, name=None, *, drop_outside=True):
        """Data from an array of shape ``(n,)`` (one observable) or ``(n, n_obs)``.

        ``array`` (and ``weights``) may live on a GPU (CuPy, a Numba device array): the checks run on
        a host copy, and a float64 column of one observable stays where it is for the CUDA backend
        (no second upload) unless events had to be dropped.
        """
        from . import gpu

        space = _require_space(obs)
        device = None
        if gpu.is_device_array(array):
            device = array if len(array.shape) == 1 and str(array.dtype) == "float64" else None
            array = gpu.to_host(array)
        if weights is not None and gpu.is_device_array(weights):
            weights = gpu.to_host(weights)
        array = np.asarray(array, dtype=np.float64)
        if array.ndim == 1 and space.n_obs == 1:
            array = array[:, None]
        if array.ndim != 2 or array.shape[1] != space.n_obs:
            raise ValueError(
                f"Data: array of shape {array.shape} does not match the observables {space.obs} "
                f"(expected (n,) or (n, {space.n_obs}))"
            )
        for j, o in enumerate(space.obs):
            bad = ~np.isfinite(array[:, j])
            if bad.any():
                raise ValueError(
                    f"Data: observable {o!r} has {int(bad.sum())} NaN or infinite value(s) "
                    f"(first at row {int(np.argmax(bad))})"
                )
        if weights is not None:
            weights = np.asarray(weights, dtype=np.float64).ravel()
            if weights.shape[0] != array.shape[0]:
                raise ValueError(f"Data: {weights.shape[0]} weights for {array.shape[0]} events")
            bad = ~np.isfinite(weights)
            if bad.any():
                raise ValueError(f"Data: weights have {int(bad.sum())} NaN or infinite value(s)")
        inside = space.inside(array)
        n_out = int((~inside).sum())
        if n_out:
            if not drop_outside:
                raise ValueError(f"Data: {n_out} event(s) lie outside {space}")
            warnings.warn(
                f"Data: {n_out} of {array.shape[0]} event(s) outside {space} were dropped",
                stacklevel=2,
            )
            array = array[inside]
            weights = None if weights is None else weights[inside]
        columns = {o: np.ascontiguousarray(array[:, j]) for j, o in enumerate(space.obs)}
        if weights is not None:
            weights = np.ascontiguousarray(weights)
        if device is not None and not n_out:
            gpu.to_device(columns[space.obs[0]], device=device)
        data = cls(space, columns, weights, name=name)
        data.n_dropped = n_out  # events outside the space, left out
        return data

    @classmethod
    def from_pandas(cls, df, obs=None, weights=None, name=None):
        """Data from a DataFrame: the columns named by the observables of ``obs``.

        ``weights`` is an array or the name of a column.
        """
        if obs is None:
            raise ValueError("Data.from_pandas: give obs=Space(...) so that the limits are known")
        space = _require_space(obs)
        missing = [o for o in space.obs if o not in df.columns]
        if missing:
            raise ValueError(f"Data.from_pandas: DataFrame has no column(s) {missing}")
        if isinstance(weights, str):
            if weights not in df.columns:
                raise ValueError(f"Data.from_pandas: DataFrame has no weight column {weights!r}")
            weights = df[weights].to_numpy()
        return cls.from_numpy(space, df[list(space.obs)].to_numpy(dtype=np.float64), weights, name)

    # ------------------------------------------------------------------ access
    @property
    def obs(self):
        return self.space.obs

    @property
    def nevents(self) -> int:
        return len(next(iter(self._columns.values())))

    n_events = num_entries = nevents

    @property
    def weights(self):
        return self._weights

    @property
    def has_weights(self) -> bool:
        return self._weights is not None

    @property
    def sum_weights(self) -> float:
        return float(self.nevents if self._weights is None else self._weights.sum())

    def column(self, obs: str) -> np.ndarray:
        try:
            return self._columns[obs]
        except KeyError:
            raise ValueError(f"Data {self.name!r} has no observable {obs!r} (has {self.obs})") from None

    def __getitem__(self, obs):
        return self.column(obs)

    def to_numpy(self) -> np.ndarray:
        """All observables as an array of shape ``(n, n_obs)``."""
        return np.column_stack([self._columns[o] for o in self.obs])

    value = to_numpy

    def to_pandas(self):
        import pandas as pd

        frame = pd.DataFrame({o: self._columns[o] for o in self.obs})
        if self._weights is not None:
            frame["weights"] = self._weights
        return frame

    def __len__(self):
        return self.nevents

    def __repr__(self):
        w = " weighted" if self._weights is not None else ""
        return f"<Data obs={self.obs} nevents={self.nevents}{w}>"


def _require_space(obs) -> Space:
    if not isinstance(obs, Space):
        raise TypeError(f"Data needs obs=Space(...) with limits, got {obs!r}")
    if not obs.has_limits:
        raise ValueError(f"Data: the space {obs} needs finite limits")
    return obs
