"""No cliff under contention: a parallel kernel that falls back to its serial twin while it is slower.

A parallel pass splits the events over the cores. When other processes keep a core busy, the thread
on it waits for a slice of the scheduler's time and every pass waits for it (a pass of 1e5 events
took 16 ms in parallel against 1.6 ms serially with one busy process on a 2-core machine). The
kernels cannot know that in advance, so :class:`ParallelOrSerial` measures: it times every call,
keeps the last few timings of each variant and now and then calls the other one to see whether
things changed (8 calls of the parallel kernel, which under load stalls every few calls; 3 of the
serial one). It hands over to the serial kernel as soon as that one's mean is lower, and back to
the parallel one only where it is clearly faster (:data:`TO_PARALLEL`): under load the two often
take about the same time, and a parallel pass is the one a busy core can make slower.

Means, not medians: under load a parallel pass often waits a whole scheduler slice for one thread
(a pass of 1e5 events: 0.5 ms, then 15 ms), and a fit pays for every such wait. But a lone hiccup
on a quiet machine (1-2 ms once in hundreds of passes) says nothing about the next passes, so the
current variant's mean is over its last :data:`WINDOW` calls without the slowest. Probes cost too: a
probe of the slower variant ends at its first hopeless call (:data:`GIVE_UP`), and the next probe
waits until the current variant has run for long enough that the failed probes' extra time is at
most :data:`PROBE_SHARE` of the whole.

The serial kernel is the tiered path's first kernel, so it is usually there already; it is looked up
(or, where it is not there, compiled in a background thread, while the parallel one runs on) once a
parallel call has taken more than twice the fastest one: a sign of contention. Both sum the events in
the same chunks and agree to rounding.

>>> calls = []
>>> guard = ParallelOrSerial(lambda x: calls.append("parallel") or x, lambda: (lambda x: calls.append("serial") or x))
>>> [guard(1) for _ in range(3)] and calls[0]
'parallel'
"""
from __future__ import annotations

import collections
import threading
import time

__all__ = ["ParallelOrSerial", "FIRST_PROBE", "LONGEST_PROBE", "TO_SERIAL", "TO_PARALLEL", "AT_ONCE",
           "GIVE_UP", "PROBE_SHARE", "PROBE_CALLS", "WINDOW"]

FIRST_PROBE = 8  # calls before the other variant is tried again (doubling while the choice holds)
LONGEST_PROBE = 512
PROBE_CALLS = 3  # calls of the serial twin in a probe: their mean decides
WINDOW = 8  # the current variant's last calls, whose mean (without the slowest) decides; and the calls
# of the parallel kernel in a probe (under load it stalls every few calls: a shorter probe can miss it)
GIVE_UP = 3.0  # a probe call this many times slower than the current variant's mean ends the probe
PROBE_SHARE = 0.05  # a failed probe's extra time, as a share of the time before the next probe
# the other variant takes over where its mean is lower than the current one's by this factor:
# the serial one as soon as it is faster at all, the parallel one only where it is clearly faster.
# Under load the two often take about the same time and their timings jitter; a band between the
# two margins keeps the guard from following the jitter, and on the side of the serial pass, which
# is the one that cannot be slowed down by a busy core
TO_SERIAL = 1.0
TO_PARALLEL = 1.25
AT_ONCE = 1.2  # between probes: the parallel kernel's last calls this much slower than the serial one's
SUSPECT = 2.0  # a parallel call this many times slower than the fastest one suggests contention
JITTER = 2e-4  # seconds: and slower by more than a timer's and a cache's hiccups (a scheduler slice is ms)


