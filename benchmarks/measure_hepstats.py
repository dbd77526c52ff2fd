"""Time hepstats' frequentist CLs upper limit (100 toys per hypothesis, 7 scan points) driving nfit
or zfit on the same model and data (tests/data/hepstats_analysis.py), in a fresh process.

usage: python benchmarks/measure_hepstats.py nfit|zfit|nfit-dask [workers]

``nfit-dask`` runs the toys through nfit.hypotests.FrequentistCalculator on a Dask LocalCluster of
``workers`` (default 2) single-threaded processes; its time includes starting the cluster.
"""
import importlib.util
import pathlib
import sys
import time
import warnings

HERE = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data"


def main(name, workers=2):
    start = time.perf_counter()
    lib = __import__(name.split("-")[0])
    spec = importlib.util.spec_from_file_location("hepstats_analysis", HERE / "hepstats_analysis.py")
    analysis = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(analysis)
    from hepstats.hypotests import UpperLimit
    from hepstats.hypotests.calculators import FrequentistCalculator
    from hepstats.hypotests.parameters import POI, POIarray

    loss, minimizer, p, grid = analysis.toys_setup(lib)
    begin = time.perf_counter()
    if name == "nfit-dask":
        from nfit.hypotests import FrequentistCalculator as OnDask

        calc = OnDask(input=loss, minimizer=minimizer, ntoysnull=100, ntoysalt=100, workers=workers, progress=False)
    else:
        calc = FrequentistCalculator(input=loss, minimizer=minimizer, ntoysnull=100, ntoysalt=100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pvalues = UpperLimit(calc, POIarray(p["nsig"], grid), POI(p["nsig"], 0.0), qtilde=False).pvalues(CLs=True)
    toys = time.perf_counter() - begin
    getattr(calc, "close", lambda: None)()
    limit = analysis.upper_limit(grid, pvalues["cls"])
    print(f"{name}: frequentist CLs limit {limit:.2f} from 1400 toy fits in {toys:.1f} s; "
          f"{time.perf_counter() - start:.1f} s from import to result")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "nfit", int(sys.argv[2]) if len(sys.argv) > 2 else 2)
