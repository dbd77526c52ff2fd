"""Data: events on the observables of a space, with optional weights (:class:`Data`), and
histograms on a binned space (:class:`BinnedData`).

>>> import numpy as np, nfit
>>> obs = nfit.Space("m", limits=(5.0, 5.6))
>>> data = nfit.Data.from_numpy(obs=obs, array=np.array([5.1, 5.3, 5.5]))
>>> data.nevents
3
"""
from __future__ import annotations

import os
import warnings

import numpy as np

from .binned import RegularBinning, VariableBinning  # noqa: F401 -- zfit's nfit.data.RegularBinning
from .space import Space
from .tensorlike import as_result, numpy_result

__all__ = ["Data", "BinnedData", "from_numpy", "from_pandas", "from_hist", "from_root", "concat", "convert_to_data",
           "RegularBinning", "VariableBinning"]


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

    def __new__(cls, *args, **kwargs):
        if cls is Data:
            data = args[0] if args else kwargs.get("data")
            obs = args[1] if len(args) > 1 else kwargs.get("obs")
            if isinstance(obs, Space) and obs.is_binned and not isinstance(data, Space):
                # zfit's Data(array, obs=binned space): the events' histogram
                weights = args[2] if len(args) > 2 else kwargs.get("weights")
                return Data.from_numpy(obs, data, weights=weights, name=kwargs.get("name"))
        return super().__new__(cls)

    def __init__(self, data, obs=None, weights=None, name=None, label=None):
        # zfit's Data(data=array, obs=space, weights=...); internally Data(space, {obs: column}, weights)
        if not isinstance(data, Space):
            made = type(self).from_numpy(obs, data, weights=weights, name=name)
            data, obs, weights = made.space, made._columns, made._weights
            self.n_dropped = made.n_dropped
        else:
            self.n_dropped = 0  # events left out for lying outside the space (from_numpy)
        self.space = data
        self.name = name or "Data"
        self.label = label or self.name
        self._columns = obs
        self._weights = weights

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_numpy(cls, obs, array, weights=None, name=None, *, drop_outside=True):
        """Data from an array of shape ``(n,)`` (one observable) or ``(n, n_obs)``.

        ``array`` (and ``weights``) may live on a GPU (CuPy, a Numba device array): the checks run on
        a host copy, and a float64 column of one observable stays where it is for the CUDA backend
        (no second upload) unless events had to be dropped.
        """
        from . import backends

        space = _require_space(obs)
        if space.is_binned:  # as zfit: events on a binned space make their histogram
            return cls.from_numpy(space.with_binning(None), array, weights, name,
                                  drop_outside=drop_outside).to_binned(space)
        device = None
        if backends.is_device_array(array):
            device = array if len(array.shape) == 1 and str(array.dtype) == "float64" else None
            array = backends.to_host(array)
        if weights is not None and backends.is_device_array(weights):
            weights = backends.to_host(weights)
        array = np.asarray(array, dtype=np.float64)
        if array.ndim == 0 and space.n_obs == 1:  # one event given as a number (zfit takes it)
            array = array.reshape(1, 1)
        if array.ndim == 1 and space.n_obs == 1:
            array = array[:, None]
        if array.ndim != 2 or array.shape[1] != space.n_obs:
            raise ValueError(
                f"Data: array of shape {array.shape} does not match the observables {space.obs} "
                f"(expected (n,) or (n, {space.n_obs}))"
            )
        _check_finite(space, array)
        if weights is not None:
            weights = _checked_weights(weights, array.shape[0])
        n_out = sum(int(np.count_nonzero(~space.inside(block))) for block in _blocks(array))
        if n_out:
            inside = space.inside(array)
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
            backends.keep_on_device(columns[space.obs[0]], device)
        data = cls(space, columns, weights, name=name)
        data.n_dropped = n_out  # events outside the space, left out
        return data

    @classmethod
    def from_root(cls, path, treepath, obs=None, *, weights=None, obs_alias=None, name=None, label=None,
                  dtype=None, root_dir_options=None, use_hash=None, branches=None, branches_alias=None):
        """zfit's: the events of ``obs`` (a Space) from tree ``treepath`` of ROOT file ``path``, through
        uproot, read chunk by chunk (:func:`nfit.rootio.read_root`). ``weights``: a branch or an array;
        ``obs_alias``: {observable: branch}.

        Example
        -------
        >>> import numpy as np, uproot, tempfile, os, nfit
        >>> path = os.path.join(tempfile.mkdtemp(), "t.root")
        >>> with uproot.recreate(path) as f:
        ...     f["tree"] = {"x": np.array([0.2, 0.4], dtype=np.float32)}
        >>> Data.from_root(path, "tree", obs=nfit.Space("x", limits=(0, 1)))["x"].dtype
        dtype('float64')
        """
        from .rootio import read_columns

        if branches is not None or branches_alias is not None:
            raise ValueError("Data.from_root: branches= and branches_alias= were removed (as in zfit); give the "
                             "observables with obs= and other branch names with obs_alias=")
        if dtype is not None and np.dtype(dtype) != np.float64:
            raise TypeError(f"Data.from_root: nfit reads float64, got dtype={dtype!r}")
        if use_hash:
            raise ValueError("Data.from_root: use_hash (zfit's caching by data hash) has no meaning in nfit")
        if obs is None:
            raise ValueError("Data.from_root: give obs=Space(...) with the observables and their limits")
        space = _require_space(obs)
        columns, w, total = read_columns(path, treepath, space, weights=weights, obs_alias=obs_alias,
                                         root_dir_options=root_dir_options)
        n = len(next(iter(columns.values())))
        data = cls(space, columns, None if w is None else _checked_weights(w, n),
                   name=name or os.path.basename(str(path)), label=label)
        data.n_dropped = total - n
        if data.n_dropped:
            warnings.warn(f"Data.from_root: {data.n_dropped} of {total} event(s) of {treepath!r} lie outside {space} "
                          "and were dropped", stacklevel=2)
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

    @classmethod
    def from_tensor(cls, obs, tensor, weights=None, name=None, label=None):
        """zfit's name for :meth:`from_numpy` (a tensor is an array here)."""
        return cls.from_numpy(obs, tensor, weights=weights, name=name)

    # ------------------------------------------------------------------ access
    @property
    def obs(self):
        return self.space.obs

    @property
    def n_obs(self) -> int:
        return self.space.n_obs

    @property
    def data_range(self) -> Space:
        return self.space

    def with_obs(self, obs) -> Data:
        """The events of the observables ``obs`` only (a sub-space), with the same weights.

        >>> import numpy as np
        >>> xy = Space("x", limits=(0, 1)) * Space("y", limits=(0, 1))
        >>> Data.from_numpy(xy, np.array([[0.1, 0.2]])).with_obs("y").to_numpy().tolist()
        [[0.2]]
        """
        space = self.space.with_obs(obs)
        return Data._from_columns(space, {o: self._columns[o] for o in space.obs}, self._weights, self.name)

    def with_weights(self, weights) -> Data:
        """The same events with other weights (None: unweighted)."""
        weights = None if weights is None else _checked_weights(weights, self.nevents)
        return Data._from_columns(self.space, self._columns, weights, self.name)

    def set_weights(self, weights) -> None:
        """Replace the weights in place (None: unweighted), as zfit's ``Data.set_weights``."""
        self._weights = None if weights is None else _checked_weights(weights, self.nevents)

    @staticmethod
    def _from_columns(space, columns, weights, name):
        return Data(space, columns, weights, name=name)

    @property
    def nevents(self) -> int:
        return len(next(iter(self._columns.values())))

    n_events = num_entries = nentries = samplesize = nevents
    dtype = np.float64

    @property
    def shape(self) -> tuple:
        return (self.nevents, self.n_obs)

    def numpy(self) -> np.ndarray:
        """zfit's (TensorFlow's) name for :meth:`to_numpy`."""
        return self.to_numpy()

    def unstack_x(self, obs=None):
        """The columns of ``obs`` (default: all): one array for one observable, else a list."""
        chosen = self.obs if obs is None else ((obs,) if isinstance(obs, str) else tuple(obs))
        columns = [self.column(o) for o in chosen]
        return columns[0] if len(columns) == 1 else columns

    def copy(self) -> Data:
        return self._from_columns(self.space, {o: self._columns[o].copy() for o in self.obs},
                                  None if self._weights is None else self._weights.copy(), self.name)

    @classmethod
    def from_mapping(cls, mapping, obs=None, weights=None, name=None) -> Data:
        """zfit's: data from ``{observable: array}`` (``obs``: the Space, with their limits).

        >>> import nfit
        >>> d = Data.from_mapping({"x": [0.1, 0.2]}, obs=nfit.Space("x", 0, 1))
        >>> d.nevents
        2
        """
        if obs is None:
            raise ValueError("Data.from_mapping: give obs=Space(...) with the observables' limits")
        missing = [o for o in obs.obs if o not in mapping]
        if missing:
            raise ValueError(f"Data.from_mapping: no column for observable(s) {missing}")
        array = np.column_stack([np.asarray(mapping[o], dtype=float).reshape(-1) for o in obs.obs])
        return cls.from_numpy(obs, array, weights=weights, name=name)

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
        """``data["x"]``: the column of observable ``x``; a list of names: a Data of those."""
        if isinstance(obs, (list, tuple)):
            return self.with_obs(obs)
        return as_result(self.column(obs))

    def to_numpy(self) -> np.ndarray:
        """All observables as an array of shape ``(n, n_obs)``."""
        return np.column_stack([self._columns[o] for o in self.obs])

    @numpy_result
    def value(self, obs=None) -> np.ndarray:
        """zfit's: the observables ``obs`` (default: all) as an array of shape ``(n, n_obs)``."""
        if obs is None:
            return self.to_numpy()
        chosen = (obs,) if isinstance(obs, str) else tuple(getattr(obs, "obs", obs))
        return np.column_stack([self.column(o) for o in chosen])

    def to_pandas(self):
        import pandas as pd

        frame = pd.DataFrame({o: self._columns[o] for o in self.obs})
        if self._weights is not None:
            frame["weights"] = self._weights
        return frame

    def __len__(self):
        return self.nevents

    # ------------------------------------------------------------------ zfit's serialization
    def to_dict(self) -> dict:
        """zfit's dictionary: ``{"type": "Data", "data": array (n, n_obs), "space": [Space dicts]}`` and the
        weights where there are some; the array is not JSON (``to_asdf`` writes it).

        >>> d = Data.from_numpy(Space("x", 0, 1), np.array([0.2, 0.4])).to_dict()
        >>> d["data"].shape, d["space"][0]["name"]
        ((2, 1), 'x')
        """
        d = {"type": "Data", "data": self.to_numpy(), "space": [self.space.with_obs(o).to_dict() for o in self.obs]}
        if self._weights is not None:
            d["weights"] = self._weights.copy()
        return d

    def to_json(self):
        raise TypeError("Data.to_json: data are arrays, which JSON does not hold well; use to_asdf() (or to_dict())")

    def to_asdf(self):
        """An ``asdf.AsdfFile`` of :meth:`to_dict` (``.write_to(path)`` writes it)."""
        import asdf

        return asdf.AsdfFile(self.to_dict())

    @classmethod
    def from_dict(cls, d) -> Data:
        """Data from :meth:`to_dict`'s dictionary (events outside the space dropped, as always)."""
        space = Space.from_dict(d["space"][0])
        for part in d["space"][1:]:
            space = space * Space.from_dict(part)
        return cls.from_numpy(space, np.asarray(d["data"]), weights=d.get("weights"))

    @classmethod
    def from_asdf(cls, f) -> Data:
        """Data from an opened asdf file (``asdf.open(path)``) written by :meth:`to_asdf`."""
        return cls.from_dict(f.tree)

    def to_binned(self, space, *, name=None) -> BinnedData:
        """The histogram of these events on ``space`` (a binned Space, or a number of bins over
        this data's space): sums of weights and of squared weights per bin.

        >>> import numpy as np
        >>> d = Data.from_numpy(Space("x", limits=(0, 2)), np.array([0.5, 1.5, 1.6]), weights=np.array([1, 2, 1]))
        >>> b = d.to_binned(2)
        >>> b.values().tolist(), b.variances().tolist()
        ([1.0, 3.0], [1.0, 5.0])
        """
        if not isinstance(space, Space):
            if self.n_obs != 1:
                raise ValueError(f"Data {self.name!r}.to_binned: give a binned Space for several observables")
            space = self.space.with_binning(space)
        if not space.is_binned:
            raise ValueError(f"Data {self.name!r}.to_binned: {space} has no binning")
        (obs,) = space.obs
        edges = space.binning[0].edges
        x = self.column(obs)
        w = self._weights if self._weights is not None else np.ones_like(x)
        values = np.histogram(x, bins=edges, weights=w)[0]
        variances = np.histogram(x, bins=edges, weights=w * w)[0]
        return BinnedData(space, values, variances, name=name or self.name)

    def __repr__(self):
        w = " weighted" if self._weights is not None else ""
        return f"<Data obs={self.obs} nevents={self.nevents}{w}>"


