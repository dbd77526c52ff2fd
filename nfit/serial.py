"""zfit's object serialization helpers: ``to_json`` and ``to_yaml`` of the dictionaries that
``to_dict`` methods give (Parameter, Space, Data, pdfs). No nfit imports: every module can use it.

>>> to_json({"type": "Parameter", "value": 1.5})
'{"type": "Parameter", "value": 1.5}'
"""
from __future__ import annotations

import json

import numpy as np

__all__ = ["builtin", "to_json", "to_yaml", "Serializable"]


def builtin(value):
    """Numbers, arrays, containers as JSON-able Python builtins, recursively; dictionary keys that are
    parameters become their names, other objects their name (or text)."""
    if isinstance(value, dict):
        return {str(getattr(k, "name", k)): builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [builtin(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if value is None or isinstance(value, str):
        return value
    return getattr(value, "name", None) or str(value)


class Serializable:
    """``to_json`` and ``to_yaml`` of a class's ``to_dict`` (zfit's serialization methods)."""

    def to_dict(self) -> dict:  # pragma: no cover - each class has its own
        raise NotImplementedError

    def to_json(self) -> str:
        return to_json(self.to_dict())

    def to_yaml(self) -> str:
        return to_yaml(self.to_dict())


def to_json(d) -> str:
    return json.dumps(builtin(d))


def to_yaml(d) -> str:
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML comes with dask
        raise ImportError("to_yaml needs PyYAML: pip install pyyaml") from None
    return yaml.safe_dump(builtin(d), sort_keys=False)
