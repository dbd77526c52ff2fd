"""Losses, as zfit names them: unbinned (:mod:`nfit.baseloss`) and binned (:mod:`nfit.binnedloss`).

>>> import nfit
>>> nfit.loss.UnbinnedNLL.errordef, nfit.loss.BinnedChi2.errordef
(0.5, 1.0)
"""
from .baseloss import BaseLoss, ExtendedUnbinnedNLL, SimpleLoss, UnbinnedNLL
from .binnedloss import BinnedChi2, BinnedNLL, ExtendedBinnedChi2, ExtendedBinnedNLL, TemplateNLL

__all__ = ["UnbinnedNLL", "ExtendedUnbinnedNLL", "BaseLoss", "SimpleLoss", "BinnedNLL", "ExtendedBinnedNLL",
           "BinnedChi2", "ExtendedBinnedChi2", "TemplateNLL"]
