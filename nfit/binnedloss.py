"""Binned losses: Poisson likelihoods, chi2s and Barlow-Beeston-lite template fits of histograms.

Each is lowered like an unbinned loss (:mod:`nfit.binnedterm`): one fused kernel loops over the
bins, computing each bin's expected count (exact bin integrals of shapes, template entries) and
its cost, with the exact gradient and Hessian; the eager path evaluates the same tree with NumPy.
Losses of the same errordef add, binned and unbinned alike (``binned_nll + unbinned_nll``).

>>> import numpy as np, nfit
>>> obs = nfit.Space("x", limits=(0, 10)); bobs = obs.with_binning(5)
>>> mu = nfit.Parameter("mu_bnll", 5.0); sigma = nfit.Parameter("sigma_bnll", 2.0, 0.1, 10)
>>> data = nfit.data.BinnedData.from_tensor(bobs, [3.0, 10.0, 20.0, 8.0, 0.0])
>>> nll = nfit.loss.BinnedNLL(nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs).to_binned(bobs), data)
>>> round(nll.value(), 6), nll.errordef
(11.184584, 0.5)
"""
from __future__ import annotations

from .baseloss import BaseLoss, _as_list, _loss_options
from .binnedterm import BinnedTerm
from .data import BinnedData
from .pdf.binnedpdf import BaseBinnedPDF, NotExtendedPDFError

__all__ = ["BinnedNLL", "ExtendedBinnedNLL", "BinnedChi2", "ExtendedBinnedChi2", "TemplateNLL"]


def _as_binned_data(data, who):
    if isinstance(data, BinnedData):
        return data
    if hasattr(data, "axes") and hasattr(data, "values"):  # a hist.Hist
        return BinnedData.from_hist(data)
    raise TypeError(f"{who}: data must be nfit.data.BinnedData or a hist.Hist, got {type(data).__name__} "
                    "(unbinned data: Data.to_binned(space), or an unbinned loss)")


class BaseBinnedLoss(BaseLoss):
    """Common part of the binned losses: (binned model, binned data) pairs and their options."""

    _kind = "nll"
    _option_names: tuple = ()

    def __init__(self, model, data, constraints=None, options=None, *, mode=None, backend=None):
        models = _as_list(model)
        datas = [_as_binned_data(d, type(self).__name__) for d in _as_list(data)]
        if len(models) != len(datas):
            raise ValueError(f"{type(self).__name__}: {len(models)} model(s) but {len(datas)} data set(s)")
        options = dict(options or {})
        self._term_options = {k: options.pop(k) for k in self._option_names if k in options}
        self._check_term_options()
        self._setup(models, datas, [self._extended] * len(models), _as_list(constraints or []), mode, backend)
        self._options = _loss_options(type(self).__name__, options)
        self._options.update(self._term_options)

    def _check_term_options(self):
        pass

    def create_new(self, model=None, data=None, constraints=None, options=None):
        return type(self)(model=self.model if model is None else model, data=self.data if data is None else data,
                          constraints=self.constraints if constraints is None else constraints,
                          options=self._options if options is None else options, mode=self._mode,
                          backend=self._backend)

    def _make_terms(self, models, datas, extended):
        who = type(self).__name__
        terms = []
        for m, d, ext in zip(models, datas, extended):
            if not isinstance(m, BaseBinnedPDF):
                raise TypeError(f"{who}: model {getattr(m, 'name', m)!r} is not a binned pdf; bin it with "
                                "pdf.to_binned(space)")
            if m.obs != d.obs or m.space.binning != d.space.binning:
                raise ValueError(f"{who}: model {m.name!r} is binned as {m.space}, data {d.name!r} as {d.space}; "
                                 "they must have the same binning")
            if ext and not m.is_extended:
                raise NotExtendedPDFError(f"{who}: model {m.name!r} is not extended; give it a yield (extended=...) "
                                          f"or use the non-extended loss")
            term = self._term(m, ext)
            term.columns(d)  # checks the data now (empty bins of a chi2), not at the first evaluation
            terms.append(term)
        return terms

    def _term(self, model, extended):
        return BinnedTerm(model, self._kind, extended)


class BinnedNLL(BaseBinnedLoss):
    """Binned Poisson negative log-likelihood of histograms: per bin ``nu - n log nu`` (+ a constant
    of the data), ``nu = rel_counts × sum(n)``; an extended model is used as non-extended.

    Example
    -------
    >>> import nfit
    >>> bobs = nfit.Space("x", limits=(0, 2), binning=2)
    >>> model = nfit.pdf.Uniform(0.0, 2.0, obs=bobs.with_binning(None)).to_binned(bobs)
    >>> data = nfit.data.BinnedData.from_tensor(bobs, [3.0, 5.0])
    >>> round(BinnedNLL(model, data).value(), 6)  # 8 - 8 log 4 + Stirling's log 3! and log 5!
    3.444574
    """

    _extended = False


