"""Quadrature over a region cut by function limits (``Space(..., inside=)``).

A region is integrated as an iterated integral. Along the last observable, each line through the
region is cut where it enters and leaves (the ``inside`` function is sampled along the line and
each change is bisected to the last bit), and Gauss–Legendre panels cover each piece exactly.
Along every other observable the integrand is the volume of a slice, which has square-root edges
and kinks where a line touches the boundary or the slice changes shape. The range is cut where the
slices change (the number of pieces on a line; further out, whether a slice holds anything), each
change bisected to the last bit and followed by probes where a piece shrinks to nothing; on each
segment ``t = a + (b - a)(1 - cos θ)/2`` makes a square-root edge at either end smooth, and
Gauss–Legendre panels in θ converge fast. A panel whose integral still changes when halved is halved.
docs/regions.md has the measured accuracy and cost.

The nodes depend on the region alone, never on parameter values: a compiled kernel takes them
as constants and the same weighted sum gives the normalisation's derivatives. For a smooth density
the result is as accurate as the density is smooth on the panels; a feature of the region narrower
than about 1/256 of the box (1/64 in three observables) can be missed.

>>> import numpy as np, nfit
>>> disk = nfit.Space(["x", "y"], limits=((-1, -1), (1, 1)), inside=lambda v: (v ** 2).sum(axis=1) < 1)
>>> x, w = nodes(disk)
>>> bool(abs(w.sum() - np.pi) < 1e-10)
True
"""
from __future__ import annotations

import math

import numpy as np

from .quadrature import grid_panels

__all__ = ["nodes", "as_boxes", "intervals", "volume"]

TOLERANCE = 1e-11  # relative to the region's volume
_BISECTIONS = 64
_CHUNK = 1 << 20  # points per call of the inside function
_MAX_DEPTH = 40
_PROBES = 4  # probes kept per line: the middles of its first pieces
_OUTER_SAMPLES = {2: 129, 3: 33}  # samples along an outer observable (and per axis of a slice)
_cache: dict = {}


def _samples(d):
    return {1: 4097, 2: 257, 3: 65}.get(d, 33)


def _grid(a, b, samples):
    """``samples`` points from ``a`` to ``b``, the ends moved inside by a hair (an inside function
    may leave its boundary out)."""
    margin = 1e-13 * (b - a)
    return np.linspace(a + margin, b - margin, samples)


def _inside(space, points):
    """``space.inside`` over many points, in chunks."""
    out = np.empty(len(points), dtype=bool)
    for start in range(0, len(points), _CHUNK):
        chunk = points[start:start + _CHUNK]
        out[start:start + _CHUNK] = space.inside(chunk if space.n_obs > 1 else chunk[:, 0])
    return out


def _embed(prefix, t, axis):
    """Points with the coordinate ``t`` put in at position ``axis`` among the ``prefix`` columns."""
    k = prefix.shape[1]
    axis = k if axis is None else axis
    points = np.empty((len(t), k + 1))
    points[:, :axis] = prefix[:, :axis]
    points[:, axis] = t
    points[:, axis + 1:] = prefix[:, axis:]
    return points


def _line_states(space, prefix, a, b, samples, probes=None, axis=None):
    """The ``inside`` function along the lines through ``prefix`` (the other coordinates) in the
    direction of ``axis`` (default: the last): the positions ``t`` (a grid of ``samples`` points
    from ``a`` to ``b``, plus each line's ``probes``, sorted) and the states."""
    t = _with_probes(_grid(a, b, samples), len(prefix), probes)
    points = _embed(np.repeat(prefix, t.shape[1], axis=0), t.ravel(), axis)
    return t, _inside(space, points).reshape(t.shape)


def _with_probes(grid, m, probes):
    """For each of ``m`` rows: the ``grid`` and that row's ``probes`` (kept inside its range), sorted."""
    if probes is None or not probes.shape[1]:
        return np.broadcast_to(grid, (m, len(grid)))
    inside = np.clip(probes, grid[0], grid[-1])
    return np.sort(np.concatenate([np.broadcast_to(grid, (m, len(grid))), inside], axis=1), axis=1)