class BinnedData:
    """A histogram on a binned :class:`~nfit.Space`: per bin the sum of weights (``values``) and,
    optionally, the sum of squared weights (``variances``).

    Build it from a ``hist.Hist`` (:meth:`from_hist`, named axes, flow bins dropped), from arrays
    (:meth:`from_tensor`) or from events (:meth:`Data.to_binned`).

    Example
    -------
    >>> import numpy as np, nfit
    >>> bobs = nfit.Space("x", limits=(0, 3), binning=3)
    >>> bd = BinnedData.from_tensor(space=bobs, values=np.array([1.0, 4.0, 2.0]))
    >>> bd.samplesize, bd.variances() is None
    (7.0, True)
    """

    kind = "COUNT"  # UHI's kind of histogram (uhi.typing.plottable.Kind.COUNT): mplhep plots BinnedData directly

    def __init__(self, space, values, variances=None, *, name=None, label=None):
        if not isinstance(space, Space) or not space.is_binned:
            raise ValueError(f"BinnedData: space must be a binned Space, got {space!r}")
        nbins = space.binning[0].size
        values = np.ascontiguousarray(np.asarray(values, dtype=np.float64).reshape(-1))
        if values.shape != (nbins,):
            raise ValueError(f"BinnedData: {values.size} values for the {nbins} bins of {space}")
        if not np.all(np.isfinite(values)):
            raise ValueError(f"BinnedData on {space.obs}: values have NaN or infinite entries")
        if variances is not None:
            variances = np.ascontiguousarray(np.asarray(variances, dtype=np.float64).reshape(-1))
            if variances.shape != (nbins,):
                raise ValueError(f"BinnedData: {variances.size} variances for the {nbins} bins of {space}")
            if not np.all(np.isfinite(variances)) or np.any(variances < 0):
                raise ValueError(f"BinnedData on {space.obs}: variances must be finite and non-negative")
        self.space = space
        self.name = name or "BinnedData"
        self.label = label or self.name
        self._values = values
        self._variances = variances

    @classmethod
    def from_tensor(cls, space, values, variances=None, name=None, label=None) -> BinnedData:
        """zfit's: from per-bin ``values`` (and ``variances``; None stays None)."""
        return cls(space, values, variances, name=name, label=label)

    @classmethod
    def from_hist(cls, h, name=None) -> BinnedData:
        """From a ``hist.Hist`` whose axis is named after the observable (flow bins dropped; a
        Weight storage gives the variances, a plain count storage variances equal to the counts)."""
        axes = getattr(h, "axes", None)
        if axes is None or not hasattr(h, "values"):
            raise TypeError(f"BinnedData.from_hist: need a hist.Hist, got {type(h).__name__}")
        if len(axes) != 1:
            raise NotImplementedError(f"BinnedData.from_hist: {len(axes)}-dimensional histograms are not supported "
                                      "yet (one axis)")
        axis = axes[0]
        if not getattr(axis, "name", ""):
            raise ValueError("BinnedData.from_hist: the histogram's axis has no name; name it after the observable "
                             "(hist.axis.Regular(..., name='x'))")
        space = Space(axis.name, binning=axis)
        values = np.asarray(h.values(flow=False), dtype=float)
        variances = h.variances(flow=False)
        return cls(space, values, None if variances is None else np.asarray(variances, dtype=float), name=name)

    @property
    def obs(self) -> tuple:
        return self.space.obs

    @property
    def n_obs(self) -> int:
        return self.space.n_obs

    @property
    def axes(self):
        """The binnings (zfit's ``axes``)."""
        return self.space.binning

    binning = axes

    def values(self) -> np.ndarray:
        """Sums of weights per bin."""
        return self._values

    counts = values

    def variances(self):
        """Sums of squared weights per bin, or None."""
        return self._variances

    @property
    def samplesize(self) -> float:
        """The total sum of weights."""
        return float(self._values.sum())

    # the number of events (zfit 0.28's BinnedData.nevents is the number of bins instead)
    nevents = n_events = samplesize

    @property
    def has_weights(self) -> bool:
        """Whether the variances differ from the counts (a weighted histogram)."""
        return self._variances is not None and not np.allclose(self._variances, self._values, rtol=1e-12, atol=0)

    def with_variances(self, variances) -> BinnedData:
        """A copy with other variances."""
        return BinnedData(self.space, self._values, variances, name=self.name, label=self.label)

    def to_hist(self):
        """A ``hist.Hist`` with Weight storage (variances: the counts where none are set)."""
        import hist

        h = hist.Hist(self.space.binning[0].to_hist_axis(), storage=hist.storage.Weight())
        h.view()["value"] = self._values
        h.view()["variance"] = self._values if self._variances is None else self._variances
        return h

    def to_unbinned(self) -> Data:
        """Events at the bin centres, weighted by the counts."""
        centers = self.space.binning[0].centers
        return Data.from_numpy(self.space.with_binning(None), centers, weights=self._values, name=self.name)

    def __getstate__(self):
        return self.__dict__

    def __repr__(self):
        return f"<BinnedData obs={self.obs} nbins={self._values.size} samplesize={self.samplesize:g}>"


