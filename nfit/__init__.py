"""nfit: model fitting for particle physics with zfit's vocabulary and fused Numba kernels.

>>> import numpy as np, nfit
>>> obs = nfit.Space("x", limits=(-3, 3))
>>> mu = nfit.Parameter("mu_init", 0.1, -1, 1); sigma = nfit.Parameter("sigma_init", 1.2, 0.1, 3)
>>> data = nfit.Data.from_numpy(obs=obs, array=np.random.default_rng(0).normal(size=2000).clip(-2.9, 2.9))
>>> nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), data=data)
>>> result = nfit.minimize.Minuit().minimize(nll)
>>> result.valid
True
"""
import importlib.util as _importlib_util
import os as _os
import sys as _sys


def _source_checkout_kernels():
    """Make ``nfit.kernels`` importable when nfit runs from a source checkout.

    The kernels live in the top-level ``kernels/`` folder and ship as ``nfit.kernels``
    (setup.cfg's package_dir); an installed nfit has them, and so does an editable install, but
    a script or test run from the repository root imports the ``nfit/`` folder directly.
    """
    if _importlib_util.find_spec("nfit.kernels") is not None:
        return
    folder = _os.path.join(_os.path.dirname(_os.path.dirname(_os.path.abspath(__file__))), "kernels")
    spec = _importlib_util.spec_from_file_location("nfit.kernels", _os.path.join(folder, "__init__.py"),
                                                   submodule_search_locations=[folder])
    module = _importlib_util.module_from_spec(spec)
    _sys.modules["nfit.kernels"] = module
    spec.loader.exec_module(module)


_source_checkout_kernels()

from . import (  # noqa: E402
    cache,
    constraint,
    data,
    dill,
    func,
    gpu,
    hs3,
    loss,
    mcmc,
    minimize,
    minimizers,
    param,
    pdf,
    plot,
    prior,
    run,
    sampling,
    settings,
    toys,
    z,
)
from ._version import __version__  # noqa: E402
from .data import Data  # noqa: E402
from .param import ComposedParameter, ConstantParameter, Parameter, convert_to_parameter  # noqa: E402
from .pdf.custom import supports  # noqa: E402
from .settings import ztypes  # noqa: E402
from .space import Space, as_space  # noqa: E402

convert_to_space = as_space  # zfit's name
from .userkernel import kernel  # noqa: E402

__all__ = [
    "__version__", "Space", "Parameter", "ComposedParameter", "ConstantParameter", "Data", "pdf", "loss",
    "constraint", "minimize", "run", "cache", "param", "z", "kernel", "sampling", "toys", "gpu", "data", "settings",
    "dill", "supports", "ztypes", "minimizers", "prior", "mcmc", "func", "convert_to_parameter", "convert_to_space",
    "plot", "hs3",
]
