"""The eager backend: the model tree evaluated with NumPy, no compile step.

Each call builds an :class:`nfit.eager.EagerContext` at the parameter point and runs the same
``_build`` code the compiled backends lower into kernels; derivatives come from the Dual numbers.

>>> import numpy as np, nfit
>>> from nfit import backends
>>> g = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=nfit.Space("x", -5, 5))
>>> float(np.round(backends.get("eager").pdf_kernel(g, None)([np.array([0.0])])[0], 6))
1.0
"""
from __future__ import annotations

import numpy as np

from ..eager import EagerContext, at_current_values
from ..likelihood import nll, score_outer
from .base import Backend

__all__ = ["EagerBackend", "symmetric"]


class EagerBackend(Backend):
    """NumPy, vectorised over events (``mode="eager"``)."""

    name = "eager"
    compiled = False

    def loss_kernel(self, program, order):
        def kernel(p):
            ctx = EagerContext(program.layout, p, 1 if order == "score" else order, program.sources_at(p))
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                if order == "score":
                    d = score_outer(ctx, program.terms, program.constraints)
                else:
                    d = nll(ctx, program.terms, program.constraints)
            if order == 0:
                return float(d.v), None, None
            n = program.n_free
            grad = np.array([float(d.g.get(j, 0.0)) for j in range(n)])
            return float(d.v), grad, symmetric(d.h, n) if order in (2, "score") else None

        return kernel

    def pdf_kernel(self, model, norm):
        def kernel(arrays):
            columns = dict(zip(model.obs, arrays))
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                density = model._build(at_current_values(model), columns, norm).v
            return np.broadcast_to(density, len(arrays[0])).astype(float)

        return kernel


def symmetric(entries, n):
    """The symmetric matrix of the upper-triangle entries ``{(j, k): value}`` of a Dual."""
    matrix = np.zeros((n, n))
    for (j, k), x in entries.items():
        matrix[j, k] = matrix[k, j] = float(x)
    return matrix
