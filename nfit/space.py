"""Observables and the ranges they live in.

A :class:`Space` names one or more observables and the region where the model is defined:
a box, a product of boxes over different observables, or a union of boxes (sidebands).

>>> import nfit
>>> m = nfit.Space("m", limits=(5.0, 5.6))
>>> round(m.area(), 3), m.lower, m.upper
(0.6, 5.0, 5.6)
>>> side = nfit.Space("m", limits=(5.0, 5.2)) + nfit.Space("m", limits=(5.35, 5.6))
>>> round(side.area(), 3)
0.45
"""
from __future__ import annotations

import itertools

import numpy as np

from .serial import Serializable

__all__ = ["Space"]


class Space(Serializable):
    """Observables with limits: a box, or a union of boxes over the same observables.

    Parameters
    ----------
    obs : str or sequence of str
        Observable name(s).
    inside : callable, optional
        Function limits: ``inside(x)`` takes the events (shape ``(n,)`` for one observable, else
        ``(n, n_obs)``) and returns which lie in the space; ``limits`` is then its bounding box.
    limits : tuple, optional
        ``(lower, upper)``; for several observables each is a sequence with one entry per
        observable. ``None`` means unbounded (not usable as a normalisation range).
    lower, upper : optional
        zfit's alternative spelling of ``limits``; ``Space("x", -5, 5)`` (lower and upper as the
        second and third positional arguments) works as in zfit.
    name, label : str, optional
        A name, and a label for plots (default: the observables).
    axes : optional
        zfit's axes; accepted with observables (nfit works with the names).

    Example
    -------
    >>> s = Space("x", limits=(-1, 1)) * Space("y", limits=(0, 2))
    >>> s.obs, s.area()
    (('x', 'y'), 4.0)
    """

    ANY_LOWER = -np.inf  # zfit's names for an open limit
    _binning = None  # a Binnings (one binning per observable) for a binned space
    ANY_UPPER = np.inf
    ANY = None

    def __init__(self, obs=None, limits=None, binning=None, *, lower=None, upper=None, name=None, label=None,
                 axes=None, inside=None, rect_limits=None):
        if _is_number(limits) and _is_number(binning):  # zfit 0.28: Space("x", -5, 5)
            limits, binning = (limits, binning), None
        if rect_limits is not None:
            if limits is not None:
                raise ValueError("Space: give limits or rect_limits, not both")
            limits = rect_limits
        if obs is None and axes is None and getattr(binning, "name", None):
            obs = binning.name  # zfit's Space(binning=RegularBinning(..., name="x"))
        if obs is None and axes is None:
            raise TypeError("Space: give the observables' names (obs=), or axes= for the limits of an integral")
        self.axes = None if axes is None else tuple(int(a) for a in np.atleast_1d(axes).tolist())
        if obs is None:  # zfit's axes-only space: the limits a registered integral covers
            obs = tuple(_axis_name(a) for a in self.axes)
        if inside is not None and not callable(inside):
            raise TypeError(f"Space: inside= must be a function of an (n, n_obs) array, got {inside!r}")
        self._predicate = inside
        self.obs = (obs,) if isinstance(obs, str) else tuple(obs)
        if not self.obs or not all(isinstance(o, str) and o for o in self.obs):
            raise ValueError(f"Space: observables must be non-empty strings, got {obs!r}")
        if len(set(self.obs)) != len(self.obs):
            raise ValueError(f"Space: observable names repeat in {self.obs}")
        if limits is None and (lower is not None or upper is not None):
            limits = (lower, upper)
        self.name = name or "_".join(self.obs)
        self.label = label or self.name
        if limits is None:
            self._boxes = [(tuple(-np.inf for _ in self.obs), tuple(np.inf for _ in self.obs))]
        else:
            self._boxes = [self._box_from_limits(limits)]
        if binning is not None:
            self._set_binning(binning, limits is None)

    def _set_binning(self, binning, limits_from_binning):
        from .binned import Binnings, as_binning

        if self.n_obs != 1 or inside_given(self):
            raise NotImplementedError(f"Space {self.name!r}: binned spaces have one observable and plain limits here "
                                      "(n-dimensional binned spaces are not supported yet)")
        if isinstance(binning, (list, tuple, Binnings)) and len(binning) == 1 and not _is_number(binning[0]):
            binning = binning[0]
        limits = None if limits_from_binning else (self._boxes[0][0][0], self._boxes[0][1][0])
        b = as_binning(binning, self.obs[0], limits)
        if limits_from_binning:
            self._boxes = [((b.lower,), (b.upper,))]
        self._binning = Binnings((b,))

    def _box_from_limits(self, limits):
        try:
            lower, upper = limits
        except (TypeError, ValueError):
            raise ValueError(f"Space {self.name!r}: limits must be (lower, upper), got {limits!r}") from None
        lower = _edges(lower, -np.inf)
        upper = _edges(upper, np.inf)
        if lower.size != len(self.obs) or upper.size != len(self.obs):
            raise ValueError(
                f"Space {self.name!r}: limits need one lower and one upper value per observable "
                f"{self.obs}, got {limits!r}"
            )
        for o, lo, hi in zip(self.obs, lower, upper):
            if np.isnan(lo) or np.isnan(hi) or not lo < hi:
                raise ValueError(f"Space: observable {o!r} needs lower < upper, got ({lo}, {hi})")
        return tuple(lower.tolist()), tuple(upper.tolist())

    @classmethod
    def _from_boxes(cls, obs, boxes, name=None):
        space = cls.__new__(cls)
        space._predicate = None
        space.obs = tuple(obs)
        space.name = name or "_".join(space.obs)
        space.label = space.name
        space.axes = None
        space._boxes = list(boxes)
        if all(o.startswith("<axis ") for o in space.obs):
            space.axes = tuple(int(o[6:-1]) for o in space.obs)
        return space

    # ------------------------------------------------------------------ shape of the space
    @property
    def n_obs(self) -> int:
        return len(self.obs)

    @property
    def boxes(self) -> list:
        """The boxes whose union is this space: a list of ``(lower tuple, upper tuple)``. For one
        observable with function limits, the intervals the function leaves (see
        :func:`nfit.region.intervals`); for several, the bounding boxes."""
        if self._predicate is not None and self.n_obs == 1:
            found = self.__dict__.get("_intervals")
            if found is None:
                from .region import intervals

                found = self.__dict__["_intervals"] = [((a,), (b,)) for a, b in intervals(self)]
            return list(found)
        return list(self._boxes)

    @property
    def has_limits(self) -> bool:
        return all(np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) for lo, hi in self._boxes)

    def _bounding(self):
        lower = np.min([b[0] for b in self._boxes], axis=0)
        upper = np.max([b[1] for b in self._boxes], axis=0)
        return lower, upper

    @property
    def lower(self):
        """Lower edge: a float for one observable, else a tuple (bounding box for unions)."""
        lower = self._bounding()[0]
        return float(lower[0]) if self.n_obs == 1 else tuple(lower.tolist())

    @property
    def upper(self):
        """Upper edge: a float for one observable, else a tuple (bounding box for unions)."""
        upper = self._bounding()[1]
        return float(upper[0]) if self.n_obs == 1 else tuple(upper.tolist())

    @property
    def limits(self):
        return self.lower, self.upper

    @property
    def rect_limits(self):
        return self.limits

    @property
    def v1(self):
        """zfit's ``space.v1``: ``limits``, ``lower`` and ``upper`` as arrays of shape ``(n_obs,)``.

        >>> Space("x", 0, 2).v1.limits
        (array([0.]), array([2.]))
        """
        return _V1(self)

    @property
    def v0(self):
        """zfit's older ``space.v0``: ``limits``, ``lower``, ``upper`` as arrays of shape ``(1, n_obs)``.

        >>> Space("x", 0, 2).v0.limits
        (array([[0.]]), array([[2.]]))
        """
        return _V0(self)

    @property
    def labels(self) -> tuple:
        """The observables' labels (zfit's; the names where no label was given)."""
        return tuple(self.label if self.n_obs == 1 else o for o in self.obs)

    @property
    def n_limits(self) -> int:
        """How many boxes make the space (1 for a plain range)."""
        return len(self._boxes)

    @property
    def limits_are_set(self) -> bool:
        return self.has_limits

    @property
    def has_rect_limits(self) -> bool:
        """Whether the space is its boxes alone (no ``inside=`` function cuts them)."""
        return self._predicate is None

    @property
    def rect_lower(self) -> np.ndarray:
        """The bounding box's lower corner, shape ``(1, n_obs)`` as in zfit."""
        return np.asarray(self._bounding()[0], dtype=float)[None, :]

    @property
    def rect_upper(self) -> np.ndarray:
        return np.asarray(self._bounding()[1], dtype=float)[None, :]

    def rect_area(self) -> np.ndarray:
        """The volume of the boxes, as an array of shape (1,)."""
        return np.array([float(sum(np.prod(np.subtract(hi, lo)) for lo, hi in self._boxes))])

    def copy(self, **overrides) -> Space:
        """A copy, with ``limits=``, ``name=``, ``label=`` (or other constructor arguments) replaced.

        >>> Space("x", 0, 1).copy(limits=(0, 2)).limits
        (0.0, 2.0)
        """
        if overrides.keys() - {"limits", "name", "label", "lower", "upper"}:
            raise TypeError(f"Space.copy: cannot replace {sorted(overrides.keys() - {'limits', 'name', 'label'})}")
        if {"limits", "lower", "upper"} & overrides.keys():
            limits = overrides.get("limits") or (overrides.get("lower", self.lower), overrides.get("upper", self.upper))
            return Space(self.obs, limits=limits, name=overrides.get("name", self.name),
                         label=overrides.get("label", self.label))
        new = Space._from_boxes(self.obs, self._boxes, name=overrides.get("name", self.name))
        new.label = overrides.get("label", self.label)
        new._predicate = self._predicate
        return new

    @property
    def has_axes_only(self) -> bool:
        """True for zfit's axes-only spaces (``Space(axes=0, ...)``), which name no observables."""
        return all(o.startswith("<axis ") for o in self.obs)

    @property
    def has_function_limits(self) -> bool:
        """True when an ``inside=`` function cuts the boxes further."""
        return self._predicate is not None

    def area(self) -> float:
        """Volume of the space: the summed widths (areas, volumes) of its boxes; with function
        limits, the volume the function leaves, by quadrature (:mod:`nfit.region`, about 1e-10).

        >>> disk = Space(["x", "y"], limits=((-1, -1), (1, 1)), inside=lambda v: (v ** 2).sum(axis=1) < 1)
        >>> round(disk.area(), 10)
        3.1415926536
        """
        if self._predicate is None:
            return float(sum(np.prod(np.subtract(hi, lo)) for lo, hi in self._boxes))
        from .region import volume

        return volume(self)

    def _rough_area(self) -> float:
        """The volume inside the function limits to about 1e-3: the boxes' volume times the
        fraction of 2**14 quasi-random points inside."""
        from scipy.stats import qmc

        volume = float(sum(np.prod(np.subtract(hi, lo)) for lo, hi in self._boxes))
        points = qmc.Sobol(d=self.n_obs, scramble=True, seed=0).random_base2(14)
        lo, hi = self._bounding()
        return volume * float(np.mean(self.inside(lo + points * (hi - lo))))

    @property
    def volume(self) -> float:
        """zfit's ``space.volume``: :meth:`area`, as a property."""
        return self.area()

    def _columns(self, x):
        x = np.asarray(x, dtype=float)
        if x.ndim == 1 and self.n_obs == 1:
            return x[:, None]
        if x.ndim == 2 and x.shape[1] == self.n_obs:
            return x
        if x.ndim == 0 and self.n_obs == 1:
            return x.reshape(1, 1)
        raise ValueError(f"Space {self.name!r}: expected an array of shape (n, {self.n_obs}), got {x.shape}")

    def inside(self, x) -> np.ndarray:
        """Boolean array: which rows of ``x`` (shape ``(n,)`` or ``(n, n_obs)``) lie in the space."""
        cols = self._columns(x)
        result = np.zeros(len(cols), dtype=bool)
        for lo, hi in self._boxes:
            result |= np.all((cols >= np.asarray(lo)) & (cols <= np.asarray(hi)), axis=1)
        if self._predicate is not None and result.any():
            chosen = np.asarray(self._predicate(cols[result] if self.n_obs > 1 else cols[result, 0]), dtype=bool)
            result[np.flatnonzero(result)] = chosen
        return result

    def filter(self, x):
        """The rows of ``x`` that lie inside the space."""
        x = np.asarray(x, dtype=float)
        return x[self.inside(x)]

    # ------------------------------------------------------------------ algebra
    def _plain(self, operation):
        if self._predicate is not None:
            raise NotImplementedError(f"Space {self.name!r}: {operation} of a space with function limits")

    def __mul__(self, other: Space) -> Space:
        if not isinstance(other, Space):
            return NotImplemented
        self._plain("product")
        other._plain("product")
        common = set(self.obs) & set(other.obs)
        if common:
            raise ValueError(f"Space product: observables {sorted(common)} appear in both factors")
        boxes = [
            (lo1 + lo2, hi1 + hi2)
            for (lo1, hi1), (lo2, hi2) in itertools.product(self._boxes, other._boxes)
        ]
        return Space._from_boxes(self.obs + other.obs, boxes)

    def __add__(self, other: Space) -> Space:
        if not isinstance(other, Space):
            return NotImplemented
        self._plain("union")
        other._plain("union")
        if set(self.obs) != set(other.obs):
            raise ValueError(f"Space union needs the same observables, got {self.obs} and {other.obs}")
        order = [other.obs.index(o) for o in self.obs]
        boxes = list(self._boxes)
        for lo, hi in other._boxes:
            box = (tuple(lo[i] for i in order), tuple(hi[i] for i in order))
            if box not in boxes:
                boxes.append(box)
        _check_disjoint(self.obs, boxes)
        return Space._from_boxes(self.obs, boxes, name=self.name)

    def with_limits(self, limits=None, name=None) -> Space:
        """The same observables with other limits (``(lower, upper)``, or a Space whose limits to take).

        >>> Space("x", limits=(0, 1)).with_limits((2, 3)).limits
        (2.0, 3.0)
        """
        if isinstance(limits, Space):
            if limits.obs != self.obs:
                raise ValueError(f"Space.with_limits: {limits} has observables {limits.obs}, not {self.obs}")
            return Space._from_boxes(self.obs, limits.boxes, name=name or self.name)
        return Space(self.obs, limits=limits, name=name or self.name, label=self.label)

    def get_subspace(self, obs=None, name=None) -> Space:
        """zfit's name for :meth:`with_obs`."""
        return self.with_obs(self.obs if obs is None else obs)

    @property
    def limit1d(self) -> tuple:
        """(lower, upper) of a one-dimensional space with one range."""
        if self.n_obs != 1 or len(self._boxes) != 1:
            raise ValueError(f"Space {self.name!r}: limit1d needs one observable and one range, got {self}")
        return self.lower, self.upper

    @property
    def is_binned(self) -> bool:
        """Whether the space has a binning (``Space(..., binning=...)``, :meth:`with_binning`)."""
        return self._binning is not None

    @property
    def binning(self):
        """The binnings (one per observable; ``binning[0].edges``), or None for an unbinned space."""
        return self._binning

    def with_binning(self, binning) -> Space:
        """The same space binned with ``binning`` (a number of bins, a binning, a hist axis), or
        unbinned again with ``None``.

        >>> Space("x", limits=(0, 10)).with_binning(5).binning[0].edges.tolist()
        [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        """
        new = Space._from_boxes(self.obs, self._boxes, name=self.name)
        new.label = self.label
        new._predicate = self._predicate
        if binning is not None:
            new._set_binning(binning, False)
        return new

    # ------------------------------------------------------------------ zfit's serialization
    def to_dict(self) -> dict:
        """zfit's dictionary of a one-range space: ``{"type": "Space", "name", "min", "max"}`` (the
        observables and limits as lists for several observables).

        >>> Space("x", 0, 2).to_dict()
        {'type': 'Space', 'name': 'x', 'min': 0.0, 'max': 2.0}
        """
        self._plain("serialization")
        if len(self._boxes) != 1:
            raise NotImplementedError(f"Space {self.name!r}: a union of ranges has no dictionary form")
        lo, hi = self._boxes[0]
        if self.n_obs == 1:
            d = {"type": "Space", "name": self.obs[0], "min": float(lo[0]), "max": float(hi[0])}
        else:
            d = {"type": "Space", "name": list(self.obs), "min": list(lo), "max": list(hi)}
        if self._binning is not None:
            d["binning"] = self._binning[0].edges.tolist()
        return d

    @classmethod
    def from_dict(cls, d) -> Space:
        """The space of :meth:`to_dict`'s dictionary."""
        space = cls(d["name"], limits=(d["min"], d["max"]))
        if d.get("binning") is not None:
            from .binned import VariableBinning

            space = space.with_binning(VariableBinning(d["binning"], name=space.obs[0]))
        return space

    def with_obs(self, obs) -> Space:
        """The sub-space of the observables ``obs`` (a product space projected onto them)."""
        obs = (obs,) if isinstance(obs, str) else tuple(obs)
        if obs == self.obs:
            return self
        if self._predicate is not None and sorted(obs) == sorted(self.obs):  # the same region, reordered
            order = [self.obs.index(o) for o in obs]
            new = Space._from_boxes(obs, [(tuple(lo[i] for i in order), tuple(hi[i] for i in order))
                                          for lo, hi in self._boxes], name=self.name)
            new._predicate = _Reordered(self._predicate, [obs.index(o) for o in self.obs])
            return new
        self._plain("projection")
        missing = [o for o in obs if o not in self.obs]
        if missing:
            raise ValueError(f"Space {self.name!r} has no observable(s) {missing}")
        idx = [self.obs.index(o) for o in obs]
        boxes = []
        for lo, hi in self._boxes:
            box = (tuple(lo[i] for i in idx), tuple(hi[i] for i in idx))
            if box not in boxes:
                boxes.append(box)
        return Space._from_boxes(obs, boxes)

    def __eq__(self, other):
        return (isinstance(other, Space) and self.obs == other.obs and self._boxes == other._boxes
                and self._predicate == other._predicate and self._binning == other._binning)

    def __hash__(self):
        if self._predicate is None:
            return hash((self.obs, tuple(self._boxes)))
        from .region import _hash_or_id

        return hash((self.obs, tuple(self._boxes), _hash_or_id(self._predicate)))

    def __repr__(self):
        if self._predicate is not None:
            return f"<Space obs={self.obs} function limits in {self._boxes[0]}>"
        if len(self._boxes) == 1:
            lo, hi = self._boxes[0]
            if self.n_obs == 1:
                binned = f" binning={self._binning[0]!r}" if self._binning is not None else ""
                return f"<Space obs={self.obs[0]!r} limits=({lo[0]:g}, {hi[0]:g}){binned}>"
            return f"<Space obs={self.obs} lower={lo} upper={hi}>"
        return f"<Space obs={self.obs} union of {len(self._boxes)} boxes>"


