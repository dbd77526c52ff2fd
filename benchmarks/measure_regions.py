"""Accuracy, node count and set-up time of the quadrature over function limits (nfit.region).

Run: ``python benchmarks/measure_regions.py``; each line is one region, with the relative error of
an integral that has a closed form.
"""
import time

import numpy as np
from scipy import stats

import nfit
from nfit import region


def case(name, obs, limits, inside, integrand, exact):
    space = nfit.Space(obs, limits=limits, inside=inside)
    start = time.perf_counter()
    x, w = region.nodes(space)
    elapsed = time.perf_counter() - start
    error = (w @ integrand(x) - exact) / exact
    print(f"| {name} | {w.size} | {error:+.1e} | {elapsed:.2f} s |")


def gauss(x, centre):
    r2 = sum((xi - c) ** 2 for xi, c in zip(x, centre))
    return np.exp(-0.5 * r2) / (2 * np.pi) ** (len(centre) / 2)


def main():
    print("| region | nodes | relative error | time to build the nodes |")
    print("|---|---|---|---|")
    c2 = (0.2, 0.3)
    case("disk r=0.77 off the box's centre, area", ["x", "y"], ((-1.1, -1.3), (1.2, 1.4)),
         lambda v: ((v - c2) ** 2).sum(axis=1) < 0.77 ** 2, lambda x: np.ones(x.shape[1]), np.pi * 0.77 ** 2)
    case("annulus 0.5 < r < 1.5, 2-D Gauss", ["x", "y"], ((-2, -2), (2, 2)),
         lambda v: ((v ** 2).sum(axis=1) < 2.25) & ((v ** 2).sum(axis=1) > 0.25), lambda x: gauss(x, (0, 0)),
         np.exp(-0.125) - np.exp(-1.125))
    case("triangle x + y < 1, x y", ["x", "y"], ((0, 0), (1, 1)), lambda v: v.sum(axis=1) < 1,
         lambda x: x[0] * x[1], 1 / 24)
    c3 = np.array((0.0311, -0.0537, 0.1))
    case("ball r=1.37 off centre, 3-D Gauss", ["x", "y", "z"], ((-2,) * 3, (2,) * 3),
         lambda v: ((v - c3) ** 2).sum(axis=1) < 1.37 ** 2, lambda x: gauss(x, c3), stats.chi(3).cdf(1.37))
    case("spherical shell 0.5 < r < 1.5, 3-D Gauss", ["x", "y", "z"], ((-2,) * 3, (2,) * 3),
         lambda v: ((v ** 2).sum(axis=1) < 2.25) & ((v ** 2).sum(axis=1) > 0.25), lambda x: gauss(x, (0, 0, 0)),
         stats.chi(3).cdf(1.5) - stats.chi(3).cdf(0.5))
    case("simplex x + y + z < 1, x y z", ["x", "y", "z"], ((0,) * 3, (1,) * 3), lambda v: v.sum(axis=1) < 1,
         lambda x: x[0] * x[1] * x[2], 1 / 720)


if __name__ == "__main__":
    main()
