"""Binnings of an observable: regular and variable bin edges, named after the observable.

A binned space is a :class:`nfit.Space` with a binning (``Space("x", limits=(0, 10),
binning=50)``). The classes here follow hist's axes (``edges``, ``centers``, ``widths``, ``size``)
and zfit's names; a ``hist.axis.Regular`` or ``hist.axis.Variable`` is accepted wherever a binning
is.

>>> b = RegularBinning(4, 0.0, 2.0, name="x")
>>> b.edges.tolist(), b.widths.tolist()
([0.0, 0.5, 1.0, 1.5, 2.0], [0.5, 0.5, 0.5, 0.5])
>>> VariableBinning([0, 1, 3], name="x").centers.tolist()
[0.5, 2.0]
"""
from __future__ import annotations

import numpy as np

__all__ = ["RegularBinning", "VariableBinning", "Binnings", "as_binning"]


class _Binning:
    """Common part of the binnings: edges (increasing, finite) and the observable's name."""

    def __init__(self, edges, name):
        edges = np.asarray(edges, dtype=float)
        if edges.ndim != 1 or edges.size < 2:
            raise ValueError(f"binning {name!r}: need at least two bin edges, got {edges!r}")
        if not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
            raise ValueError(f"binning {name!r}: bin edges must be finite and increasing, got {edges!r}")
        if not isinstance(name, str) or not name:
            raise ValueError("a binning needs name= (the observable it bins)")
        self._edges = edges
        self.name = name
        self._edges.setflags(write=False)

    @property
    def edges(self) -> np.ndarray:
        """The ``size + 1`` bin edges."""
        return self._edges

    @property
    def size(self) -> int:
        """The number of bins."""
        return self._edges.size - 1

    def __len__(self):
        return self.size

    @property
    def centers(self) -> np.ndarray:
        return 0.5 * (self._edges[1:] + self._edges[:-1])

    @property
    def widths(self) -> np.ndarray:
        return np.diff(self._edges)

    @property
    def lower(self) -> float:
        return float(self._edges[0])

    @property
    def upper(self) -> float:
        return float(self._edges[-1])

    # UHI's PlottableAxis (mplhep and hist plot BinnedData directly): bins as (lower, upper) pairs
    traits = type("Traits", (), {"circular": False, "discrete": False})()

    def __getitem__(self, i):
        if i < 0:
            i += self.size
        if not 0 <= i < self.size:
            raise IndexError(f"bin {i} of {self.size}")
        return float(self._edges[i]), float(self._edges[i + 1])

    def __iter__(self):
        return (self[i] for i in range(self.size))

    def index(self, x) -> np.ndarray:
        """The bin of each value of ``x`` (-1 below the first edge, ``size`` at or above the last;
        the last edge itself belongs to the last bin, as numpy.histogram counts it)."""
        x = np.asarray(x, dtype=float)
        i = np.searchsorted(self._edges, x, side="right") - 1
        return np.where(x == self._edges[-1], self.size - 1, i)

    def to_hist_axis(self):
        """The matching ``hist.axis`` (no flow bins)."""
        import hist

        return self._hist_axis(hist)

    def __eq__(self, other):
        return (isinstance(other, _Binning) and self.name == other.name and self._edges.shape == other._edges.shape
                and np.allclose(self._edges, other._edges, rtol=1e-12, atol=0))

    def __hash__(self):
        return hash((self.name, self.size, self.lower, self.upper))


class RegularBinning(_Binning):
    """``num`` equal bins from ``start`` to ``stop`` (zfit's and hist's order of arguments).

    Example
    -------
    >>> float(RegularBinning(10, 0, 5, name="x").widths[0])
    0.5
    """

    def __init__(self, num, start, stop, *, name=None):
        num = int(num)
        if num < 1:
            raise ValueError(f"RegularBinning {name!r}: need at least one bin, got {num}")
        if not float(start) < float(stop):
            raise ValueError(f"RegularBinning {name!r}: need start < stop, got ({start}, {stop})")
        super().__init__(np.linspace(float(start), float(stop), num + 1), name)

    def _hist_axis(self, hist):
        return hist.axis.Regular(self.size, self.lower, self.upper, name=self.name, flow=False)

    def __repr__(self):
        return f"RegularBinning({self.size}, {self.lower}, {self.upper}, name={self.name!r})"


class VariableBinning(_Binning):
    """Bins between the given ``edges``.

    Example
    -------
    >>> VariableBinning([0, 2, 4, 5, 6, 10], name="x").size
    5
    """

    def __init__(self, edges, *, name=None):
        super().__init__(edges, name)

    def _hist_axis(self, hist):
        return hist.axis.Variable(self.edges, name=self.name, flow=False)

    def __repr__(self):
        return f"VariableBinning({self.edges.tolist()}, name={self.name!r})"


class Binnings(tuple):
    """The binnings of a space, one per observable (as zfit's ``space.binning``); ``edges`` lists
    their edges."""

    @property
    def edges(self) -> list:
        return [b.edges for b in self]

    @property
    def centers(self) -> list:
        return [b.centers for b in self]

    @property
    def widths(self) -> list:
        return [b.widths for b in self]

    @property
    def size(self) -> tuple:
        return tuple(b.size for b in self)


def as_binning(binning, obs: str, limits=None) -> _Binning:
    """A binning for observable ``obs`` from ``binning``: a number of bins (over ``limits``), one of
    the classes here, or a hist axis. Its name must be ``obs``; its range must equal ``limits``
    where both are given."""
    if isinstance(binning, (bool, np.bool_)):
        raise TypeError(f"Space {obs!r}: binning must be a number of bins or a binning, got {binning!r}")
    if isinstance(binning, (int, np.integer)):
        if limits is None or not np.all(np.isfinite(limits)):
            raise ValueError(f"Space {obs!r}: binning={binning} needs finite limits to lay the bins over")
        return RegularBinning(int(binning), limits[0], limits[1], name=obs)
    if isinstance(binning, _Binning):
        result = binning
    elif hasattr(binning, "edges") and hasattr(binning, "name") and hasattr(binning, "traits"):  # a hist axis
        name = binning.name or obs
        edges = np.asarray(binning.edges, dtype=float)
        regular = type(binning).__name__ == "Regular" and getattr(binning.traits, "circular", False) is False
        result = (RegularBinning(len(edges) - 1, edges[0], edges[-1], name=name) if regular
                  else VariableBinning(edges, name=name))
    else:
        raise ValueError(f"Space {obs!r}: binning must be a number of bins, a RegularBinning or VariableBinning, "
                        f"or a hist axis; got {type(binning).__name__} {binning!r} (an array of edges: "
                        f"VariableBinning(edges, name={obs!r}))")
    if result.name != obs:
        raise ValueError(f"Space {obs!r}: the binning is named {result.name!r}; it must be named after the "
                         f"observable, {obs!r}")
    if limits is not None and np.all(np.isfinite(limits)):
        if not (np.isclose(result.lower, limits[0], rtol=1e-12, atol=1e-12)
                and np.isclose(result.upper, limits[1], rtol=1e-12, atol=1e-12)):
            raise ValueError(f"Space {obs!r}: the binning covers ({result.lower}, {result.upper}) but the limits "
                             f"are ({limits[0]}, {limits[1]}); they must agree")
    return result
