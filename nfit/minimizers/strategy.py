"""zfit's strategies: what a minimisation does when its loss ends NaN or infinite.

>>> DefaultStrategy()
<DefaultStrategy>
"""
from __future__ import annotations

__all__ = ["ZfitStrategy", "DefaultStrategy", "DefaultToyStrategy", "FailMinimizeNaN"]


class FailMinimizeNaN(RuntimeError):
    """A minimisation ended on a loss that is NaN or infinite (raised under :class:`DefaultStrategy`)."""


class ZfitStrategy:
    """zfit's strategy objects: what a fit does when its loss ends NaN or infinite."""

    def check(self, result) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class DefaultToyStrategy(ZfitStrategy):
    """A fit that fails where its loss was NaN comes back with ``valid=False`` and a message; nothing is
    raised (nfit's default).

    >>> DefaultToyStrategy().check(None)
    """

    def check(self, result) -> None:
        return None


class DefaultStrategy(ZfitStrategy):
    """zfit's default: a fit that fails where its loss was NaN or infinite raises :class:`FailMinimizeNaN`.

    >>> DefaultStrategy()
    <DefaultStrategy>
    """

    def check(self, result) -> None:
        if result is None or result.valid:
            return
        if result.status == 4 or result.info.get("n_nan", 0) > 0:
            raise FailMinimizeNaN(f"the fit failed ({result.message}) where the loss was NaN or infinite "
                                  f"({result.info.get('n_nan', 0)} evaluations); use "
                                  "strategy=DefaultToyStrategy() to get an invalid result instead")

    def __repr__(self):
        return "<DefaultStrategy>"
