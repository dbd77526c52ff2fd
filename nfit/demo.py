"""``nfit demo``: the headline fit on the default path (tiered: eager while the fused kernel compiles),
then eager and compiled, with parameters, timings and the cache state.

>>> report = run_demo(n_events=4000, repeats=1, quiet=True)
>>> sorted(report)[:4]
['cache', 'default_path', 'events', 'fits']
"""
from __future__ import annotations

import time

import numpy as np

from . import cache, headline, run
from .backends.tiered import pending
from .minimize import Minuit


def _timed_fit(loss, params, scale):
    headline.reset(params, scale)
    start = time.perf_counter()
    result = Minuit().minimize(loss)
    result.hesse()
    return time.perf_counter() - start, result


def run_demo(n_events=50_000, repeats=3, seed=20261124, quiet=False) -> dict:
    """Fit the headline model eagerly and compiled; return a report (and print it unless quiet)."""
    data = headline.make_data(n_events, seed=seed)
    scale = n_events / 50_000
    # the default path: a model this process has not compiled runs eagerly while its kernel compiles
    loss, params = headline.build(data, scale=scale)
    first, result = _timed_fit(loss, params, scale)
    compiling = pending()
    start = time.perf_counter()
    if compiling and not quiet:
        print(f"first fit on the default path: {first:.3f} s (eager while the fused kernel compiles); "
              f"waiting for {compiling} kernel(s) compiling in the background ...", flush=True)
    run.wait_for_kernels()
    waited = time.perf_counter() - start
    if compiling and not quiet:
        print(f"... compiled in {waited:.2f} s more", flush=True)
    default = {"first_fit_s": first, "ran_while_compiling": bool(compiling), "waited_for_compile_s": waited,
               "valid": result.valid, "fmin": result.fmin}
    fits, results = {}, {}
    for mode in ("eager", "compiled"):
        before = cache.info()
        loss, params = headline.build(data, mode=mode, scale=scale)
        first, result = _timed_fit(loss, params, scale)
        _timed_fit(loss, params, scale)  # a loss's second fit compiles its gradient kernel: not a warm fit
        warm = [_timed_fit(loss, params, scale)[0] for _ in range(repeats)]
        after = cache.info()
        fits[mode] = {
            "first_fit_s": first,
            "warm_fit_s": float(np.median(warm)),
            "compile_s": after["compile_seconds"] - before["compile_seconds"],
            "n_eval": result.info["n_eval"],
            "n_grad": result.info.get("n_grad", 0),
            "gradient": result.info.get("gradient"),
            "hessian": result.info.get("hesse_method"),
            "valid": result.valid,
            "fmin": result.fmin,
        }
        results[mode] = (result, params)
    result, params = results["compiled"]
    truth = {k: v * (scale if k.startswith("n") else 1.0) for k, v in headline.TRUTH.items()}
    report = {
        "events": n_events,
        "fits": fits,
        "default_path": default,
        "params": {
            name: {"value": result.params[p]["value"], "error": result.params[p]["hesse"]["error"],
                   "truth": truth[name], "eager_value": results["eager"][0].params[name]["value"]}
            for name, p in params.items()
        },
        "valid": result.valid,
        "cache": cache.info(),
    }
    if not quiet:
        print(format_report(report))
    return report


def format_report(report) -> str:
    lines = [f"nfit headline fit: 2 channels, {report['events']} events, Gauss + Exponential, "
             "extended, MIGRAD + HESSE", ""]
    lines.append(f"{'parameter':<10}{'fitted':>14}{'error':>12}{'truth':>12}{'pull':>8}{'eager - compiled':>18}")
    for name, d in report["params"].items():
        pull = (d["value"] - d["truth"]) / d["error"] if d["error"] > 0 else float("nan")
        lines.append(f"{name:<10}{d['value']:>14.6g}{d['error']:>12.3g}{d['truth']:>12.6g}{pull:>8.2f}"
                     f"{d['eager_value'] - d['value']:>18.2e}")
    d = report.get("default_path")
    if d:
        how = "eager while its kernel compiled" if d["ran_while_compiling"] else "its kernel was ready"
        lines += ["", f"first fit on the default path: {d['first_fit_s']:.3f} s ({how}; "
                      f"compiled {d['waited_for_compile_s']:.2f} s later), valid {d['valid']}"]
    lines += ["", f"{'path':<10}{'first fit s':>13}{'(compile s)':>13}{'warm fit s':>12}{'calls':>7}"
              f"{'gradients':>11}{'valid':>7}  derivatives"]
    for mode, f in report["fits"].items():
        lines.append(f"{mode:<10}{f['first_fit_s']:>13.3f}{f['compile_s']:>13.3f}{f['warm_fit_s']:>12.4f}"
                     f"{f['n_eval']:>7}{f['n_grad']:>11}{str(f['valid']):>7}  gradient {f['gradient']}, "
                     f"Hessian {f['hessian']}")
    e, c = report["fits"]["eager"]["warm_fit_s"], report["fits"]["compiled"]["warm_fit_s"]
    lines.append(f"warm fit: compiled is {e / c:.1f}x faster than eager")
    ci = report["cache"]
    lines += ["", f"cache: {ci['entries']} kernel(s) in memory, {ci['disk_entries']} on disk in {ci['folder']} "
              f"({ci['stored_code_entries']} entry point(s) stored as machine code), "
              f"{ci['hits']} hit(s), {ci['misses']} miss(es), {ci['compile_seconds']:.2f} s compiling"]
    return "\n".join(lines)