class _V1:
    """zfit's ``Space.v1`` view (one box)."""

    def __init__(self, space):
        self._space = space

    @property
    def lower(self):
        return np.asarray(self._space._bounding()[0], dtype=float)

    @property
    def upper(self):
        return np.asarray(self._space._bounding()[1], dtype=float)

    @property
    def limits(self):
        return self.lower, self.upper

    @property
    def volume(self):
        return self._space.area()


class _V0(_V1):
    """zfit's ``Space.v0`` view: limits with a leading axis of length one."""

    @property
    def lower(self):
        return super().lower[None, :]

    @property
    def upper(self):
        return super().upper[None, :]

    def area(self):
        return self._space.area()


class _Reordered:
    """An ``inside`` function of columns in another order (a picklable wrapper)."""

    def __init__(self, inside, columns):
        self.inside, self.columns = inside, list(columns)

    def __call__(self, x):
        return self.inside(np.asarray(x)[:, self.columns])

    def __eq__(self, other):
        return isinstance(other, _Reordered) and self.inside is other.inside and self.columns == other.columns

    def __hash__(self):
        return hash((id(self.inside), tuple(self.columns)))


def inside_given(space) -> bool:
    return space._predicate is not None


def _axis_name(axis) -> str:
    return f"<axis {axis}>"