def _line_intervals(space, prefix, a, b, samples, probes=None, axis=None):
    """Where the lines through ``prefix`` along ``axis`` (default: the last), ``a <= t <= b``, lie
    inside ``space``: arrays ``owner``, ``start``, ``end`` (one row per interval, ``owner`` the
    prefix's row). ``probes`` (per line) are positions to look at besides the grid: where a
    short piece is expected."""
    m = len(prefix)
    t, state = _line_states(space, prefix, a, b, samples, probes, axis)
    line, j = np.nonzero(state[:, 1:] != state[:, :-1])
    lo, hi = t[line, j], t[line, j + 1]
    was_in = state[line, j]
    for _ in range(_BISECTIONS):
        if not len(line) or np.all(hi - lo <= 2 * np.finfo(float).eps * np.maximum(abs(lo), abs(hi))):
            break
        mid = 0.5 * (lo + hi)
        same = _inside(space, _embed(prefix[line], mid, axis)) == was_in
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    crossing = 0.5 * (lo + hi)
    rows = np.arange(m)
    starts_line = np.concatenate([rows[state[:, 0]], line[~was_in]])
    starts = np.concatenate([np.full(state[:, 0].sum(), a), crossing[~was_in]])
    ends_line = np.concatenate([rows[state[:, -1]], line[was_in]])
    ends = np.concatenate([np.full(state[:, -1].sum(), b), crossing[was_in]])
    s, e = np.lexsort((starts, starts_line)), np.lexsort((ends, ends_line))
    return starts_line[s], starts[s], ends[e]


def _run_centres(m, owner, start, end, fill):
    """The middle of each line's first ``_PROBES`` pieces (padded with ``fill``): where to look for
    a piece again on a nearby line, however short it gets there."""
    out = np.full((m, _PROBES), fill, dtype=float)
    rank = np.arange(len(owner)) - np.searchsorted(owner, owner)
    keep = rank < _PROBES
    out[owner[keep], rank[keep]] = 0.5 * (start + end)[keep]
    return out


def _centre(space, rows, point, lo, hi):
    """Move ``point`` (inside the slice at ``rows``, over the remaining observables) to the
    middle of its chord along each remaining axis in turn, twice: near where a shrinking slice
    vanishes this is its centre to the last bits, which sampling alone cannot find."""
    k1, r = rows.shape[1], point.shape[1]
    point = point.copy()
    for _ in range(2):
        for axis in range(r):
            others = np.concatenate([rows, np.delete(point, axis, axis=1)], axis=1)
            owner, start, end = _line_intervals(space, others, lo[k1 + axis], hi[k1 + axis], 9,
                                                point[:, axis:axis + 1], axis=k1 + axis)
            hit = (start <= point[owner, axis]) & (point[owner, axis] <= end)
            point[owner[hit], axis] = 0.5 * (start + end)[hit]
    return point


def _split(start, end, width, panels):
    """Each piece ``[start, end]`` cut into equal panels, ``panels`` per ``width`` (at least one):
    for each panel its piece, its index within the piece, and the piece's number of panels."""
    count = np.maximum(1, np.ceil(panels * (end - start) / width - 1e-9)).astype(int)
    which = np.repeat(np.arange(len(start)), count)
    index = np.arange(which.size) - np.repeat(np.cumsum(count) - count, count)
    return which, index, count[which]


def _gauss_panels(owner, start, end, width, d):
    """Gauss–Legendre nodes on each interval, with panels in proportion to its length."""
    panels, order = grid_panels(d)
    t, wt = np.polynomial.legendre.leggauss(order)
    which, index, count = _split(start, end, width, panels)
    h = (end - start)[which] / count
    lo = start[which] + index * h
    x = (lo[:, None] + 0.5 * h[:, None] * (t + 1.0)).ravel()
    w = (0.5 * h[:, None] * wt).ravel()
    return np.repeat(owner[which], order), x, w


