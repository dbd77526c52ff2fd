"""zfit's everyday surface, as zfit 0.28 spells it: z.numpy, z's helpers, Space's positional limits and
labels, set_value as a context manager, param.set_values, ComposedParameter(unpack_params=)."""
import numpy as np
import pytest
from scipy import stats

import nfit
import nfit.z.numpy as znp
from nfit import z


def test_znp_is_numpy_with_traceable_math():
    assert znp.exp(1.0) == pytest.approx(np.e)
    assert znp.sum(znp.asarray([1.0, 2.0])) == 3.0
    np.testing.assert_array_equal(znp.linspace(0, 1, 5), np.linspace(0, 1, 5))
    assert znp.pi == np.pi and znp.inf == np.inf
    a = z.Symbol("a")
    assert isinstance(znp.exp(a), z.Expr) and znp.asarray(a) is a
    with pytest.raises(TypeError, match="znp.sum cannot be traced"):
        znp.sum(a)
    assert not hasattr(znp, "no_such_function")


class GaussianLike(nfit.pdf.ZPDF):
    """zfit's custom-pdf style, with znp math and the observable by name."""

    _PARAMS = ["mean", "width"]

    def _unnormalized_pdf(self, x):
        x = x["x"]
        mean, width = self.params["mean"], self.params["width"]
        return znp.exp(-znp.square((x - mean) / width) / 2)


def test_custom_shape_with_znp_is_compiled_and_matches_scipy(mode):
    obs = nfit.Space("x", -2, 3)
    mean = nfit.Parameter("mean", 0.4, -1, 1)
    width = nfit.Parameter("width", 0.8, 0.1, 2)
    shape = GaussianLike(obs=obs, mean=mean, width=width)
    assert shape._derivative_order() == 2  # traced: fused into the kernel, exact derivatives
    x = np.linspace(-1.9, 2.9, 9)
    truth = stats.truncnorm.pdf(x, (-2 - 0.4) / 0.8, (3 - 0.4) / 0.8, 0.4, 0.8)
    np.testing.assert_allclose(shape.pdf(x, mode=mode), truth, rtol=1e-9)
    data = nfit.Data.from_numpy(obs, stats.truncnorm.rvs(-3, 3, 0.3, 0.7, size=3000, random_state=2))
    nll = nfit.loss.UnbinnedNLL(model=shape, data=data, mode=mode)
    result = nfit.minimize.Minuit().minimize(nll)
    assert result.valid and mean.value() == pytest.approx(0.3, abs=0.05)


def test_z_helpers():
    @z.function
    def twice(x):
        return 2 * x

    @z.function(wraps="loss")
    def thrice(x):
        return 3 * x

    assert twice(2.0) == 4.0 and thrice(2.0) == 6.0
    assert z.constant(3) == 3.0 and z.constant([1, 2]).dtype == np.float64
    assert z.py_function(lambda a, b: a * b, [2.0, 3.0], Tout=float) == 6.0
    z.random.set_seed(4)
    first = z.random.normal((3,), mean=1.0, stddev=0.1)
    z.random.set_seed(4)
    np.testing.assert_array_equal(first, z.random.normal((3,), mean=1.0, stddev=0.1))
    u = z.random.uniform((1000,), minval=2, maxval=3)
    assert u.min() >= 2 and u.max() <= 3
    assert z.random.poisson(5.0, shape=(10,)).shape == (10,)
    assert isinstance(z.random.get_prng(), np.random.Generator)


