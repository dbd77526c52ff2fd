"""The CUDA backend: kernels lowered from the same trees, run in Numba's CUDA simulator where there
is no GPU (small data: every GPU thread is a Python thread there), compared with the CPU kernels.
Tests that need a real device or CuPy skip, saying so, where there is none."""
import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_paths_agree import DATA, WEIGHTS, Builder
from test_paths_agree import OBS as TREE_OBS

import nfit

gpu_status = nfit.gpu.status()
needs_cuda = pytest.mark.skipif(gpu_status["backend"] == "unavailable",
                                reason=f"no CUDA backend here: {gpu_status['reason']}")
needs_device = pytest.mark.skipif(gpu_status["backend"] != "cuda",
                                  reason=f"needs a real GPU ({gpu_status['backend']}: {gpu_status['reason']})")

LO, HI = 5.0, 5.6
OBS = nfit.Space("m", limits=(LO, HI))
RNG = np.random.default_rng(2024)
X = np.concatenate([RNG.normal(5.28, 0.03, 50), RNG.uniform(LO, HI, 40)])
X = X[(X > LO) & (X < HI)]
W = RNG.uniform(0.3, 1.7, X.size)


@nfit.kernel
def breit_wigner(x, m, gamma):
    return 1.0 / ((x - m) ** 2 + 0.25 * gamma ** 2)


@breit_wigner.gradient
def _breit_wigner_gradient(x, m, gamma):
    d = (x - m) ** 2 + 0.25 * gamma ** 2
    return 2.0 * (x - m) / (d * d), -0.5 * gamma / (d * d)


def _data(weighted=False, x=X, obs=OBS):
    return nfit.Data.from_numpy(obs=obs, array=x, weights=W[:len(x)] if weighted else None)


def _signal_background(prefix, extended=False):
    mu = nfit.Parameter(f"{prefix}mu", 5.28, 5.2, 5.4)
    sigma = nfit.Parameter(f"{prefix}sigma", 0.03, 0.005, 0.2)
    lam = nfit.Parameter(f"{prefix}lam", -1.0, -10, 10)
    g = nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=OBS)
    e = nfit.pdf.Exponential(lam=lam, obs=OBS)
    if extended:
        ns = nfit.Parameter(f"{prefix}ns", 50.0, 0, 1000)
        nb = nfit.Parameter(f"{prefix}nb", 40.0, 0, 1000)
        return nfit.pdf.SumPDF([g.create_extended(ns), e.create_extended(nb)])
    frac = nfit.Parameter(f"{prefix}frac", 0.5, 0, 1)
    return nfit.pdf.SumPDF([g, e], fracs=[frac])


def case_sum_weighted():
    return nfit.loss.UnbinnedNLL, _signal_background("a"), _data(weighted=True), None


def case_extended_simultaneous_constrained():
    model_a = _signal_background("b", extended=True)
    mu = model_a.get_params(floating=True)[0]
    sigma2 = nfit.Parameter("b2sigma", 0.05, 0.005, 0.2)
    lam2 = nfit.Parameter("b2lam", 0.5, -10, 10)
    n2 = nfit.Parameter("b2n", 60.0, 0, 1000)
    model_b = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu=mu, sigma=sigma2, obs=OBS),
                               nfit.pdf.Exponential(lam=lam2, obs=OBS)], fracs=[0.4]).create_extended(n2)
    con = nfit.constraint.GaussianConstraint(params=[sigma2], observation=[0.045], uncertainty=[0.01])
    return (nfit.loss.ExtendedUnbinnedNLL, [model_a, model_b], [_data(), _data(x=X[::-1][:60])], con)


def case_crystal_ball_composed_width():
    mu = nfit.Parameter("cmu", 5.28, 5.2, 5.4)
    base = nfit.Parameter("cbase", 0.02, 0.005, 0.1)
    scale = nfit.Parameter("cscale", 1.5, 0.5, 3.0)
    sigma = nfit.ComposedParameter("csigma", lambda p: p["b"] * p["s"], params={"b": base, "s": scale})
    alpha = nfit.Parameter("calpha", 1.2, 0.2, 5)
    n = nfit.Parameter("cn", 2.0, 0.5, 10)
    return nfit.loss.UnbinnedNLL, nfit.pdf.CrystalBall(mu=mu, sigma=sigma, alpha=alpha, n=n, obs=OBS), _data(), None


