"""zfit-style custom shapes by parameter names: subclass :class:`ZPDF`, list ``_PARAMS``, write the density."""
from __future__ import annotations

from .. import quadrature
from .base import BasePDF


class ZPDF(BasePDF):
    """Base class for shapes written as Python with :mod:`nfit.z` math, as in zfit.

    Subclasses set ``_PARAMS`` (parameter names) and define ``_unnormalized_pdf(self, x, params)``
    (or ``_pdf(self, x, norm, params)`` with ``@nfit.supports()``), using ``x[0]`` (the first
    observable) and ``params[name]`` (or ``self.params[name]``). The function is *traced* (see
    :mod:`nfit.pdf.custom`): the compiled path fuses it into its kernel, and both paths get exact
    derivatives. The shape is normalised by a registered integral where it has one, else
    numerically. A function that cannot be traced (it branches on values or calls NumPy
    directly) still runs on the eager path, called with arrays.

    Example
    -------
    >>> import nfit
    >>> from nfit import z
    >>> class CustomPDF(nfit.pdf.ZPDF):
    ...     _PARAMS = ['alpha']
    ...     def _unnormalized_pdf(self, x):
    ...         return z.exp(self.params['alpha'] * x[0])
    >>> obs = nfit.Space("x", limits=(0, 1))
    >>> pdf = CustomPDF(obs=obs, alpha=-1.0)
    >>> round(float(pdf.integrate((0, 1))[0]), 12)
    1.0
    """

    _PARAMS: list = []
    _N_OBS = None

    def __init__(self, obs, extended=None, norm=None, name=None, label=None, panels=None, **params):
        missing = [p for p in self._PARAMS if p not in params]
        unknown = [p for p in params if p not in self._PARAMS]
        if missing or unknown:
            raise TypeError(f"{type(self).__name__}: parameters are {list(self._PARAMS)}; "
                            f"missing {missing}, unknown {unknown}")
        super().__init__(obs, {k: params[k] for k in self._PARAMS}, name=name or type(self).__name__,
                         extended=extended, label=label, norm=norm)
        if self._N_OBS is not None and self.n_obs != self._N_OBS:
            raise ValueError(f"{type(self).__name__} needs {self._N_OBS} observable(s), got {self.obs}")
        if not self._is_custom():
            raise TypeError(f"{type(self).__name__} must define _unnormalized_pdf(self, x, params) "
                            "or _pdf(self, x, norm, params)")
        self._panels = panels or quadrature.PANELS
