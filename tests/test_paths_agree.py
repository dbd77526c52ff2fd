"""Property tests: on generated model trees, the eager and compiled paths give the same loss
values (1e-10 relative) at many parameter points."""
import numpy as np
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import nfit

LO, HI = 0.0, 3.0
OBS = nfit.Space("x", limits=(LO, HI))
DATA = np.random.default_rng(7).uniform(LO, HI, 3000)
WEIGHTS = np.random.default_rng(8).uniform(0.1, 1.5, DATA.size)


class Builder:
    """Builds a random model tree and remembers how to draw valid parameter values for it."""

    def __init__(self, draw):
        self.draw = draw
        self.params = []  # (Parameter, low, high)
        self.count = 0

    def param(self, low, high):
        self.count += 1
        value = self.draw(st.floats(low, high))
        p = nfit.Parameter(f"p{self.count}", value, low, high)
        self.params.append((p, low, high))
        return p

    def leaf(self):
        kind = self.draw(st.sampled_from(["gauss", "expo", "uniform", "gauss_composed"]))
        if kind == "gauss":
            return nfit.pdf.Gauss(mu=self.param(0.5, 2.5), sigma=self.param(0.2, 2.0), obs=OBS)
        if kind == "gauss_composed":
            base, k = self.param(0.2, 1.0), self.param(0.5, 2.0)
            sigma = nfit.ComposedParameter(f"c{self.count}", lambda p: p["b"] * p["k"], params={"b": base, "k": k})
            return nfit.pdf.Gauss(mu=self.param(0.5, 2.5), sigma=sigma, obs=OBS)
        if kind == "expo":
            return nfit.pdf.Exponential(lam=self.param(-2.0, 2.0), obs=OBS)
        return nfit.pdf.Uniform(low=-1.0, high=4.0, obs=OBS)

    def tree(self, depth):
        if depth == 0 or self.draw(st.booleans()):
            return self.leaf()
        n = self.draw(st.integers(2, 3))
        children = [self.tree(depth - 1) for _ in range(n)]
        style = self.draw(st.sampled_from(["implicit", "normalised", "yields"]))
        if style == "yields":
            children = [c.create_extended(self.param(10.0, 1000.0)) if not c.is_extended else c for c in children]
            return nfit.pdf.SumPDF(children)
        if style == "implicit":
            fracs = [self.param(0.01, 1.0 / n) for _ in range(n - 1)]
        else:
            fracs = [self.param(0.1, 2.0) for _ in range(n)]
        return nfit.pdf.SumPDF([c.get_yield() and c or c for c in children], fracs=fracs)


@st.composite
def loss_and_points(draw):
    b = Builder(draw)
    extended = draw(st.booleans())
    weighted = draw(st.booleans())
    n_channels = draw(st.integers(1, 2))
    models, datas = [], []
    for ch in range(n_channels):
        model = b.tree(depth=2)
        if extended and not model.is_extended:
            model = model.create_extended(b.param(100.0, 5000.0))
        models.append(model)
        sl = slice(ch * 1000, ch * 1000 + 1000 + 500 * ch)
        datas.append(nfit.Data.from_numpy(OBS, DATA[sl], weights=WEIGHTS[sl] if weighted else None))
    cls = nfit.loss.ExtendedUnbinnedNLL if extended else nfit.loss.UnbinnedNLL
    points = draw(st.lists(st.lists(st.floats(0, 1), min_size=len(b.params), max_size=len(b.params)),
                           min_size=3, max_size=6))
    return cls, models, datas, b.params, points


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=loss_and_points())
def test_eager_and_compiled_losses_agree(case):
    cls, models, datas, params, points = case
    eager = cls(model=models, data=datas, mode="eager")
    compiled = cls(model=models, data=datas, mode="compiled")
    floating = eager.get_params()
    assert floating == compiled.get_params()
    bounds = {p: (lo, hi) for p, lo, hi in params}
    for u in points:
        x = np.array([bounds[p][0] + ui * (bounds[p][1] - bounds[p][0]) for p, ui in zip(floating, u)])
        e, c = eager(x), compiled(x)
        if np.isfinite(e):
            assert abs(e - c) <= 1e-10 * max(1.0, abs(e)), (e, c)
        else:
            assert not np.isfinite(c)