def case_numerically_normalised():
    # a user kernel (device clone of the user's function) and a Voigt (complex arithmetic on the device)
    m = nfit.Parameter("dm", 5.28, 5.2, 5.4)
    gamma = nfit.Parameter("dgamma", 0.05, 0.005, 0.5)
    sigma = nfit.Parameter("dsigma", 0.02, 0.005, 0.1)
    bw = breit_wigner.pdf(obs=OBS, m=m, gamma=gamma)
    voigt = nfit.pdf.Voigt(m=m, sigma=sigma, gamma=gamma, obs=OBS)
    return nfit.loss.UnbinnedNLL, nfit.pdf.SumPDF([bw, voigt], fracs=[0.3]), _data(), None


def case_tables_and_polynomials():
    # shapes that read tables from the constants array on the device
    kde = nfit.pdf.KDE1DimExact(X[:30], obs=OBS)
    hist = nfit.pdf.HistogramPDF(np.histogram(X, bins=12, range=(LO, HI)), obs=OBS)
    c1 = nfit.Parameter("ec1", 0.1, -1, 1)
    cheb = nfit.pdf.Chebyshev(obs=OBS, coeffs=[c1, -0.05])
    f1, f2 = nfit.Parameter("ef1", 0.3, 0, 1), nfit.Parameter("ef2", 0.3, 0, 1)
    return nfit.loss.UnbinnedNLL, nfit.pdf.SumPDF([kde, hist, cheb], fracs=[f1, f2]), _data(), None


def case_product_2d():
    y_obs = nfit.Space("y", limits=(0.0, 2.0))
    space = OBS * y_obs
    tau = nfit.Parameter("ftau", -0.7, -5, 5)
    mu = nfit.Parameter("fmu", 5.28, 5.2, 5.4)
    model = nfit.pdf.ProductPDF([nfit.pdf.Gauss(mu=mu, sigma=0.03, obs=OBS),
                                 nfit.pdf.Exponential(lam=tau, obs=y_obs)])
    xy = np.column_stack([X, np.linspace(0.1, 1.9, X.size)])
    return nfit.loss.UnbinnedNLL, model, nfit.Data.from_numpy(obs=space, array=xy), None


def case_binned_template():
    # a loop over bins: exact bin integrals, a template leaf, Barlow-Beeston lite ("asy": lgamma)
    bobs = OBS.with_binning(12)
    template = nfit.Data.from_numpy(OBS, np.linspace(LO + 0.01, HI - 0.01, 60)).to_binned(bobs)
    mu = nfit.Parameter("bmu", 5.28, 5.2, 5.4)
    ns, nb = nfit.Parameter("bns", 40.0, 0, 1000), nfit.Parameter("bnb", 50.0, 0, 1000)
    model = nfit.pdf.BinnedSumPDF([nfit.pdf.Gauss(mu=mu, sigma=0.03, obs=OBS, extended=ns).to_binned(bobs),
                                   nfit.pdf.HistogramPDF(template, extended=nb)])
    return (lambda **kw: nfit.loss.TemplateNLL(method="asy", **kw)), model, _data().to_binned(bobs), None


def case_binned_quadrature_chi2():
    # a shape without a closed-form integral: Gauss-Legendre nodes inside each bin (a device function)
    m = nfit.Parameter("qm", 5.28, 5.2, 5.4)
    gamma = nfit.Parameter("qgamma", 0.02, 0.001, 0.1)
    voigt = nfit.pdf.Voigt(m=m, sigma=0.02, gamma=gamma, obs=OBS, extended=90.0)
    bobs = OBS.with_binning(nfit.binned.VariableBinning([LO, 5.2, 5.25, 5.27, 5.29, 5.31, 5.4, HI], name="m"))
    return nfit.loss.ExtendedBinnedChi2, voigt.to_binned(bobs), _data(weighted=True).to_binned(bobs), None