def test_space_as_zfit_spells_it():
    s = nfit.Space("x", -5, 5, label="mass [GeV]")
    assert s.limits == (-5.0, 5.0) and s.label == "mass [GeV]" and s.limit1d == (-5.0, 5.0)
    assert nfit.Space("x", lower=-1, upper=2).limits == (-1.0, 2.0)
    assert nfit.Space("x", rect_limits=(0, 1)).limits == (0.0, 1.0)
    assert nfit.Space("x", limits=(0, 1), axes=0).axes == (0,)
    assert s.with_limits((0, 1)).limits == (0.0, 1.0) and s.with_limits((0, 1)).obs == ("x",)
    assert s.with_limits(nfit.Space("x", 1, 2)).limits == (1.0, 2.0)
    with pytest.raises(ValueError, match="observables"):
        s.with_limits(nfit.Space("y", 1, 2))
    xy = nfit.Space("x", limits=(0, 1)) * nfit.Space("y", limits=(2, 3))
    assert xy.get_subspace("y").limits == (2.0, 3.0) and xy.with_obs(["y"]).obs == ("y",)
    assert nfit.Space.ANY_LOWER == -np.inf and nfit.Space.ANY_UPPER == np.inf
    assert not s.is_binned and s.binning is None
    with pytest.raises(ValueError, match="limit1d"):
        _ = xy.limit1d


def test_set_value_restores_in_a_with_block():
    p = nfit.Parameter("p", 1.0, 0, 10)
    returned = p.set_value(2.0)
    assert p.value() == 2.0
    with p.set_value(5.0):
        assert p.value() == 5.0
    assert p.value() == 2.0
    assert returned is not None
    with pytest.raises(ValueError, match="outside"):
        p.set_value(11.0)
    assert p.value() == 2.0


def test_param_set_values():
    a = nfit.Parameter("a", 1.0, 0, 10)
    b = nfit.Parameter("b", 2.0, 0, 10)
    nfit.param.set_values([a, b], [3.0, 4.0])
    assert (a.value(), b.value()) == (3.0, 4.0)
    with nfit.param.set_values([a, b], {"a": 5.0, b: 6.0}):
        assert (a.value(), b.value()) == (5.0, 6.0)
    assert (a.value(), b.value()) == (3.0, 4.0)
    nfit.param.set_values({a: 7.0, b: 8.0})
    assert (a.value(), b.value()) == (7.0, 8.0)
    with pytest.raises(ValueError, match="outside"):
        nfit.param.set_values([a, b], [1.0, 20.0])
    assert (a.value(), b.value()) == (7.0, 8.0)  # nothing set when one value is invalid
    with pytest.raises(ValueError, match="2 parameter"):
        nfit.param.set_values([a, b], [1.0])
    # from a fit result
    obs = nfit.Space("x", -3, 3)
    mu = nfit.Parameter("mu", 0.5, -1, 1)
    x = np.random.default_rng(1).normal(0.1, 1, 2000)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs),
                                data=nfit.Data.from_numpy(obs, x[np.abs(x) < 3]))
    result = nfit.minimize.Minuit().minimize(nll)
    fitted = mu.value()
    mu.set_value(0.9)
    nfit.param.set_values([mu], result)
    assert mu.value() == fitted
    with pytest.raises(ValueError, match="no value"):
        nfit.param.set_values([mu, a], result)
    nfit.param.set_values([mu, a], result, allow_partial=True)


def test_composed_parameter_unpack_params():
    a = nfit.Parameter("a", 2.0)
    b = nfit.Parameter("b", 3.0)
    by_keyword = nfit.ComposedParameter("ab", lambda first, second: first * second + second,
                                        params={"first": a, "second": b}, unpack_params=True)
    assert by_keyword.value() == 9.0
    as_dict = nfit.ComposedParameter("ab2", lambda p: p["first"] - p["second"], params={"first": a, "second": b},
                                     unpack_params=False)
    assert as_dict.value() == -1.0
    # traced into a kernel like the other styles
    obs = nfit.Space("x", -3, 3)
    width = nfit.ComposedParameter("width", lambda s, k: s * k, params={"s": nfit.Parameter("s", 0.5, 0.1, 2),
                                                                      "k": 2.0}, unpack_params=True)
    assert width.traced() is not None
    gauss = nfit.pdf.Gauss(mu=0.0, sigma=width, obs=obs)
    assert float(gauss.pdf(np.array([0.0]), mode="compiled")[0]) == pytest.approx(
        float(stats.truncnorm.pdf(0.0, -3, 3, 0, 1.0)), rel=1e-10)