@settings(max_examples=15, deadline=None)
@given(mu=st.floats(0.5, 2.5), sigma=st.floats(0.2, 2.0), lam=st.floats(-2, 2), frac=st.floats(0.0, 1.0))
def test_pdf_values_agree(mu, sigma, lam, frac):
    g = nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=OBS)
    e = nfit.pdf.Exponential(lam=lam, obs=OBS)
    model = nfit.pdf.SumPDF([g, e], fracs=frac)
    x = np.linspace(LO, HI, 101)
    np.testing.assert_allclose(model.pdf(x, mode="compiled"), model.pdf(x, mode="eager"), rtol=1e-12)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=loss_and_points())
def test_generated_trees_gradient_and_hessian(case):
    """On generated trees: the compiled gradient matches numdifftools (relative 1e-6), and the
    eager and compiled gradients and Hessians match each other."""
    from nfit.numdiff import gradient as num_gradient

    cls, models, datas, params, points = case
    compiled = cls(model=models, data=datas, mode="compiled")
    eager = cls(model=models, data=datas, mode="eager")
    floating = compiled.get_params()
    assume(0 < len(floating) <= 10)  # larger trees: the Hessian goes numerical (tested elsewhere), and slow
    bounds = {p: (lo, hi) for p, lo, hi in params}
    u = points[0]
    x = np.array([bounds[p][0] + (0.1 + 0.8 * ui) * (bounds[p][1] - bounds[p][0]) for p, ui in zip(floating, u)])
    for p, v in zip(floating, x):
        p.set_value(v)
    value, grad, hess = compiled.value_gradient_hessian()
    if not np.isfinite(value):
        return
    _, egrad, ehess = eager.value_gradient_hessian()
    scale = np.array([0.1 * p.step_size for p in floating])
    reference = num_gradient(compiled, x, scale)
    # a central difference carries rounding of about eps |value| / step: a gradient that is exactly 0
    # comes back as a few 1e-13
    tol = 1e-6 * np.maximum(np.abs(reference), 1e-3 * np.max(np.abs(reference)) + 1e-9) \
        + 1e-14 * max(1.0, abs(value)) / scale
    assert np.all(np.abs(grad - reference) <= tol), (grad, reference)
    np.testing.assert_allclose(egrad, grad, rtol=1e-8, atol=1e-9 * np.max(np.abs(grad)))
    np.testing.assert_allclose(ehess, hess, rtol=1e-8, atol=1e-9 * np.max(np.abs(hess)))


def test_eager_sums_in_slices_agree_with_one_pass(monkeypatch):
    """The eager path sums a term's events in slices (EagerContext.CHUNK): value, gradient, Hessian and
    the weighted-fit correction are those of one pass and of the compiled path."""
    from nfit.eager import EagerContext

    obs = nfit.Space("x", limits=(-3, 3))
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.normal(0.2, 0.7, 3000), rng.uniform(-3, 3, 4000)])
    x = x[np.abs(x) < 3]
    data = nfit.Data.from_numpy(obs, x, weights=rng.uniform(0.5, 1.5, x.size))
    mu, sigma = nfit.Parameter("sl_mu", 0.1, -1, 1), nfit.Parameter("sl_sigma", 0.8, 0.1, 2)
    lam, n_sig, n_bkg = nfit.Parameter("sl_lam", -0.1, -1, 1), nfit.Parameter("sl_ns", 3000, 0, 1e4), \
        nfit.Parameter("sl_nb", 4000, 0, 1e4)
    model = nfit.pdf.SumPDF([nfit.pdf.Gauss(mu, sigma, obs=obs, extended=n_sig),
                             nfit.pdf.Exponential(lam, obs=obs, extended=n_bkg)])

    def derivatives(mode):
        loss = nfit.loss.ExtendedUnbinnedNLL(model, data, mode=mode)
        value, grad, hess = loss.value_gradient_hessian()
        result = nfit.minimize.Minuit().minimize(loss)
        errors = [r["error"] for r in result.hesse().values()]  # with the weights' correction
        for p, v in zip((mu, sigma, lam, n_sig, n_bkg), (0.1, 0.8, -0.1, 3000, 4000)):
            p.set_value(v)
        return value, grad, hess, np.array(errors)

    whole = derivatives("eager")
    monkeypatch.setattr(EagerContext, "CHUNK", 997)
    sliced = derivatives("eager")
    compiled = derivatives("compiled")
    for a, b, c in zip(whole, sliced, compiled):
        np.testing.assert_allclose(b, a, rtol=1e-10)
        np.testing.assert_allclose(b, c, rtol=1e-8)
