"""Loss values against independent references (scipy.stats, iminuit's cost functions), on both paths."""
import numpy as np
import pytest
from scipy import stats

import nfit

LO, HI = 5.0, 5.6


def truncnorm_logpdf(x, mu, sigma):
    d = stats.norm(mu, sigma)
    return d.logpdf(x) - np.log(d.cdf(HI) - d.cdf(LO))


def trunc_expo_pdf(x, lam):
    return lam * np.exp(lam * x) / (np.exp(lam * HI) - np.exp(lam * LO))


@pytest.fixture
def sample(rng):
    x = np.concatenate([rng.normal(5.28, 0.025, 400), rng.uniform(LO, HI, 600)])
    return x[(x >= LO) & (x <= HI)]


@pytest.fixture
def gauss_model(obs):
    mu = nfit.Parameter("mu", 5.28, 5.2, 5.35)
    sigma = nfit.Parameter("sigma", 0.03, 0.005, 0.1)
    return nfit.pdf.Gauss(mu=mu, sigma=sigma, obs=obs), mu, sigma


def test_unbinned_nll_equals_scipy(obs, sample, gauss_model, mode):
    model, mu, sigma = gauss_model
    data = nfit.Data.from_numpy(obs=obs, array=sample)
    nll = nfit.loss.UnbinnedNLL(model=model, data=data, mode=mode)
    assert nll.value() == pytest.approx(-truncnorm_logpdf(sample, 5.28, 0.03).sum(), rel=1e-12)
    assert nll.errordef == 0.5
    assert nll.get_params() == [mu, sigma]
    # callable with an array of the free parameters' values, in get_params() order
    assert nll(np.array([5.27, 0.04])) == pytest.approx(-truncnorm_logpdf(sample, 5.27, 0.04).sum(), rel=1e-12)
    # a call does not move the parameters
    assert mu.value() == 5.28


def test_extended_nll_equals_iminuit_cost(obs, sample, mode):
    from iminuit.cost import ExtendedUnbinnedNLL as IminuitExtended

    nsig, nbkg = nfit.Parameter("nsig", 350.0, 0, 5000), nfit.Parameter("nbkg", 600.0, 0, 5000)
    sig = nfit.pdf.Gauss(mu=5.28, sigma=0.025, obs=obs, extended=nsig)
    bkg = nfit.pdf.Exponential(lam=-0.5, obs=obs, extended=nbkg)
    nll = nfit.loss.ExtendedUnbinnedNLL(model=nfit.pdf.SumPDF([sig, bkg]), data=nfit.Data.from_numpy(obs, sample),
                                        mode=mode)

    def density(x, ns, nb):
        d = stats.norm(5.28, 0.025)
        g = d.pdf(x) / (d.cdf(HI) - d.cdf(LO))
        return ns + nb, ns * g + nb * trunc_expo_pdf(x, -0.5)

    reference = IminuitExtended(sample, density)
    for ns, nb in [(350.0, 600.0), (100.0, 900.0), (500.0, 400.0)]:
        # iminuit returns 2 * (nu - sum log(nu f)); nfit returns the NLL itself
        ours = nll(np.array([ns, nb]))
        theirs = reference(ns, nb) / 2.0 if reference.errordef == 1.0 else reference(ns, nb)
        assert ours == pytest.approx(theirs, rel=1e-11)


def test_weighted_nll(obs, sample, gauss_model, mode):
    model, _, _ = gauss_model
    w = np.random.default_rng(5).uniform(0.2, 2.0, sample.size)
    nll = nfit.loss.UnbinnedNLL(model=model, data=nfit.Data.from_numpy(obs, sample, weights=w), mode=mode)
    assert nll.value() == pytest.approx(-(w * truncnorm_logpdf(sample, 5.28, 0.03)).sum(), rel=1e-12)


def test_weighted_extended_nll(obs, sample, mode):
    w = np.random.default_rng(6).uniform(0.2, 2.0, sample.size)
    n = nfit.Parameter("n", 800.0, 0, 1e4)
    model = nfit.pdf.Gauss(mu=5.28, sigma=0.03, obs=obs, extended=n)
    nll = nfit.loss.ExtendedUnbinnedNLL(model=model, data=nfit.Data.from_numpy(obs, sample, weights=w), mode=mode)
    expected = 800.0 - w.sum() * np.log(800.0) - (w * truncnorm_logpdf(sample, 5.28, 0.03)).sum()
    assert nll.value() == pytest.approx(expected, rel=1e-12)


