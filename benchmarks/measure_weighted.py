"""Toys of a weighted Gaussian fit: the spread of the fitted mean against the mean HESSE error with
each weight correction (docs/reliability.md).

    python benchmarks/measure_weighted.py
"""
import numpy as np

import nfit


def main(n_toys=400):
    obs = nfit.Space("x", limits=(-3, 3))
    mu = nfit.Parameter("mu", 0.0, -1, 1)
    sg = nfit.Parameter("sg", 1.0, 0.3, 3)
    model = nfit.pdf.Gauss(mu=mu, sigma=sg, obs=obs)
    fitted, errors = [], {"asymptotic": [], "sumw2": [], False: []}
    rng = np.random.default_rng(21)
    for _ in range(n_toys):
        x = rng.normal(0.0, 1.0, 3000)
        x = x[np.abs(x) < 3]
        w = rng.uniform(0.2, 1.0, x.size)  # mean weight 0.6
        nll = nfit.loss.UnbinnedNLL(model=model, data=nfit.Data.from_numpy(obs=obs, array=x, weights=w))
        mu.set_value(0.0), sg.set_value(1.0)
        result = nfit.minimize.Minuit().minimize(nll)
        fitted.append(mu.value())
        for key in errors:
            errors[key].append(np.sqrt(result.covariance(params=[mu], weightcorr=key)[0, 0]))
    spread = np.std(fitted, ddof=1)
    print(f"spread of the fitted mean over {n_toys} toys: {spread:.4f} +- {spread / np.sqrt(2 * (n_toys - 1)):.4f}")
    for key, values in errors.items():
        print(f"mean HESSE error, weightcorr={key!r}: {np.mean(values):.4f}")


if __name__ == "__main__":
    main()
