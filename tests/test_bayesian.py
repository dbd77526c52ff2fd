"""zfit's priors and MCMC: priors against scipy.stats, posteriors against the conjugate closed form."""
import pickle

import numpy as np
import pytest
from scipy import integrate, stats

import nfit
import nfit.prior as P

PRIORS = [
    (P.Normal(mu=1.0, sigma=2.0), stats.norm(1.0, 2.0)),
    (P.HalfNormal(sigma=0.5), stats.halfnorm(0.0, 0.5)),
    (P.Gamma(alpha=2.0, beta=1.5), stats.gamma(2.0, scale=1 / 1.5)),
    (P.Beta(alpha=2.0, beta=3.0, lower=0.0, upper=2.0), stats.beta(2.0, 3.0, scale=2.0)),
    (P.LogNormal(mu=0.2, sigma=0.5), stats.lognorm(0.5, scale=np.exp(0.2))),
    (P.Cauchy(m=0.5, gamma=0.3), stats.cauchy(0.5, 0.3)),
    (P.Exponential(lam=2.0), stats.expon(scale=0.5)),
    (P.StudentT(ndof=3, mu=0.0, sigma=1.0), stats.t(3, 0.0, 1.0)),
]


@pytest.mark.parametrize("prior, reference", PRIORS, ids=lambda v: type(v).__name__)
def test_priors_are_scipys_truncated_to_the_parameter(prior, reference):
    x = np.linspace(0.05, 1.95, 9)
    np.testing.assert_allclose(prior.pdf(x), reference.pdf(x), rtol=1e-12)
    p = nfit.Parameter(f"p_{type(prior).__name__}", 1.0, 0.0, 2.0, prior=prior)
    mass = reference.cdf(2.0) - reference.cdf(0.0)
    np.testing.assert_allclose(p.prior.pdf(x), reference.pdf(x) / mass, rtol=1e-12)
    np.testing.assert_allclose(p.prior.log_pdf(x), np.log(reference.pdf(x) / mass), rtol=1e-12)
    assert p.prior.pdf(2.5) == 0.0 and p.prior.log_pdf(-0.5) == -np.inf
    draws = p.prior.sample(2000, rng=1)
    assert np.all((draws >= 0.0) & (draws <= 2.0))
    truncated_cdf = lambda v: (reference.cdf(v) - reference.cdf(0.0)) / mass  # noqa: E731
    assert stats.kstest(draws, truncated_cdf).pvalue > 1e-3
    assert prior.bounds != p.prior.bounds or np.isclose(prior.bounds[0], 0.0)  # the parameter's copy is cut


def test_poisson_and_uniform_and_kde_priors():
    poisson = nfit.Parameter("count", 3.0, 0.0, 20.0, prior=P.Poisson(lam=3.0)).prior
    assert integrate.quad(poisson.pdf, 0, 20, limit=200)[0] == pytest.approx(1.0, rel=1e-6)
    assert poisson.pdf(4.0) / poisson.pdf(3.0) == pytest.approx(3.0 / 4.0, rel=1e-12)
    uniform = nfit.Parameter("flat", 1.0, -1.0, 3.0, prior=P.Uniform()).prior
    assert uniform.pdf(0.0) == pytest.approx(0.25) and uniform.bounds == (-1.0, 3.0)
    with pytest.raises(ValueError, match="give lower and upper"):
        nfit.Parameter("open", 1.0, prior=P.Uniform())
    samples = np.random.default_rng(3).normal(2.0, 0.5, 3000)
    kde = P.KDE(samples)
    assert integrate.quad(kde.pdf, -2, 6)[0] == pytest.approx(1.0, rel=1e-6)
    assert abs(np.mean(kde.sample(2000, rng=2)) - 2.0) < 0.05
    with pytest.raises(ValueError, match="sigma must be positive"):
        P.Normal(mu=0.0, sigma=0.0)
    p = nfit.Parameter("q", 1.0, prior=P.Normal(mu=0.0, sigma=1.0))
    p.set_prior(None)
    assert p.prior is None


def gaussian_mean_problem(prior, n=400, seed=1):
    obs = nfit.Space("x", -20, 20)
    mu = nfit.Parameter("mu_post", 0.0, -5, 5, prior=prior)
    x = np.random.default_rng(seed).normal(0.7, 2.0, n)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=2.0, obs=obs), data=nfit.Data.from_numpy(obs, x))
    return nll, mu, x


def test_posterior_of_a_gaussian_mean_matches_the_conjugate_result():
    pytest.importorskip("emcee")
    tau, mu0 = 0.05, 0.5  # a narrow normal prior pulls the mean
    nll, mu, x = gaussian_mean_problem(P.Normal(mu=mu0, sigma=tau))
    precision = 1 / tau ** 2 + len(x) / 2.0 ** 2
    mean = (mu0 / tau ** 2 + x.sum() / 2.0 ** 2) / precision
    sd = precision ** -0.5
    posterior = nfit.mcmc.EmceeSampler(nwalkers=10).sample(nll, n_samples=1500, n_warmup=300, rng=4)
    assert posterior.valid and posterior.converged, str(posterior)
    assert posterior.mean(mu) == pytest.approx(mean, abs=0.1 * sd)
    assert posterior.std(mu) == pytest.approx(sd, rel=0.1)
    lower, upper = posterior.credible_interval(mu, alpha=0.32)
    assert lower == pytest.approx(mean - sd, abs=0.15 * sd) and upper == pytest.approx(mean + sd, abs=0.15 * sd)
    assert posterior.covariance(mu) == pytest.approx(posterior.std(mu) ** 2, rel=1e-12)
    start = mu.value()
    with posterior:
        assert mu.value() == pytest.approx(posterior.mean(mu))
    assert mu.value() == start
    again = pickle.loads(pickle.dumps(posterior))
    np.testing.assert_array_equal(again.get_samples("mu_post"), posterior.get_samples(mu))
    follow = nfit.mcmc.EmceeSampler(nwalkers=10).sample(nll, n_samples=200, init=posterior, rng=5)
    assert follow.n_warmup == 0 and abs(follow.mean(mu) - mean) < 0.3 * sd
    assert isinstance(posterior.as_prior(mu), P.KDE)


def test_sampling_needs_priors():
    pytest.importorskip("emcee")
    nll, mu, _ = gaussian_mean_problem(None)
    with pytest.raises(ValueError, match="have no prior"):
        nfit.mcmc.EmceeSampler().sample(nll, n_samples=10)
