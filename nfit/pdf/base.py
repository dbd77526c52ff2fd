"""The base of every PDF node: normalisation, extension, evaluation on both paths."""
from __future__ import annotations

import contextlib
import copy
import itertools
import threading

import numpy as np

from ..param import (
    ComposedParameter,
    ParamSet,
    convert_to_parameter,
    fitted_values,
    independent_params,
    model_params,
    values_set,
)
from ..serial import Serializable
from ..space import Space
from ..tensorlike import numpy_result
from . import custom

_ids = itertools.count()
_PRODUCT = []  # nfit.pdf.product.ProductPDF, registered there (it builds on this module)
_TRUNCATED = []  # nfit.pdf.truncated.TruncatedPDF, likewise
_BINNED = []  # nfit.pdf.binnedpdf.BinnedFromUnbinnedPDF, likewise (what ``pdf.to_binned(space)`` makes)
_overrides = threading.local()


class BasePDF(Serializable):
    """A probability density over the observables of a space.

    Subclass it as in zfit: pass ``params`` (a dict of name to parameter) to ``__init__`` and write
    ``_unnormalized_pdf(self, x, params)`` (or ``_pdf(self, x, norm, params)`` with
    ``@nfit.supports(...)``), with ``x[0]``, ``x["obs"]`` and ``params["name"]``. nfit traces it
    into its kernels (see :mod:`nfit.pdf.custom`); ``register_analytic_integral`` and
    ``_integrate`` give it an integral, else it is normalised numerically.

    nfit's own shapes instead make a node with ``_build(ctx, x, norm, scale)``, which composes
    the density from :class:`nfit.ad.Dual` numbers handed out by a build context, so that the same
    code gives the eager path (NumPy) and the compiled path (generated source), with derivatives
    when asked. ``norm`` is the :class:`Space` to normalise over, or ``None`` for the unnormalised
    density.

    Example
    -------
    >>> import nfit
    >>> class Linear(nfit.pdf.BasePDF):
    ...     def __init__(self, obs, slope, name="Linear"):
    ...         super().__init__(obs, params={"slope": slope}, name=name)
    ...     @nfit.supports()
    ...     def _unnormalized_pdf(self, x, params):
    ...         return 1 + params["slope"] * x[0]
    >>> pdf = Linear(nfit.Space("x", 0, 2), slope=0.5)
    >>> round(float(pdf.integrate((0, 1))[0]), 12)  # (1 + 0.25) / (2 + 1)
    0.416666666667
    """

    _analytic_integrals: list = []  # (priority, function, limits), see register_analytic_integral

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._analytic_integrals = list(cls._analytic_integrals)  # a subclass's registrations stay its own

    def __init__(self, obs, params: dict | None = None, name=None, extended=None, label=None, norm=None, *,
                 dtype=None, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__}: unexpected argument(s) {sorted(kwargs)}")
        if dtype is not None and np.dtype(dtype) != np.float64:
            raise TypeError(f"{type(self).__name__}: nfit computes in float64, got dtype={dtype!r}")
        if not isinstance(obs, Space):
            raise TypeError(f"{type(self).__name__}: obs must be a Space, got {obs!r}")
        params = {} if params is None else params
        self.space = obs
        self.name = name or type(self).__name__
        self._norm = None if norm is None or norm is False else self._as_norm(norm)
        self.label = label or self.name
        self.params = {k: convert_to_parameter(v, name=f"{self.name}_{k}") for k, v in params.items()}
        self._yield = None
        self._uid = next(_ids)
        if extended is not None and extended is not False:
            self._set_yield(extended)

    # ``self.params`` is what user methods read: the Parameters, or (while one is traced or evaluated
    # eagerly) symbols or numbers. Those are set for the calling thread only, so that two threads
    # evaluating one shape never see each other's values.
    @property
    def params(self):
        override = getattr(_overrides, "by_shape", {}).get(id(self))
        return self.__dict__["_params"] if override is None else override

    @params.setter
    def params(self, value):
        self.__dict__["_params"] = value

    @contextlib.contextmanager
    def _params_as(self, values):
        by_shape = _overrides.__dict__.setdefault("by_shape", {})
        saved = by_shape.get(id(self))
        by_shape[id(self)] = values
        try:
            yield
        finally:
            if saved is None:
                del by_shape[id(self)]
            else:
                by_shape[id(self)] = saved

    # ------------------------------------------------------------------ description
    @property
    def obs(self):
        return self.space.obs

    @property
    def n_obs(self):
        return self.space.n_obs

    @property
    def norm(self) -> Space:
        """The range the pdf is normalised over by default (``norm=`` of the constructor; else its space)."""
        return self.space if self._norm is None else self._norm

    def _as_norm(self, norm) -> Space:
        """``norm`` (a Space or ``(lower, upper)``) as a Space to normalise over, checked."""
        space = norm if isinstance(norm, Space) else Space(self.space.obs, limits=norm)
        if set(space.obs) != set(self.space.obs):
            raise ValueError(f"pdf {self.name!r}: norm has observables {space.obs}, the pdf {self.space.obs}")
        if not space.has_limits:
            raise ValueError(f"pdf {self.name!r}: cannot normalise over {space}, it has no finite limits")
        return space

    @property
    def is_extended(self) -> bool:
        return self._yield is not None

    def get_yield(self):
        """The yield parameter of an extended pdf, else None."""
        return self._yield

    def _set_yield(self, value):
        if self._yield is not None:
            raise ValueError(f"pdf {self.name!r} is already extended")
        self._yield = convert_to_parameter(value, name=f"{self.name}_yield")

    def set_yield(self, value):
        """Make this pdf extended in place (zfit's spelling)."""
        self._set_yield(value)

    def create_extended(self, yield_, name=None):
        """A copy of this pdf that is extended with the yield ``yield_``.

        Example
        -------
        >>> import nfit
        >>> obs = nfit.Space("x", limits=(0, 1))
        >>> g = nfit.pdf.Gauss(mu=0.5, sigma=0.1, obs=obs)
        >>> g.create_extended(100.0).is_extended, g.is_extended
        (True, False)
        """
        if self.is_extended:
            raise ValueError(f"pdf {self.name!r} is already extended")
        new = copy.copy(self)
        new._yield = None
        new._uid = next(_ids)
        new.__dict__.pop("_pdf_kernels", None)
        new.__dict__.pop("_quad_cache", None)
        new.__dict__.pop("_custom_shape", None)
        new._set_yield(yield_)
        if name is not None:
            new.name = name
        return new

    def _children(self) -> list:
        return []

    def get_params(self, floating=True, is_yield=None, extract_independent=True) -> list:
        """The parameters of this pdf and its children (first-seen order).

        ``floating``: True (only free ones), False (only fixed ones) or None (all);
        ``is_yield``: True (only the yield's), False (none of the yield's), None (both).
        """
        yields = independent_params([self._yield]) if self._yield is not None else []
        if is_yield is True:
            candidates = [self._yield] if self._yield is not None else []
        else:
            candidates = self._all_params()
        found = []
        for p in candidates:
            for q in (independent_params([p]) if extract_independent else [p]):
                if q in found or (is_yield is False and q in yields):
                    continue
                if floating is not None and (isinstance(q, ComposedParameter) or q.floating != floating):
                    continue
                found.append(q)
        return ParamSet(found)

    def _shape_params(self) -> list:
        """Every parameter the normalised shape depends on (children's included)."""
        return list(self.params.values())

    def _all_params(self) -> list:
        """The shape's parameters and, for an extended pdf, its yield."""
        return self._shape_params() + ([self._yield] if self._yield is not None else [])

    # ------------------------------------------------------------------ evaluation (both paths)
    @numpy_result
    def pdf(self, x, norm=None, *, mode=None, params=None):
        """The density at ``x`` (an array, or :class:`~nfit.Data`), normalised over ``norm``.

        ``norm=None`` normalises over the pdf's own space; ``norm=False`` gives the
        unnormalised density.

        Example
        -------
        >>> import nfit, numpy as np
        >>> obs = nfit.Space("x", limits=(-5, 5))
        >>> g = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=obs)
        >>> round(float(g.pdf(np.array([0.0]))[0]), 6)
        0.398943
        """
        from ..evaluate import evaluate_pdf

        if params:
            with self._values_from(params):
                return self.pdf(x, norm, mode=mode)
        norm_space = self._norm_space(norm)
        if isinstance(x, custom.Columns):  # called inside a custom shape's method
            inner = custom.nested(self, x, norm_space)
            if inner is not None:
                return inner
            x = x.value()
        return evaluate_pdf(self, x, norm_space, mode=mode)

    @numpy_result
    def log_pdf(self, x, norm=None, *, mode=None, params=None):
        """The logarithm of :meth:`pdf`.

        Example
        -------
        >>> import nfit, numpy as np
        >>> g = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=nfit.Space("x", -5, 5))
        >>> round(float(g.log_pdf(np.array([0.0]))[0]), 4)
        -0.9189
        """
        if params:
            with self._values_from(params):
                return self.log_pdf(x, norm, mode=mode)
        if isinstance(x, custom.Columns):
            inner = custom.nested(self, x, self._norm_space(norm), kind="log")
            if inner is not None:
                return inner
            x = x.value()
        with np.errstate(divide="ignore"):
            return np.log(self.pdf(x, norm=norm, mode=mode))

    @numpy_result
    def ext_log_pdf(self, x, norm=None, *, mode=None, params=None):
        """The logarithm of :meth:`ext_pdf` (extended pdfs only)."""
        with np.errstate(divide="ignore"):
            return np.log(self.ext_pdf(x, norm=norm, mode=mode, params=params))

    def normalization(self, norm=None, *, params=None) -> float:
        """zfit's: the integral of the unnormalised density over ``norm`` (default: the pdf's own range).

        Example
        -------
        >>> import nfit
        >>> u = nfit.pdf.Uniform(low=0.0, high=1.0, obs=nfit.Space("x", 0, 2))
        >>> round(float(u.normalization()), 12) > 0
        True
        """
        space = self.norm if norm is None else self._as_norm(norm)
        with self._values_from(params):
            return float(self._normalised_integral(space, None))

    def log_normalization(self, norm=None, *, params=None) -> float:
        return float(np.log(self.normalization(norm, params=params)))

    def numeric_integrate(self, limits, norm=None, *, params=None):
        """zfit's: the integral over ``limits``; nfit integrates each shape the best way it has (in
        closed form where there is one, else by quadrature), so this is :meth:`integrate`."""
        return self.integrate(limits, norm, params=params)

    @property
    def norm_range(self) -> Space:
        """zfit's older name for :attr:`norm`."""
        return self.norm

    @property
    def extended(self):
        """The yield parameter, or None (zfit's ``pdf.extended``)."""
        return self._yield

    dtype = np.float64

    @numpy_result
    def unnormalized_pdf(self, x, *, mode=None):
        """zfit's (deprecated there) unnormalised density: ``pdf(x, norm=False)``."""
        return self.pdf(x, norm=False, mode=mode)

    def __mul__(self, other):
        """``pdf1 * pdf2``: their :class:`~nfit.pdf.ProductPDF`; ``pdf * yield``: an extended copy."""
        if isinstance(other, BasePDF):
            return _PRODUCT[0]([self, other])
        if isinstance(other, (int, float, np.floating, np.integer)) or hasattr(other, "value"):
            return self.create_extended(other)
        return NotImplemented

    # ------------------------------------------------------------------ zfit's serialization
    def to_dict(self) -> dict:
        """zfit's dictionary of the pdf: its type and name, its space under ``"x"``, each parameter
        under its name (a dictionary), children under ``"pdfs"`` and fractions under ``"fracs"``, the
        yield under ``"extended"``. ``from_dict`` builds the pdf back.

        >>> import nfit
        >>> g = nfit.pdf.Gauss(mu=1.0, sigma=0.5, obs=nfit.Space("x", -2, 3))
        >>> d = g.to_dict(); d["type"], d["x"]["max"]
        ('Gauss', 3.0)
        >>> nfit.pdf.Gauss.from_dict(d).pdf([1.0]).round(6).tolist() == g.pdf([1.0]).round(6).tolist()
        True
        """
        from ..param import ComposedParameter

        def param(p):
            if isinstance(p, ComposedParameter):
                raise NotImplementedError(f"{type(self).__name__} {self.name!r}: ComposedParameter {p.name!r} has no "
                                          "dictionary form (its function is code)")
            return p.to_dict()

        d = {"type": type(self).__name__, "name": self.name}
        children = self._children()
        if children:
            d["pdfs"] = [c.to_dict() for c in children]
            weights = getattr(self, "_weights", None)
            if weights is not None and getattr(self, "_weight_mode", None) != "yields":
                d["fracs"] = [param(p) for p in weights]
        else:
            d["x"] = self.space.to_dict()
            d.update({key: param(p) for key, p in self.params.items()})
        if self.is_extended and not (getattr(self, "_weight_mode", None) == "yields"):
            d["extended"] = param(self.get_yield())
        return d

    @classmethod
    def from_dict(cls, d, *, registry=None):
        """The pdf of :meth:`to_dict`'s dictionary (on a class or an instance, as zfit); one parameter
        name is one Parameter within it."""
        import inspect

        from ..param import parameter_from_dict

        registry = {} if registry is None else registry
        target = _subclass_named(BasePDF, d["type"])
        if target is None:
            raise ValueError(f"from_dict: no pdf class {d['type']!r} in nfit")
        kwargs = {"name": d.get("name", target.__name__)}
        if d.get("extended") is not None:
            kwargs["extended"] = parameter_from_dict(d["extended"], registry)
        signature = inspect.signature(target.__init__).parameters
        if "pdfs" in d:
            pdfs = [BasePDF.from_dict(c, registry=registry) for c in d["pdfs"]]
            if "fracs" in d:
                kwargs["fracs"] = [parameter_from_dict(f, registry) for f in d["fracs"]]
            return target(pdfs, **kwargs) if "pdfs" in signature else target(*pdfs, **kwargs)
        obs = Space.from_dict(d["x"])
        params = {k: parameter_from_dict(v, registry) for k, v in d.items()
                  if isinstance(v, dict) and v.get("type") in ("Parameter", "ConstantParameter") and k != "extended"}
        if "coeffs" in signature:
            ordered = [params[k] for k in sorted(params, key=lambda k: int(k.split("_")[-1]))]
            if getattr(target, "_fixed_first", False):
                kwargs["coeff0"], ordered = ordered[0], ordered[1:]
            return target(obs=obs, coeffs=ordered, **kwargs)
        missing = [k for k in params if k not in signature]
        if missing:
            raise ValueError(f"from_dict: {target.__name__} takes no {missing}")
        return target(obs=obs, **params, **kwargs)

    @property
    def plot(self):
        """zfit's plotter: ``pdf.plot.plotpdf(data)``, ``pdf.plot(data)``, ``pdf.plot.comp.plotpdf()``
        (:class:`nfit.plot.PDFPlotter`; ``pip install "nfit[plot]"``)."""
        from ..plot import PDFPlotter

        return PDFPlotter(self)

    def to_binned(self, space, *, extended=None, norm=None, name=None):
        """This pdf on a binned space (or on ``space`` bins over its own limits): exact bin integrals.

        >>> import nfit
        >>> u = nfit.pdf.Uniform(0.0, 4.0, obs=nfit.Space("x", limits=(0, 4)))
        >>> u.to_binned(2).rel_counts().tolist()
        [0.5, 0.5]
        """
        return _BINNED[0](self, space, extended=extended, norm=norm, name=name)

    def to_truncated(self, limits=None, *, obs=None, extended=None, norm=None, name=None):
        """zfit's: this pdf cut to ``limits`` (default: its norm range) and renormalised there
        (:class:`~nfit.pdf.TruncatedPDF`)."""
        return _TRUNCATED[0](self, self.norm if limits is None else limits, obs=obs, extended=extended, norm=norm,
                             name=name or f"{self.name}_truncated")

    def __rmul__(self, other):
        if isinstance(other, BasePDF):
            return NotImplemented
        return self.__mul__(other)

    @numpy_result
    def ext_pdf(self, x, norm=None, *, mode=None, params=None):
        """The density times the yield (extended pdfs only)."""
        if not self.is_extended:
            raise ValueError(f"pdf {self.name!r} is not extended")
        with self._values_from(params):
            return self.pdf(x, norm=norm, mode=mode) * self._yield.value()

    def _norm_space(self, norm):
        if norm is False:
            return None
        norm = self.norm if norm is None else self._as_norm(norm)
        return _resolve_norm(self, norm)

    @numpy_result
    def integrate(self, limits, norm=None, *, mode=None, params=None):
        """Integral of the normalised density over ``limits`` (a Space or ``(lower, upper)``).

        Returns an array of shape ``(1,)``, as zfit does.

        Example
        -------
        >>> import nfit
        >>> obs = nfit.Space("x", limits=(-5, 5))
        >>> g = nfit.pdf.Gauss(mu=0.0, sigma=1.0, obs=obs)
        >>> round(float(g.integrate((-1, 1))[0]), 6)
        0.68269
        """
        if not isinstance(limits, Space):
            limits = Space(self.obs, limits=limits)
        with self._values_from(params):
            return np.array([self._normalised_integral(limits, self._norm_space(norm))])

    @numpy_result
    def ext_integrate(self, limits, norm=None, *, params=None):
        if not self.is_extended:
            raise ValueError(f"pdf {self.name!r} is not extended")
        with self._values_from(params):
            return self.integrate(limits, norm) * self._yield.value()

    def sample(self, n=None, limits=None, *, rng=None, params=None):
        """Draw ``n`` events (``None``: the yield of an extended pdf; ``"extended"``: a Poisson
        number around it) inside ``limits`` (default: the pdf's space), as :class:`~nfit.Data`.

        Example
        -------
        >>> import nfit
        >>> obs = nfit.Space("x", limits=(0, 2))
        >>> data = nfit.pdf.Exponential(lam=-1.0, obs=obs).sample(n=500, rng=1)
        >>> data.nevents, bool(data.to_numpy().max() <= 2)
        (500, True)
        """
        from ..sampling import sample

        with self._values_from(params):
            return sample(self, n, limits, rng)

    @contextlib.contextmanager
    def _values_from(self, params):
        """zfit's ``params=`` of pdf, integrate and sample: {parameter or name: value}, set for the call only."""
        if not params:
            yield
            return
        every = model_params(self)
        chosen = {}
        params = fitted_values(params, among=every)  # a fit result: the values of this pdf's parameters
        for key, value in dict(params).items():
            match = [p for p in every if p is key or p.name == getattr(key, "name", key)]
            if not match:
                raise ValueError(f"pdf {self.name!r}: no parameter {getattr(key, 'name', key)!r}; "
                                 f"it has {[p.name for p in every]}")
            if isinstance(match[0], ComposedParameter):
                raise ValueError(f"pdf {self.name!r}: {match[0].name!r} is composed; give values of its parameters")
            chosen[match[0]] = float(value)
        with values_set(list(chosen), list(chosen.values())):
            yield

    def create_sampler(self, n=None, limits=None, fixed_params=True, *, rng=None):
        """A :class:`~nfit.sampling.Sampler`: Data that ``.resample()`` refills, for toys."""
        from ..sampling import Sampler

        space = self.space if limits is None else (limits if isinstance(limits, Space) else Space(self.obs, limits))
        return Sampler(self, n, space, fixed_params=fixed_params, rng=rng)

    # ------------------------------------------------------------------ zfit's custom-shape interface
    @classmethod
    def register_analytic_integral(cls, func, limits=None, priority=50, *, supports_norm=None,
                                   supports_norm_range=None, supports_multiple_limits=None):
        """Give the class an integral: ``func(x, limits, norm, params, model)`` (or any subset of those
        names) returns the integral of the unnormalised density over ``limits``, a Space whose
        ``limits.v1.limits`` or ``limit1d`` give the range. ``limits`` (a Space, axes-only as in zfit)
        says where ``func`` is valid; ``Space.ANY_LOWER``/``ANY_UPPER`` for anywhere. The function is
        traced like the density, so the fit gets its exact derivatives.

        Example
        -------
        >>> import nfit
        >>> class Line(nfit.pdf.BasePDF):
        ...     def __init__(self, obs, slope):
        ...         super().__init__(obs, params={"slope": slope})
        ...     @nfit.supports()
        ...     def _unnormalized_pdf(self, x, params):
        ...         return 1 + params["slope"] * x[0]
        >>> def line_integral(limits, params, model):
        ...     lower, upper = limits.limit1d
        ...     return (upper - lower) + params["slope"] * (upper ** 2 - lower ** 2) / 2
        >>> Line.register_analytic_integral(line_integral, nfit.Space(axes=0, lower=nfit.Space.ANY_LOWER,
        ...                                                           upper=nfit.Space.ANY_UPPER))
        >>> round(float(Line(nfit.Space("x", 0, 2), slope=0.5).integrate((0, 1))[0]), 12)
        0.416666666667
        """
        if supports_norm_range is not None:
            raise TypeError("register_analytic_integral: use supports_norm instead of supports_norm_range")
        if supports_norm:
            raise NotImplementedError("register_analytic_integral(supports_norm=True): nfit normalises a "
                                      "registered integral itself; register the unnormalised integral")
        if not callable(func):
            raise TypeError(f"register_analytic_integral: func must be callable, got {func!r}")
        if limits is not None and not isinstance(limits, Space):
            raise TypeError(f"register_analytic_integral: limits must be a Space (axes and limits), got {limits!r}")
        cls._analytic_integrals.append((float(priority), func, limits))
        cls._analytic_integrals.sort(key=lambda entry: -entry[0])

    def _registered_integral(self, box: Space):
        """The highest-priority registered integral valid over every observable of ``box``, or None."""
        for _, func, limits in self._analytic_integrals:
            if limits is None:
                return func
            axes = limits.axes if limits.axes is not None else tuple(self.obs.index(o) for o in limits.obs
                                                                     if o in self.obs)
            if sorted(axes) != list(range(self.n_obs)):
                continue  # a partial integral: not a normalisation
            order = [axes.index(i) for i in range(self.n_obs)]
            lower, upper = box.boxes[0]
            if any(all(lo[order[i]] <= lower[i] and upper[i] <= hi[order[i]] for i in range(self.n_obs))
                   for lo, hi in limits.boxes):
                return func
        return None

    def _custom(self) -> custom.CustomShape:
        shape = self.__dict__.get("_custom_shape")
        if shape is None:
            shape = self.__dict__["_custom_shape"] = custom.CustomShape(self)
        return shape

    def _is_custom(self) -> bool:
        return custom.density_method(type(self)) is not None

    def _integrates_regions(self) -> bool:
        """Whether this pdf can be normalised over function limits in several observables."""
        return self._is_custom()

    # ------------------------------------------------------------------ node interface
    def _normalised_integral(self, limits: Space, norm) -> float:
        """Integral over ``limits`` of the density normalised over ``norm`` (None: unnormalised), at
        the current parameter values: the node's own integral (:meth:`_integral_dual`, the one both
        paths use) evaluated eagerly. Composite nodes override it to combine their children's."""
        from ..eager import at_current_values

        ctx = at_current_values(self)
        limits = limits.with_obs(self.obs)
        with np.errstate(all="ignore"):
            if self._is_custom():
                shape = self._custom()
                if shape.normalises_itself(norm):
                    if limits.has_function_limits and limits.n_obs > 1:
                        return float(shape.region_quadrature(ctx, limits, norm).v)
                    return float(sum(shape.quadrature(ctx, lo, hi, norm).v for lo, hi in limits.boxes))
                value = float(shape.integral(ctx, limits).v)
                return value if norm is None else value / float(shape.integral(ctx, norm).v)

            def integral(space):
                return sum(float(self._integral_dual(ctx, lo[0], hi[0]).v) for lo, hi in space.with_obs(self.obs).boxes)

            value = integral(limits)
            return value if norm is None else value / integral(norm)

    def _integral_ratio(self, limits: Space, norm) -> float:
        """:meth:`_normalised_integral` of a node with an ``_integral(ctx, space)`` over any space (a
        numerical one): its integral over ``limits``, divided by that over ``norm`` (None: not)."""
        from ..eager import at_current_values

        ctx = at_current_values(self)
        with np.errstate(all="ignore"):
            value = float(self._integral(ctx, limits).v)
            return value if norm is None else value / float(self._integral(ctx, norm).v)

    def _integral_dual(self, ctx, lower, upper):
        """The integral of the unnormalised density over ``[lower, upper]`` (numbers, or tuples
        with one entry per observable), as a Dual in ``ctx``."""
        if not self._is_custom():
            raise NotImplementedError
        lower, upper = tuple(np.atleast_1d(lower).tolist()), tuple(np.atleast_1d(upper).tolist())
        return self._custom().box_integral(ctx, lower, upper)

    def _build_bin_integral(self, ctx, lower, upper, norm, rule, scale=None):
        """``scale`` times the integral from ``lower`` to ``upper`` (backend numbers, one pair per
        bin) of the density normalised over ``norm``, as a Dual: what a binned pdf made from this
        one (``to_binned``) gives per bin. This default integrates :meth:`_build` by the quadrature
        ``rule`` (nodes and weights on [0, 1]) in each bin; shapes with a closed-form integral
        override it with the exact difference."""
        obs = self.obs[0]
        value = ctx.bin_quad(lambda x: self._build(ctx, {obs: x}, norm), lower, upper, rule)
        return value if scale is None else value * scale

    def _bin_integral_exact(self) -> bool:
        """Whether :meth:`_build_bin_integral` is exact (closed form) rather than quadrature."""
        return False

    def _build_extended(self, ctx, x, norm):
        """The yield times the density (extended pdfs): what an extended likelihood takes the log of."""
        return self._build(ctx, x, norm, scale=ctx.param(self.get_yield()))

    def _quad_nodes(self, lower, upper):
        """Quadrature nodes for normalising this shape numerically over [lower, upper], adapted to
        its density at the parameter values of the first use (see nfit.quadrature.adaptive_nodes)."""
        from .. import quadrature

        store = self.__dict__.setdefault("_quad_cache", {})
        key = (float(lower), float(upper))
        if key not in store:
            panels = getattr(self, "_panels", quadrature.PANELS)

            def density(x):
                return self.pdf(x, norm=False, mode="eager")

            store[key] = quadrature.adaptive_nodes(density, lower, upper, panels)
        return store[key]

    def _has_inverse_cdf(self) -> bool:
        """Whether :meth:`_inverse_cdf` can draw events exactly (at the current parameter values)."""
        return False

    def _inverse_cdf(self, values, lower, upper, rng, n):
        """``n`` events in ``[lower, upper]`` by the inverse CDF at parameter ``values``
        ({parameter: value}); only where :meth:`_has_inverse_cdf` says so."""
        raise NotImplementedError(f"{type(self).__name__} has no inverse CDF")

    def _derivative_order(self) -> int:
        """Highest order of exact parameter derivatives this node (with its children) provides."""
        return self._custom().derivative_order() if self._is_custom() else 0

    def _build(self, ctx, x, norm, scale=None):
        """``scale`` times the density at the events ``x`` ({observable: backend number}),
        normalised over ``norm`` (None: unnormalised), as a :class:`nfit.ad.Dual` built in the
        context ``ctx`` (eager NumPy, or generated source)."""
        if not self._is_custom():
            raise NotImplementedError(
                f"{type(self).__name__} defines no density: write _unnormalized_pdf(self, x, params) "
                "(or _pdf(self, x, norm, params) with @nfit.supports())")
        if norm is not None:
            _check_within(self, norm)
        return self._custom().build(ctx, x, norm, scale)

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_pdf_kernels", None)  # compiled kernels stay in their process
        state.pop("_quad_cache", None)
        state.pop("_custom_shape", None)  # traces are made again where they are needed
        return state

    def __repr__(self):
        ext = " extended" if self.is_extended else ""
        return f"<{type(self).__name__} {self.name!r} obs={self.obs}{ext}>"


def _subclass_named(base, name):
    if base.__name__ == name:
        return base
    for sub in base.__subclasses__():
        found = _subclass_named(sub, name)
        if found is not None:
            return found
    return None


def _check_within(model, norm):
    if not norm.has_limits:
        raise ValueError(f"pdf {model.name!r}: cannot normalise over {norm}, it has no finite limits")


def _resolve_norm(model, norm):
    """The range ``model`` is normalised over, as it is built: one observable's function limits
    become the intervals they leave (every shape's own integral applies there); several keep them,
    for the pdfs that integrate over such a region (:mod:`nfit.region`)."""
    if norm is None or not norm.has_function_limits:
        return norm
    if norm.n_obs == 1:
        return Space._from_boxes(norm.obs, norm.boxes, name=norm.name)
    if not model._integrates_regions():
        raise NotImplementedError(
            f"pdf {model.name!r} ({type(model).__name__}) cannot be normalised over {norm}: over function limits in "
            "several observables nfit normalises custom shapes (ZPDF, BasePDF subclasses), products and sums of "
            "them; normalise this one over its bounding box, or write it as a custom shape")
    return norm