def case_numerical_convolution():
    m = nfit.Parameter("fcm", 5.28, 5.2, 5.4)
    width = nfit.Parameter("fcw", 0.02, 0.005, 0.1)
    peak = nfit.pdf.CrystalBall(mu=m, sigma=0.015, alpha=1.5, n=3.0, obs=OBS)
    func = nfit.pdf.SumPDF([peak, nfit.pdf.Exponential(lam=-1.0, obs=OBS)], fracs=[0.6])
    resolution = nfit.pdf.Gauss(mu=0.0, sigma=width, obs=nfit.Space("m", limits=(-0.15, 0.15)))
    conv = nfit.pdf.FFTConvPDFV1(func, resolution, n=61, extended=90.0)
    return nfit.loss.ExtendedUnbinnedNLL, conv, _data(weighted=True), None


def case_numerical_convolution_binned():
    width = nfit.Parameter("fbw", 0.02, 0.005, 0.1)
    low = nfit.Parameter("fblow", 4.98, 4.9, 5.05)
    conv = nfit.pdf.FFTConvPDFV1(nfit.pdf.Uniform(low, 5.63, obs=OBS),
                                 nfit.pdf.Gauss(mu=0.0, sigma=width, obs=nfit.Space("m", limits=(-0.1, 0.1))),
                                 n=41, interpolation="linear", extended=90.0)
    bobs = OBS.with_binning(nfit.binned.RegularBinning(12, LO, HI, name="m"))
    return nfit.loss.ExtendedBinnedNLL, conv.to_binned(bobs), _data(weighted=False).to_binned(bobs), None


CASES = [case_sum_weighted, case_extended_simultaneous_constrained, case_crystal_ball_composed_width,
         case_numerically_normalised, case_tables_and_polynomials, case_product_2d, case_binned_template,
         case_binned_quadrature_chi2, case_numerical_convolution, case_numerical_convolution_binned]


@needs_cuda
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__[5:])
def test_cuda_value_gradient_hessian_match_the_cpu(case):
    cls, model, data, constraints = case()
    cpu = cls(model=model, data=data, constraints=constraints, backend="numba")
    gpu = cls(model=model, data=data, constraints=constraints, backend="cuda")
    assert gpu.backend == "cuda" and cpu.backend == "numba"
    value, grad = cpu.value_gradient()
    g_value, g_grad = gpu.value_gradient()
    assert g_value == pytest.approx(value, rel=1e-10)
    assert gpu.value() == pytest.approx(value, rel=1e-10)
    np.testing.assert_allclose(g_grad, grad, rtol=1e-9, atol=1e-10 * np.max(np.abs(grad)))
    # (a numerical Hessian would compare the two kernels' rounding; the Crystal Ball's exact one
    # takes Numba seconds to compile for the CPU, and adds nothing the other cases do not test)
    if cpu.derivative_order == 2 and case is not case_crystal_ball_composed_width:
        hess, g_hess = cpu.hessian(), gpu.hessian()
        np.testing.assert_allclose(g_hess, hess, rtol=1e-9, atol=1e-10 * np.max(np.abs(hess)))
    # and the eager path, independent of both kernels
    eager = cls(model=model, data=data, constraints=constraints, mode="eager")
    assert g_value == pytest.approx(eager.value(), rel=1e-10)


@st.composite
def generated_loss(draw):
    b = Builder(draw)
    extended, weighted = draw(st.booleans()), draw(st.booleans())
    models, datas = [], []
    for channel in range(draw(st.integers(1, 2))):
        model = b.tree(depth=2)
        if extended and not model.is_extended:
            model = model.create_extended(b.param(10.0, 500.0))
        models.append(model)
        part = slice(40 * channel, 40 * channel + 40)
        datas.append(nfit.Data.from_numpy(TREE_OBS, DATA[part], weights=WEIGHTS[part] if weighted else None))
    cls = nfit.loss.ExtendedUnbinnedNLL if extended else nfit.loss.UnbinnedNLL
    return cls, models, datas


