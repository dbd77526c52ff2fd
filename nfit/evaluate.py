"""Evaluating a model on events, on the backend of the current mode."""
from __future__ import annotations

import numpy as np

from . import run
from .data import Data


def columns_of(x, obs) -> dict:
    """{observable: contiguous float64 column} from Data or an array of shape (n,) / (n, n_obs)."""
    if isinstance(x, Data):
        return {o: x.column(o) for o in obs}
    array = np.asarray(x, dtype=np.float64)
    if array.ndim <= 1 and len(obs) == 1:
        return {obs[0]: np.ascontiguousarray(array.reshape(-1))}
    if array.ndim == 2 and array.shape[1] == len(obs):
        return {o: np.ascontiguousarray(array[:, j]) for j, o in enumerate(obs)}
    raise ValueError(f"expected events of shape (n, {len(obs)}) for observables {obs}, got {array.shape}")


def evaluate_pdf(model, x, norm, mode=None):
    """The density of ``model`` at ``x``, normalised over ``norm`` (None: unnormalised), at the
    current parameter values, on the backend of ``mode`` (default: the global one)."""
    columns = columns_of(x, model.obs)
    backend = run.current_backend(run.check_mode(mode) if mode is not None else None)
    return backend.pdf_kernel(model, norm)([columns[o] for o in model.obs])