def test_data_as_zfit_spells_it():
    s = nfit.Space("x", 0, 1)
    y = nfit.Space("y", 0, 2)
    d = nfit.Data(data=np.array([0.1, 0.5, 0.7]), obs=s, weights=[1.0, 2.0, 0.5])
    assert d.nevents == 3 and d.n_obs == 1 and d.weights.tolist() == [1.0, 2.0, 0.5]
    np.testing.assert_array_equal(d["x"], [0.1, 0.5, 0.7])
    np.testing.assert_array_equal(d.value(), [[0.1], [0.5], [0.7]])
    with pytest.warns(UserWarning, match="dropped"):
        assert nfit.Data(np.array([0.2, 1.5]), obs=s).nevents == 1
    assert nfit.Data.from_tensor(s, np.array([0.3])).nevents == 1
    assert nfit.data.from_numpy(s, np.array([0.3, 0.4])).nevents == 2
    both = nfit.data.concat([d, nfit.data.from_numpy(s, np.array([0.9]))])
    assert both.nevents == 4 and both.weights.tolist() == [1.0, 2.0, 0.5, 1.0]
    side = nfit.data.concat([d, nfit.Data.from_numpy(y, np.array([1.0, 1.5, 0.2]))], axis=1)
    assert side.obs == ("x", "y") and side.to_numpy().shape == (3, 2)
    assert side.with_obs("y").obs == ("y",) and side[["y"]].nevents == 3
    with pytest.raises(ValueError, match="numbers of events"):
        nfit.data.concat([d, nfit.Data.from_numpy(y, np.array([1.0]))], axis=1)
    frame = d.to_pandas()
    assert list(frame.columns) == ["x", "weights"] and len(frame) == 3
    assert d.with_weights(None).has_weights is False and d.has_weights
    d.set_weights([1.0, 1.0, 1.0])
    assert d.sum_weights == 3.0
    with pytest.raises(ValueError, match="2 weights for 3 events"):
        d.set_weights([1.0, 2.0])


def test_run_mode_api(mode):
    assert nfit.run(nfit.Parameter("r", 2.0)) == 2.0
    assert nfit.run({"a": [1, (nfit.Parameter("s", 3.0),)]}) == {"a": [1, (3.0,)]}
    np.testing.assert_array_equal(nfit.run(np.arange(3)), np.arange(3))
    with nfit.run.set_graph_mode(False):
        assert nfit.run.get_mode() == "eager" and not nfit.run.get_graph_mode()
    assert nfit.run.get_mode() == "compiled"
    nfit.run.set_graph_mode(False)
    assert nfit.run.get_mode() == "eager"
    nfit.run.set_mode_default()
    assert nfit.run.get_mode() == "compiled" and nfit.run.get_autograd_mode()
    with pytest.raises(ValueError):
        nfit.run.set_graph_mode("sometimes")
    obs = nfit.Space("x", -3, 3)
    mu = nfit.Parameter("mu", 0.3, -1, 1)
    x = np.random.default_rng(2).normal(0, 1, 1000)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs),
                                data=nfit.Data.from_numpy(obs, x[np.abs(x) < 3]), mode=mode)
    with nfit.run.set_autograd_mode(False):
        result = nfit.minimize.Minuit().minimize(nll)
    assert result.info["gradient"] == "minuit" and result.valid
    mu.set_value(0.3)
    with nfit.run.experimental_disable_param_update():
        result = nfit.minimize.Minuit().minimize(nll)
    assert mu.value() == 0.3 and result.params[mu]["value"] != 0.3
    result.update_params()
    assert mu.value() == result.params[mu]["value"]
    nfit.run.clear_graph_cache()
    assert nfit.cache.info()["entries"] == 0


def test_settings():
    nfit.settings.set_seed(11)
    a = (np.random.uniform(), nfit.z.random.uniform((1,))[0])
    nfit.settings.set_seed(11)
    assert a == (np.random.uniform(), nfit.z.random.uniform((1,))[0])
    assert nfit.settings.ztypes.float is np.float64
    nfit.settings.changed_warnings.all = False
    assert nfit.settings.changed_warnings.all is False
    nfit.settings.changed_warnings.all = True


