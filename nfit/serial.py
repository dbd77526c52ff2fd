"""zfit's object serialization helpers: ``to_json`` and ``to_yaml`` of the dictionaries that
``to_dict`` methods give (Parameter, Space, Data, pdfs). No nfit imports: every module can use it.

>>> to_json({"type": "Parameter", "value": 1.5})
'{"type": "Parameter", "value": 1.5}'
"""
from __future__ import annotations

import json

import numpy as np

__all__ = ["builtin", "to_json", "to_yaml"]


def builtin(value):
    """NumPy numbers and arrays as Python builtins, recursively."""
    if isinstance(value, dict):
        return {k: builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [builtin(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def to_json(d) -> str:
    return json.dumps(builtin(d))


def to_yaml(d) -> str:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML comes with dask
        raise ImportError("to_yaml needs PyYAML: pip install pyyaml") from None
    return yaml.safe_dump(builtin(d), sort_keys=False)