@needs_cuda
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=generated_loss())
def test_generated_trees_agree_on_cuda_and_eager(case):
    """Property test: on generated model trees, the CUDA kernel's loss equals the eager path's."""
    cls, models, datas = case
    gpu = cls(model=models, data=datas, backend="cuda")
    eager = cls(model=models, data=datas, mode="eager")
    x = np.array([float(p.value()) for p in gpu.get_params()])
    e, g = eager(x), gpu(x)
    if np.isfinite(e):
        assert abs(e - g) <= 1e-10 * max(1.0, abs(e)), (e, g)
    else:
        assert not np.isfinite(g)


@needs_cuda
def test_values_at_other_points_need_no_recompilation():
    cls, model, data, _ = case_sum_weighted()
    gpu = cls(model=model, data=data, backend="cuda")
    cpu = cls(model=model, data=data)
    names = [p.name for p in gpu.get_params()]
    points = [{"amu": 5.27, "asigma": 0.02, "alam": -0.5, "afrac": 0.3},
              {"amu": 5.3, "asigma": 0.05, "alam": 1.0, "afrac": 0.8},
              {"amu": 5.25, "asigma": 0.1, "alam": 3.0, "afrac": 0.1}]
    vectors = [np.array([point[name] for name in names]) for point in points]
    gpu(vectors[0]), cpu(vectors[0])
    before = nfit.cache.info()
    for x in vectors:
        assert np.isfinite(cpu(x)) and gpu(x) == pytest.approx(cpu(x), rel=1e-10)
    after = nfit.cache.info()
    assert after["misses"] == before["misses"] and after["compile_seconds"] == before["compile_seconds"]


@needs_cuda
def test_fit_on_cuda_matches_the_cpu_fit():
    results = []
    for backend in ("numba", "cuda"):
        model = _signal_background("g" + backend)
        loss = nfit.loss.UnbinnedNLL(model=model, data=_data(), backend=backend)
        result = nfit.minimize.Minuit().minimize(loss)
        result.hesse()
        assert result.valid
        results.append([(result.params[p]["value"], result.params[p]["hesse"]["error"])
                        for p in loss.get_params()])
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


@needs_cuda
def test_data_goes_to_the_device_once():
    x = X.copy()
    data = nfit.Data.from_numpy(obs=OBS, array=x, weights=W)
    loss = nfit.loss.UnbinnedNLL(model=_signal_background("h"), data=data, backend="cuda")
    uploads = nfit.gpu.stats["uploads"]
    loss.value()
    assert nfit.gpu.stats["uploads"] == uploads + 2  # the column and the weights
    for _ in range(3):
        loss.value_gradient()
    loss.value_gradient_hessian()
    assert nfit.gpu.stats["uploads"] == uploads + 2


@needs_cuda
def test_data_from_a_device_array_stays_on_the_device():
    from numba import cuda

    device = cuda.to_device(X)
    data = nfit.Data.from_numpy(obs=OBS, array=device)
    np.testing.assert_array_equal(data["m"], X)
    uploads = nfit.gpu.stats["uploads"]
    model = _signal_background("i")
    gpu = nfit.loss.UnbinnedNLL(model=model, data=data, backend="cuda")
    assert gpu.value() == pytest.approx(nfit.loss.UnbinnedNLL(model=model, data=_data()).value(), rel=1e-10)
    assert nfit.gpu.stats["uploads"] == uploads


@needs_cuda
def test_device_data_outside_the_limits_is_dropped_like_host_data():
    from numba import cuda

    with pytest.warns(UserWarning, match="1 of"):
        data = nfit.Data.from_numpy(obs=OBS, array=cuda.to_device(np.append(X, 7.0)))
    assert data.nevents == X.size
    with pytest.raises(ValueError, match="'m' has 1 NaN"):
        nfit.Data.from_numpy(obs=OBS, array=cuda.to_device(np.append(X, np.nan)))