def test_simple_loss_and_minimize_a_callable(mode):
    a = nfit.Parameter("a", 1.0, -10, 10)
    b = nfit.Parameter("b", 2.0)

    def chi2(params):
        return (params[0] - 3) ** 2 + (params[1] + 1) ** 2 / 4

    loss = nfit.loss.SimpleLoss(chi2, params=[a, b], errordef=1.0)
    assert loss.errordef == 1.0 and [p.name for p in loss.get_params()] == ["a", "b"]
    assert loss.value() == pytest.approx(4 + 9 / 4)
    assert loss(np.array([3.0, -1.0])) == pytest.approx(0.0)
    assert (a.value(), b.value()) == (1.0, 2.0)  # a call leaves the parameters as they were
    result = nfit.minimize.Minuit().minimize(loss)
    assert result.valid and a.value() == pytest.approx(3, abs=1e-4) and b.value() == pytest.approx(-1, abs=1e-3)
    errors = result.hesse()
    assert errors[a]["error"] == pytest.approx(1.0, rel=1e-3) and errors[b]["error"] == pytest.approx(2.0, rel=1e-3)
    with pytest.raises(ValueError, match="errordef"):
        nfit.loss.SimpleLoss(lambda params: 0.0, params=[a])
    # zfit's shorthand: a callable with params= and an errordef attribute (none: an error, as in zfit)
    a.set_value(0.0)
    with pytest.raises(ValueError, match="errordef"):
        nfit.minimize.Minuit().minimize(chi2, params=[a, b])
    chi2.errordef = 1.0
    assert nfit.minimize.Minuit().minimize(chi2, params=[a, b]).valid
    assert a.value() == pytest.approx(3, abs=1e-4)
    with pytest.raises(ValueError, match="params="):
        nfit.minimize.Minuit().minimize(chi2)
    b.set_value(0.0)
    assert nfit.minimize.ScipyLBFGSB().minimize(chi2, params=[a, b]).valid and b.value() == pytest.approx(-1, abs=1e-3)


def test_freeze_keeps_the_numbers(tmp_path):
    import pickle

    obs = nfit.Space("x", -3, 3)
    mu = nfit.Parameter("mu", 0.1, -1, 1)
    sg = nfit.Parameter("sg", 1.1, 0.2, 3)
    x = np.random.default_rng(5).normal(0, 1, 3000)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=sg, obs=obs),
                                data=nfit.Data.from_numpy(obs, x[np.abs(x) < 3]))
    result = nfit.minimize.Minuit().minimize(nll)
    result.hesse()
    cov = result.covariance()
    frozen = pickle.loads(pickle.dumps(result.freeze()))
    assert frozen.loss is None and frozen.minimizer is None
    assert frozen.params["mu"]["value"] == result.params["mu"]["value"] and mu in frozen.params
    np.testing.assert_array_equal(frozen.covariance(), cov)
    expected = cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
    np.testing.assert_allclose(frozen.correlation(params=["sg", "mu"])[0, 1], expected)
    assert frozen.values == {"mu": result.params["mu"]["value"], "sg": result.params["sg"]["value"]}
    assert "frozen" in str(frozen)
    with pytest.raises(RuntimeError, match="frozen"):
        frozen.hesse()
    with pytest.raises(RuntimeError, match="frozen"):
        frozen.errors()


def test_strategies_for_a_loss_that_ends_nan():
    obs = nfit.Space("x", -3, 3)
    c = nfit.Parameter("c", 0.5, -10, 10)

    def broken(params):  # NaN everywhere but a sliver: the fit cannot end on a number
        value = float(params[0])
        return (value - 3) ** 2 if abs(value - 0.5) < 1e-12 else float("nan")

    loss = nfit.loss.SimpleLoss(broken, params=[c], errordef=1.0)
    result = nfit.minimize.Minuit(strategy=nfit.minimize.DefaultToyStrategy()).minimize(loss)
    assert not result.valid
    c.set_value(0.5)
    assert not nfit.minimize.Minuit().minimize(loss).valid  # nfit's default: an invalid result
    c.set_value(0.5)
    with pytest.raises(nfit.minimize.FailMinimizeNaN):
        nfit.minimize.Minuit(strategy=nfit.minimize.DefaultStrategy).minimize(loss)
    assert nfit.minimize.Minuit(strategy=2, mode=2).strategy == 2
    del obs


