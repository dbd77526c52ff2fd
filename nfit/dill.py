"""zfit's ``zfit.dill``: pickling that also takes lambdas and local functions (cloudpickle where it is
installed, else the standard pickle).

>>> import nfit
>>> p = loads(dumps(nfit.Parameter("p_dill", 1.5)))
>>> p.name, p.value()
('p_dill', 1.5)
"""
from __future__ import annotations

import pickle

__all__ = ["dumps", "loads", "dump", "load"]


def _pickler():
    try:
        import cloudpickle

        return cloudpickle
    except ImportError:
        return pickle


def dumps(obj, **kwargs) -> bytes:
    """``obj`` as bytes. A fit result keeps its loss (and so its model and data), as in zfit; call
    ``result.freeze()`` first for a small pickle with the numbers only."""
    return _pickler().dumps(obj, **kwargs)


def loads(data: bytes, **kwargs):
    return pickle.loads(data, **kwargs)


def dump(obj, file, **kwargs) -> None:
    """Write ``obj`` to an open binary file (or a path)."""
    if isinstance(file, (str, bytes)) or hasattr(file, "__fspath__"):
        with open(file, "wb") as f:
            f.write(dumps(obj, **kwargs))
        return
    file.write(dumps(obj, **kwargs))


def load(file, **kwargs):
    """Read an object written by :func:`dump` (an open binary file or a path)."""
    if isinstance(file, (str, bytes)) or hasattr(file, "__fspath__"):
        with open(file, "rb") as f:
            return loads(f.read(), **kwargs)
    return loads(file.read(), **kwargs)
