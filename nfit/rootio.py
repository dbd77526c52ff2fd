"""Reading events from ROOT files through uproot (``pip install "nfit[io]"``): the observables'
branches only, chunk by chunk, each chunk cut to the space before the next is read, so a file larger
than memory can be filtered to its observables.

>>> import numpy as np, uproot, tempfile, os, nfit
>>> path = os.path.join(tempfile.mkdtemp(), "events.root")
>>> with uproot.recreate(path) as f:
...     f["dir/tree"] = {"B_M": np.array([5.1, 5.3, 6.0]), "w": np.array([1.0, 2.0, 3.0])}
>>> columns, weights, total = read_columns(path, "dir/tree", nfit.Space("m", limits=(5.0, 5.6)), weights="w",
...                                        obs_alias={"m": "B_M"})
>>> columns["m"].tolist(), weights.tolist(), total
([5.1, 5.3], [1.0, 2.0], 3)
"""
from __future__ import annotations

import os

import numpy as np

from .space import Space

__all__ = ["read_columns"]

STEP = "100 MB"  # uproot reads this much of the chosen branches per chunk


def _open_tree(path, treepath, options):
    try:
        import uproot
    except ImportError:  # pragma: no cover - the io extra is missing
        raise ImportError('reading ROOT files needs uproot: pip install "nfit[io]"') from None
    if not os.path.exists(path):
        raise FileNotFoundError(f"Data.from_root: no file {path!r}")
    file = uproot.open(path, **(options or {}))
    try:
        tree = file[treepath]
    except KeyError:
        trees = [k.split(";")[0] for k, c in file.classnames().items() if c.startswith("TTree")
                 or c.startswith("TNtuple")]
        file.close()
        raise KeyError(f"Data.from_root: file {path!r} has no tree {treepath!r} (trees: {trees})") from None
    if not hasattr(tree, "iterate"):
        file.close()
        raise KeyError(f"Data.from_root: {treepath!r} in {path!r} is a {type(tree).__name__}, not a tree")
    return file, tree


def read_columns(path, treepath, obs, *, weights=None, obs_alias=None, step_size=STEP, root_dir_options=None):
    """``({observable: column}, weights or None, events read)``: the events of the observables of
    ``obs`` (a Space; events outside it are dropped, with their weights) from tree ``treepath``
    (``"dir/tree"`` for a tree in a directory) of the ROOT file ``path``. ``obs_alias={"m": "B_M"}``
    reads observable ``m`` from branch ``B_M``; ``weights`` is a branch name or an array over the
    whole tree. Integer and float32 branches come as float64. A missing file, tree or branch is an
    error that names it."""
    if not isinstance(obs, Space):
        raise TypeError(f"Data.from_root: obs must be a Space with the observables' limits, got {obs!r}")
    alias = dict(obs_alias or {})
    unknown = sorted(set(alias) - set(obs.obs))
    if unknown:
        raise ValueError(f"Data.from_root: obs_alias names {unknown}, which are not observables of {obs}")
    branches = [alias.get(o, o) for o in obs.obs]
    file, tree = _open_tree(path, treepath, root_dir_options)
    with file:
        present = set(tree.keys())
        wanted = branches + ([weights] if isinstance(weights, str) else [])
        missing = [b for b in wanted if b not in present]
        if missing:
            raise KeyError(f"Data.from_root: tree {treepath!r} in {path!r} has no branch(es) {missing} "
                           f"(branches: {sorted(present)})")
        external = None
        if weights is not None and not isinstance(weights, str):
            external = np.asarray(weights, dtype=np.float64).reshape(-1)
            if external.size != tree.num_entries:
                raise ValueError(f"Data.from_root: {external.size} weights for the {tree.num_entries} events of "
                                 f"{treepath!r}")
        columns = {o: [] for o in obs.obs}
        kept_weights, total, start = [], 0, 0
        for chunk in tree.iterate(sorted(set(wanted)), step_size=step_size, library="np"):
            values = np.column_stack([np.asarray(chunk[b], dtype=np.float64) for b in branches])
            n = values.shape[0]
            w = None
            if isinstance(weights, str):
                w = np.asarray(chunk[weights], dtype=np.float64)
            elif external is not None:
                w = external[start:start + n]
            start += n
            total += n
            for j, o in enumerate(obs.obs):
                bad = ~np.isfinite(values[:, j])
                if bad.any():
                    raise ValueError(f"Data.from_root: branch {branches[j]!r} (observable {o!r}) has "
                                     f"{int(bad.sum())} NaN or infinite value(s) in {path!r}")
            inside = obs.inside(values)
            for j, o in enumerate(obs.obs):
                columns[o].append(values[inside, j])
            if w is not None:
                kept_weights.append(w[inside])
    merged = {o: np.ascontiguousarray(np.concatenate(parts) if parts else np.empty(0)) for o, parts in columns.items()}
    w = None
    if weights is not None:
        w = np.concatenate(kept_weights) if kept_weights else np.empty(0)
    return merged, w, total
