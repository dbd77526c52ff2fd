"""The parallel kernel's guard against contention (nfit.backends.contention): it calls whichever of
the parallel kernel and its serial twin has been faster lately, and tries the other one less often
while nothing changes."""
import sys
import time

import numpy as np
import pytest

import nfit
from nfit.backends.contention import (
    GIVE_UP,
    LONGEST_PROBE,
    PROBE_CALLS,
    PROBE_SHARE,
    TO_PARALLEL,
    WINDOW,
    ParallelOrSerial,
)
from nfit.compile import service


def _sleeper(seconds, calls, name, quiet=0, quiet_seconds=None, stall=None, stall_seconds=None, spent=None):
    """A kernel that takes ``seconds`` (its first ``quiet`` calls ``quiet_seconds``: before the load;
    its n-th call ``stall_seconds`` where ``stall(n)``: a thread that waited for a scheduler slice),
    adding the time it took to ``spent[name]`` where given."""

    def function(x):
        calls.append(name)
        count = calls.count(name)
        start = time.perf_counter()
        if stall is not None and stall(count):
            time.sleep(stall_seconds)
        else:
            time.sleep(quiet_seconds if count <= quiet else seconds)
        if spent is not None:
            spent[name] += time.perf_counter() - start
        return x

    return function


def _wait_for_twin(guard):
    for _ in range(200):
        guard(0)
        if guard.serial is not None:
            return
        time.sleep(0.01)
    raise AssertionError("the serial twin never arrived")


def _contended(parallel, calls, serial_seconds):
    """A guard after a moment of contention: its serial twin (of ``serial_seconds``) is there."""
    guard = ParallelOrSerial(parallel, lambda: _sleeper(serial_seconds, calls, "serial"))
    guard._suspect = True
    _wait_for_twin(guard)
    return guard


def test_a_quiet_parallel_kernel_makes_no_serial_twin():
    made = []
    guard = ParallelOrSerial(lambda x: x, lambda: made.append(1))
    for _ in range(50):
        guard(0)
    time.sleep(0.05)
    assert not made and guard.serial is None


def test_a_slow_parallel_kernel_hands_over_to_the_serial_one():
    calls = []
    # fast at first, then four times slower than serial (another process took a core)
    parallel = _sleeper(0.004, calls, "parallel", quiet=3, quiet_seconds=0.0003)
    guard = ParallelOrSerial(parallel, lambda: _sleeper(0.001, calls, "serial"))
    _wait_for_twin(guard)
    for _ in range(60):
        assert guard(1.5) == 1.5
    assert guard.current == "serial"
    assert calls[-40:].count("parallel") <= 2 * PROBE_CALLS  # only the occasional probe


def test_a_fast_parallel_kernel_stays_and_probes_less_and_less():
    calls = []
    guard = ParallelOrSerial(_sleeper(0.0005, calls, "parallel"), lambda: _sleeper(0.004, calls, "serial"))
    guard._suspect = True  # as after a moment of contention: the twin is there, and slower
    _wait_for_twin(guard)
    for _ in range(120):
        guard(0)
    assert guard.current == "parallel"
    # probes at 8, then 16 and 32 calls later (doubling while parallel stays faster), each of a few calls
    assert calls.count("serial") <= 3 * PROBE_CALLS and guard.interval > 8
    assert guard.interval <= LONGEST_PROBE


def _settled(parallel_seconds, serial_seconds, start):
    """The variant a guard keeps after 60 calls, from ``start``, with kernels of these speeds."""
    calls = []
    guard = ParallelOrSerial(_sleeper(parallel_seconds, calls, "parallel"),
                             lambda: _sleeper(serial_seconds, calls, "serial"))
    guard._suspect = True
    _wait_for_twin(guard)
    guard.current = start
    for _ in range(60):
        guard(0)
    return guard.current


def test_a_serial_kernel_a_little_faster_takes_over():
    # 8 % apart: under load, a parallel pass that is no faster is given up
    assert _settled(0.0108, 0.010, "parallel") == "serial"


def test_a_parallel_kernel_only_a_little_faster_does_not_take_back():
    # 10 % faster is within the band where timings under load jitter: the serial kernel stays
    assert 0.009 * TO_PARALLEL > 0.010
    assert _settled(0.009, 0.010, "serial") == "serial"
    # twice as fast (a quiet machine again): the parallel kernel takes back
    assert _settled(0.005, 0.010, "serial") == "parallel"


def test_a_parallel_kernel_that_slows_down_between_probes_hands_over_at_once():
    calls = []
    # faster than serial through the first probe, then 1.3x slower than serial
    parallel = _sleeper(0.013, calls, "parallel", quiet=14, quiet_seconds=0.003)
    guard = _contended(parallel, calls, 0.010)
    while calls.count("parallel") < 14:
        guard(0)
    # it probed (one call: serial was more than GIVE_UP times slower, so the probe ended), and stayed
    assert guard.current == "parallel" and calls.count("serial") >= 1
    # the next probe is further away than this (the failed probe's extra time must be earned first);
    # the guard's window of the parallel kernel's calls fills with slow ones sooner
    assert guard.interval > WINDOW
    for _ in range(WINDOW):
        guard(0)
    assert guard.current == "serial"


