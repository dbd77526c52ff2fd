"""The headline warm fit (two channels, 50k events, 8 parameters, MIGRAD + HESSE) profiled: the time
in the compiled kernels against the rest (Python glue, iminuit's callbacks, HESSE's inversion, the
parameter layout), and RooFit 6.40's warm fit of the same model in the same run (issue 15, item 3).

    NFIT_ROOT_PYTHON=/path/to/python-with-root python benchmarks/measure_warm_fit.py

RooFit runs in a child process of ``$NFIT_ROOT_PYTHON`` (default: this interpreter; skipped where
it has no ``ROOT``): a ``RooMinimizer`` on one ``createNLL(..., EvalBackend("cpu"))``, MIGRAD + HESSE
from the start values, medians over 10 fits after 2 warm-up fits.
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from roofit_headline import model_source

HEADLINE = str(Path(__file__).resolve().parents[1] / "nfit" / "headline.py")

ROOFIT = """
import importlib.util, json, time
import numpy as np
spec = importlib.util.spec_from_file_location("headline_data", {headline!r})
headline = importlib.util.module_from_spec(spec); spec.loader.exec_module(headline)
data = headline.make_data(50_000)
{model}
nll = sim.createNLL(combined, ROOT.RooFit.Extended(True), ROOT.RooFit.EvalBackend("cpu"))
times = []
for i in range(12):
    for name, start in headline.START.items():
        p[name].setVal(start)
    start = time.perf_counter()
    minimizer = ROOT.RooMinimizer(nll)
    minimizer.setPrintLevel(-1)
    minimizer.migrad()
    minimizer.hesse()
    times.append(time.perf_counter() - start)
print(json.dumps({{"fit_s": float(np.median(times[2:]))}}))
"""


def roofit_warm_fit():
    python = os.environ.get("NFIT_ROOT_PYTHON", sys.executable)
    code = ROOFIT.format(headline=HEADLINE, model=model_source())
    out = subprocess.run([python, "-c", code], capture_output=True, text=True)
    if out.returncode:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])["fit_s"]


class Timed:
    """A loss kernel that adds the time of each call to ``spent``."""

    def __init__(self, kernel, spent):
        self.kernel, self.spent = kernel, spent

    def __call__(self, p):
        start = time.perf_counter()
        try:
            return self.kernel(p)
        finally:
            self.spent[0] += time.perf_counter() - start


def nfit_warm_fit(rounds=30):
    import nfit
    from nfit import headline

    # compiled only: after its first fits the default path runs these very kernels
    loss, params = headline.build(headline.make_data(50_000), mode="compiled")
    minimizer = nfit.minimize.Minuit()
    for _ in range(3):  # the second fit brings the gradient kernel; wait until every kernel is compiled
        headline.reset(params)
        minimizer.minimize(loss).hesse()
        nfit.run.wait_for_kernels()
    spent = [0.0]
    kernels = loss._program.kernels
    for key, kernel in list(kernels.items()):
        kernels[key] = Timed(kernel, spent)
    totals, inside = [], []
    for _ in range(rounds):
        headline.reset(params)
        spent[0] = 0.0
        start = time.perf_counter()
        result = minimizer.minimize(loss)
        result.hesse()
        totals.append(time.perf_counter() - start)
        inside.append(spent[0])
        assert result.valid
    return float(np.median(totals)), float(np.median(np.array(inside) / np.array(totals)))


def main():
    fit, in_kernels = nfit_warm_fit()
    roofit = roofit_warm_fit()
    print("| nfit warm fit | in the kernels | outside (glue) | RooFit warm fit | nfit / RooFit |")
    print("|---|---|---|---|---|")
    ratio = f"1/{roofit / fit:.0f}" if roofit else "-"
    roo = f"{1e3 * roofit:.0f} ms" if roofit else "not installed"
    print(f"| {1e3 * fit:.1f} ms | {in_kernels:.0%} | {1 - in_kernels:.0%} | {roo} | {ratio} |")


if __name__ == "__main__":
    main()
