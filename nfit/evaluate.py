"""Evaluating a model on events, on either path."""
from __future__ import annotations

import numpy as np

from . import run
from .data import Data
from .layout import ParamLayout
from .param import model_params


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
    """The density of ``model`` at ``x``, normalised over ``norm`` (None: unnormalised)."""
    columns = columns_of(x, model.obs)
    mode = run.check_mode(mode or run.get_mode())
    if mode == "eager":
        from .eager import EagerContext

        layout = ParamLayout(model_params(model))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            density = model._build(EagerContext(layout, layout.vector()), columns, norm).v
        return np.broadcast_to(density, len(columns[model.obs[0]])).astype(float)
    kernel, layout, constants = _pdf_kernel(model, norm)
    p = layout.vector()
    arrays = [columns[o] for o in model.obs]
    out = np.empty(len(arrays[0]))
    parallel = run.use_parallel(len(out))
    function = kernel.function(parallel, (p, constants, *arrays, out))
    if parallel:
        from .concurrency import call_parallel

        call_parallel(function, p, constants, *arrays, out)
    else:
        function(p, constants, *arrays, out)
    return out


def _pdf_kernel(model, norm):
    from . import cache
    from .compile.lower import lower_pdf
    store = model.__dict__.setdefault("_pdf_kernels", {})
    key = norm
    if key not in store:
        layout = ParamLayout(model_params(model))
        lowered = lower_pdf(model, norm, layout)
        store[key] = (cache.load(lowered, "pdf"), layout, np.array(lowered.constants, dtype=np.float64))
    return store[key]
