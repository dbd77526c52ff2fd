"""Custom shapes: the @nfit.kernel decorator and zfit-style ZPDF classes, on both paths, with
numerical normalisation, derivatives and readable errors."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from scipy import integrate, stats

import nfit
from nfit import z

LO, HI = 5.0, 5.6
X = np.linspace(LO, HI, 25)


@nfit.kernel
def breit_wigner(x, m, gamma):
    return 1.0 / ((x - m) ** 2 + 0.25 * gamma ** 2)


@nfit.kernel
def bw_with_gradient(x, m, gamma):
    return 1.0 / ((x - m) ** 2 + 0.25 * gamma ** 2)


@bw_with_gradient.gradient
def _bw_gradient(x, m, gamma):
    d = (x - m) ** 2 + 0.25 * gamma ** 2
    return 2.0 * (x - m) / (d * d), -0.5 * gamma / (d * d)


@nfit.kernel
def gauss_shape(x, mu, sigma):
    return np.exp(-0.5 * ((x - mu) / sigma) ** 2)


def bw_density(x, m, gamma):
    h = 0.5 * gamma
    norm = (np.arctan((HI - m) / h) - np.arctan((LO - m) / h)) / h
    return 1.0 / ((x - m) ** 2 + h * h) / norm


@pytest.mark.parametrize("gamma", [0.05, 0.01, 0.002])
def test_numeric_normalisation_of_a_breit_wigner(obs, mode, gamma):
    pdf = breit_wigner.pdf(obs=obs, m=5.28, gamma=gamma, panels=256 if gamma < 0.005 else None)
    np.testing.assert_allclose(pdf.pdf(X, mode=mode), bw_density(X, 5.28, gamma), rtol=1e-10)
    assert pdf.integrate((LO, HI))[0] == pytest.approx(1.0, abs=1e-10)


def test_numeric_normalisation_matches_the_analytic_one(obs, mode):
    custom = gauss_shape.pdf(obs=obs, mu=5.3, sigma=0.04)
    builtin = nfit.pdf.Gauss(mu=5.3, sigma=0.04, obs=obs)
    np.testing.assert_allclose(custom.pdf(X, mode=mode), builtin.pdf(X, mode=mode), rtol=1e-12)
    assert custom.integrate((5.25, 5.35))[0] == pytest.approx(stats.norm(5.3, 0.04).cdf(5.35) * 2 - 1, rel=1e-6)


def test_sharp_edge_is_covered(obs, mode):
    # a step inside the range: adaptive subdivision finds it (halving the panels around it)
    @nfit.kernel
    def step(x, edge):
        return 1.0 + 1.0 * (x > edge)

    pdf = step.pdf(obs=obs, edge=5.3317)
    exact = (5.3317 - LO) + 2 * (HI - 5.3317)
    assert pdf.integrate((LO, HI), norm=False)[0] == pytest.approx(exact, rel=1e-10)
    np.testing.assert_allclose(pdf.pdf(np.array([5.1, 5.5]), mode=mode), np.array([1.0, 2.0]) / exact, rtol=1e-10)


def test_attached_integral_is_used(obs, mode):
    @nfit.kernel
    def line(x, a):
        return 1.0 + a * (x - 5.3)

    @line.integral
    def _line_integral(lower, upper, a):
        return (upper - lower) + 0.5 * a * ((upper - 5.3) ** 2 - (lower - 5.3) ** 2)

    pdf = line.pdf(obs=obs, a=1.5)
    assert pdf._analytic
    expected = (1.0 + 1.5 * (X - 5.3)) / integrate.quad(lambda t: 1.0 + 1.5 * (t - 5.3), LO, HI)[0]
    np.testing.assert_allclose(pdf.pdf(X, mode=mode), expected, rtol=1e-12)


def toy_bw(obs, n=4000, seed=3):
    x = stats.cauchy(5.28, 0.025).rvs(size=3 * n, random_state=seed)
    return nfit.Data.from_numpy(obs, x[(x > LO) & (x < HI)][:n])


@pytest.mark.parametrize("shape", [breit_wigner, bw_with_gradient])
def test_custom_kernel_fit_recovers_truth(obs, mode, shape):
    m = nfit.Parameter("m", 5.27, 5.2, 5.4)
    gamma = nfit.Parameter("gamma", 0.06, 0.005, 0.3)
    nll = nfit.loss.UnbinnedNLL(model=shape.pdf(obs=obs, m=m, gamma=gamma), data=toy_bw(obs), mode=mode)
    result = nfit.minimize.Minuit().minimize(nll)
    result.hesse()
    assert result.valid
    assert abs(m.value() - 5.28) < 3 * result.params[m]["hesse"]["error"]
    assert abs(gamma.value() - 0.05) < 3 * result.params[gamma]["hesse"]["error"]
    assert result.info["gradient"] == ("exact" if shape is bw_with_gradient else "minuit")


def test_custom_kernel_derivatives_and_paths(obs):
    m = nfit.Parameter("m", 5.29, 5.2, 5.4)
    gamma = nfit.Parameter("gamma", 0.04, 0.005, 0.3)
    frac = nfit.Parameter("frac", 0.6, 0, 1)
    model = nfit.pdf.SumPDF([bw_with_gradient.pdf(obs=obs, m=m, gamma=gamma), nfit.pdf.Exponential(lam=-1, obs=obs)],
                            fracs=frac)
    nll = nfit.loss.UnbinnedNLL(model=model, data=toy_bw(obs))
    assert nll.derivative_order == 1
    from nfit.numdiff import gradient

    params = nll.get_params()
    x0 = np.array([p.value() for p in params])
    with nfit.run.mode("eager"):
        ve, ge = nll.value_gradient()
    vc, gc = nll.value_gradient()
    assert vc == pytest.approx(ve, rel=1e-12)
    np.testing.assert_allclose(gc, ge, rtol=1e-9)
    reference = gradient(nll, x0, np.array([0.1 * p.step_size for p in params]))
    np.testing.assert_allclose(gc, reference, rtol=1e-6, atol=1e-6 * np.max(np.abs(reference)))


def test_custom_kernel_in_extended_simultaneous_fit(obs):
    m = nfit.Parameter("m", 5.28, 5.2, 5.4)
    g = nfit.Parameter("g", 0.03, 0.005, 0.3)
    n1, n2 = nfit.Parameter("n1", 1000, 0, 1e5), nfit.Parameter("n2", 1000, 0, 1e5)
    a = breit_wigner.pdf(obs=obs, m=m, gamma=g, extended=n1)
    b = breit_wigner.pdf(obs=obs, m=m, gamma=g, extended=n2)
    d1, d2 = toy_bw(obs, 1500, 1), toy_bw(obs, 2500, 2)
    for mode in ("eager", "compiled"):
        both = nfit.loss.ExtendedUnbinnedNLL(model=[a, b], data=[d1, d2], mode=mode)
        parts = (nfit.loss.ExtendedUnbinnedNLL(model=a, data=d1, mode=mode).value()
                 + nfit.loss.ExtendedUnbinnedNLL(model=b, data=d2, mode=mode).value())
        assert both.value() == pytest.approx(parts, rel=1e-12)


def test_kernel_parameters_are_checked(obs):
    with pytest.raises(TypeError, match="missing \\['gamma'\\]"):
        breit_wigner.pdf(obs=obs, m=5.3)
    with pytest.raises(TypeError, match="unknown \\['width'\\]"):
        breit_wigner.pdf(obs=obs, m=5.3, gamma=0.1, width=2)


def test_kernel_numba_cannot_compile_shows_the_users_function(obs):
    @nfit.kernel
    def unusual(x, a):
        return np.exp(a * x) * float(len({"k": a}) > 0)

    pdf = unusual.pdf(obs=obs, a=-1.0)
    data = nfit.Data.from_numpy(obs, np.linspace(5.01, 5.59, 20))
    with pytest.raises(nfit.cache.CompileError) as info:
        nfit.loss.UnbinnedNLL(model=pdf, data=data).value()
    text = str(info.value)
    assert "your kernel" in text and "def unusual(x, a):" in text and "Numba's message" in text
    eager = nfit.loss.UnbinnedNLL(model=pdf, data=data, mode="eager").value()
    x = data["m"]
    assert eager == pytest.approx(-np.sum(np.log(np.exp(-x) / (np.exp(-5.0) - np.exp(-5.6)))), rel=1e-10)


class CustomPDF(nfit.pdf.ZPDF):
    _PARAMS = ['alpha']

    def _unnormalized_pdf(self, x):
        return z.exp(self.params['alpha'] * x[0])


class Crystal(nfit.pdf.ZPDF):
    """A Crystal Ball written with z.where: a branch the tracer turns into a select."""

    _PARAMS = ["mu", "sigma", "alpha", "n"]

    def _unnormalized_pdf(self, x):
        t = (x[0] - self.params["mu"]) / self.params["sigma"]
        a, n = self.params["alpha"], self.params["n"]
        tail = (n / a) ** n * z.exp(-0.5 * a * a) * (n / a - a - t) ** (-n)
        return z.where(t > -a, z.exp(-0.5 * t * t), tail)


def test_seed_custom_example_ports_as_written(obs, mode):
    alpha = nfit.Parameter("alpha", -1.2, -5, 5)
    pdf = CustomPDF(obs=obs, alpha=alpha)
    expected = -1.2 * np.exp(-1.2 * X) / (np.exp(-1.2 * HI) - np.exp(-1.2 * LO))
    np.testing.assert_allclose(pdf.pdf(X, mode=mode), expected, rtol=1e-12)
    x = headline_exponential(-1.5, 5000)
    nll = nfit.loss.UnbinnedNLL(model=pdf, data=nfit.Data.from_numpy(obs, x), mode=mode)
    result = nfit.minimize.Minuit().minimize(nll)
    result.hesse()
    assert result.valid and result.info["gradient"] == "exact"
    assert abs(alpha.value() + 1.5) < 3 * result.params[alpha]["hesse"]["error"]


def headline_exponential(lam, n):
    from nfit.headline import _truncated_exponential

    return _truncated_exponential(np.random.default_rng(9), n, lam, LO, HI)


def test_zpdf_with_branches_against_scipy(obs, mode):
    dist = stats.crystalball(beta=1.2, m=3.0, loc=5.3, scale=0.03)
    expected = dist.pdf(X) / (dist.cdf(HI) - dist.cdf(LO))
    # the joint of core and tail has a jump in the second derivative: adaptive subdivision halves
    # the panels around it until the integral settles
    pdf = Crystal(obs=obs, mu=5.3, sigma=0.03, alpha=1.2, n=3.0)
    np.testing.assert_allclose(pdf.pdf(X, mode=mode), expected, rtol=1e-10)


def test_zpdf_derivatives_against_numdifftools(obs):
    params = {k: nfit.Parameter(k, v, v - 1, v + 5) for k, v in dict(mu=5.3, sigma=0.03, alpha=1.2, n=3.0).items()}
    pdf = Crystal(obs=obs, **params)
    x = stats.crystalball(beta=1.2, m=3.0, loc=5.3, scale=0.03).rvs(size=6000, random_state=1)
    nll = nfit.loss.UnbinnedNLL(model=pdf, data=nfit.Data.from_numpy(obs, x[(x > LO) & (x < HI)]))
    from nfit.numdiff import gradient

    free = nll.get_params()
    x0 = np.array([p.value() for p in free])
    _, grad, hess = nll.value_gradient_hessian()
    with nfit.run.mode("eager"):
        _, egrad, ehess = nll.value_gradient_hessian()
    ref = gradient(nll, x0, np.array([1e-3, 1e-4, 1e-3, 1e-2]))
    np.testing.assert_allclose(grad, ref, rtol=1e-6, atol=1e-6 * np.max(np.abs(ref)))
    np.testing.assert_allclose(egrad, grad, rtol=1e-9, atol=1e-9 * np.max(np.abs(grad)))
    np.testing.assert_allclose(ehess, hess, rtol=1e-9, atol=1e-9 * np.max(np.abs(hess)))


def test_untraceable_zpdf_runs_eagerly_and_explains_compiled(obs):
    class NumpyShape(nfit.pdf.ZPDF):
        _PARAMS = ["s"]

        def _unnormalized_pdf(self, x):
            return np.exp(-0.5 * ((x[0] - 5.3) / self.params["s"]) ** 2)

    pdf = NumpyShape(obs=obs, s=0.05)
    np.testing.assert_allclose(pdf.pdf(X, mode="eager"), nfit.pdf.Gauss(mu=5.3, sigma=0.05, obs=obs).pdf(X),
                               rtol=1e-10)
    with pytest.raises(TypeError, match="cannot be compiled.*z.exp"):
        pdf.pdf(X, mode="compiled")


def test_zpdf_parameters_are_checked(obs):
    with pytest.raises(TypeError, match="missing \\['alpha'\\]"):
        CustomPDF(obs=obs)


_COMB = np.array([5.1, 5.25, 5.4])


@nfit.kernel
def gauss_comb(x, width):
    # np.exp and np.log on an array inside a per-event kernel: compiled, exp/log are nfit's vectorising
    # ones for scalars and NumPy's for arrays
    return np.sum(np.exp(-0.5 * ((x - _COMB) / width) ** 2)) + 0.01 * np.log(np.exp(1.0))


def test_kernel_using_numpy_on_its_own_arrays(obs):
    width = nfit.Parameter("comb_width", 0.05, 0.01, 0.2)
    pdf = gauss_comb.pdf(obs, width=width)
    eager, compiled = pdf.pdf(X, mode="eager"), pdf.pdf(X, mode="compiled")
    raw = np.array([np.sum(np.exp(-0.5 * ((x - _COMB) / 0.05) ** 2)) + 0.01 for x in X])
    norm = integrate.quad(lambda x: np.sum(np.exp(-0.5 * ((x - _COMB) / 0.05) ** 2)) + 0.01, LO, HI,
                          points=list(_COMB), limit=200)[0]
    np.testing.assert_allclose(compiled, raw / norm, rtol=1e-9)
    np.testing.assert_allclose(compiled, eager, rtol=1e-10)
    data = nfit.Data.from_numpy(obs, np.random.default_rng(3).choice(X, 200))
    assert nfit.loss.UnbinnedNLL(model=pdf, data=data, mode="compiled").value() == pytest.approx(
        nfit.loss.UnbinnedNLL(model=pdf, data=data, mode="eager").value(), rel=1e-10)


CONSTANT_SCRIPT = '''
import json, sys
import numba
import numpy as np
import nfit

SLOPE, POWER = float(sys.argv[1]), float(sys.argv[2])


@numba.njit
def decay(x):
    return np.exp(-SLOPE * x)


@nfit.kernel
def shape(x, a):
    return decay(x) * (1.0 + a * x) ** POWER


obs = nfit.Space("x", limits=(0.0, 2.0))
data = nfit.Data.from_numpy(obs, np.linspace(0.05, 1.95, 200))
model = shape.pdf(obs=obs, a=0.5)
values = [nfit.loss.UnbinnedNLL(model=model, data=data, mode=m).value() for m in ("compiled", "eager")]
print(json.dumps(values))
'''


def test_a_changed_constant_of_a_kernel_is_a_new_kernel(tmp_path):
    """A kernel's compiled code has the global constants it reads (directly, and through a helper it
    calls) baked in: a later process with another value must not get the first one's code from the
    disk cache."""
    script = tmp_path / "constant_kernel.py"
    script.write_text(CONSTANT_SCRIPT)
    env = dict(os.environ, NFIT_CACHE_DIR=str(tmp_path / "cache"))
    results = {}
    for constants in (("1.0", "1.0"), ("2.0", "1.0"), ("1.0", "2.0"), ("1.0", "1.0")):
        out = subprocess.run([sys.executable, str(script), *constants], capture_output=True, text=True, env=env,
                             timeout=300)
        assert out.returncode == 0, out.stderr
        compiled, eager = json.loads(out.stdout.strip().splitlines()[-1])
        assert compiled == pytest.approx(eager, rel=1e-10)
        results.setdefault(constants, []).append(compiled)
    assert len({v[0] for v in results.values()}) == 3 and results[("1.0", "1.0")][0] == results[("1.0", "1.0")][1]
    assert len(list((tmp_path / "cache").glob("nfit_k_*.py"))) == 3