class ExtendedBinnedNLL(BaseBinnedLoss):
    """Extended binned Poisson NLL: ``nu_i = counts_i`` of an extended model.

    Example
    -------
    >>> import nfit
    >>> bobs = nfit.Space("x", limits=(0, 2), binning=2)
    >>> model = nfit.pdf.Uniform(0.0, 2.0, obs=bobs.with_binning(None), extended=8.0).to_binned(bobs)
    >>> data = nfit.data.BinnedData.from_tensor(bobs, [3.0, 5.0])
    >>> ExtendedBinnedNLL(model, data).value() == BinnedNLL(model, data).value()
    True
    """

    _extended = True


class _Chi2Options:
    _kind = "chi2"
    errordef = 1.0
    _option_names = ("errors", "empty")

    def _check_term_options(self):
        errors = self._term_options.setdefault("errors", "data")
        if errors not in ("data", "expected"):
            raise ValueError(f"{type(self).__name__}: options['errors'] must be 'data' or 'expected', got {errors!r}")
        self._term_options.setdefault("empty", "ignore")

    def _term(self, model, extended):
        return BinnedTerm(model, "chi2", extended, errors=self._term_options["errors"],
                          empty=self._term_options["empty"])


class BinnedChi2(_Chi2Options, BaseBinnedLoss):
    """Chi2 of histograms: ``sum_i (nu_i - n_i)^2 / sigma_i^2``, ``nu_i = rel_counts_i × sum(n)``.

    ``options={"errors": "data"}`` (default): ``sigma^2`` the data's variances (the counts where
    none are set); ``"expected"``: ``sigma^2 = nu`` (Pearson). ``options={"empty": "ignore"}``
    (default) leaves out bins whose data variance is 0; any other value makes them an error.

    Example
    -------
    >>> import nfit
    >>> bobs = nfit.Space("x", limits=(0, 2), binning=2)
    >>> model = nfit.pdf.Uniform(0.0, 2.0, obs=bobs.with_binning(None)).to_binned(bobs)
    >>> BinnedChi2(model, nfit.data.BinnedData.from_tensor(bobs, [3.0, 5.0])).value()  # 1/3 + 1/5
    0.5333333333333333
    """

    _extended = False


class ExtendedBinnedChi2(_Chi2Options, BaseBinnedLoss):
    """:class:`BinnedChi2` with ``nu_i = counts_i`` of an extended model.

    Example
    -------
    >>> import nfit
    >>> bobs = nfit.Space("x", limits=(0, 2), binning=2)
    >>> model = nfit.pdf.Uniform(0.0, 2.0, obs=bobs.with_binning(None), extended=10.0).to_binned(bobs)
    >>> ExtendedBinnedChi2(model, nfit.data.BinnedData.from_tensor(bobs, [4.0, 5.0])).value()  # 1/4 + 0
    0.25
    """

    _extended = True


class TemplateNLL(BaseBinnedLoss):
    """Template fit with Barlow-Beeston lite: the finite statistics of Monte-Carlo templates
    (``HistogramPDF`` leaves, their variances) are profiled per bin analytically, as
    iminuit.cost.Template does (``method`` "jsc", "da" or "asy"); values are iminuit's cost / 2
    for "jsc" and "da" (errordef 0.5, so it adds to likelihoods), iminuit's for "asy".

    Example
    -------
    >>> import nfit
    >>> bobs = nfit.Space("x", limits=(0, 2), binning=2)
    >>> n_sig = nfit.Parameter("n_sig_tpl", 10.0, 0, 100)
    >>> sig = nfit.pdf.HistogramPDF(nfit.data.BinnedData.from_tensor(bobs, [8.0, 2.0], [8.0, 2.0]), extended=n_sig)
    >>> nll = TemplateNLL(sig, nfit.data.BinnedData.from_tensor(bobs, [7.0, 3.0]), method="da")
    >>> nll.errordef, nll.get_params()[0].name
    (0.5, 'n_sig_tpl')
    """

    _kind = "template"
    _extended = True

    def __init__(self, model, data, method="da", constraints=None, options=None, *, mode=None, backend=None):
        if method not in ("jsc", "da", "asy"):
            raise ValueError(f"TemplateNLL: method must be 'jsc', 'da' or 'asy', got {method!r}")
        self._method = method
        super().__init__(model, data, constraints, options, mode=mode, backend=backend)

    def create_new(self, model=None, data=None, constraints=None, options=None):
        return TemplateNLL(self.model if model is None else model, self.data if data is None else data,
                           method=self._method, constraints=self.constraints if constraints is None else constraints,
                           options=self._options if options is None else options, mode=self._mode,
                           backend=self._backend)

    def _term(self, model, extended):
        return BinnedTerm(model, "template", True, method=self._method)
