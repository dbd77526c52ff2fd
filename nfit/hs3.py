"""Model exchange in HS3, the HEP Statistics Serialization Standard (version 0.2), as ROOT's
``RooJSONFactoryWSTool`` writes and reads it: pdfs, parameters, unbinned data and likelihoods.

``dumps(obj)`` writes a pdf, a loss (with its data, its constraints as Gaussian factors over constant
global observables, and a likelihood), or a list of these as a JSON string; ``loads(text or dict)``
builds nfit objects from such a document, RooFit's exports included. Binned data (``binned``) and
histograms as pdfs (``histogram_dist``, RooHistPdf) travel too; a binned likelihood is written with
the unbinned pdf a binned one was made from (``to_binned``), as RooFit fits binned data with
unbinned pdfs. Shapes RooFit cannot represent
(Voigt, Cauchy, JohnsonSU, custom kernels) are an error that names the pdf; kernel density estimates
are written as zfit writes them (their class as the type, with their data and options), which nfit
reads back and RooFit does not.

>>> import nfit
>>> obs = nfit.Space("m", limits=(5.0, 5.6))
>>> g = nfit.pdf.Gauss(mu=nfit.Parameter("mu_hs3", 5.28), sigma=0.03, obs=obs, name="sig")
>>> ws = loads(dumps(g))
>>> ws["distributions"]["sig"].pdf([5.28]).round(4).tolist(), ws["variables"]["mu_hs3"].value()
([13.2981], 5.28)
"""
from __future__ import annotations

import ast
import json
import math

import numpy as np

from . import z
from .binned import RegularBinning, VariableBinning
from .data import BinnedData, Data
from .param import ComposedParameter, ConstantParameter, Parameter
from .pdf.base import BasePDF
from .pdf.binned import KDE1DimFFT, KDE1DimGrid, KDE1DimISJ
from .pdf.binnedpdf import BaseBinnedPDF, BinnedFromUnbinnedPDF, BinnedSumPDF
from .pdf.catalogue import Argus, BifurGauss, CrystalBall, DoubleCB
from .pdf.histogram import HistogramPDF
from .pdf.kde import GaussianKDE1DimV1, KDE1DimExact
from .pdf.polynomial import Bernstein, Chebyshev, Polynomial
from .pdf.product import ProductPDF
from .pdf.shape import Exponential, Gauss, Uniform
from .pdf.sum import SumPDF
from .space import Space

__all__ = ["dumps", "dump", "loads", "load"]

HS3_VERSION = "0.2"

# nfit class -> (HS3 type, {HS3 key: nfit parameter key}); the observable goes under OBS_KEY[type]
_SIMPLE = {
    Gauss: ("gaussian_dist", {"mean": "mu", "sigma": "sigma"}),
    CrystalBall: ("crystalball_dist", {"m0": "mu", "sigma": "sigma", "alpha": "alpha", "n": "n"}),
    DoubleCB: ("crystalball_doublesided_dist", {"m0": "mu", "sigma_L": "sigma", "sigma_R": "sigma",
                                                "alpha_L": "alphal", "n_L": "nl", "alpha_R": "alphar", "n_R": "nr"}),
    Argus: ("ARGUS_dist", {"resonance": "m0", "slope": "c", "power": "p"}),
    BifurGauss: ("bifurkated_gaussian_dist", {"mean": "mu", "sigmaL": "sigmal", "sigmaR": "sigmar"}),
}
OBS_KEY = {"polynomial_dist": "x", "gaussian_dist": "x", "crystalball_dist": "m", "crystalball_doublesided_dist": "m",
           "ARGUS_dist": "mass", "bifurkated_gaussian_dist": "x", "exponential_dist": "x",
           "chebychev_dist": "x", "bernstein_poly_dist": "x", "uniform_dist": "x"}


