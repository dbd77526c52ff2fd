"""How the kernels' loops are compiled (nfit.compile.loops), setting against setting: one value,
gradient and Hessian pass of the headline model at 50k events, and the headline warm fit
(MIGRAD + HESSE), each setting in processes of its own with kernel caches of its own, the settings
taking turns.

    python benchmarks/measure_loops.py [rounds]

Prints a Markdown table: per setting, the median over the rounds of each process's figure. A
process's figure for a pass is the 25th percentile of 100 calls of the kernel itself (parallel, and
its serial twin for the Hessian), the kernels taking turns; on a machine whose speed swings within
seconds, that separates the settings where medians do not. The warm fit (MIGRAD + HESSE, through
the contention guard as users run it) is the median of 30. On a CPU without AVX-512 the 512-bit
settings compile as the 256-bit ones.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

SETTINGS = [
    ("LLVM's choices", {"NFIT_VECTOR_WIDTH": "llvm", "NFIT_INTERLEAVE": "llvm", "NFIT_STACK_REALIGN": "0"}),
    ("512-bit vectors", {"NFIT_VECTOR_WIDTH": "512", "NFIT_INTERLEAVE": "llvm", "NFIT_STACK_REALIGN": "0"}),
    ("interleave 4", {"NFIT_VECTOR_WIDTH": "llvm", "NFIT_INTERLEAVE": "4", "NFIT_STACK_REALIGN": "0"}),
    ("512-bit, interleave 4", {"NFIT_VECTOR_WIDTH": "512", "NFIT_INTERLEAVE": "4", "NFIT_STACK_REALIGN": "0"}),
    ("512-bit, interleave 4, stack realigned", {"NFIT_VECTOR_WIDTH": "512", "NFIT_INTERLEAVE": "4",
                                                 "NFIT_STACK_REALIGN": "1"}),
    # the defaults: as above where the CPU has AVX-512; without, loops of many sums interleave 2
    ("the defaults", {"NFIT_VECTOR_WIDTH": "auto", "NFIT_INTERLEAVE": "auto", "NFIT_STACK_REALIGN": "1"}),
]

CHILD = """
import json, sys, time
import numpy as np
import nfit
from nfit import headline
sys.path.insert(0, BENCHMARKS)
from in_turn import times_in_turn

loss, params = headline.build(headline.make_data(50_000), mode="compiled")
minimizer = nfit.minimize.Minuit()
for _ in range(3):
    headline.reset(params)
    minimizer.minimize(loss).hesse()
    nfit.run.wait_for_kernels()
fits = []
for _ in range(30):
    headline.reset(params)
    start = time.perf_counter()
    minimizer.minimize(loss).hesse()
    fits.append(time.perf_counter() - start)
out = {"fit": float(np.median(fits))}
x = np.array([p.value() for p in loss.get_params()])
passes = {}
for order, name in ((0, "value"), (1, "gradient"), (2, "hessian")):
    point = loss.point(x, order)
    loss.derivatives(point, order)  # compiles the kernel of this order
    for key, kernel in loss._program.kernels.items():
        guard = kernel.function
        if key[1] != order or not hasattr(guard, "parallel"):
            continue
        serial = guard.serial or guard._make_serial()
        arrays = kernel.program.arrays_at(point)
        extra = (np.empty_like(kernel.out),) if order else ()
        args = (point, kernel.constants, *arrays, *extra)
        passes[name] = lambda f=guard.parallel, args=args: f(*args)
        passes[name + " serial"] = lambda f=serial, args=args: f(*args)
# the kernels called directly (no contention guard), taking turns
out.update({name: float(np.percentile(t, 25)) for name, t in times_in_turn(passes, 20, calls=5).items()})
print(json.dumps(out))
"""


def run(env_changes, folder):
    env = dict(os.environ, NFIT_CACHE_DIR=os.path.join(folder, "nfit"), NUMBA_CACHE_DIR=os.path.join(folder, "numba"),
               **env_changes)
    code = CHILD.replace("BENCHMARKS", repr(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(rounds=3):
    results = {name: [] for name, _ in SETTINGS}
    with tempfile.TemporaryDirectory() as root:
        folders = {name: os.path.join(root, str(i)) for i, (name, _) in enumerate(SETTINGS)}
        for name, env_changes in SETTINGS:  # compile every setting's kernels before timing any
            run(env_changes, folders[name])
        for _ in range(rounds):
            for name, env_changes in SETTINGS:
                results[name].append(run(env_changes, folders[name]))
    print("| setting | value pass | gradient pass | Hessian pass | Hessian pass, serial | warm fit |")
    print("|---|---|---|---|---|---|")
    for name, _ in SETTINGS:
        cells = [f"{1e6 * np.median([r[key] for r in results[name]]):.0f} µs"
                 for key in ("value", "gradient", "hessian", "hessian serial")]
        fit = np.median([r["fit"] for r in results[name]])
        print(f"| {name} | {' | '.join(cells)} | {1e3 * fit:.2f} ms |")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
