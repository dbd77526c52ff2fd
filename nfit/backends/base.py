"""The backend interface: what a loss and a pdf ask of the place their kernels run.

A loss hands a backend a :class:`LossProgram` (its likelihood terms, parameter layout, constraints
and data); the backend answers with a kernel of a derivative order, ``kernel(p) -> (value,
gradient, Hessian)`` at a parameter vector ``p`` (:meth:`nfit.layout.ParamLayout.vector`). A pdf
asks for ``pdf_kernel(model, norm)(columns) -> densities`` at the current parameter values. The
backend keeps its kernels (in the program, and on the model) and decides everything else: compiled
or not, serial or parallel, CPU or GPU.

>>> import numpy as np, nfit
>>> from nfit import backends
>>> obs = nfit.Space("x", -3, 3)
>>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=obs),
...                             data=nfit.Data.from_numpy(obs, np.array([0.0])))
>>> value, grad, hess = backends.get("eager").loss_kernel(nll._program, 0)(nll.point())
>>> round(value, 6)   # -log N(0; 0, 1) over [-3, 3]
0.916235
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np

from ..concurrency import parallel_allowed

__all__ = ["Backend", "LossProgram", "CompiledKernel", "output_buffer", "point_order"]


class LossProgram:
    """A loss as the backends see it: ``terms`` (:class:`nfit.likelihood.Term` or
    :class:`nfit.binnedterm.BinnedTerm`, one per data set), the parameter ``layout``, the
    ``constraints`` and the ``datas``. ``kernels`` is where backends keep this loss's kernels, and
    ``parts`` what they make on the way (both dropped when the loss is pickled: compiled code stays
    in its process).

    Example
    -------
    >>> import numpy as np, nfit
    >>> obs = nfit.Space("x", 0, 1)
    >>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Uniform(0.0, 1.0, obs=obs),
    ...                             data=nfit.Data.from_numpy(obs, np.array([0.2, 0.4])))
    >>> nll._program.n_events, len(nll._program.arrays_at(None))
    (2, 1)
    """

    def __init__(self, terms, layout, constraints, datas):
        self.terms = list(terms)
        self.layout = layout
        self.constraints = list(constraints)
        self.datas = list(datas)
        self.n_events = sum(term.size(d) for term, d in zip(self.terms, self.datas))
        self.kernels: dict = {}
        self.parts: dict = {}  # what backends make on the way to a kernel (lowered source, cache entry)
        self.exact_order = None  # the loss's highest order of exact derivatives, once it has asked for some
        self.fitted = False  # set after the loss's first fit

    @property
    def n_free(self) -> int:
        return len(self.layout.floating_ids)

    def kernel_key(self, order) -> tuple:
        """What a kernel of ``order`` depends on besides the program: derivative kernels on which
        parameters are free, and (a forked child may have to run serial kernels where its parent ran
        parallel ones, nfit.concurrency) whether parallel code may run."""
        return order, self.layout.floating_ids if order else (), parallel_allowed()

    def _point_values(self, p):
        """{parameter: value} at the point ``p`` where a term's columns depend on it, else None."""
        if p is None or not any(term.dynamic for term in self.terms):
            return None
        return self.layout.values(p)

    def arrays_at(self, p) -> list:
        """A compiled kernel's data arguments at the parameter point ``p`` (None: the current values),
        read from the data now (a sampler may have refilled them)."""
        values = self._point_values(p)
        arrays = []
        for term, d in zip(self.terms, self.datas):
            arrays += term.arrays(d, values)
        return arrays

    def sources_at(self, p) -> list:
        """What the eager context reads each term's columns from (the Data, or a binned term's bin table)."""
        values = self._point_values(p)
        return [term.source(d, values) for term, d in zip(self.terms, self.datas)]

    def __getstate__(self):
        state = self.__dict__.copy()
        state["kernels"] = {}
        state["parts"] = {}
        return state