# ---------------------------------------------------------------------------------------------- writing
class _Writer:
    def __init__(self):
        self.distributions, self.functions, self.data, self.likelihoods = [], [], [], []
        self.params, self.observables = {}, {}
        self.written = {}

    def name_of(self, obj, base):
        """A unique name for ``obj`` (an object, or a tuple naming a derived item), the same each time."""
        key = obj if isinstance(obj, tuple) else id(obj)
        if key in self.written:
            return self.written[key]
        taken = set(self.written.values())
        name, k = base, 1
        while name in taken:
            name, k = f"{base}_{k}", k + 1
        self.written[key] = name
        return name

    def observable(self, space):
        for o, (lo, hi) in zip(space.obs, zip(np.atleast_1d(space.lower), np.atleast_1d(space.upper))):
            self.observables.setdefault(o, (float(lo), float(hi)))
        return space.obs

    def value(self, p):
        """A parameter as HS3 refers to it: its name (registered), a function's name, or a number."""
        if isinstance(p, ConstantParameter):
            return float(p.value())
        if isinstance(p, ComposedParameter):
            return self.function(p)
        self.params[p.name] = p
        return p.name

    def function(self, p):
        if id(p) in self.written:
            return self.written[id(p)]
        expr = p.traced()
        if expr is None:
            raise ValueError(f"hs3: ComposedParameter {p.name!r} is a Python function that cannot be traced; HS3 "
                             "needs it as an expression of nfit.z math")
        text = _expression(expr, self)
        name = self.name_of(p, p.name)
        self.functions.append({"name": name, "type": "generic_function", "expression": text})
        return name

    def negated(self, p):
        """HS3's exponential is exp(-c x): ``c = -lam``, written as RooFit writes it."""
        if isinstance(p, ConstantParameter):
            return -float(p.value())
        inner = self.value(p)
        name = self.name_of(("neg", id(p)), f"{p.name}_negated")
        if not any(f["name"] == name for f in self.functions):
            self.functions.append({"name": name, "type": "generic_function", "expression": f"-{inner}"})
        return name

    def pdf(self, pdf):
        if id(pdf) in self.written:
            return self.written[id(pdf)]
        if isinstance(pdf, BinnedFromUnbinnedPDF):
            return self.pdf(pdf._unbinned)  # RooFit fits binned data with the unbinned pdf
        entry = self._entry(pdf)
        name = self.name_of(pdf, pdf.name)
        entry["name"] = name
        self.distributions.append(entry)
        return name

    def _entry(self, pdf):
        kind = type(pdf)
        if kind in _SIMPLE:
            hs3_type, keys = _SIMPLE[kind]
            (x,) = self.observable(pdf.space)
            entry = {"type": hs3_type, OBS_KEY[hs3_type]: x}
            entry.update({k: self.value(pdf.params[v]) for k, v in keys.items()})
            return entry
        if kind is Exponential:
            (x,) = self.observable(pdf.space)
            return {"type": "exponential_dist", "x": x, "c": self.negated(pdf.params["lam"])}
        if kind is Uniform:
            (x,) = self.observable(pdf.space)
            if (pdf.params["low"].value(), pdf.params["high"].value()) != pdf.space.limits:
                raise ValueError(f"hs3: Uniform {pdf.name!r} is not uniform over its whole space {pdf.space}; HS3's "
                                 "uniform_dist covers the observable's range")
            return {"type": "uniform_dist", "x": [x]}
        if kind in (Chebyshev, Bernstein):
            (x,) = self.observable(pdf.space)
            coeffs = pdf._args()
            if kind is Chebyshev:
                if not (isinstance(coeffs[0], ConstantParameter) and coeffs[0].value() == 1.0):
                    raise ValueError(f"hs3: Chebyshev {pdf.name!r} has a zeroth coefficient other than 1; HS3's "
                                     "chebychev_dist implies 1")
                coeffs = coeffs[1:]
            return {"type": "chebychev_dist" if kind is Chebyshev else "bernstein_poly_dist", "x": x,
                    "coefficients": [self.value(c) for c in coeffs]}
        if kind is Polynomial:
            return self.polynomial(pdf)
        if kind is SumPDF:
            summands = [self.pdf(p) for p in pdf.pdfs]
            if pdf._weight_mode == "yields":
                coefficients = [self.value(p) for p in pdf._weights]
                return {"type": "mixture_dist", "summands": summands, "coefficients": coefficients, "extended": True}
            if pdf._weight_mode != "implicit":
                raise ValueError(f"hs3: SumPDF {pdf.name!r} has n fractions that are normalised by their sum; HS3's "
                                 "mixture_dist takes n - 1 fractions or n yields")
            entry = {"type": "mixture_dist", "summands": summands,
                     "coefficients": [self.value(p) for p in pdf._weights], "extended": False}
            if pdf.is_extended:
                raise ValueError(f"hs3: SumPDF {pdf.name!r} of fractions with a yield of its own has no HS3 form; "
                                 "sum extended components instead")
            return entry
        if kind is ProductPDF:
            return {"type": "product_dist", "factors": [self.pdf(p) for p in pdf.pdfs]}
        if kind is BinnedSumPDF:
            summands = [self.pdf(p) for p in pdf.pdfs]
            if pdf._mode == "yields":
                if not pdf._sum_of_yields:
                    raise ValueError(f"hs3: BinnedSumPDF {pdf.name!r} has a yield of its own besides its components'; "
                                     "HS3's mixture_dist takes the components' yields")
                return {"type": "mixture_dist", "summands": summands, "extended": True,
                        "coefficients": [self.value(p.get_yield()) for p in pdf.pdfs]}
            if pdf.is_extended:
                raise ValueError(f"hs3: BinnedSumPDF {pdf.name!r} of fractions with a yield of its own has no HS3 "
                                 "form; sum extended components instead")
            return {"type": "mixture_dist", "summands": summands, "extended": False,
                    "coefficients": [self.value(p) for p in pdf._fracs]}
        if kind is HistogramPDF:
            self.observable(pdf.space.with_binning(None))
            return {"type": "histogram_dist", "data": {"axes": _binned_axes(pdf.space),
                                                       "contents": np.asarray(pdf.counts_, dtype=float).tolist()}}
        if kind in _KDES:
            return self.kde(pdf)
        raise ValueError(f"hs3: {kind.__name__} {pdf.name!r} has no HS3 type that RooFit reads (HS3 has Gauss, "
                         "Exponential, CrystalBall, DoubleCB, Chebyshev, Bernstein, Polynomial, Argus, BifurGauss, "
                         "Uniform, sums and products)")

    def polynomial(self, pdf):
        """nfit's Polynomial is a series in u = a x + b (x scaled to [-1, 1]); HS3's polynomial_dist (RooPolynomial)
        one in raw x: its coefficients are written as functions of nfit's, ``d_j = sum_k c_k C(k, j) a^j b^(k-j)``."""
        (x,) = self.observable(pdf.space)
        lo, hi = pdf.space.lower, pdf.space.upper
        a, b = 2.0 / (hi - lo), -(hi + lo) / (hi - lo)
        coeffs = pdf._args()
        terms = []
        for j in range(len(coeffs)):
            parts = []
            for k in range(j, len(coeffs)):
                factor = math.comb(k, j) * a ** j * b ** (k - j)
                if factor != 0.0:
                    ref = self.value(coeffs[k])
                    parts.append(f"{factor!r}*{ref}" if isinstance(ref, str) else repr(factor * ref))
            name = self.name_of(("poly", id(pdf), j), f"{pdf.name}_raw_{j}")
            self.functions.append({"name": name, "type": "generic_function", "expression": " + ".join(parts) or "0.0"})
            terms.append(name)
        return {"type": "polynomial_dist", "x": x, "coefficients": terms}

    def kde(self, pdf):
        """A kernel density estimate as zfit writes it (its class as the type, the data and the options it
        was built with): nfit reads it back; RooFit has no such type."""
        (x,) = self.observable(pdf.space)
        given = dict(pdf._arguments)
        data, weights = given.pop("data"), given.pop("weights", None)
        if isinstance(data, Data):
            weights = data.weights if weights is None else weights
            data = data.to_numpy()[:, 0]
        entry = {"type": type(pdf).__name__, "x": x, "data": np.asarray(data, dtype=float).ravel().tolist()}
        if weights is not None:
            entry["weights"] = np.asarray(weights, dtype=float).ravel().tolist()
        for key, value in given.items():
            if key in ("obs", "name", "label", "extended", "norm") or value is None:
                continue
            if isinstance(value, np.ndarray):
                value = value.tolist()
            if not isinstance(value, (str, int, float, bool, list, dict)):
                raise ValueError(f"hs3: {type(pdf).__name__} {pdf.name!r}: its option {key}={value!r} has no JSON form")
            entry[key] = value
        return entry

    def extended_pdf(self, pdf):
        """An extended pdf that is not a sum of yields: a one-summand extended mixture (as RooFit's RooExtendPdf)."""
        sum_of_yields = (isinstance(pdf, SumPDF) and pdf._weight_mode == "yields") or (
            isinstance(pdf, BinnedSumPDF) and pdf._mode == "yields")
        if isinstance(pdf, BinnedFromUnbinnedPDF):
            inner = pdf._unbinned
            if inner.is_extended and inner.get_yield() is pdf.get_yield():
                return self.extended_pdf(inner)
        if pdf.is_extended and not sum_of_yields:
            inner = self.pdf(pdf)
            name = self.name_of(("ext", id(pdf)), f"{pdf.name}_extended")
            self.distributions.append({"name": name, "type": "mixture_dist", "summands": [inner],
                                       "coefficients": [self.value(pdf.get_yield())], "extended": True})
            return name
        return self.pdf(pdf)

    def dataset(self, data):
        name = self.name_of(data, data.name)
        if isinstance(data, BinnedData):
            self.observable(data.space.with_binning(None))
            entry = {"name": name, "type": "binned", "axes": _binned_axes(data.space),
                     "contents": np.asarray(data.values(), dtype=float).tolist()}
            variances = data.variances()
            if variances is not None and not np.allclose(variances, data.values()):
                entry["uncertainty"] = {"type": "gaussian_uncorrelated", "sigma": np.sqrt(variances).tolist()}
            self.data.append(entry)
            return name
        self.observable(data.space)
        lower, upper = np.atleast_1d(data.space.lower), np.atleast_1d(data.space.upper)
        entry = {"name": name, "type": "unbinned",
                 "axes": [{"name": o, "min": float(lo), "max": float(hi)} for o, lo, hi in zip(data.obs, lower, upper)],
                 "entries": data.to_numpy().tolist()}
        if data.has_weights:
            entry["weights"] = data.weights.tolist()
        self.data.append(entry)
        return name

    def loss(self, loss):
        names, datasets = [], []
        extended = getattr(loss, "_term_extended", None) or [False] * len(loss.model)
        for k, (model, data) in enumerate(zip(loss.model, loss.data)):
            top = self.extended_pdf(model) if extended[k] else self.pdf(model)
            factors = [self.constraint(c) for c in loss.constraints] if k == 0 else []
            if factors:
                name = self.name_of(("constrained", id(model)), f"{model.name}_constrained")
                self.distributions.append({"name": name, "type": "product_dist", "factors": [top] + sum(factors, [])})
                top = name
            names.append(top)
            datasets.append(self.dataset(data))
        name = self.name_of(loss, f"likelihood_{'_'.join(names)}")
        self.likelihoods.append({"name": name, "distributions": names, "data": datasets})

    def constraint(self, constraint):
        from .constraint import GaussianConstraint

        if not isinstance(constraint, GaussianConstraint) or not np.allclose(
                constraint.covariance, np.diag(np.diag(constraint.covariance))):
            raise ValueError(f"hs3: {type(constraint).__name__} has no HS3 form here (Gaussian constraints without "
                             "correlations are written as factors over global observables)")
        factors = []
        for p, obs, var in zip(constraint.params, constraint.observation, np.diag(constraint.covariance)):
            glob = self.name_of(("glob", id(constraint), p.name), f"{p.name}_global_observable")
            self.params[glob] = ConstantParameter(glob, float(obs))
            name = self.name_of(("constraint", id(constraint), p.name), f"{p.name}_constraint")
            self.distributions.append({"name": name, "type": "gaussian_dist", "x": glob, "mean": self.value(p),
                                       "sigma": float(math.sqrt(var))})
            factors.append(name)
        return factors

    def document(self):
        parameters = []
        axes = [{"name": o, "min": lo, "max": hi} for o, (lo, hi) in self.observables.items()]
        for name, p in self.params.items():
            entry = {"name": name, "value": float(p.value())}
            if isinstance(p, ConstantParameter) or not getattr(p, "floating", True):
                entry["const"] = True
            lower, upper = getattr(p, "lower", None), getattr(p, "upper", None)
            if lower is not None and np.isfinite(lower):
                entry["min"] = float(lower)
            if upper is not None and np.isfinite(upper):
                entry["max"] = float(upper)
            parameters.append(entry)
            if "min" in entry and "max" in entry:
                axes.append({"name": name, "min": entry["min"], "max": entry["max"]})
        parameters += [{"name": o, "value": 0.5 * (lo + hi), "min": lo, "max": hi}
                       for o, (lo, hi) in self.observables.items()]
        doc = {"metadata": {"hs3_version": HS3_VERSION, "packages": [{"name": "nfit", "version": _version()}]},
               "distributions": self.distributions}
        if self.functions:
            doc["functions"] = self.functions
        if self.data:
            doc["data"] = self.data
        if self.likelihoods:
            doc["likelihoods"] = self.likelihoods
        doc["parameter_points"] = [{"name": "default_values", "parameters": parameters}]
        doc["domains"] = [{"name": "default_domain", "type": "product_domain", "axes": axes}]
        return doc


