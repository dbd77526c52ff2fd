"""Progress bars (tqdm, where installed) for long loops: toy studies, profile scans.

>>> bar(10, None, "toys") is None     # short loops show none unless asked
True
"""
from __future__ import annotations

__all__ = ["bar"]


def bar(total, progress, desc, threshold=200):
    """A tqdm bar over ``total`` steps, or None: ``progress`` True (always, where tqdm is installed),
    False (never) or None (from ``threshold`` steps on)."""
    if progress is False or (progress is None and total < threshold):
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc)
