"""zfit's ``zfit.minimizers``: the interface every minimiser implements, and the base class for your own.

>>> import nfit
>>> from nfit.minimizers.interface import ZfitMinimizer
>>> isinstance(nfit.minimize.Minuit(), ZfitMinimizer)
True
"""
from .base import EDM, BaseMinimizer, ConvergenceCriterion, LossEval, MaximumIterationReached, minimize_supports
from .interface import ZfitMinimizer

__all__ = ["ZfitMinimizer", "BaseMinimizer", "minimize_supports", "LossEval", "EDM", "ConvergenceCriterion",
           "MaximumIterationReached"]