def _binned_axes(space) -> list:
    """HS3 axes of a binned space: ``min``, ``max`` and ``nbins`` for equal bins, else ``edges``."""
    (binning,) = space.binning
    edges = np.asarray(binning.edges, dtype=float)
    name = space.obs[0]
    widths = np.diff(edges)
    if np.allclose(widths, widths[0], rtol=1e-12, atol=0):
        return [{"name": name, "min": float(edges[0]), "max": float(edges[-1]), "nbins": int(len(widths))}]
    return [{"name": name, "edges": edges.tolist()}]


def _binned_space(axes, who) -> Space:
    """The binned nfit space of HS3 ``axes`` (one axis: nfit's binned spaces are one-dimensional)."""
    if len(axes) != 1:
        raise ValueError(f"hs3: {who} has {len(axes)} binned axes; nfit's binned spaces have one")
    axis = axes[0]
    if "edges" in axis:
        binning = VariableBinning(axis["edges"], name=axis["name"])
    else:
        binning = RegularBinning(axis["nbins"], axis["min"], axis["max"], name=axis["name"])
    return Space(axis["name"], binning=binning)


def _axis_range(axis):
    if "edges" in axis:
        return float(axis["edges"][0]), float(axis["edges"][-1])
    return axis.get("min"), axis.get("max")


