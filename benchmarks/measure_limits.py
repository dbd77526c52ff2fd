"""Toys of a signal search whose yield often sits at its limit: valid fits and calls, exact Hessian
(without Newton steps before MIGRAD, with them where the default takes them, and always; the
largest difference of the minima to the fits without) against MINUIT's numerical gradient
(docs/reliability.md).

    python benchmarks/measure_limits.py            # nfit as it is
    python benchmarks/measure_limits.py --before   # without the curvature of MINUIT's limit transform
"""
import sys

import numpy as np

import nfit
from nfit import bounds

if "--before" in sys.argv:
    bounds.minuit_needs_curvature_term = lambda: False


def main(n_toys=100):
    obs = nfit.Space("m", limits=(5.0, 5.6))
    mu = nfit.Parameter("mu", 5.28, 5.2, 5.35, floating=False)
    sigma = nfit.Parameter("sigma", 0.03, 0.005, 0.1, floating=False)
    lam = nfit.Parameter("lam", -1.0, -5, 1)
    nsig = nfit.Parameter("nsig", 5, 0, 1000)
    nbkg = nfit.Parameter("nbkg", 500, 0, 10_000)
    model = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs, extended=nsig),
                             nfit.pdf.Exponential(lam=lam, obs=obs, extended=nbkg)])
    fmins = {}
    configurations = ((None, False), (None, None), (None, True), ("minuit", None))
    for gradient, newton in configurations:
        for strategy in (0, 1, 2):
            valid = calls = steps = 0
            for toy in range(n_toys):
                rng = np.random.default_rng(toy)
                x = np.concatenate([rng.normal(5.28, 0.03, rng.poisson(5)),
                                    5.0 - np.log(1 - rng.uniform(0, 1 - np.exp(-0.6), rng.poisson(500)))])
                data = nfit.Data.from_numpy(obs=obs, array=x[(x > 5) & (x < 5.6)])
                nll = nfit.loss.ExtendedUnbinnedNLL(model=model, data=data)
                nsig.set_value(5), nbkg.set_value(500), lam.set_value(-1.0)
                result = nfit.minimize.Minuit(gradient=gradient, mode=strategy, newton=newton).minimize(nll)
                valid += result.valid
                calls += result.info["n_eval"]
                steps += bool(result.info.get("newton", {}).get("steps"))
                fmins[gradient, newton, strategy, toy] = result.fmin
            label = "exact" if gradient is None else gradient
            label += {None: "", False: ", newton=False", True: ", newton=True"}[newton] if gradient is None else ""
            line = f"gradient={label} strategy={strategy}: {valid}/{n_toys} valid, "
            line += f"{calls / n_toys:.1f} calls on average"
            if gradient is None and newton is not False:
                pairs = [(fmins[None, newton, strategy, t], fmins[None, False, strategy, t]) for t in range(n_toys)]
                worst = max(abs(a - b) for a, b in pairs)
                lower = sum(a <= b for a, b in pairs)
                higher = max(a - b for a, b in pairs)
                line += (f", Newton steps taken in {steps}; largest |fmin difference| to newton=False "
                         f"{worst:.2g}, as low or lower in {lower}, higher by at most {max(higher, 0.0):.2g}")
            print(line, flush=True)


if __name__ == "__main__":
    main()
