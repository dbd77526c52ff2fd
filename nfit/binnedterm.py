"""The binned part of a likelihood: a loop over bins, built once for both paths.

A :class:`BinnedTerm` is to a binned loss what :class:`nfit.likelihood.Term` is to an unbinned
one. Its "events" are the bins: the kernel's loop reads per-bin columns (the bin's edges, the
observed count, constants of the data, the tables of template leaves), the binned pdf builds the
expected count of the bin inside the loop (the bin integral of a shape, or a template's entry,
times its yield), and the per-bin likelihood below is summed with its exact gradient and Hessian
— the same chunked loop, signature cache and eager twin as the event loop of an unbinned loss.

Per bin, with ``n`` the observed count and ``nu`` the expected one:

- ``nll``: ``nu - n log nu + S(n)``, ``S`` Stirling's ``log n!`` for ``n > 1`` (as zfit's
  ``log_poisson_loss``, so values agree with zfit's);
- ``chi2``: ``(nu - n)^2 / sigma^2``, ``sigma^2`` the data's variance (``errors="data"``) or
  ``nu`` (``errors="expected"``, Pearson);
- ``template``: the Barlow-Beeston-lite costs of iminuit.cost.Template ("jsc", "da": half of
  them, so they add to NLLs; "asy" as it is), with ``mu_var`` the template variance of ``nu``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .ad import Dual
from .kernels import poissonterm
from .pdf.binnedpdf import Bins, evaluated, table_columns

_EMPTY = ("ignore",)


def _stirling(n):
    """zfit's Stirling term ``n log n - n + log(2 pi n) / 2`` for ``n > 1``, else 0."""
    safe = np.where(n > 1, n, 2.0)
    return np.where(n > 1, safe * np.log(safe) - safe + 0.5 * np.log(2 * np.pi * safe), 0.0)


class BinTable:
    """Per-bin columns by name, read by the eager context like the columns of Data."""

    def __init__(self, columns: dict):
        self._columns = columns
        self.nevents = len(next(iter(columns.values())))
        self.weights = None

    def column(self, name):
        return self._columns[name]


@dataclass
class BinnedTerm:
    """One (binned model, binned data) pair of a loss: kind ``"nll"``, ``"chi2"`` or ``"template"``."""

    model: object
    kind: str
    extended: bool
    errors: str = "data"
    empty: str = "ignore"
    method: str = "da"
    tables: list = field(default_factory=list)
    binned = True
    weighted = False
    norm = None

    def __post_init__(self):
        self.tables = table_columns(self.model)

    @property
    def obs(self) -> tuple:
        """The names of the per-bin columns, in the kernel's argument order."""
        names = ["lo", "hi", "n"]
        if self.kind == "nll":
            names.append("const")
        elif self.kind == "chi2" and self.errors == "data":
            names.append("sigma2")
        elif self.kind == "template":
            names += ["nlogn"] + (["lgn1"] if self.method == "asy" else [])
        if not self.extended and self.kind != "template":
            names.append("ntot")
        return tuple(names + [f"T{k}" for k in range(len(self.tables))])

    def _mask(self, data):
        if self.kind != "chi2" or self.errors != "data":
            return None
        sigma2 = _data_variance(data)
        empty = ~(sigma2 > 0)
        if not empty.any():
            return None
        if self.empty not in _EMPTY:
            raise ValueError(f"BinnedChi2: data {data.name!r} has {int(empty.sum())} bin(s) with variance <= 0 "
                             f"(bins {np.flatnonzero(empty).tolist()[:10]}); use options={{'empty': 'ignore'}} "
                             "to leave them out, or errors='expected'")
        return ~empty

    @property
    def dynamic(self) -> bool:
        """Whether a table depends on the parameters (a user's binned pdf): then the columns are
        computed at each point."""
        return any(callable(table) for _, _, table in self.tables)

    def columns(self, data, values=None) -> dict:
        """{name: per-bin array} of the kernel's columns for ``data``; the ones that do not depend on
        the parameters are kept while the histogram's numbers stay the same."""
        key = (id(data), data.values().tobytes(), None if data.variances() is None else data.variances().tobytes())
        cached = self.__dict__.get("_cached")
        if cached is None or cached[0] != key:
            cached = (key, self._static_columns(data))
            self.__dict__["_cached"] = cached
        columns, mask = cached[1]
        if not self.dynamic:
            return columns
        columns = dict(columns)
        for k, (_, _, table) in enumerate(self.tables):
            if callable(table):
                array = evaluated(table, values)
                columns[f"T{k}"] = np.array(array if mask is None else array[mask], dtype=np.float64)
        return columns

    def _static_columns(self, data):
        edges = data.space.binning[0].edges
        n = data.values()
        columns = {"lo": edges[:-1], "hi": edges[1:], "n": n}
        if self.kind == "nll":
            columns["const"] = _stirling(n)
        elif self.kind == "chi2" and self.errors == "data":
            columns["sigma2"] = _data_variance(data)
        elif self.kind == "template":
            columns["nlogn"] = np.where(n > 0, n * np.log(np.where(n > 0, n, 1.0)), 0.0)
            if self.method == "asy":
                columns["lgn1"] = np.array([math.lgamma(v + 1.0) for v in n])
        if not self.extended and self.kind != "template":
            columns["ntot"] = np.full(n.shape, float(n.sum()))
        for k, (_, _, table) in enumerate(self.tables):
            if not callable(table):
                columns[f"T{k}"] = table
        mask = self._mask(data)
        # fresh, writable float64 arrays: the parallel driver takes the columns as one tuple of one type
        return {name: np.array(v if mask is None else v[mask], dtype=np.float64)
                for name, v in columns.items()}, mask

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_cached", None)
        return state

    def arrays(self, data, values=None) -> list:
        columns = self.columns(data, values)
        return [columns[name] for name in self.obs]

    def source(self, data, values=None):
        return BinTable(self.columns(data, values))

    def size(self, data) -> int:
        return data.values().size

    def build(self, ctx, t) -> Dual:
        be = ctx.be
        cols = ctx.columns(t, self.obs, False)
        bins = Bins(cols["lo"], cols["hi"], {(leaf._uid, key): cols[f"T{k}"]
                                              for k, (leaf, key, _) in enumerate(self.tables)})
        n = Dual(be, cols["n"])
        if self.kind == "template":
            mu, var = self.model._build_counts_var(ctx, bins)
            per_bin = _template(ctx, self.method, n, mu, var, cols)
        else:
            if self.extended:
                nu = self.model._build_counts(ctx, bins)
            else:
                nu = self.model._build_rel(ctx, bins) * Dual(be, cols["ntot"])
            if self.kind == "nll":
                per_bin = nu - n * nu.log() + Dual(be, cols["const"])
            else:
                sigma2 = nu if self.errors == "expected" else Dual(be, cols["sigma2"])
                diff = nu - n
                per_bin = diff * diff / sigma2
        return ctx.event_sum(t, per_bin, False)