_BLOCK = 1 << 20  # rows per block of the checks: their temporaries stay small beside the data


def _blocks(array):
    return (array[start:start + _BLOCK] for start in range(0, len(array), _BLOCK))


def _check_finite(space, array):
    """A clear error naming the observable, the count and the first row of NaN or infinite values."""
    if all(np.isfinite(block).all() for block in _blocks(array)):
        return
    for j, o in enumerate(space.obs):
        bad = ~np.isfinite(array[:, j])
        if bad.any():
            raise ValueError(f"Data: observable {o!r} has {int(bad.sum())} NaN or infinite value(s) "
                             f"(first at row {int(np.argmax(bad))})")


def _checked_weights(weights, n) -> np.ndarray:
    weights = np.ascontiguousarray(np.asarray(weights, dtype=np.float64).ravel())
    if weights.shape[0] != n:
        raise ValueError(f"Data: {weights.shape[0]} weights for {n} events")
    if not all(np.isfinite(block).all() for block in _blocks(weights)):
        raise ValueError(f"Data: weights have {int((~np.isfinite(weights)).sum())} NaN or infinite value(s)")
    return weights


def from_numpy(obs, array, weights=None, name=None, **kwargs) -> Data:
    """zfit's ``zfit.data.from_numpy``: :meth:`Data.from_numpy`."""
    return Data.from_numpy(obs, array, weights=weights, name=name, **kwargs)