class ParallelOrSerial:
    """``parallel(*args)`` or the serial kernel's function, whichever has been faster lately.
    ``serial`` makes the serial function (called at most once, in a background thread)."""

    def __init__(self, parallel, serial):
        self.parallel = parallel
        self._make_serial = serial
        self.serial = None
        self.recent = {"parallel": collections.deque(maxlen=WINDOW), "serial": collections.deque(maxlen=WINDOW)}
        self.current = "parallel"
        self.calls = 0
        self.interval = FIRST_PROBE
        self._next_probe = FIRST_PROBE
        self._probing = 0  # calls of the other variant left in the probe under way
        self._probe_seconds = 0.0  # the probe's calls so far
        self._spent = 0.0  # seconds in the current variant since the last probe
        self._wait = 0.0  # ... before the next probe, so that failed probes cost at most PROBE_SHARE
        self._lock = threading.Lock()  # for starting the serial twin's compilation once
        self._state = threading.Lock()  # for the bookkeeping: a loss may be called from several threads
        self._compiling = False
        self._fastest = None  # of the parallel calls
        self._suspect = False  # a parallel call took more than twice the fastest: contention

    @property
    def typical(self) -> dict:
        """Each variant's typical time lately (None before its first call): the mean of its last
        calls, without the slowest where there are more than three."""
        return {k: _typical(v) for k, v in self.recent.items()}

    def _serial_ready(self) -> bool:
        if self.serial is not None:
            return True
        if not self._suspect:
            return False
        with self._lock:
            if not self._compiling:
                self._compiling = True
                threading.Thread(target=self._compile_serial, name="nfit-serial-twin", daemon=True).start()
        return False

    def _compile_serial(self):
        try:
            self.serial = self._make_serial()
        except Exception:  # noqa: BLE001 - without a serial twin the parallel kernel simply stays in charge
            self.serial = None

    def _other(self) -> str:
        return "serial" if self.current == "parallel" else "parallel"

    def _choose(self) -> str:
        self.calls += 1
        if not self._serial_ready():
            return "parallel"
        with self._state:
            return self._choose_variant()

    def _choose_variant(self) -> str:
        if (self._probing == 0 and self.calls >= self._next_probe and self._spent >= self._wait
                and self.recent[self.current]):
            self._probing = self._probe_length()  # a probe: a few calls of the other variant
            self._probe_seconds = 0.0
            self.recent[self._other()].clear()  # its timings from before may be from another state
        return self._other() if self._probing else self.current

    def _record(self, variant, seconds):
        if variant == "parallel":
            if self._fastest is not None and seconds > SUSPECT * self._fastest and seconds > self._fastest + JITTER:
                self._suspect = True
            self._fastest = seconds if self._fastest is None else min(self._fastest, seconds)
        if self.serial is None:
            return  # nothing to choose from yet
        with self._state:
            self._account(variant, seconds)

    def _account(self, variant, seconds):
        self.recent[variant].append(seconds)
        if self._probing and variant != self.current:
            self._probing -= 1
            self._probe_seconds += seconds
            # a probe starts only where the current variant has timings, and they are never cleared
            usual = _typical(self.recent[self.current])
            if self._probing and seconds > GIVE_UP * usual + JITTER:
                self._end_probe(self._probe_length() - self._probing, usual)  # hopeless: no more calls of it
            elif self._probing == 0:
                self._end_probe(self._probe_length(), usual)
        else:
            self._spent += seconds
            if self.current == "parallel" and self.recent["serial"] and len(self.recent["parallel"]) >= PROBE_CALLS:
                typical = self.typical
                if typical["parallel"] > AT_ONCE * typical["serial"]:
                    # the parallel kernel has become slower than serial was: switch at once, not at the next
                    # probe (which may be hundreds of calls away while the parallel one had been faster)
                    self._switch()

    def _end_probe(self, calls, usual):
        """Decide on the means after ``calls`` calls of the other variant (fewer than a probe's: it lost)."""
        other = self._other()
        margin = TO_PARALLEL if other == "parallel" else TO_SERIAL
        probed = self.recent[other]  # this probe's calls only (cleared when it started)
        if calls == self._probe_length() and sum(probed) / len(probed) * margin < usual:
            self._switch()
            return
        self._probing = 0
        self.interval = min(2 * self.interval, LONGEST_PROBE)
        self._next_probe = self.calls + self.interval
        self._spent, self._wait = 0.0, max(self._probe_seconds - calls * usual, 0.0) / PROBE_SHARE

    def _probe_length(self) -> int:
        """Calls in a probe of the other variant: the parallel kernel stalls every few calls under load."""
        return WINDOW if self.current == "serial" else PROBE_CALLS

    def _switch(self):
        self.current = self._other()
        self.interval, self._next_probe = FIRST_PROBE, self.calls + FIRST_PROBE
        self._probing, self._spent, self._wait = 0, 0.0, 0.0

    def __call__(self, *args):
        variant = self._choose()
        function = self.parallel if variant == "parallel" else self.serial
        start = time.perf_counter()
        result = function(*args)
        self._record(variant, time.perf_counter() - start)
        return result

    def __reduce__(self):
        raise TypeError("a compiled kernel stays in its process")

    def __repr__(self):
        return f"<ParallelOrSerial {self.parallel!r} (now {self.current})>"


def _typical(timings):
    """The mean of ``timings`` without the slowest where there are more than three (None for none).

    >>> _typical([1.0, 1.0, 7.0]), _typical([1.0, 1.0, 1.0, 9.0]), _typical([])
    (3.0, 1.0, None)
    """
    if not timings:
        return None
    if len(timings) <= PROBE_CALLS:
        return sum(timings) / len(timings)
    return (sum(timings) - max(timings)) / (len(timings) - 1)