@needs_cuda
def test_choosing_the_backend():
    cls, model, data, _ = case_sum_weighted()
    with nfit.run.backend("cuda"):
        assert nfit.run.get_backend() == "cuda"
        loss = cls(model=model, data=data)
        assert loss.backend == "cuda"
        value = loss.value()
    assert nfit.run.get_backend() == "numba" and loss.backend == "numba"
    assert cls(model=model, data=data, backend="cuda").backend == "cuda"
    assert value == pytest.approx(loss.value(), rel=1e-10)
    nfit.run.set_backend("cuda")
    try:
        assert cls(model=model, data=data).backend == "cuda"
        # eager mode is NumPy whatever the backend
        assert cls(model=model, data=data, mode="eager").value() == pytest.approx(value, rel=1e-10)
    finally:
        nfit.run.set_backend("numba")
    summed = cls(model=model, data=data, backend="cuda") + cls(model=model, data=data, backend="cuda")
    assert summed.backend == "cuda" and summed.value() == pytest.approx(2 * value, rel=1e-10)


def test_unknown_backend_is_an_error():
    with pytest.raises(ValueError, match="backend must be one of"):
        nfit.run.set_backend("opencl")
    with pytest.raises(ValueError, match="backend must be one of"):
        nfit.loss.UnbinnedNLL(model=_signal_background("j"), data=_data(), backend="gpu")


def test_signature_keys_the_backend():
    from nfit.compile.cuda import lower_nll_cuda
    from nfit.likelihood import Term

    model = _signal_background("k")
    loss = nfit.loss.UnbinnedNLL(model=model, data=_data())
    lowered = lower_nll_cuda([Term(model, OBS, OBS.obs, False, False)], loss._layout)
    signatures = {nfit.cache.signature(lowered, b) for b in ("numba", "cuda", "cuda-simulator")}
    assert len(signatures) == 3
    assert "@cuda.jit" in lowered.source and "reduce_blocks" in lowered.source
    # per-event math is the kernels/ source, as CUDA device functions
    assert "cuda_module" in lowered.source and "_kd0_pdf(" in lowered.source


@pytest.mark.skipif(gpu_status["backend"] == "cuda" or bool(os.environ.get("NUMBA_CUDA_DRIVER")),
                    reason="a GPU is present: there is no missing-GPU error to see")
def test_no_gpu_is_a_clear_error():
    code = (
        "import nfit, numpy as np\n"
        "try:\n    nfit.run.set_backend('cuda')\nexcept nfit.gpu.CudaUnavailableError as e:\n    print('A', e)\n"
        "obs = nfit.Space('x', limits=(0, 1))\n"
        "d = nfit.Data.from_numpy(obs=obs, array=np.array([0.5]))\n"
        "try:\n    nfit.loss.UnbinnedNLL(model=nfit.pdf.Uniform(low=0., high=1., obs=obs), data=d, backend='cuda')\n"
        "except RuntimeError as e:\n    print('B', e)\n"
    )
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="0")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("A nfit: backend 'cuda' cannot run here") and "NVIDIA GPU" in lines[0]
    assert "NUMBA_ENABLE_CUDASIM=1" in lines[0]
    assert lines[1].startswith("B nfit: backend 'cuda' cannot run here")


@needs_device
def test_real_device_large_data_matches_the_cpu():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(5.28, 0.03, 400_000), rng.uniform(LO, HI, 600_000)])
    data = nfit.Data.from_numpy(obs=OBS, array=x[(x > LO) & (x < HI)])
    model = _signal_background("l")
    cpu = nfit.loss.UnbinnedNLL(model=model, data=data)
    gpu = nfit.loss.UnbinnedNLL(model=model, data=data, backend="cuda")
    value, grad = cpu.value_gradient()
    g_value, g_grad = gpu.value_gradient()
    assert g_value == pytest.approx(value, rel=1e-10)
    np.testing.assert_allclose(g_grad, grad, rtol=1e-8, atol=1e-10 * np.max(np.abs(grad)))


@needs_device
def test_cupy_arrays_are_accepted():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed (pip install 'nfit[gpu]')")
    data = nfit.Data.from_numpy(obs=OBS, array=cupy.asarray(X), weights=cupy.asarray(W))
    model = _signal_background("n")
    uploads = nfit.gpu.stats["uploads"]
    gpu = nfit.loss.UnbinnedNLL(model=model, data=data, backend="cuda")
    cpu = nfit.loss.UnbinnedNLL(model=model, data=_data(weighted=True))
    assert gpu.value() == pytest.approx(cpu.value(), rel=1e-10)
    assert nfit.gpu.stats["uploads"] == uploads + 1  # the weights; the column was already there