def test_a_lone_hiccup_of_the_parallel_kernel_changes_nothing():
    calls = []
    # once: a scheduler's hiccup on a quiet machine
    parallel = _sleeper(0.001, calls, "parallel", stall=lambda n: n == 16, stall_seconds=0.008)
    guard = _contended(parallel, calls, 0.002)
    for _ in range(60):
        guard(0)
    assert guard.current == "parallel"
    assert calls.count("serial") <= 2 * PROBE_CALLS


def test_a_parallel_kernel_with_a_slow_call_in_three_hands_over_on_the_mean():
    # 0.5, 0.5, 4.5 ms (a thread that waits for a scheduler slice every third pass): the median of
    # three says parallel is faster than serial's 1 ms, but a fit pays 1.8 ms a pass on average
    calls = []
    parallel = _sleeper(0.0005, calls, "parallel", stall=lambda n: n % 3 == 0, stall_seconds=0.0045)
    guard = _contended(parallel, calls, 0.001)
    for _ in range(40):
        guard(0)
    assert guard.current == "serial"


def test_a_parallel_kernel_that_stalls_every_few_calls_is_not_taken_back_and_given_up_over_and_over():
    # 0.5 ms, but every fourth call 4.5 ms (under load): a probe of three calls may see only fast ones
    calls, switches = [], []
    parallel = _sleeper(0.0005, calls, "parallel", stall=lambda n: n % 4 == 0, stall_seconds=0.0045)
    guard = _contended(parallel, calls, 0.001)
    guard.current = "serial"
    guard(0)
    for _ in range(300):
        before = guard.current
        guard(0)
        if guard.current != before:
            switches.append(guard.current)
    assert guard.current == "serial" and not switches


def test_a_hopeless_probe_ends_at_its_first_call_and_probes_cost_little():
    calls = []
    seconds = {"parallel": 0.0, "serial": 0.0}
    # under load: a parallel pass waits for a core (10 ms) where a serial one takes 1 ms
    guard = ParallelOrSerial(_sleeper(0.010, calls, "parallel", spent=seconds),
                             lambda: _sleeper(0.001, calls, "serial", spent=seconds))
    guard._suspect = True
    _wait_for_twin(guard)
    guard.current = "serial"
    guard(0)
    calls.clear()
    seconds.update(parallel=0.0, serial=0.0)
    for _ in range(400):
        guard(0)
    assert guard.current == "serial"
    assert 0.010 > GIVE_UP * 0.001  # each probe is one call of the parallel kernel
    runs = [len(run) for run in "".join("p" if c == "parallel" else "." for c in calls).split(".") if run]
    assert runs and max(runs) == 1
    # failed probes cost at most PROBE_SHARE of the time (twice that for the timer's slack on sleeps)
    assert seconds["parallel"] <= 2 * PROBE_SHARE * (seconds["parallel"] + seconds["serial"])


def test_the_guard_keeps_its_books_when_called_from_several_threads():
    import threading

    calls = []
    # parallel slower than serial (contention): probes start and end from whichever thread calls
    guard = ParallelOrSerial(_sleeper(0.0006, calls, "parallel"), lambda: _sleeper(0.0002, calls, "serial"))
    guard._suspect = True
    _wait_for_twin(guard)
    errors = []

    def work():
        try:
            for _ in range(150):
                assert guard(2.5) == 2.5
                assert 0 <= guard._probing <= WINDOW
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # threads switch inside the bookkeeping too
    try:
        threads = [threading.Thread(target=work) for _ in range(4)]
        [t.start() for t in threads]
        [t.join() for t in threads]
    finally:
        sys.setswitchinterval(interval)
    assert not errors
    assert guard.current == "serial" and guard.calls >= 600


@pytest.fixture
def parallel_from_1000():
    """The parallel kernels from 1000 events on, for losses of a few 10k events."""
    before = nfit.run.get_parallel_threshold()
    nfit.run.set_parallel_threshold(1000)
    yield
    nfit.run.set_parallel_threshold(before)


def _gauss_nll(name, seed, n, mode):
    obs = nfit.Space(name, -3, 3)
    data = nfit.Data.from_numpy(obs, np.random.default_rng(seed).normal(0.0, 1.0, n).clip(-2.9, 2.9))
    return nfit.loss.UnbinnedNLL(nfit.pdf.Gauss(mu=nfit.Parameter(f"{name}_mu", 0.1), sigma=1.0, obs=obs), data,
                                 mode=mode)


def test_a_loss_above_the_parallel_threshold_answers_the_same_through_the_guard(parallel_from_1000):
    loss = _gauss_nll("cg", 3, 50_000, "compiled")
    values = [float(loss.value()) for _ in range(40)]
    reference = float(_gauss_nll("cg", 3, 50_000, "eager").value())
    np.testing.assert_allclose(values, reference, rtol=1e-12)


@pytest.mark.skipif(not service.enabled(), reason="no compile helper process on this platform")
def test_the_helper_stores_a_compiled_parallel_kernels_serial_twin_while_this_process_compiles(fresh_cache,
                                                                                               parallel_from_1000):
    # so that the twin is at hand when contention comes, not compiled then, taking a core from the fits
    loss = _gauss_nll("cgt", 4, 20_000, "compiled")
    loss.value()  # one parallel pass: the guard has nothing to suspect yet
    nfit.run.wait_for_kernels()
    program, backend = loss._program, nfit.backends.get("numba")
    assert backend.parallel(program, 0)
    assert backend.stored(program, 0, parallel=False)  # machine code, loaded without compiling here
    guard = program.kernels[backend.key(program, 0)].function
    assert isinstance(guard, ParallelOrSerial) and guard.serial is None
