"""The headline warm fit (two channels, 50k events, 8 parameters, MIGRAD + HESSE) profiled: the time
in the compiled kernels against the rest (Python glue, iminuit's callbacks, HESSE's inversion, the
parameter layout), and RooFit 6.40's warm fit of the same model in the same run (issue 15, item 3).

    NFIT_ROOT_PYTHON=/path/to/python-with-root python benchmarks/measure_warm_fit.py [blocks] [fits] [roofit_fits]

RooFit runs in a child process of ``$NFIT_ROOT_PYTHON`` (default: this interpreter; skipped where
it has no ``ROOT``): a ``RooMinimizer`` on one ``createNLL(..., EvalBackend("cpu"))``, MIGRAD + HESSE
from the start values. The two take turns (the child waits for its turn on a pipe), so that both
see the machine in the same state: on a shared machine its speed drifts by more than the difference
being measured. Each block (default 8) is ``fits`` nfit fits back to back (default 60), then
``roofit_fits`` RooFit fits (default 2), each turn after one untimed fit (the first fit after the
other process ran finds the caches cold, nfit's and RooFit's alike); medians over all blocks. The
defaults give the two turns about the same time on the clock, so that both sample the machine's
drift alike (with 10 nfit fits against 3 RooFit fits, RooFit's turns took 90 % of the time).
"""
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from roofit_headline import model_source

HEADLINE = str(Path(__file__).resolve().parents[1] / "nfit" / "headline.py")

ROOFIT = """
import importlib.util, sys, time
spec = importlib.util.spec_from_file_location("headline_data", {headline!r})
headline = importlib.util.module_from_spec(spec); spec.loader.exec_module(headline)
data = headline.make_data(50_000)
{model}
nll = sim.createNLL(combined, ROOT.RooFit.Extended(True), ROOT.RooFit.EvalBackend("cpu"))

def fit():
    for name, start in headline.START.items():
        p[name].setVal(start)
    start = time.perf_counter()
    minimizer = ROOT.RooMinimizer(nll)
    minimizer.setPrintLevel(-1)
    minimizer.migrad()
    minimizer.hesse()
    return time.perf_counter() - start

fit(); fit()
print("ready", flush=True)
for line in sys.stdin:
    print(repr(fit()), flush=True)
"""


class RooFitChild:
    """RooFit's warm fit in a child process, one fit per :meth:`fit` call; None where it has no ROOT."""

    def __init__(self):
        python = os.environ.get("NFIT_ROOT_PYTHON", sys.executable)
        code = ROOFIT.format(headline=HEADLINE, model=model_source())
        self.process = subprocess.Popen([python, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, text=True)
        self.ready = False
        for line in self.process.stdout:  # RooFit's own messages may come first
            if line.strip() == "ready":
                self.ready = True
                break

    def fit(self) -> float:
        self.process.stdin.write("fit\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def close(self):
        self.process.stdin.close()
        self.process.wait()


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


def nfit_warm_fit(blocks=8, fits=60, between=None):
    """Medians of nfit's warm fit and of the kernels' share of it over ``blocks`` blocks of ``fits``
    fits back to back (each after one more, untimed: the first fit after another process ran finds
    the caches cold); ``between()`` runs after each block (RooFit's turn) and what it returns comes
    back as a list."""
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
    totals, inside, others = [], [], []
    for _ in range(blocks):
        for k in range(fits + 1):
            headline.reset(params)
            spent[0] = 0.0
            start = time.perf_counter()
            result = minimizer.minimize(loss)
            result.hesse()
            if k:
                totals.append(time.perf_counter() - start)
                inside.append(spent[0])
            assert result.valid
        if between is not None:
            others += between()
    return float(np.median(totals)), float(np.median(np.array(inside) / np.array(totals))), others


def main(blocks=8, fits=60, roofit_fits=2):
    roofit = RooFitChild()
    if not roofit.ready:
        roofit.close()
        roofit = None
    turn = (lambda: [roofit.fit() for _ in range(roofit_fits + 1)][1:]) if roofit else None
    fit, in_kernels, roofit_times = nfit_warm_fit(blocks, fits, between=turn)
    roofit_fit = float(np.median(roofit_times)) if roofit else None
    if roofit:
        roofit.close()
    print("| nfit warm fit | in the kernels | outside (glue) | RooFit warm fit | nfit / RooFit |")
    print("|---|---|---|---|---|")
    ratio = f"1/{roofit_fit / fit:.0f}" if roofit_fit else "-"
    roo = f"{1e3 * roofit_fit:.0f} ms" if roofit_fit else "not installed"
    print(f"| {1e3 * fit:.2f} ms | {in_kernels:.1%} | {1 - in_kernels:.1%} | {roo} | {ratio} |")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