def _version():
    from ._version import __version__

    return __version__


def _expression(expr, writer):
    """A traced nfit.z expression in HS3's (TFormula's) syntax, its parameters registered."""
    op, args = expr.op, expr.args
    if op == "sym":
        return str(writer.value(args[0]))
    if op == "const":
        return repr(float(args[0]))
    binary = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
    if op in binary:
        return f"({_expression(args[0], writer)} {binary[op]} {_expression(args[1], writer)})"
    if op == "pow":
        return f"pow({_expression(args[0], writer)}, {_expression(args[1], writer)})"
    if op == "neg":
        return f"(-{_expression(args[0], writer)})"
    if op == "call" and args[0] in ("exp", "log", "sqrt", "sin", "cos", "tan", "abs"):
        return f"{args[0]}({_expression(args[1], writer)})"
    raise ValueError(f"hs3: the expression operation {op!r} has no HS3 form")


def _collect(obj, writer):
    from .baseloss import BaseLoss

    if isinstance(obj, (list, tuple)):
        for item in obj:
            _collect(item, writer)
    elif isinstance(obj, BaseLoss):
        writer.loss(obj)
    elif isinstance(obj, BasePDF):
        writer.extended_pdf(obj) if obj.is_extended else writer.pdf(obj)
    elif isinstance(obj, Data):
        writer.dataset(obj)
    else:
        raise TypeError(f"hs3: cannot write a {type(obj).__name__}; give pdfs, losses, Data or a list of them")


