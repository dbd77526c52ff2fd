"""The minimiser interface (zfit's ``zfit.minimizers.interface.ZfitMinimizer``)."""
from __future__ import annotations

import abc


class ZfitMinimizer(abc.ABC):
    """What every minimiser is: ``minimize(loss, params=None, init=None)`` returns a
    :class:`~nfit.result.FitResult`; ``tol``, ``verbosity`` and ``name`` describe it.

    >>> import nfit
    >>> isinstance(nfit.minimize.ScipyLBFGSB(), ZfitMinimizer)
    True
    """

    tol = None
    verbosity = 0
    name = None

    @abc.abstractmethod
    def minimize(self, loss, params=None, init=None):
        """Minimise ``loss`` over ``params`` (default: its free parameters), starting from ``init``'s values."""
