"""The ``nfit`` command line: ``nfit demo``, ``nfit bench``, ``nfit cache info|clear``.

>>> main(["cache", "info"])  # doctest: +ELLIPSIS
entries ...
0
"""
from __future__ import annotations

import argparse
import json
import sys


def _demo(args) -> int:
    from .demo import run_demo

    report = run_demo(n_events=args.events, repeats=args.repeats, quiet=args.json)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    return 0 if report["valid"] else 1


def _bench(args) -> int:
    from .bench import run_bench

    report = run_bench(sizes=args.sizes, quiet=args.json)
    if args.json:
        print(json.dumps(report, indent=2))
    return 0


def _cache(args) -> int:
    from . import cache

    if args.action == "clear":
        cache.clear()
        print(f"cleared {cache.folder()}")
        return 0
    info = cache.info()
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        for key, value in info.items():
            if key in ("disk_bytes", "disk_limit_bytes"):
                value = f"{value / 2**20:.1f} MB" if value or key == "disk_bytes" else "no limit"
            print(f"{key:<18} {value}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="nfit", description="Model fitting for particle physics")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="the headline fit on the eager and compiled paths")
    demo.add_argument("--events", type=int, default=50_000, help="total events over both channels")
    demo.add_argument("--repeats", type=int, default=3, help="warm fits to take the median of")
    demo.add_argument("--json", action="store_true", help="print the report as JSON")
    demo.set_defaults(func=_demo)
    bench = sub.add_parser("bench", help="one NLL evaluation: eager vs compiled vs hand-fused, as ratios")
    bench.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    bench.add_argument("--json", action="store_true")
    bench.set_defaults(func=_bench)
    cache_cmd = sub.add_parser("cache", help="the kernel cache")
    cache_cmd.add_argument("action", choices=["info", "clear"])
    cache_cmd.add_argument("--json", action="store_true")
    cache_cmd.set_defaults(func=_cache)
    args = parser.parse_args(argv)
    if getattr(args, "events", 2) < 2:
        parser.error("--events must be at least 2")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