def test_dill(tmp_path):
    obs = nfit.Space("x", -3, 3)
    s = nfit.Parameter("s", 1.0, 0.1, 3)
    width = nfit.ComposedParameter("w", lambda v: 2 * v, params=s)
    model = nfit.pdf.Gauss(mu=0.0, sigma=width, obs=obs)
    again = nfit.dill.loads(nfit.dill.dumps(model))
    assert float(again.pdf(np.array([0.0]))[0]) == pytest.approx(float(model.pdf(np.array([0.0]))[0]))
    path = tmp_path / "model.pkl"
    nfit.dill.dump(model, path)
    assert nfit.dill.load(path).space.limits == (-3.0, 3.0)


def test_zfit_everyday_aliases():
    obs = nfit.Space("x", -3, 3)
    p = nfit.Parameter("alias_p", 1.0, 0, 2, step_size=0.05)
    assert p.stepsize == 0.05 and p.has_stepsize and p.read_value() == 1.0 and p.params == {}
    assert not nfit.Parameter("alias_q", 1.0).has_step_size
    gauss = nfit.pdf.Gauss(mu=0.0, sigma=p, obs=obs, extended=100.0)
    assert gauss.extended.value() == 100.0 and gauss.norm_range == obs
    assert gauss.normalization() == pytest.approx(np.sqrt(2 * np.pi) * (2 * stats.norm.cdf(3) - 1), rel=1e-10)
    assert gauss.log_normalization() == pytest.approx(np.log(gauss.normalization()))
    np.testing.assert_allclose(gauss.ext_log_pdf([0.5]), np.log(100.0 * gauss.pdf([0.5])), rtol=1e-12)
    data = nfit.Data.from_mapping({"x": [0.1, 0.2, 0.3]}, obs=obs)
    assert data.samplesize == data.nentries == 3 and data.shape == (3, 1)
    np.testing.assert_array_equal(data.unstack_x(), [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(data.numpy(), data.copy().to_numpy())
    assert nfit.data.convert_to_data([0.5], obs=obs).nevents == 1
    space = nfit.Space("x", 0, 2) * nfit.Space("y", 1, 3)
    np.testing.assert_array_equal(space.rect_lower, [[0.0, 1.0]])
    assert space.n_limits == 1 and space.labels == ("x", "y") and space.rect_area()[0] == 4.0
    assert nfit.convert_to_space(space) is space and nfit.convert_to_parameter(2.0).value() == 2.0
    assert [q.value() for q in nfit.param.convert_to_parameters([1.0, 2.0])] == [1.0, 2.0]


def test_losses_as_hepstats_and_zfit_use_them():
    obs = nfit.Space("x", -3, 3)
    mu = nfit.Parameter("mu_new", 0.1, -1, 1)
    x = np.random.default_rng(2).normal(size=500).clip(-2.9, 2.9)
    nll = nfit.loss.UnbinnedNLL(model=nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs), data=nfit.Data.from_numpy(obs, x))
    other = nll.create_new(data=nfit.Data.from_numpy(obs, x[:100]))
    assert type(other) is nfit.loss.UnbinnedNLL and other.data[0].nevents == 100 and other.model == nll.model
    assert nll.value_gradients()[1] == pytest.approx(nll.value_gradient()[1])
    constraint = nfit.constraint.GaussianConstraint(mu, observation=0.0, sigma=0.1)
    before = nll.value()
    nll.add_constraints(constraint)
    assert nll.value() == pytest.approx(before + 0.5 * (0.1 / 0.1) ** 2)
    with pytest.raises(ValueError, match="options"):
        nfit.loss.UnbinnedNLL(model=nll.model, data=nll.data, options={"speed": "max"})
    numerical = nll.create_new(options={"numgrad": True})
    assert numerical.derivative_order == 0 and nll.create_new(options={"numhess": True}).derivative_order == 1
    result = nfit.minimize.Minuit().minimize(nll)
    assert result.success == result.valid and result.fun == result.fmin and result.x[0] == result.params[mu]["value"]
    evaluator = nfit.minimize.Minuit().create_evaluator(nll)
    assert evaluator.value([0.0]) == pytest.approx(nll.value(params={mu: 0.0}))


def test_results_answer_numpy_as_zfit_tensors_do():
    """zfit scripts call .numpy() on what zfit returns (TensorFlow tensors): nfit's arrays and floats answer it."""
    obs = nfit.Space("x", -5, 5)
    mu = nfit.Parameter("np_mu", 0.5)
    gauss = nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs)
    x = np.array([0.0, 1.0])
    values = gauss.pdf(x)
    assert type(values.numpy()) is np.ndarray and repr(values).startswith("array(")
    np.testing.assert_array_equal(values.numpy(), gauss.pdf(x, mode="eager"))
    assert isinstance(mu.value().numpy(), np.float64) and mu.value().numpy() == 0.5
    assert gauss.integrate((-1, 1)).numpy().shape == (1,)
    data = gauss.sample(20, rng=1)
    assert data.value().numpy().shape == (20, 1) and data["x"].numpy().shape == (20,)
    loss = nfit.loss.UnbinnedNLL(gauss, data)
    assert loss.value().numpy() == pytest.approx(float(loss.value()))
    assert loss.gradient().numpy().shape == (1,)
    binned = gauss.to_binned(obs.with_binning(5))
    assert binned.rel_counts().numpy().sum() == pytest.approx(1.0)