class Backend:
    """One place kernels run. Subclasses set ``name`` (the user's spelling) and ``compiled`` (False
    only for the NumPy path) and implement :meth:`loss_kernel` and :meth:`pdf_kernel`; register an
    instance with :func:`nfit.backends.register`.

    ``order`` is 0 (value), 1 (and gradient), 2 (and Hessian) or ``"score"`` (the weighted fits'
    matrix ``D``, :func:`nfit.likelihood.score_outer`, where the Hessian goes).

    Example
    -------
    >>> from nfit import backends
    >>> backends.get("numba").compiled, backends.get("eager").compiled
    (True, False)
    """

    name = ""
    compiled = True

    def check(self) -> None:
        """Raise a clear error, saying what is missing, unless this backend can run here."""

    def loss_kernel(self, program: LossProgram, order):
        """``kernel(p) -> (value, gradient or None, Hessian or None)`` of ``program`` for ``order``."""
        raise NotImplementedError

    def pdf_kernel(self, model, norm):
        """``kernel(arrays) -> densities`` of ``model`` (normalised over ``norm``; None: not) at the
        current parameter values, ``arrays`` one float64 column per observable of ``model.obs``."""
        raise NotImplementedError

    def prepare(self, program: LossProgram, order) -> None:
        """Do the quick part of making the kernel of ``order`` now (a compiled backend: lowering, the
        signature); :meth:`loss_kernel` does the rest."""

    def has_kernel(self, program: LossProgram, order) -> bool:
        """Whether :meth:`loss_kernel` of ``order`` is ready in this process without compiling."""
        return True

    def gradient_from_hessian(self, program: LossProgram, fitted: bool) -> bool:
        """Whether a fit of a loss with exact Hessians should take its gradients from the Hessian
        kernel (one compile instead of two, a pass costing about twice a gradient pass): for the
        loss's first fit (``fitted`` False) where the gradient kernel is not ready."""
        return not fitted and not self.has_kernel(program, 1)

    def __repr__(self):
        return f"<nfit backend {self.name!r}>"


class CompiledKernel(NamedTuple):
    """A compiled loss kernel ``function(p, constants, *arrays[, out])`` and how to call it.

    Called with a parameter vector, it reads the data arguments from ``program`` and returns
    ``(value, gradient or None, Hessian or None)``; a fresh ``out`` per call, so that threads may
    share it."""

    function: object
    constants: np.ndarray
    out: np.ndarray
    order: object
    program: LossProgram

    def __call__(self, p):
        arrays = self.program.arrays_at(p)
        if self.order == 0:
            return self.function(p, self.constants, *arrays), None, None
        out = np.empty_like(self.out)
        value = self.function(p, self.constants, *arrays, out)
        n = self.program.n_free
        hess = _unpack_upper(out[n:], n) if self.order in (2, "score") else None
        return value, out[:n].copy(), hess


def point_order(order) -> int:
    """The derivative order of the parameter array a kernel reads (the score kernel: gradients)."""
    return 1 if order == "score" else order


def output_buffer(n, order) -> np.ndarray:
    """The ``out`` array of a kernel of ``order``: gradient, then the upper triangle of a Hessian."""
    if not order:
        return np.zeros(0)
    return np.zeros(n + (n * (n + 1) // 2 if order in (2, "score") else 0))


def _unpack_upper(flat, n):
    """The symmetric matrix of the upper triangle ``flat`` (row by row).

    >>> _unpack_upper(np.array([1.0, 2.0, 3.0]), 2).tolist()
    [[1.0, 2.0], [2.0, 3.0]]
    """
    return flat.take(_symmetric_index(n))


@functools.lru_cache(maxsize=64)
def _symmetric_index(n):
    """For each entry (i, j) of an n x n matrix, the position of (min, max) in its upper triangle."""
    rows, cols = np.triu_indices(n)
    index = np.empty((n, n), dtype=np.intp)
    index[rows, cols] = index[cols, rows] = np.arange(rows.size)
    return index
