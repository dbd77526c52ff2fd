"""Peak memory of the headline fit (two channels, 8 parameters, MIGRAD + HESSE) at large sizes,
against the size of the data itself (issue 15, item 4).

Each size runs in a fresh process: the events are made with NumPy (one float64 array per
channel), then the process's resident memory is read (``before``), then ``Data.from_numpy``, the
loss, MIGRAD and HESSE run, and the peak resident memory (``VmHWM``) is read. ``extra`` is what the
fit added on top of the data: the target is data + extra <= 1.2 x data.

    python benchmarks/measure_fit_memory.py 1e7 1e8
"""
import json
import subprocess
import sys

CHILD = """
import json, os, time
import numpy as np
from nfit import headline as h


def status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(key)


n = int(float({n!r}))
data = h.make_data(n)
data_bytes = sum(a.nbytes for a in data.values())
import nfit
import gc
gc.collect()
before = status("VmRSS")
with open("/proc/self/clear_refs", "w") as f:  # resets the high-water mark to the current size
    f.write("5")
start = time.time()
loss, params = h.build(data, mode={mode!r})
result = nfit.minimize.Minuit().minimize(loss)
result.hesse()
print(json.dumps({{"events": n, "data_mb": data_bytes / 2**20, "before_mb": before / 2**20,
                   "peak_mb": status("VmHWM") / 2**20, "valid": result.valid, "seconds": time.time() - start}}))
"""


def measure(n, mode=None):
    out = subprocess.run([sys.executable, "-c", CHILD.format(n=n, mode=mode)], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr[-3000:])
    report = json.loads(out.stdout.strip().splitlines()[-1])
    report["extra_mb"] = report["peak_mb"] - report["before_mb"]
    report["ratio"] = (report["data_mb"] + report["extra_mb"]) / report["data_mb"]
    return report


def main(sizes):
    print("| events | data | extra at the peak | (data + extra) / data | fit valid | seconds |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        r = measure(n)
        print(f"| {r['events']:.0e} | {r['data_mb']:.0f} MB | {r['extra_mb']:.0f} MB | {r['ratio']:.2f} | "
              f"{r['valid']} | {r['seconds']:.1f} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["1e7", "1e8"])