def _edges(values, open_value) -> np.ndarray:
    """Limits as a float array; ``None`` (zfit's ``Space.ANY``) is an open end."""
    if values is None:
        return np.array([open_value])
    items = np.atleast_1d(np.asarray(values, dtype=object)).ravel()
    return np.array([open_value if v is None else float(v) for v in items], dtype=float)


def _check_disjoint(obs, boxes):
    for (lo1, hi1), (lo2, hi2) in itertools.combinations(boxes, 2):
        if all(max(a, c) < min(b, d) for a, b, c, d in zip(lo1, hi1, lo2, hi2)):
            raise ValueError(f"Space union over {obs}: ranges overlap ({lo1}-{hi1} and {lo2}-{hi2})")


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def within(inner: Space, outer: Space, rtol: float = 1e-12) -> bool:
    """Whether every box of ``inner`` lies inside a box of ``outer`` (same observables, in order).

    >>> within(Space("x", limits=(0, 1)), Space("x", limits=(-1, 2)))
    True
    >>> within(Space("x", limits=(-3, 1)), Space("x", limits=(-1, 2)))
    False
    """
    inner = inner.with_obs(outer.obs)
    for lo, hi in inner.boxes:
        fits = False
        for olo, ohi in outer.boxes:
            slack = rtol * (np.abs(np.asarray(ohi, float)) + np.abs(np.asarray(olo, float)) + 1.0)
            if np.all(np.asarray(lo) >= np.asarray(olo) - slack) and np.all(np.asarray(hi) <= np.asarray(ohi) + slack):
                fits = True
                break
        if not fits:
            return False
    return True


def as_space(obs) -> Space:
    """Accept a Space or an observable name (unbounded)."""
    if isinstance(obs, Space):
        return obs
    return Space(obs)
