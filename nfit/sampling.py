"""Drawing events from a pdf: accept-reject under an envelope found on a grid.

>>> import nfit
>>> obs = nfit.Space("x", limits=(-3, 3))
>>> data = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=obs).sample(n=1000)
>>> data.nevents
1000
"""
from __future__ import annotations

import warnings

import numpy as np

from .data import Data
from .layout import current_values
from .param import ConstantParameter
from .space import Space

_state = {"rng": np.random.default_rng()}


def set_seed(seed) -> None:
    """Seed the generator that :meth:`BasePDF.sample` uses when no ``rng`` is given.

    Example
    -------
    >>> set_seed(42)
    """
    _state["rng"] = np.random.default_rng(seed)


def _generator(rng):
    if rng is None:
        return _state["rng"]
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _uniform_in(space, size, rng):
    """``size`` points uniform in the union of boxes of ``space`` (shape (size, n_obs))."""
    boxes = space.boxes
    volumes = np.array([np.prod(np.subtract(hi, lo)) for lo, hi in boxes])
    which = rng.choice(len(boxes), size=size, p=volumes / volumes.sum()) if len(boxes) > 1 else np.zeros(size, int)
    lo = np.array([b[0] for b in boxes])[which]
    hi = np.array([b[1] for b in boxes])[which]
    return lo + rng.uniform(size=(size, space.n_obs)) * (hi - lo)


def _envelope(density, space, rng):
    if space.n_obs == 1:
        grid = np.concatenate([np.linspace(lo[0], hi[0], 4097) for lo, hi in space.boxes])[:, None]
    else:
        grid = _uniform_in(space, 50_000, rng)
    values = density(grid)
    if not np.all(np.isfinite(values)):
        raise ValueError("sample: the density is not finite inside the space")
    if np.any(values < 0):  # as zfit does, negative parts are never drawn; say so
        warnings.warn(f"sample: the density is negative in {np.mean(values < 0):.2%} of the space "
                      f"(down to {values.min():.3g}); events are drawn where it is positive only", stacklevel=4)
    top = float(values.max())
    if top <= 0:
        raise ValueError("sample: the density is zero everywhere in the space")
    return 1.5 * top


def draw(pdf, n, space, rng) -> np.ndarray:
    """``n`` events of ``pdf`` inside ``space``, as an array of shape (n, n_obs): by the inverse
    CDF where the shape (or every component of a sum) has one, else by accept-reject with the
    density from the current path (a compiled pdf kernel by default)."""
    rng = _generator(rng)
    exact = None if space.has_function_limits else _exact(pdf, n, space, rng)
    if exact is not None:
        return exact

    def density(points):
        values = np.asarray(pdf.pdf(points, norm=False), dtype=float)
        return values * space.inside(points) if space.has_function_limits else values

    top = _envelope(density, space, rng)
    while True:
        out, have = [], 0
        while have < n:
            batch = max(1000, int(1.3 * (n - have) * 2) + 16)
            points = _uniform_in(space, batch, rng)
            values = density(points)
            if values.max() > top:  # the grid missed the peak: widen the envelope and start over
                top = 2.0 * float(values.max())
                break
            keep = points[rng.uniform(0, top, batch) < values]
            out.append(keep)
            have += len(keep)
        else:
            return np.concatenate(out)[:n]


def _exact(pdf, n, space, rng):
    """Exact samples by the inverse CDF, or None where the model has none (one observable only)."""
    if space.n_obs != 1 or not pdf._has_inverse_cdf():
        return None
    boxes = [(lo[0], hi[0]) for lo, hi in space.boxes]
    values = current_values(pdf)
    if len(boxes) > 1:  # a union of ranges: split the events by each range's probability
        weights = np.array([pdf._normalised_integral(Space(pdf.obs, limits=b), None) for b in boxes])
        counts = rng.multinomial(n, weights / weights.sum())
        parts = [pdf._inverse_cdf(values, lo, hi, rng, k) for (lo, hi), k in zip(boxes, counts)]
        x = np.concatenate(parts)
        rng.shuffle(x)
        return x[:, None]
    lo, hi = boxes[0]
    return pdf._inverse_cdf(values, lo, hi, rng, n)[:, None]


class Sampler(Data):
    """Data that a pdf fills and refills (``resample``), for toy studies: a loss built on it sees
    each new sample without being rebuilt or recompiled.

    Example
    -------
    >>> import nfit
    >>> obs = nfit.Space("x", limits=(0, 1))
    >>> sampler = nfit.pdf.Uniform(low=0.0, high=1.0, obs=obs).create_sampler(n=50)
    >>> first = sampler.to_numpy().copy(); sampler.resample()
    >>> sampler.nevents, bool((first != sampler.to_numpy()).any())
    (50, True)
    """

    def __init__(self, pdf, n, space, fixed_params=True, rng=None):
        self.pdf = pdf
        self.n = n
        self.fixed_params = fixed_params
        self._rng = _generator(rng)  # one stream for all resamples
        self._fixed = ({p: p.value() for p in pdf.get_params(floating=None) if not isinstance(p, ConstantParameter)}
                       if fixed_params else None)
        super().__init__(space, {}, None, name=f"sampler of {pdf.name}")
        self.resample()

    @property
    def params(self) -> dict:
        """{name: parameter} of the sampled pdf (zfit's; hepstats picks a simultaneous fit's samplers by it)."""
        return {p.name: p for p in self.pdf.get_params(floating=None)}

    def resample(self, param_values=None, n=None, rng=None):
        """Draw a new sample (with ``param_values``: {param: value}, or the fixed values); ``rng``
        replaces the sampler's generator from now on."""
        if rng is not None:
            self._rng = _generator(rng)
        values = dict(self._fixed or {})
        values.update(param_values or {})
        saved = {p: p.value() for p in values}
        try:
            for p, v in values.items():
                p.set_value(v)
            count = _count(self.pdf, n if n is not None else self.n, _generator(self._rng))
            array = draw(self.pdf, count, self.space, self._rng)
        finally:
            for p, v in saved.items():
                p.set_value(v)
        self._columns = {o: np.ascontiguousarray(array[:, j]) for j, o in enumerate(self.space.obs)}


def _count(pdf, n, rng) -> int:
    if n is None:
        if not pdf.is_extended:
            raise ValueError(f"sample: pdf {pdf.name!r} is not extended; give n")
        return int(round(pdf.get_yield().value()))
    if isinstance(n, str):
        if n != "extended" or not pdf.is_extended:
            raise ValueError(f"sample: n={n!r}; use a number, or 'extended' for an extended pdf")
        return int(rng.poisson(pdf.get_yield().value()))
    n = int(n)
    if n < 0:
        raise ValueError(f"sample: n must not be negative, got {n}")
    return n


def sample(pdf, n=None, limits=None, rng=None) -> Data:
    space = pdf.space if limits is None else (limits if isinstance(limits, Space) else Space(pdf.obs, limits=limits))
    generator = _generator(rng)
    return Data.from_numpy(space, draw(pdf, _count(pdf, n, generator), space, generator), name=f"sample of {pdf.name}")