def _data_variance(data):
    variances = data.variances()
    return data.values() if variances is None else variances


def _poisson_chi2(be, n, nlogn, mu):
    """``2 (mu - n + n log(n / mu))`` (``n log n`` a per-bin constant; 0 for n = 0)."""
    return (mu - n + nlogn - n * mu.log()) * 2.0


def _template(ctx, method, n, mu, var, cols):
    """iminuit.cost.Template's per-bin cost; bins where ``mu`` <= 0 count nothing, and bins
    without template variance (only exact shapes) count the plain Poisson cost."""
    from . import ad

    be = ctx.be
    nlogn = Dual(be, cols["nlogn"])
    zero = Dual(be, be.lift(0.0))
    plain = _poisson_chi2(be, n, nlogn, mu)
    if var is None:
        value = plain * 0.5
        return ad.where(be, be.cmp("gt", mu.v, be.lift(0.0)), value, zero)
    has_var = be.cmp("gt", var.v, be.lift(0.0))
    # in bins without template variance, a stand-in of 1 keeps the unused branch finite
    safe_var = ad.where(be, has_var, var, Dual(be, be.lift(1.0)))
    if method == "jsc":
        beta_var = safe_var / (mu * mu)
        p = 0.5 - mu * beta_var * 0.5
        q = n * beta_var
        root = (p * p + q).func("sqrt")
        # the root of b^2 - 2 p b - q = 0 written without cancellation for either sign of p
        beta = ad.where(be, be.cmp("gt", p.v, be.lift(0.0)), p + root, q / (root - p))
        cost = (_poisson_chi2(be, n, nlogn, mu * beta) + (beta - 1.0) * (beta - 1.0) / beta_var) * 0.5
        value = ad.where(be, has_var, cost, plain * 0.5)
    elif method == "da":
        k = mu * mu / safe_var
        beta = (n + k) / (mu + k)
        # poisson_chi2(k, k beta) = 2 (k beta - k - k log beta)
        cost = (_poisson_chi2(be, n, nlogn, mu * beta) + (k * beta - k - k * beta.log()) * 2.0) * 0.5
        value = ad.where(be, has_var, cost, plain * 0.5)
    else:  # "asy"
        alpha = mu * mu / safe_var + 1.0
        beta = mu / safe_var
        # -log of ASY's marginal likelihood, alpha log(beta) - (n + alpha) log(1 + beta) + lgamma(n + alpha)
        # - lgamma(alpha) - lgamma(n + 1), regrouped: its terms are huge and nearly cancel where the
        # template is precise (alpha large)
        ratio = ctx.call(poissonterm, "lgamma_ratio", [cols["n"]], [alpha])
        cost = alpha * (1.0 / beta).func("log1p") + n * beta.func("log1p") - ratio + Dual(be, cols["lgn1"])
        # without template variance: the Poisson NLL -log P(n; mu)
        poisson = mu - n * mu.log() + Dual(be, cols["lgn1"])
        value = ad.where(be, has_var, cost, poisson)
    return ad.where(be, be.cmp("gt", mu.v, be.lift(0.0)), value, zero)
