"""Start-up in a fresh process: import time; the first fit with an empty and with a warm disk cache
(nfit's kernel cache; Numba's cache of nfit's own compiled math and kernel modules, filled once after
installing, is kept), with the warm cache read through Numba only (no stored machine code, see
nfit.compile.native), and with nothing cached at all (Numba's cache emptied too); the peak memory of
the compiled path at 1e7 events. Each is measured inside a child process and reported in extra_info
(seconds, MB)."""
import json
import os
import subprocess
import sys
import tempfile

FIRST_FIT = r"""
import json, sys, time
t0 = time.perf_counter()
import nfit
t_import = time.perf_counter() - t0
from nfit import headline
data = headline.make_data(50_000)
loss, params = headline.build(data)
t1 = time.perf_counter()
result = nfit.minimize.Minuit().minimize(loss)
result.hesse()
print(json.dumps({"import_s": t_import, "first_fit_s": time.perf_counter() - t1, "valid": result.valid,
                  "numba_imported": "numba" in sys.modules}))
"""

MEMORY = r"""
import gc, json
import numpy as np
from nfit import headline
from nfit.bench import channel_a_loss

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024

x = headline.make_channel_a(10_000_000, np.random.default_rng(1))
loss, _ = channel_a_loss(x, "compiled")
values = np.array([q.value() for q in loss.get_params()])
loss(values)  # compile (or load) first: the compiler's memory is not per-event memory
gc.collect()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset the peak (VmHWM) to the current resident size
rss = status("VmRSS")
for _ in range(3):
    loss(values)
print(json.dumps({"data_mb": x.nbytes / 2**20, "rss_before_mb": rss, "peak_rss_during_mb": status("VmHWM"),
                  "peak_increase_mb": status("VmHWM") - rss}))
"""


def _child(code, cache_dir, numba_cache_dir=None, stored_code=True, helper=True):
    env = dict(os.environ, NFIT_CACHE_DIR=cache_dir, NFIT_NATIVE_KERNELS="1" if stored_code else "0",
               NFIT_COMPILE_PROCESS="1" if helper else "0")
    if numba_cache_dir:  # Numba's own cache too (nfit's compiled math and kernel modules): nothing cached at all
        env["NUMBA_CACHE_DIR"] = numba_cache_dir
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_first_fit_fresh_process(benchmark):
    first_ever = _child(FIRST_FIT, tempfile.mkdtemp(prefix="nfit-startup-"), tempfile.mkdtemp(prefix="numba-"))
    colds = [_child(FIRST_FIT, tempfile.mkdtemp(prefix="nfit-startup-")) for _ in range(2)]
    # compiled in the process itself instead of the compile helper (nfit.compile.service)
    in_process = [_child(FIRST_FIT, tempfile.mkdtemp(prefix="nfit-startup-"), helper=False) for _ in range(3)]
    folder = tempfile.mkdtemp(prefix="nfit-startup-")
    colds.append(_child(FIRST_FIT, folder))
    warm = benchmark.pedantic(lambda: _child(FIRST_FIT, folder), rounds=3, iterations=1)
    # the same warm cache read through Numba only (no stored machine code): what Numba's start-up costs
    numba_only = [_child(FIRST_FIT, folder, stored_code=False) for _ in range(2)]
    assert all(r["valid"] for r in colds + in_process + numba_only + [warm, first_ever])
    cold_times = sorted(r["first_fit_s"] for r in colds)
    benchmark.extra_info.update({"import_s": warm["import_s"], "first_fit_nothing_cached_s": first_ever["first_fit_s"],
                                 "first_fit_empty_cache_s": cold_times[1],
                                 "first_fit_empty_cache_min_s": cold_times[0],
                                 "first_fit_empty_cache_max_s": cold_times[-1],
                                 "first_fit_empty_cache_in_process_s": sorted(r["first_fit_s"] for r in in_process)[1],
                                 "first_fit_warm_disk_cache_s": warm["first_fit_s"],
                                 "warm_fit_imported_numba": warm["numba_imported"],
                                 "first_fit_warm_numba_cache_only_s": min(r["first_fit_s"] for r in numba_only)})


def test_compiled_memory_at_1e7(benchmark):
    folder = tempfile.mkdtemp(prefix="nfit-memory-")
    info = benchmark.pedantic(lambda: _child(MEMORY, folder), rounds=1, iterations=1)
    benchmark.extra_info.update(info)