def test_upgrade_guide_calls():
    """zfit 0.28's upgrade guide: to_truncated with a tuple of Spaces (several ranges), and a loss on a
    pandas DataFrame."""
    obs = nfit.Space("ug", -2, 3)
    gauss = nfit.pdf.Gauss(mu=nfit.Parameter("ug_mu", 0.4), sigma=1.0, obs=obs, extended=1000)
    lower, upper = nfit.Space("ug", -0.9, -0.1, label="lower range"), nfit.Space("ug", 0.3, 0.5)
    disjoint = gauss.to_truncated(limits=(lower, upper))
    assert float(disjoint.integrate((-0.9, -0.1))[0] + disjoint.integrate((0.3, 0.5))[0]) == pytest.approx(1.0)
    assert float(disjoint.pdf(np.array([0.0]))[0]) == 0.0
    frame = gauss.sample(500, rng=2).to_pandas()
    loss = nfit.loss.ExtendedUnbinnedNLL(model=gauss, data=frame)
    assert loss.data[0].nevents == 500
    np.testing.assert_allclose(loss.data[0]["ug"], frame["ug"].to_numpy())
    assert nfit.loss.UnbinnedNLL(model=gauss, data=frame["ug"].to_numpy()).data[0].nevents == 500


def test_results_as_values_and_context():
    """zfit: ``with result:`` (values set for the block), ``set_values(result)``, ``loss.value(params=result)``,
    and a result found by a copy of its parameter (after dill)."""
    obs = nfit.Space("rv", -3, 3)
    mu = nfit.Parameter("rv_mu", 0.0, -1, 1)
    gauss = nfit.pdf.Gauss(mu=mu, sigma=1.0, obs=obs)
    loss = nfit.loss.UnbinnedNLL(gauss, nfit.Data.from_numpy(obs, np.random.default_rng(1).normal(0.3, 1, 2000)))
    result = nfit.minimize.Minuit().minimize(loss)
    best = result.params[mu]["value"]
    mu.set_value(0.9)
    with result:
        assert mu.value() == best
    assert mu.value() == 0.9
    assert float(loss.value(params=result)) == pytest.approx(result.fmin, abs=1e-9)
    assert float(gauss.pdf(np.array([0.0]), params=result)[0]) == pytest.approx(
        float(nfit.pdf.Gauss(mu=best, sigma=1.0, obs=obs).pdf(np.array([0.0]))[0]))
    nfit.param.set_values(result)
    assert mu.value() == best
    copy = nfit.dill.loads(nfit.dill.dumps(result))
    assert copy.params[mu]["value"] == best and mu in copy.params
