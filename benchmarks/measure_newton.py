"""Where the Newton steps before MIGRAD pay (docs/reliability.md): warm fits (MIGRAD + HESSE, compiled
path, medians) with the default ``Minuit()`` against ``Minuit(newton=False)``, side by side in one run.

- an extended Gauss + Exponential (5 free parameters) at 2000 and 50000 events, from start values ever
  further from the minimum (the EDM at the start in the first column);
- a sum of four extended Gausses (12 free parameters, each event depends on all of them: no steps
  by default) with ``newton=True`` against ``newton=False``;
- the headline model at 1e6 events from its start values (``headline.build``'s, yields scaled).

    python benchmarks/measure_newton.py
"""
import time

import numpy as np

import nfit
from nfit import headline
from nfit.newton import _newton_step
from nfit.objective import Objective


def _warm_fits(loss, params, newtons, rounds=25):
    """Median time and calls of MIGRAD + HESSE for each ``newton`` choice, the fits interleaved."""
    start = [p.value() for p in params]
    minimizers = [nfit.minimize.Minuit(newton=newton) for newton in newtons]
    times = [[] for _ in newtons]
    calls = [0] * len(newtons)
    for i in range(rounds + 3):
        for k, minimizer in enumerate(minimizers):
            for p, v in zip(params, start):
                p.set_value(v)
            t = time.perf_counter()
            result = minimizer.minimize(loss)
            result.hesse()
            times[k].append(time.perf_counter() - t)
            calls[k] = result.info["n_eval"]
            assert result.valid
            if i < 3:
                nfit.run.wait_for_kernels()
    for p, v in zip(params, start):
        p.set_value(v)
    return [(float(np.median(t[3:])), c) for t, c in zip(times, calls)]


def _start_edm(loss, params):
    objective = Objective(loss, params)
    _, gradient, hessian = objective.derivatives(np.array([p.value() for p in params]))
    step = _newton_step(gradient, hessian)
    return step[1] if step else float("inf")


def gauss_exponential(n, shift, rng):
    obs = nfit.Space("m", limits=headline.LIMITS)
    x = headline.make_channel_a(n, rng)
    mu = nfit.Parameter("mu", 5.28 + 0.004 * shift, 5.2, 5.35)
    sigma = nfit.Parameter("sigma", 0.025 * (1 + 0.15 * shift), 0.005, 0.1)
    lam = nfit.Parameter("lam", -1.5 + 0.3 * shift, -5, 1)
    nsig = nfit.Parameter("nsig", 0.32 * n * (1 - 0.1 * shift), 0, 1e7)
    nbkg = nfit.Parameter("nbkg", 0.68 * n * (1 + 0.05 * shift), 0, 1e7)
    model = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs, extended=nsig),
                             nfit.pdf.Exponential(lam=lam, obs=obs, extended=nbkg)])
    loss = nfit.loss.ExtendedUnbinnedNLL(model=model, data=nfit.Data.from_numpy(obs, x), mode="compiled")
    return loss, loss.get_params()


def four_gausses(n, rng):
    obs = nfit.Space("x", limits=(0, 8))
    x = np.concatenate([rng.normal(1 + 2 * k, 0.3, n // 4) for k in range(4)])
    pdfs = [nfit.pdf.Gauss(mu=nfit.Parameter(f"mu{k}", 1.1 + 2 * k, 2 * k, 2 * k + 2),
                           sigma=nfit.Parameter(f"sg{k}", 0.35, 0.05, 1), obs=obs)
            .create_extended(nfit.Parameter(f"n{k}", 0.9 * n / 4, 0, 1e6)) for k in range(4)]
    data = nfit.Data.from_numpy(obs, x[(x > 0) & (x < 8)])
    loss = nfit.loss.ExtendedUnbinnedNLL(model=nfit.pdf.SumPDF(pdfs), data=data, mode="compiled")
    return loss, loss.get_params()


def main():
    rng = np.random.default_rng(5)
    print("| model | events | EDM at the start | default | newton=False | default / newton=False |")
    print("|---|---|---|---|---|---|")
    for n in (2000, 50_000):
        for shift in (0.0, 0.6, 1.0, 2.0):
            loss, params = gauss_exponential(n, shift, rng)
            edm = _start_edm(loss, params)
            (a, ca), (b, cb) = _warm_fits(loss, params, (None, False))
            print(f"| Gauss + Exponential | {n} | {edm:.3g} | {1e3 * a:.2f} ms ({ca}) | {1e3 * b:.2f} ms ({cb}) "
                  f"| {a / b:.2f} |", flush=True)
    loss, params = four_gausses(20_000, rng)
    edm = _start_edm(loss, params)
    (a, ca), (b, cb) = _warm_fits(loss, params, (True, False))
    print(f"| four Gausses, newton=True | 20000 | {edm:.3g} | {1e3 * a:.2f} ms ({ca}) | {1e3 * b:.2f} ms ({cb}) "
          f"| {a / b:.2f} |", flush=True)
    loss, params = headline.build(headline.make_data(1_000_000), mode="compiled")
    params = loss.get_params()
    edm = _start_edm(loss, params)
    (a, ca), (b, cb) = _warm_fits(loss, params, (None, False), rounds=10)
    print(f"| headline | 1000000 | {edm:.3g} | {1e3 * a:.1f} ms ({ca}) | {1e3 * b:.1f} ms ({cb}) | {a / b:.2f} |")


if __name__ == "__main__":
    main()