def test_simultaneous_equals_sum_of_parts(obs, rng, mode):
    mu = nfit.Parameter("mu", 5.28, 5.2, 5.35)
    sa, sb = nfit.Parameter("sa", 0.02, 0.005, 0.1), nfit.Parameter("sb", 0.04, 0.005, 0.1)
    ma = nfit.pdf.Gauss(mu=mu, sigma=sa, obs=obs)
    mb = nfit.pdf.Gauss(mu=mu, sigma=sb, obs=obs)
    da = nfit.Data.from_numpy(obs, rng.uniform(LO, HI, 300))
    db = nfit.Data.from_numpy(obs, rng.uniform(LO, HI, 500))
    la = nfit.loss.UnbinnedNLL(model=ma, data=da, mode=mode)
    lb = nfit.loss.UnbinnedNLL(model=mb, data=db, mode=mode)
    both = nfit.loss.UnbinnedNLL(model=[ma, mb], data=[da, db], mode=mode)
    added = la + lb
    assert isinstance(added, nfit.loss.UnbinnedNLL)
    assert both.value() == pytest.approx(la.value() + lb.value(), rel=1e-13)
    assert added.value() == pytest.approx(both.value(), rel=1e-13)
    assert [p.name for p in both.get_params()] == ["mu", "sa", "sb"]


def test_mixed_sum_of_losses(obs, rng):
    n = nfit.Parameter("n", 300.0, 0, 1e4)
    ma = nfit.pdf.Gauss(mu=5.3, sigma=0.05, obs=obs)
    mb = nfit.pdf.Gauss(mu=5.3, sigma=0.05, obs=obs, extended=n)
    da = nfit.Data.from_numpy(obs, rng.uniform(LO, HI, 100))
    la = nfit.loss.UnbinnedNLL(model=ma, data=da)
    lb = nfit.loss.ExtendedUnbinnedNLL(model=mb, data=da)
    total = la + lb
    assert total.value() == pytest.approx(la.value() + lb.value(), rel=1e-13)


def test_gaussian_constraint(obs, sample, gauss_model, mode):
    model, mu, sigma = gauss_model
    data = nfit.Data.from_numpy(obs, sample)
    con = nfit.constraint.GaussianConstraint(params=[sigma], observation=[0.025], uncertainty=[0.002])
    plain = nfit.loss.UnbinnedNLL(model=model, data=data, mode=mode)
    constrained = nfit.loss.UnbinnedNLL(model=model, data=data, constraints=con, mode=mode)
    assert constrained.value() - plain.value() == pytest.approx(0.5 * ((0.03 - 0.025) / 0.002) ** 2, rel=1e-9)


def test_gaussian_constraint_with_covariance():
    a, b = nfit.Parameter("a", 1.0), nfit.Parameter("b", 2.0)
    cov = np.array([[1.0, 0.5], [0.5, 2.0]])
    con = nfit.constraint.GaussianConstraint([a, b], observation=[0.5, 1.0], cov=cov)
    expected = -stats.multivariate_normal([0.5, 1.0], cov).logpdf([1.0, 2.0]) - \
        0.5 * np.log((2 * np.pi) ** 2 * np.linalg.det(cov))
    assert con.value() == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ValueError, match="positive"):
        nfit.constraint.GaussianConstraint([a], observation=[1.0], uncertainty=[0.0])


def test_composed_parameter_in_loss(obs, sample, mode):
    base = nfit.Parameter("base", 0.02, 0.001, 0.1)
    k = nfit.Parameter("k", 1.5, 0.5, 3)
    sigma = nfit.ComposedParameter("sig", lambda p: p["b"] * p["k"], params={"b": base, "k": k})
    model = nfit.pdf.Gauss(mu=5.28, sigma=sigma, obs=obs)
    nll = nfit.loss.UnbinnedNLL(model=model, data=nfit.Data.from_numpy(obs, sample), mode=mode)
    assert nll.get_params() == [base, k]
    assert nll.value() == pytest.approx(-truncnorm_logpdf(sample, 5.28, 0.03).sum(), rel=1e-12)