def _signature(space, rows, lo, hi, probes=None):
    """What the slice at each row (values of the first ``k + 1`` observables) looks like, as an
    integer, and where to look for it again (probes, shape ``(n, p, remaining observables)``).

    For the last-but-one observable the signature is the number of pieces the line is cut into
    (probes: the middle of each piece); further out, whether the slice holds any sampled point
    (probe: their centroid). A change marks a kink or a square-root edge of the slice volume: a
    line touching the boundary, or the region ending. The probes of nearby rows let a piece that
    shrinks to nothing be followed to where it vanishes, not to where it slips between samples."""
    n, k1 = rows.shape
    d = len(lo)
    if k1 == d - 1:
        flat = None if probes is None else probes[:, :, 0]
        owner, start, end = _line_intervals(space, rows, lo[-1], hi[-1], _samples(d), flat)
        return np.bincount(owner, minlength=n), _run_centres(n, owner, start, end, lo[-1])[:, :, None]
    samples = _OUTER_SAMPLES.get(d, 9)
    axes = [_grid(a, b, samples) for a, b in zip(lo[k1:], hi[k1:])]
    grid = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
    extra = 0 if probes is None else probes.shape[1]
    width = len(grid) + extra
    sig = np.empty(n, dtype=int)
    centroid = np.empty((n, 1, d - k1))
    step = max(1, _CHUNK // width)
    for s in range(0, n, step):
        block = rows[s:s + step]
        local = np.broadcast_to(grid, (len(block),) + grid.shape)
        if extra:
            local = np.concatenate([local, probes[s:s + step]], axis=1)
        points = np.concatenate([np.repeat(block, width, axis=0), local.reshape(-1, d - k1)], axis=1)
        state = _inside(space, points).reshape(len(block), width)
        sig[s:s + step] = state.any(axis=1)
        count = state.sum(axis=1)
        mean = (local * state[:, :, None]).sum(axis=1) / np.maximum(count, 1)[:, None]
        centroid[s:s + step, 0] = np.where(count[:, None] > 0, mean, grid[0])
    found = sig > 0
    centroid[found, 0] = _centre(space, rows[found], centroid[found, 0], lo, hi)
    return sig, centroid


def _segments(space, prefix, lo, hi, probes=None):
    """Cut the next observable's range at each prefix row where the slices change (see
    :func:`_signature`), each change bisected to the last bit; empty segments are dropped.
    ``probes`` (per row, points over the remaining observables) are looked at besides the grid.
    Returns ``owner``, ``start``, ``end`` and each segment's probes (from both its ends)."""
    m, k = prefix.shape
    a, b = lo[k], hi[k]
    if probes is None:
        probes = np.empty((m, 0, len(lo) - k))
    t = _with_probes(_grid(a, b, _OUTER_SAMPLES.get(len(lo), 9)), m, probes[:, :, 0])
    further = probes[:, :, 1:]
    n = t.shape[1]

    def signature(rows, values, extra):
        return _signature(space, np.column_stack([prefix[rows], values]), lo, hi,
                          np.concatenate([extra, further[rows]], axis=1))

    every = np.repeat(np.arange(m), n)
    sig, found = signature(every, t.ravel(), np.empty((m * n, 0, len(lo) - k - 1)))
    sig, found = sig.reshape(m, n), found.reshape((m, n) + found.shape[1:])
    row, j = np.nonzero(sig[:, 1:] != sig[:, :-1])
    left, right, at_left = t[row, j], t[row, j + 1], sig[row, j]
    p_left, p_right = found[row, j], found[row, j + 1]
    for _ in range(_BISECTIONS):
        if not len(row) or np.all(right - left <= 4 * np.finfo(float).eps * np.maximum(abs(left), abs(right))):
            break
        mid = 0.5 * (left + right)
        s, p_mid = signature(row, mid, np.concatenate([p_left, p_right], axis=1))
        same = s == at_left
        left, right = np.where(same, mid, left), np.where(same, right, mid)
        p_left = np.where(same[:, None, None], p_mid, p_left)
        p_right = np.where(same[:, None, None], p_right, p_mid)
    rows = np.arange(m)
    owner = np.concatenate([rows, row, rows])
    where = np.concatenate([np.full(m, a), 0.5 * (left + right), np.full(m, b)])
    before = np.concatenate([found[:, 0], p_left, found[:, -1]])
    after = np.concatenate([found[:, 0], p_right, found[:, -1]])
    order = np.lexsort((where, owner))
    owner, where, before, after = owner[order], where[order], before[order], after[order]
    same = (owner[1:] == owner[:-1]) & (where[1:] > where[:-1])
    start, end, owner = where[:-1][same], where[1:][same], owner[:-1][same]
    out = np.concatenate([after[:-1][same], before[1:][same], further[owner]], axis=1)
    full = signature(owner, 0.5 * (start + end), out[:, :-further.shape[1] or None])[0] > 0
    return owner[full], start[full], end[full], out[full]


def _level(space, lo, hi, prefix, allowed, probes=None):
    """Nodes of the region's slices at the rows of ``prefix`` (fixed values of the first ``k``
    observables): points over the remaining observables, weights, and each node's prefix row.
    ``allowed[k]`` is the error tolerated in one slice's volume at this level."""
    m, k = prefix.shape
    d = len(lo)
    a, b = lo[k], hi[k]
    if k == d - 1:
        owner, start, end = _line_intervals(space, prefix, a, b, _samples(d), probes)
        owner, x, w = _gauss_panels(owner, start, end, b - a, d)
        return x[:, None], w, owner
    seg_owner, seg_start, seg_end, seg_probes = _segments(space, prefix, lo, hi, probes)
    panels, order = grid_panels(d)
    t, wt = np.polynomial.legendre.leggauss(order)

    def evaluate(seg, th_lo, th_hi):
        # t = start + (end - start) (1 - cos(theta)) / 2 on each segment: a square-root edge at
        # either end becomes smooth in theta
        half = 0.5 * (th_hi - th_lo)
        theta = (th_lo[:, None] + half[:, None] * (t + 1.0)).ravel()
        panel = np.repeat(np.arange(len(th_lo)), order)
        length = (seg_end - seg_start)[seg[panel]]
        x = seg_start[seg[panel]] + 0.5 * length * (1.0 - np.cos(theta))
        w = (half[:, None] * wt).ravel() * 0.5 * length * np.sin(theta)
        inner = seg_probes[seg[panel]]
        inner = inner[:, :, 0] if k == d - 2 else inner
        points, weights, row = _level(space, lo, hi, np.column_stack([prefix[seg_owner[seg[panel]]], x]), allowed,
                                      inner)
        weights = weights * w[row]
        integral = np.bincount(panel[row], weights, minlength=len(th_lo))
        return [np.column_stack([x[row], points]), weights, panel[row], integral]

    def subset(result, chosen):
        points, weights, panel, integral = result
        keep = chosen[panel]
        renumber = np.cumsum(chosen) - 1
        return [points[keep], weights[keep], renumber[panel[keep]], integral[chosen]]

    p_seg, index, count = _split(seg_start, seg_end, b - a, panels)
    p_lo, p_hi = np.pi * index / count, np.pi * (index + 1) / count
    current = evaluate(p_seg, p_lo, p_hi)
    kept_points, kept_weights, kept_owner = [], [], []
    threshold = allowed[k] / 64.0
    for depth in range(_MAX_DEPTH + 1):
        if not len(p_lo):
            break
        if depth == _MAX_DEPTH:  # as fine as it gets: keep these panels
            done = np.ones(len(p_lo), dtype=bool)
        else:
            mid = 0.5 * (p_lo + p_hi)
            h_seg = np.repeat(p_seg, 2)
            h_lo, h_hi = np.column_stack([p_lo, mid]).ravel(), np.column_stack([mid, p_hi]).ravel()
            halves = evaluate(h_seg, h_lo, h_hi)
            refined = halves[3][0::2] + halves[3][1::2]
            done = np.abs(refined - current[3]) <= threshold
        accepted = subset(current, done)
        kept_points.append(accepted[0])
        kept_weights.append(accepted[1])
        kept_owner.append(seg_owner[p_seg[done][accepted[2]]])
        if depth == _MAX_DEPTH:
            break
        again = np.repeat(~done, 2)
        p_seg, p_lo, p_hi = h_seg[again], h_lo[again], h_hi[again]
        current = subset(halves, again)
    if not kept_points:
        return np.empty((0, d - k)), np.empty(0), np.empty(0, dtype=int)
    return np.concatenate(kept_points), np.concatenate(kept_weights), np.concatenate(kept_owner)


def _box_nodes(space, lo, hi, tolerance):
    d = len(lo)
    if d == 1:
        owner, start, end = _line_intervals(space, np.empty((1, 0)), lo[0], hi[0], _samples(1))
        _, x, w = _gauss_panels(owner, start, end, hi[0] - lo[0], 1)
        return x[None, :], w
    widths = np.subtract(hi, lo)
    volume = max(space._rough_area(), 1e-300)  # sets the tolerances
    allowed = [tolerance * volume / float(np.prod(widths[:k])) for k in range(d)]
    points, weights, _ = _level(space, np.asarray(lo, float), np.asarray(hi, float), np.empty((1, 0)), allowed)
    return points.T, weights


def nodes(space, tolerance=TOLERANCE):
    """Quadrature points (shape ``(n_obs, n)``, rows in the order of ``space.obs``) and weights
    for integrating over ``space``, a region with function limits (cached per space).

    >>> import nfit
    >>> tri = nfit.Space(["x", "y"], limits=((0, 0), (1, 1)), inside=lambda v: v[:, 0] + v[:, 1] < 1)
    >>> x, w = nodes(tri)
    >>> round(float(w @ x[0]), 12)  # the integral of x over the triangle: 1/6
    0.166666666667
    """
    key = (space.obs, tuple(space._boxes), _hash_or_id(space._predicate), tolerance)
    hit = _cache.get(key)
    if hit is not None and hit[0] == space._predicate:
        return hit[1]
    parts = [_box_nodes(space, lo, hi, tolerance) for lo, hi in space._boxes]
    result = (np.concatenate([p[0] for p in parts], axis=1), np.concatenate([p[1] for p in parts]))
    for array in result:
        array.flags.writeable = False
    if len(_cache) > 64:
        _cache.clear()
    _cache[key] = (space._predicate, result)  # the function kept alive: its id stays its own
    return result


def _hash_or_id(value):
    try:
        return hash(value)
    except TypeError:  # an unhashable inside function: equal only to itself
        return id(value)


def intervals(space) -> list:
    """The intervals ``[(lower, upper), ...]`` that a one-observable space with function limits
    covers (each end found to the last bit; a piece narrower than 1/4096 of a box can be missed).

    >>> import nfit
    >>> ring = nfit.Space("x", limits=(-2, 2), inside=lambda x: abs(x) > 1)
    >>> [(round(a, 12), round(b, 12)) for a, b in intervals(ring)]
    [(-2.0, -1.0), (1.0, 2.0)]
    """
    if space.n_obs != 1:
        raise ValueError(f"Space {space.name!r}: intervals are for one observable, it has {space.n_obs}")
    out = []
    for lo, hi in space._boxes:
        _, start, end = _line_intervals(space, np.empty((1, 0)), lo[0], hi[0], _samples(1))
        out.extend(zip(start.tolist(), end.tolist()))
    return [(a, b) for a, b in out if b > a]


def as_boxes(space):
    """``space`` itself, or for one observable with function limits the union of intervals it
    covers (so that every shape's closed-form integral applies); several observables keep their
    function limits (see :func:`nodes`).

    >>> import nfit
    >>> ring = nfit.Space("x", limits=(-2, 2), inside=lambda x: abs(x) > 1)
    >>> len(as_boxes(ring).boxes), as_boxes(ring).has_function_limits
    (2, False)
    """
    if space is None or not space.has_function_limits or space.n_obs != 1:
        return space
    found = intervals(space)
    if not found:
        raise ValueError(f"Space {space.name!r}: its function limits leave nothing inside {space._boxes}")
    return type(space)._from_boxes(space.obs, [((a,), (b,)) for a, b in found], name=space.name)


def volume(space) -> float:
    """The volume of a region with function limits, by :func:`nodes`.

    >>> import nfit
    >>> tri = nfit.Space(["x", "y"], limits=((0, 0), (1, 1)), inside=lambda v: v[:, 0] + v[:, 1] < 1)
    >>> round(volume(tri), 14)
    0.5
    """
    return float(math.fsum(nodes(space)[1]))
