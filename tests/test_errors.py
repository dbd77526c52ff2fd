"""Bad input gets a clear error naming what is wrong."""
import sys
import textwrap

import numpy as np
import pytest

import nfit
from nfit.pdf.shape import KernelPDF


@pytest.fixture
def bad_kernel_pdf(tmp_path, monkeypatch):
    """A shape whose kernel NumPy can run but Numba cannot compile."""
    (tmp_path / "nfit_test_badkernel.py").write_text(textwrap.dedent("""
        import numpy as np
        PARAMS = ("a",)

        def pdf(x, a):
            return np.exp(a * x) * float(hash(object()) != 0)

        def integral(lower, upper, a):
            return (np.exp(a * upper) - np.exp(a * lower)) / a
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    import nfit_test_badkernel

    class Bad(KernelPDF):
        _kernel = nfit_test_badkernel

        def __init__(self, a, obs):
            super().__init__(obs, {"a": a}, name="Bad")

    yield Bad
    sys.modules.pop("nfit_test_badkernel", None)


def test_kernel_numba_cannot_compile_shows_source_and_message(bad_kernel_pdf, obs):
    model = bad_kernel_pdf(a=nfit.Parameter("a", -1.0), obs=obs)
    data = nfit.Data.from_numpy(obs, np.linspace(5.01, 5.59, 30))
    nll = nfit.loss.UnbinnedNLL(model=model, data=data)
    with pytest.raises(nfit.cache.CompileError) as info:
        nll.value()
    text = str(info.value)
    assert "generated source" in text and "nfit_test_badkernel" in text and "_pdf(" in text
    assert "Numba's message" in text and "mode='eager'" in text
    # the user can choose eager for this loss
    eager = nfit.loss.UnbinnedNLL(model=model, data=data, mode="eager")
    x = data["m"]
    expected = -np.sum(np.log(np.exp(-x) / ((np.exp(-5.6) - np.exp(-5.0)) / -1.0)))
    assert eager.value() == pytest.approx(expected, rel=1e-12)


def test_sigma_set_to_zero_later_is_explained(obs):
    sigma = nfit.Parameter("width", 0.05)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=5.3, sigma=sigma, obs=obs),
                                data=nfit.Data.from_numpy(obs, np.array([5.2, 5.3])))
    sigma.set_value(0.0)
    for mode in ("eager", "compiled"):
        with nfit.run.mode(mode):
            with pytest.raises(FloatingPointError, match="'sigma'.*'width'.*positive"):
                nll.value()


def test_minimizing_into_nan_region_is_invalid(obs):
    # a uniform whose edge is free: the best point puts events outside it, where the density is 0
    high = nfit.Parameter("high", 5.58, 5.1, 5.6)
    model = nfit.pdf.Uniform(low=5.0, high=high, obs=obs)
    data = nfit.Data.from_numpy(obs, np.array([5.05, 5.3, 5.55]))
    nll = nfit.loss.UnbinnedNLL(model=model, data=data)
    high.set_value(5.2)  # start where the loss is infinite
    result = nfit.minimize.Minuit().minimize(nll)
    assert not result.valid
    assert result.message


def test_wrong_types(obs):
    with pytest.raises(TypeError, match="obs must be a Space"):
        nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs="m")
    with pytest.raises(TypeError, match="expected a Parameter or a number"):
        nfit.pdf.Gauss(mu="five", sigma=1.0, obs=obs)
    with pytest.raises(TypeError, match="Data needs obs=Space"):
        nfit.Data.from_numpy(obs="m", array=np.array([1.0]))
    with pytest.raises(TypeError, match="model must be an nfit pdf"):
        nfit.loss.UnbinnedNLL(model=object(), data=nfit.Data.from_numpy(obs, np.array([5.1])))
