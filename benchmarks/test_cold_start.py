"""Cold start: the wall time from interpreter start to the fitted result (MIGRAD + HESSE) of the
headline model in a fresh process, for a model never seen (nfit's kernel cache empty), at the headline
size (50k events) and at 1e6 events; nfit on its default path (tiered: eager while the kernel compiles)
and compiled only (``mode="compiled"``), both also on a "fresh install" (Numba's cache of nfit's own
modules empty too); RooFit 6.40 (``EvalBackend("cpu")``) in the same run where ``root`` is importable by
the interpreter in ``$NFIT_ROOT_PYTHON`` (default: this one). Each child generates the same data with
the same code (``nfit/headline.py`` loaded by path, so RooFit's child does not import nfit).

Run: ``pytest benchmarks/test_cold_start.py --benchmark-only -s`` (``-s`` prints the table)."""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from roofit_headline import model_source

HEADLINE = str(Path(__file__).resolve().parents[1] / "nfit" / "headline.py")

DATA = """
import importlib.util, time
spec = importlib.util.spec_from_file_location("headline_data", {headline!r})
headline = importlib.util.module_from_spec(spec); spec.loader.exec_module(headline)
data = headline.make_data({n})
"""

NFIT = DATA + """
import json, nfit
from nfit import headline as h
loss, params = h.build(data, mode={mode!r})
result = nfit.minimize.Minuit().minimize(loss)
result.hesse()
print(json.dumps({{"fitted_at": time.time(), "valid": result.valid, "fmin": result.fmin,
                   "mu": params["mu"].value()}}), flush=True)
"""

ROOFIT_FIT = """
import json
result = sim.fitTo(combined, ROOT.RooFit.Extended(True), ROOT.RooFit.Save(), ROOT.RooFit.PrintLevel(-1),
                   ROOT.RooFit.Hesse(True), ROOT.RooFit.EvalBackend("cpu"))
print(json.dumps({"fitted_at": time.time(), "valid": result.status() == 0, "fmin": result.minNll(),
                   "mu": p["mu"].getVal()}), flush=True)
"""


def _started(python, code, env):
    """Seconds from starting ``python -c code`` to the fitted result it prints, and its report."""
    start = time.time()
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, env=env, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    report["result_s"] = report["fitted_at"] - start
    report["exit_s"] = time.time() - start
    return report


def _nfit(n, mode, fresh_install):
    env = dict(os.environ, NFIT_CACHE_DIR=tempfile.mkdtemp(prefix="nfit-cold-"))
    if fresh_install:  # Numba's cache of nfit's own compiled modules empty too
        env["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="numba-cold-")
    return _started(sys.executable, NFIT.format(headline=HEADLINE, n=n, mode=mode), env)


def _roofit(n):
    python = os.environ.get("NFIT_ROOT_PYTHON", sys.executable)
    probe = subprocess.run([python, "-c", "import ROOT"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("ROOT cannot be imported (pip install root; or set NFIT_ROOT_PYTHON)")
    code = DATA.format(headline=HEADLINE, n=n) + model_source(n / 50_000) + ROOFIT_FIT
    return _started(python, code, dict(os.environ))


@pytest.mark.parametrize("n", [50_000, 1_000_000])
def test_cold_start_to_fitted_result(benchmark, n):
    def measure():
        rows = {"roofit": None}
        try:
            rows["roofit"] = _roofit(n)
        except pytest.skip.Exception:
            pass
        rows["nfit_default"] = _nfit(n, None, False)
        rows["nfit_compiled_only"] = _nfit(n, "compiled", False)
        rows["nfit_default_fresh_install"] = _nfit(n, None, True)
        return rows

    rows = benchmark.pedantic(measure, rounds=1, iterations=1)
    assert all(r["valid"] for r in rows.values() if r)
    roofit = rows["roofit"]
    for name, r in rows.items():
        if r is None:
            continue
        benchmark.extra_info[f"{name}_result_s"] = r["result_s"]
        benchmark.extra_info[f"{name}_exit_s"] = r["exit_s"]
        if roofit and name != "roofit":
            benchmark.extra_info[f"{name}_over_roofit"] = r["result_s"] / roofit["result_s"]
            assert abs(r["mu"] - roofit["mu"]) < 1e-4  # the same fit
    print(f"\n{n} events, interpreter start to fitted result (s): " +
          ", ".join(f"{k} {v['result_s']:.2f}" for k, v in rows.items() if v))
