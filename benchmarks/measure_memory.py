"""Resident memory while new model structures come and go (docs/reliability.md).

    python benchmarks/measure_memory.py 40                          # kernels compiled by the helper
    NFIT_COMPILE_PROCESS=0 python benchmarks/measure_memory.py 40   # compiled in this process

Use an empty cache folder (NFIT_CACHE_DIR) for a first run: kernels found on disk cost no compile.
"""
import gc
import os
import sys

import numpy as np

import nfit


def resident_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def model(i, obs, data):
    degree, kind = i % 10 + 1, i // 10
    coeffs = [nfit.Parameter(f"c{i}_{j}", 0.01, -1, 1) for j in range(degree)]
    parts = [nfit.pdf.Chebyshev(obs=obs, coeffs=coeffs)]
    if kind % 2:
        parts.append(nfit.pdf.Gauss(mu=nfit.Parameter(f"m{i}", 0, -1, 1), sigma=1.0, obs=obs))
    if kind >= 2:
        parts.append(nfit.pdf.Exponential(lam=nfit.Parameter(f"l{i}", -0.1, -1, 1), obs=obs))
    if kind >= 4:
        parts.append(nfit.pdf.CrystalBall(mu=0.0, sigma=1.0, alpha=1.0, n=2.0 + kind, obs=obs))
    if len(parts) == 1:
        return nfit.loss.UnbinnedNLL(model=parts[0], data=data)
    fracs = [nfit.Parameter(f"f{i}_{j}", 0.2 / len(parts), 0, 1) for j in range(len(parts) - 1)]
    return nfit.loss.UnbinnedNLL(model=nfit.pdf.SumPDF(parts, fracs=fracs), data=data)


def main(n_models):
    obs = nfit.Space("x", limits=(-3, 3))
    x = np.random.default_rng(1).normal(0, 1, 2000)
    data = nfit.Data.from_numpy(obs, x[np.abs(x) < 3])
    print(f"start: {resident_mb():.0f} MB")
    for i in range(n_models):
        loss = model(i, obs, data)
        loss.value(), loss.gradient()
        del loss
        if i % 10 == 9:
            gc.collect()
            print(f"after {i + 1} models: {resident_mb():.0f} MB")
    nfit.cache.clear(disk=False)
    print(f"after cache.clear(): {resident_mb():.0f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