def convert_to_data(data, obs=None) -> Data:
    """zfit's: Data as given, else an array (or a mapping) as Data over ``obs``.

    >>> import nfit
    >>> convert_to_data([0.5], obs=nfit.Space("x", 0, 1)).nevents
    1
    """
    if isinstance(data, Data):
        return data
    if isinstance(data, dict):
        return Data.from_mapping(data, obs=obs)
    if obs is None:
        raise ValueError("convert_to_data: give obs=Space(...) for an array")
    return Data.from_numpy(obs, np.asarray(data, dtype=float))


def from_root(path, treepath, obs=None, **kwargs) -> Data:
    """zfit's ``nfit.data.from_root``: :meth:`Data.from_root`."""
    return Data.from_root(path, treepath, obs=obs, **kwargs)


def from_hist(h, name=None) -> BinnedData:
    """zfit's ``nfit.data.from_hist``: :meth:`BinnedData.from_hist`."""
    return BinnedData.from_hist(h, name=name)


def from_pandas(df, obs=None, weights=None, name=None) -> Data:
    """zfit's ``zfit.data.from_pandas``: :meth:`Data.from_pandas`."""
    return Data.from_pandas(df, obs=obs, weights=weights, name=name)


def concat(datasets, obs=None, axis=0, name=None) -> Data:
    """zfit's ``zfit.data.concat``: the events of several data sets one after the other (``axis=0``,
    same observables; weights kept, 1 for an unweighted set among weighted ones), or their
    observables side by side (``axis=1``, as many events each, different observables).

    >>> import numpy as np
    >>> s = Space("x", limits=(0, 1))
    >>> concat([Data.from_numpy(s, np.array([0.1])), Data.from_numpy(s, np.array([0.2, 0.3]))]).nevents
    3
    """
    datasets = list(datasets)
    if not datasets:
        raise ValueError("concat: no data sets given")
    if axis in (0, "index", "rows"):
        space = datasets[0].space if obs is None else obs
        for d in datasets:
            if set(d.obs) != set(space.obs):
                raise ValueError(f"concat: data {d.name!r} has observables {d.obs}, not {space.obs}")
        columns = {o: np.concatenate([d.column(o) for d in datasets]) for o in space.obs}
        weights = None
        if any(d.has_weights for d in datasets):
            weights = np.concatenate([d.weights if d.has_weights else np.ones(d.nevents) for d in datasets])
        array = np.column_stack([columns[o] for o in space.obs])
        return Data.from_numpy(space, array, weights=weights, name=name or datasets[0].name)
    if axis in (1, "columns"):
        n = {d.nevents for d in datasets}
        if len(n) != 1:
            raise ValueError(f"concat(axis=1): the data sets have different numbers of events {sorted(n)}")
        space = datasets[0].space
        for d in datasets[1:]:
            space = space * d.space
        weighted = [d.weights for d in datasets if d.has_weights]
        weights = np.prod(weighted, axis=0) if weighted else None
        array = np.column_stack([d.column(o) for d in datasets for o in d.obs])
        return Data.from_numpy(space if obs is None else obs, array, weights=weights, name=name)
    raise ValueError(f"concat: axis must be 0 (events) or 1 (observables), got {axis!r}")


def _require_space(obs) -> Space:
    if not isinstance(obs, Space):
        raise TypeError(f"Data needs obs=Space(...) with limits, got {obs!r}")
    if not obs.has_limits:
        raise ValueError(f"Data: the space {obs} needs finite limits")
    return obs
