"""Timing things against each other on a machine whose speed drifts: call them in turn.

>>> times = times_in_turn({"a": lambda: None, "b": lambda: None}, rounds=3, calls=2)
>>> sorted(times), [len(t) for t in times.values()]
(['a', 'b'], [6, 6])
"""
import time

import numpy as np


def times_in_turn(functions, rounds, calls=1):
    """The times in seconds of each of ``functions`` ({name: f}): round by round, each called
    ``calls`` times in turn, so that all see the machine in the same states."""
    times = {name: [] for name in functions}
    for _ in range(rounds):
        for name, f in functions.items():
            for _ in range(calls):
                start = time.perf_counter()
                f()
                times[name].append(time.perf_counter() - start)
    return {name: np.array(t) for name, t in times.items()}
