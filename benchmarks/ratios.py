"""Print the benchmark ratios from a pytest-benchmark JSON file (default: the newest one).

usage: python benchmarks/ratios.py [bench.json]
"""
import glob
import json
import os
import sys


def load(path=None):
    if path is None:
        files = sorted(glob.glob(".benchmarks/**/*.json", recursive=True), key=os.path.getmtime)
        if not files:
            sys.exit("no benchmark JSON found; run: pytest benchmarks --benchmark-json=.benchmarks/bench.json")
        path = files[-1]
    with open(path) as f:
        return json.load(f)


def main(path=None):
    bench = {b["name"]: b for b in load(path)["benchmarks"]}

    def median(name):
        return bench[name]["stats"]["median"] if name in bench else float("nan")

    print("headline fit, warm MIGRAD + HESSE (median s, calls):")
    hand = median("test_headline_fit_handfused_numerical_gradient")
    rows = [("test_headline_fit[compiled-exact]", "nfit compiled, exact derivatives"),
            ("test_headline_fit[compiled-exact-migrad-alone]", "nfit compiled, exact, no Newton steps"),
            ("test_headline_fit[eager-exact]", "nfit eager, exact derivatives"),
            ("test_headline_fit[eager-exact-migrad-alone]", "nfit eager, exact, no Newton steps"),
            ("test_headline_fit[compiled-minuit]", "nfit compiled, MINUIT gradient"),
            ("test_headline_fit[eager-minuit]", "nfit eager, MINUIT gradient"),
            ("test_headline_fit_handfused_numerical_gradient", "hand-fused, MINUIT gradient")]
    for name, label in rows:
        if name in bench:
            print(f"  {label:<40}{median(name):8.4f} s  ({median(name) / hand:5.2f}x hand-fused)"
                  f"  calls {bench[name]['extra_info'].get('n_eval')}")
    for kind in ("exact", "minuit"):
        comp, eager = median(f"test_headline_fit[compiled-{kind}]"), median(f"test_headline_fit[eager-{kind}]")
        print(f"  {kind}: eager / compiled = {eager / comp:.1f}x")
    print("\none NLL evaluation, channel A (events per second):")
    print(f"  {'events':>10}{'eager':>12}{'compiled':>12}{'hand-fused':>12}{'hand, vec':>12}{'comp/hand':>11}"
          f"{'comp/vec':>10}{'comp/eager':>11}")
    for n in (10_000, 100_000, 1_000_000, 10_000_000):
        rate = {p: n / median(f"test_nll[{p}-{n}]") for p in ("eager", "compiled", "handfused", "handfused_vecmath",
                                                         "compiled_gradient")}
        print(f"  {n:>10}{rate['eager']:>12.3g}{rate['compiled']:>12.3g}{rate['handfused']:>12.3g}"
              f"{rate['handfused_vecmath']:>12.3g}{rate['compiled'] / rate['handfused']:>11.2f}"
              f"{rate['compiled'] / rate['handfused_vecmath']:>10.2f}{rate['compiled'] / rate['eager']:>11.2f}"
              f"   value+gradient costs {rate['compiled'] / rate['compiled_gradient']:.2f}x a value")
    if any(name.startswith("test_gpu_") for name in bench):
        print("\nGPU (CUDA) vs CPU compiled, channel A (events per second; NLL values' relative difference):")
        for what in ("value", "value_gradient"):
            for n in (1_000_000, 10_000_000, 100_000_000):
                cpu, gpu = f"test_gpu_nll[{what}-numba-{n}]", f"test_gpu_nll[{what}-cuda-{n}]"
                if cpu in bench and gpu in bench:
                    a, b = bench[cpu]["extra_info"]["value"], bench[gpu]["extra_info"]["value"]
                    print(f"  {what:<15}{n:>11}  cpu {n / median(cpu):10.3g}  gpu {n / median(gpu):10.3g}"
                          f"  gpu/cpu {median(cpu) / median(gpu):7.1f}x  |diff| {abs(a - b) / abs(a):.1e}")
        cpu, gpu = median("test_gpu_headline_fit[numba]"), median("test_gpu_headline_fit[cuda]")
        print(f"  headline fit at 1e7 events: cpu {cpu:.3f} s, gpu {gpu:.3f} s, gpu/cpu {cpu / gpu:.1f}x")
    print("\nuser-defined shapes, warm MIGRAD + HESSE (ratio to the built-in shape):")
    for events in (50_000, 100_000):
        base = median(f"test_custom_shape_fit[builtin-{events}]")
        for signal, label in (("decorator", "@nfit.kernel with integral"), ("numeric", "@nfit.kernel, numeric norm")):
            value = median(f"test_custom_shape_fit[{signal}-{events}]")
            print(f"  {events:>7} events  {label:<30}{value:8.4f} s  {value / base:5.2f}x")
    print("\ntoy studies, 1000 toys of extended Gauss + Exponential (2000 events), MIGRAD + HESSE:")
    for workers, label in (("None", "one process"), ("1", "Dask, 1 worker"), ("2", "Dask, 2 workers")):
        name = f"test_toy_study[{workers}]"
        if name in bench:
            print(f"  {label:<18}{bench[name]['extra_info']['toys_per_second']:8.1f} toys/s")
    for shape in ("gauss", "crystalball", "headline_sum"):
        name = f"test_sampling_throughput[{shape}]"
        if name in bench:
            print(f"  sampling {shape:<14}{bench[name]['extra_info']['events_per_second']:10.3g} events/s")
    template = median("test_template_fit_iminuit")
    if template == template:  # not NaN: the binned benchmark ran
        print("\ntemplate fit, 100 bins, Gaussian signal + 2 templates, Barlow-Beeston lite, warm MIGRAD + HESSE:")
        for name, label in (("test_template_fit_nfit[compiled]", "nfit compiled"),
                            ("test_template_fit_nfit[eager]", "nfit eager"),
                            ("test_template_fit_iminuit", "iminuit.cost.Template + iminuit"),
                            ("test_template_fit_pyhf", "pyhf (NumPy, staterror fitted)")):
            if name not in bench:
                continue
            print(f"  {label:<34}{median(name) * 1e3:8.2f} ms  ({median(name) / template:5.2f}x iminuit)"
                  f"  calls {bench[name]['extra_info'].get('n_eval')}")
    for name in ("test_first_fit_fresh_process", "test_compiled_memory_at_1e7"):
        if name in bench:
            extra = ", ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}"
                              for k, v in bench[name]["extra_info"].items())
            print(f"\n{name}: {extra}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