def test_untraceable_composed_parameter_in_loss(obs, sample, mode):
    base = nfit.Parameter("base", 0.03, 0.001, 0.1)
    sigma = nfit.ComposedParameter("sig", lambda p: float(np.abs(p["b"])), params={"b": base})
    model = nfit.pdf.Gauss(mu=5.28, sigma=sigma, obs=obs)
    nll = nfit.loss.UnbinnedNLL(model=model, data=nfit.Data.from_numpy(obs, sample), mode=mode)
    assert nll.value() == pytest.approx(-truncnorm_logpdf(sample, 5.28, 0.03).sum(), rel=1e-12)
    assert nll(np.array([0.04])) == pytest.approx(-truncnorm_logpdf(sample, 5.28, 0.04).sum(), rel=1e-12)


def test_loss_value_with_params_by_name(obs, sample, gauss_model):
    model, mu, _ = gauss_model
    nll = nfit.loss.UnbinnedNLL(model=model, data=nfit.Data.from_numpy(obs, sample))
    assert nll.value({"mu": 5.3}) == pytest.approx(-truncnorm_logpdf(sample, 5.3, 0.03).sum(), rel=1e-12)
    assert nll.value({mu: 5.3}) == nll.value({"mu": 5.3})
    with pytest.raises(ValueError, match="unknown parameter 'nope'"):
        nll.value({"nope": 1.0})


def test_loss_mode_resolution(obs, sample, gauss_model):
    model, _, _ = gauss_model
    nll = nfit.loss.UnbinnedNLL(model=model, data=nfit.Data.from_numpy(obs, sample))
    assert nll.mode == "compiled"
    with nfit.run.mode("eager"):
        assert nll.mode == "eager"
    nfit.run.set_mode("eager")
    assert nll.mode == "eager"
    nfit.run.set_mode("compiled")
    with pytest.raises(ValueError, match="mode must be one of"):
        nfit.run.set_mode("fast")
    with pytest.raises(ValueError, match="mode must be one of"):
        nfit.loss.UnbinnedNLL(model=model, data=nfit.Data.from_numpy(obs, sample), mode="gpu")


def test_loss_hands_straight_to_iminuit(obs, sample, gauss_model):
    from iminuit import Minuit

    model, _, _ = gauss_model
    nll = nfit.loss.UnbinnedNLL(model=model, data=nfit.Data.from_numpy(obs, sample))
    m = Minuit(nll, [5.27, 0.03], name=["mu", "sigma"])
    m.limits = [(5.2, 5.35), (0.005, 0.1)]
    m.migrad()
    assert m.valid
    assert m.values["mu"] == pytest.approx(5.28, abs=0.01)


def test_loss_input_errors(obs, sample, gauss_model):
    model, _, _ = gauss_model
    data = nfit.Data.from_numpy(obs, sample)
    with pytest.raises(ValueError, match="'Gauss' is not extended"):
        nfit.loss.ExtendedUnbinnedNLL(model=model, data=data)
    with pytest.raises(ValueError, match="1 model.*2 data"):
        nfit.loss.UnbinnedNLL(model=[model], data=[data, data])
    other = nfit.Data.from_numpy(nfit.Space("y", limits=(0, 1)), np.array([0.5]))
    with pytest.raises(ValueError, match="no observable.*'m'"):
        nfit.loss.UnbinnedNLL(model=model, data=other)
    clash = nfit.pdf.Gauss(mu=nfit.Parameter("mu", 5.3), sigma=0.02, obs=obs)
    with pytest.raises(ValueError, match="both named 'mu'"):
        nfit.loss.UnbinnedNLL(model=[model, clash], data=[data, data])


def test_nonfinite_value_is_explained(obs, gauss_model):
    model, _, sigma = gauss_model
    uniform = nfit.pdf.Uniform(low=5.0, high=5.1, obs=obs)
    data = nfit.Data.from_numpy(obs, np.array([5.05, 5.5]))
    nll = nfit.loss.UnbinnedNLL(model=uniform, data=data)
    with pytest.raises(FloatingPointError, match="zero or negative"):
        nll.value()
    # the call path for minimisers never raises
    assert not np.isfinite(nll(np.array([])))