def dumps(obj) -> str:
    """The HS3 document (a JSON string) of a pdf, a loss, Data, or a list of these.

    Example
    -------
    >>> import json, nfit
    >>> g = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=nfit.Space("x", limits=(-5, 5)), name="g")
    >>> json.loads(dumps(g))["distributions"][0]["type"]
    'gaussian_dist'
    """
    writer = _Writer()
    _collect(obj, writer)
    return json.dumps(writer.document(), indent=1)


def dump(obj, path) -> None:
    """:func:`dumps` to a file."""
    with open(path, "w") as f:
        f.write(dumps(obj))


# ---------------------------------------------------------------------------------------------- reading
class _Reader:
    def __init__(self, doc):
        self.doc = doc
        self.dist_specs = {d["name"]: d for d in doc.get("distributions", [])}
        self.func_specs = {f["name"]: f for f in doc.get("functions", [])}
        points = {pp["name"]: pp for pp in doc.get("parameter_points", [])}
        chosen = points.get("default_values") or (next(iter(points.values())) if points else {"parameters": []})
        self.values = {p["name"]: p for p in chosen.get("parameters", [])}
        self.domain = {}
        for dom in doc.get("domains", []) or []:
            for axis in dom.get("axes") or []:
                self.domain[axis["name"]] = (axis.get("min", -np.inf), axis.get("max", np.inf))
        self.observables = set()
        for d in doc.get("data", []) or []:
            for axis in d.get("axes", []) or []:
                self.observables.add(axis["name"])
                self.domain.setdefault(axis["name"], _axis_range(axis))
        for spec in self.dist_specs.values():
            if spec.get("type") == "histogram_dist":
                for axis in spec.get("data", {}).get("axes", []):
                    self.observables.add(axis["name"])
                    self.domain.setdefault(axis["name"], _axis_range(axis))
            key = OBS_KEY.get(spec["type"])
            if key is not None:
                x = spec[key]
                for name in (x if isinstance(x, list) else [x]):
                    if isinstance(name, str) and name not in self.func_specs and name not in self.dist_specs:
                        constant = self.values.get(name, {}).get("const", False)
                        if not constant:
                            self.observables.add(name)
        self.variables, self.pdfs, self.functions = {}, {}, {}

    # parameters and functions
    def param(self, ref):
        if isinstance(ref, (int, float)):
            return ConstantParameter(f"hs3_const_{ref!r}", float(ref))
        if ref in self.func_specs:
            return self.function(ref)
        try:
            return ConstantParameter(f"hs3_const_{ref}", float(ref))
        except ValueError:
            pass
        if ref not in self.variables:
            entry = self.values.get(ref, {})
            lo, hi = self.domain.get(ref, (entry.get("min"), entry.get("max")))
            lo, hi = entry.get("min", lo), entry.get("max", hi)
            value = entry.get("value", 0.5 * (lo + hi) if lo is not None and hi is not None else 0.0)
            if entry.get("const", False):
                self.variables[ref] = ConstantParameter(ref, float(value))
            else:
                self.variables[ref] = Parameter(ref, float(value), None if lo is None or not np.isfinite(lo) else lo,
                                                None if hi is None or not np.isfinite(hi) else hi)
        return self.variables[ref]

    def function(self, name):
        if name in self.functions:
            return self.functions[name]
        spec = self.func_specs[name]
        if spec.get("type") != "generic_function":
            raise ValueError(f"hs3: function {name!r} of type {spec.get('type')!r} is not supported (generic_function "
                             "is)")
        tree = ast.parse(spec["expression"].replace("^", "**"), mode="eval")
        names = sorted({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - set(_FUNCTIONS))
        inputs = [self.param(n) for n in names]
        self.functions[name] = ComposedParameter(name, _Expression(tree, names), params=inputs)
        return self.functions[name]

    def negative_of(self, ref):
        """``-ref`` as a parameter: the parameter itself where ``ref`` is RooFit's ``-lam`` function."""
        if isinstance(ref, str) and ref in self.func_specs:
            text = self.func_specs[ref].get("expression", "").replace(" ", "")
            if text.startswith("-") and text[1:].isidentifier():
                return self.param(text[1:])
        if isinstance(ref, (int, float)):
            return ConstantParameter(f"hs3_const_{-ref!r}", -float(ref))
        inner = self.param(ref)
        return ComposedParameter(f"{getattr(inner, 'name', ref)}_negated", lambda c: -c, params=[inner])

    def space(self, name):
        lo, hi = self.domain.get(name, (None, None))
        if lo is None or hi is None:
            raise ValueError(f"hs3: observable {name!r} has no range (no domain or data axis gives it)")
        return Space(name, limits=(float(lo), float(hi)))

    # distributions
    def pdf(self, name):
        if name in self.pdfs:
            return self.pdfs[name]
        if name not in self.dist_specs:
            raise KeyError(f"hs3: no distribution {name!r} in the document")
        spec = self.dist_specs[name]
        kind = spec["type"]
        simple = {v[0]: (k, v[1]) for k, v in _SIMPLE.items()}
        if kind in simple:
            cls, keys = simple[kind]
            if cls is DoubleCB and spec["sigma_L"] != spec["sigma_R"]:
                raise ValueError(f"hs3: {name!r} has sigma_L != sigma_R; nfit's DoubleCB has one sigma")
            args = {}
            for hs3_key, key in keys.items():
                args[key] = self.param(spec[hs3_key])
            pdf = cls(obs=self.space(spec[OBS_KEY[kind]]), name=name, **args)
        elif kind == "exponential_dist":
            pdf = Exponential(lam=self.negative_of(spec["c"]), obs=self.space(spec["x"]), name=name)
        elif kind == "uniform_dist":
            x = spec["x"][0] if isinstance(spec["x"], list) else spec["x"]
            space = self.space(x)
            pdf = Uniform(low=space.lower, high=space.upper, obs=space, name=name)
        elif kind in ("chebychev_dist", "bernstein_poly_dist"):
            coeffs = [self.param(c) for c in spec["coefficients"]]
            cls = Chebyshev if kind == "chebychev_dist" else Bernstein
            pdf = cls(obs=self.space(spec["x"]), coeffs=coeffs, name=name)
        elif kind == "polynomial_dist":
            pdf = self.polynomial(name, spec)
        elif kind == "mixture_dist":
            summands = [self.pdf(s) for s in spec["summands"]]
            Sum = BinnedSumPDF if all(isinstance(s, BaseBinnedPDF) for s in summands) else SumPDF
            coefficients = [self.param(c) for c in spec["coefficients"]]
            extended = spec.get("extended", len(coefficients) == len(summands))
            if not extended and len(coefficients) == len(summands):
                # n coefficients that are not yields: weights of the shapes, divided by their sum (RooAddPdf)
                pdf = Sum(summands, fracs=coefficients, name=name)
            elif extended:
                if len(summands) == 1:
                    pdf = summands[0].create_extended(coefficients[0], name=name)
                else:
                    pdf = Sum([s.create_extended(c) if not s.is_extended else s
                               for s, c in zip(summands, coefficients)], name=name)
            else:
                pdf = Sum(summands, fracs=coefficients, name=name)
        elif kind == "histogram_dist":
            space = _binned_space(spec["data"]["axes"], f"histogram {name!r}")
            edges = np.asarray(space.binning[0].edges)
            pdf = HistogramPDF((np.asarray(spec["data"]["contents"], dtype=float), edges),
                               obs=Space(space.obs[0], limits=(float(edges[0]), float(edges[-1]))), name=name)
        elif kind == "product_dist":
            # Gaussian factors over constant global observables are constraints, not part of the density
            factors = [self.pdf(f) for f in spec["factors"] if self.constraint_of(f) is None]
            pdf = factors[0] if len(factors) == 1 else ProductPDF(factors, name=name)
        elif kind in _KDE_TYPES:
            options = {k: v for k, v in spec.items() if k not in ("name", "type", "x", "data", "weights")}
            weights = spec.get("weights")
            pdf = _KDE_TYPES[kind](data=np.asarray(spec["data"], dtype=float), obs=self.space(spec["x"]),
                                   weights=None if weights is None else np.asarray(weights, dtype=float), name=name,
                                   **options)
        else:
            readable = sorted(set(simple) | set(_OTHER_TYPES) | set(_KDE_TYPES))
            raise ValueError(f"hs3: distribution {name!r} has type {kind!r}, which nfit does not read (it reads "
                             f"{readable})")
        self.pdfs[name] = pdf
        return pdf

    def polynomial(self, name, spec):
        """RooPolynomial's raw series ``sum_j d_j x^j`` as nfit's Polynomial in u = a x + b:
        ``c_k = sum_j d_j C(j, k) (-b)^(j-k) / a^j``, functions of the d's."""
        space = self.space(spec["x"])
        lo, hi = space.lower, space.upper
        a, b = 2.0 / (hi - lo), -(hi + lo) / (hi - lo)
        raw = [self.param(d) for d in spec["coefficients"]]
        coeffs = []
        for k in range(len(raw)):
            weights = [math.comb(j, k) * (-b) ** (j - k) / a ** j for j in range(k, len(raw))]
            coeffs.append(ComposedParameter(f"{name}_c_{k}", _Linear(weights), params=raw[k:]))
        return Polynomial(obs=space, coeffs=coeffs[1:], coeff0=coeffs[0], name=name)

    def constraint_of(self, name):
        """A Gaussian factor over a constant global observable, as a GaussianConstraint; else None."""
        from .constraint import GaussianConstraint

        spec = self.dist_specs.get(name, {})
        if spec.get("type") != "gaussian_dist":
            return None
        x = spec["x"]
        if not (isinstance(x, str) and self.values.get(x, {}).get("const", False)) or x in self.observables:
            return None
        mean, sigma = self.param(spec["mean"]), self.param(spec["sigma"])
        return GaussianConstraint(params=[mean], observation=[self.values[x]["value"]],
                                  uncertainty=[float(sigma.value())])

    def model_and_constraints(self, name):
        spec = self.dist_specs[name]
        if spec["type"] != "product_dist":
            return self.pdf(name), []
        constraints = [c for c in (self.constraint_of(f) for f in spec["factors"]) if c is not None]
        if not constraints:
            return self.pdf(name), []
        rest = [f for f in spec["factors"] if self.constraint_of(f) is None]
        model = self.pdf(rest[0]) if len(rest) == 1 else ProductPDF([self.pdf(f) for f in rest], name=name)
        return model, constraints

    def dataset(self, spec):
        if spec.get("type") == "binned":
            space = _binned_space(spec["axes"], f"data {spec['name']!r}")
            variances = None
            uncertainty = spec.get("uncertainty")
            if uncertainty is not None:
                if uncertainty.get("type") != "gaussian_uncorrelated":
                    raise ValueError(f"hs3: data {spec['name']!r} has an uncertainty of type "
                                     f"{uncertainty.get('type')!r} (gaussian_uncorrelated is read)")
                variances = np.asarray(uncertainty["sigma"], dtype=float) ** 2
            return BinnedData.from_tensor(space, np.asarray(spec["contents"], dtype=float), variances,
                                          name=spec["name"])
        if spec.get("type") != "unbinned":
            raise ValueError(f"hs3: data {spec['name']!r} of type {spec.get('type')!r} is not supported (unbinned and "
                             "binned are)")
        axes = spec["axes"]
        space = Space(axes[0]["name"], limits=(axes[0]["min"], axes[0]["max"]))
        for axis in axes[1:]:
            space = space * Space(axis["name"], limits=(axis["min"], axis["max"]))
        entries = np.asarray(spec["entries"], dtype=float).reshape(-1, len(axes))
        return Data.from_numpy(space, entries, weights=spec.get("weights"), name=spec["name"])

    def workspace(self):
        from .baseloss import ExtendedUnbinnedNLL, UnbinnedNLL
        from .binnedloss import BinnedNLL, ExtendedBinnedNLL

        distributions = {name: self.pdf(name) for name in self.dist_specs
                         if not _is_global_factor(self, name)}
        constraints = {name: self.constraint_of(name) for name in self.dist_specs if _is_global_factor(self, name)}
        data = {d["name"]: self.dataset(d) for d in self.doc.get("data", []) or []}
        losses = {}
        for lik in self.doc.get("likelihoods", []) or []:
            models, datas, cons = [], [], []
            for dist, dname in zip(lik["distributions"], lik["data"]):
                model, found = self.model_and_constraints(dist)
                models.append(model)
                datas.append(data[dname] if dname in data else _missing_data(dname, data))
                cons += found
            extended = all(m.is_extended for m in models)
            if any(isinstance(d, BinnedData) for d in datas):
                if not all(isinstance(d, BinnedData) for d in datas):
                    raise ValueError(f"hs3: likelihood {lik['name']!r} mixes binned and unbinned data")
                models = [m if isinstance(m, BaseBinnedPDF) else m.to_binned(d.space) for m, d in zip(models, datas)]
                cls = ExtendedBinnedNLL if extended else BinnedNLL
            else:
                cls = ExtendedUnbinnedNLL if extended else UnbinnedNLL
            losses[lik["name"]] = cls(model=models, data=datas, constraints=cons or None)
        for name in self.values:  # every parameter the document names is built
            if name not in self.observables and name not in self.variables:
                self.param(name)
        return {"distributions": distributions, "variables": dict(self.variables), "data": data, "loss": losses,
                "constraints": constraints, "metadata": self.doc.get("metadata", {})}


def _is_global_factor(reader, name):
    return reader.constraint_of(name) is not None


def _missing_data(name, data):
    raise KeyError(f"hs3: a likelihood names data {name!r}, which the document does not have (has {sorted(data)})")


_KDES = (KDE1DimExact, GaussianKDE1DimV1, KDE1DimGrid, KDE1DimFFT, KDE1DimISJ)
_KDE_TYPES = {cls.__name__: cls for cls in _KDES}  # zfit's own types (RooFit reads none of them)
_OTHER_TYPES = ("exponential_dist", "uniform_dist", "chebychev_dist", "bernstein_poly_dist", "polynomial_dist",
                "mixture_dist", "product_dist", "histogram_dist")
_FUNCTIONS = {"exp": z.exp, "log": z.log, "sqrt": z.sqrt, "sin": z.sin, "cos": z.cos, "tan": z.tan, "abs": z.abs,
              "pow": lambda a, b: a ** b, "TMath::Exp": z.exp}


class _Linear:
    """``sum_j w_j v_j`` of a ComposedParameter's inputs (picklable)."""

    def __init__(self, weights):
        self.weights = list(weights)

    def __call__(self, *values):
        total = 0.0
        for w, v in zip(self.weights, values):
            total = total + w * v
        return total


class _Expression:
    """An HS3 generic_function expression as a function of its parameters (picklable)."""

    def __init__(self, tree, names):
        self.source = ast.unparse(tree)
        self.names = names

    def __call__(self, *values):
        return _evaluate(ast.parse(self.source, mode="eval").body, dict(zip(self.names, values)))


def _evaluate(node, values):
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _evaluate(node.operand, values)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        a, b = _evaluate(node.left, values), _evaluate(node.right, values)
        ops = {ast.Add: lambda: a + b, ast.Sub: lambda: a - b, ast.Mult: lambda: a * b, ast.Div: lambda: a / b,
               ast.Pow: lambda: a ** b}
        if type(node.op) in ops:
            return ops[type(node.op)]()
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS:
        return _FUNCTIONS[node.func.id](*(_evaluate(a, values) for a in node.args))
    raise ValueError(f"hs3: cannot read the expression part {ast.unparse(node)!r}")


def loads(text):
    """nfit objects from an HS3 document (a JSON string or a parsed dict): a dict with ``"distributions"``
    ({name: pdf}), ``"variables"`` ({name: Parameter}), ``"data"`` ({name: Data}), ``"loss"``
    ({likelihood name: loss, with the Gaussian constraint factors of its pdf as constraints}),
    ``"constraints"`` and ``"metadata"``.

    Example
    -------
    >>> doc = {"distributions": [{"name": "g", "type": "gaussian_dist", "x": "x", "mean": "mu", "sigma": 1.0}],
    ...        "domains": [{"name": "d", "type": "product_domain", "axes": [{"name": "x", "min": -5, "max": 5},
    ...                                                                   {"name": "mu", "min": -1, "max": 1}]}],
    ...        "parameter_points": [{"name": "default_values", "parameters": [{"name": "mu", "value": 0.2}]}]}
    >>> loads(doc)["variables"]["mu"].value()
    0.2
    """
    doc = json.loads(text) if isinstance(text, (str, bytes)) else text
    if not isinstance(doc, dict) or "distributions" not in doc:
        raise ValueError("hs3.loads: not an HS3 document (no 'distributions')")
    return _Reader(doc).workspace()


def load(path):
    """:func:`loads` of a file."""
    with open(path) as f:
        return loads(f.read())
