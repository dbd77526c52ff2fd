"""The base of every PDF node: normalisation, extension, evaluation on both paths."""
from __future__ import annotations

import copy
import itertools

import numpy as np

from ..param import ComposedParameter, convert_to_parameter, independent_params
from ..space import Space

_ids = itertools.count()


class BasePDF:
    """A probability density over the observables of a space.

    Subclasses describe themselves; they never compute over events directly. One method makes a
    node: ``_build(ctx, x, norm, scale)``, which composes the density from :class:`nfit.ad.Dual`
    numbers handed out by a build context, so that the same code gives the eager path (NumPy) and
    the compiled path (generated source), with derivatives when asked. ``norm`` is the
    :class:`Space` to normalise over, or ``None`` for the unnormalised density.
    """

    def __init__(self, obs, params: dict, name=None, extended=None, label=None, norm=None):
        if not isinstance(obs, Space):
            raise TypeError(f"{type(self).__name__}: obs must be a Space, got {obs!r}")
        self.space = obs
        self.name = name or type(self).__name__
        self._norm = None if norm is None or norm is False else self._as_norm(norm)
        self.label = label or self.name
        self.params = {k: convert_to_parameter(v, name=f"{self.name}_{k}") for k, v in params.items()}
        self._yield = None
        self._uid = next(_ids)
        if extended is not None and extended is not False:
            self._set_yield(extended)

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
        return found

    def _shape_params(self) -> list:
        """Every parameter the normalised shape depends on (children's included)."""
        return list(self.params.values())

    def _all_params(self) -> list:
        """The shape's parameters and, for an extended pdf, its yield."""
        return self._shape_params() + ([self._yield] if self._yield is not None else [])

    # ------------------------------------------------------------------ evaluation (both paths)
    def pdf(self, x, norm=None, *, mode=None):
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

        norm_space = self._norm_space(norm)
        return evaluate_pdf(self, x, norm_space, mode=mode)

    def ext_pdf(self, x, norm=None, *, mode=None):
        """The density times the yield (extended pdfs only)."""
        if not self.is_extended:
            raise ValueError(f"pdf {self.name!r} is not extended")
        return self.pdf(x, norm=norm, mode=mode) * self._yield.value()

    def _norm_space(self, norm):
        if norm is False:
            return None
        norm = self.norm if norm is None else self._as_norm(norm)
        _check_box_norm(self, norm)
        return norm

    def integrate(self, limits, norm=None, *, mode=None):
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
        values = _current_values(self)
        return np.array([self._normalised_integral(values, limits, self._norm_space(norm))])

    def ext_integrate(self, limits, norm=None):
        if not self.is_extended:
            raise ValueError(f"pdf {self.name!r} is not extended")
        return self.integrate(limits, norm) * self._yield.value()

    def sample(self, n=None, limits=None, *, rng=None):
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

        return sample(self, n, limits, rng)

    def create_sampler(self, n=None, limits=None, fixed_params=True, *, rng=None):
        """A :class:`~nfit.sampling.Sampler`: Data that ``.resample()`` refills, for toys."""
        from ..sampling import Sampler

        space = self.space if limits is None else (limits if isinstance(limits, Space) else Space(self.obs, limits))
        return Sampler(self, n, space, fixed_params=fixed_params, rng=rng)

    # ------------------------------------------------------------------ node interface
    def _normalised_integral(self, values, limits: Space, norm) -> float:
        """Integral over ``limits`` of the density normalised over ``norm`` (None: unnormalised)."""
        raise NotImplementedError

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

    def _derivative_order(self) -> int:
        """Highest order of exact parameter derivatives this node (with its children) provides."""
        return 0

    def _build(self, ctx, x, norm, scale=None):
        """``scale`` times the density at the events ``x`` ({observable: backend number}),
        normalised over ``norm`` (None: unnormalised), as a :class:`nfit.ad.Dual` built in the
        context ``ctx`` (eager NumPy, or generated source)."""
        raise NotImplementedError

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_pdf_kernels", None)  # compiled kernels stay in their process
        state.pop("_quad_cache", None)
        return state

    def __repr__(self):
        ext = " extended" if self.is_extended else ""
        return f"<{type(self).__name__} {self.name!r} obs={self.obs}{ext}>"


def _check_box_norm(model, norm):
    if norm is not None and norm.has_function_limits:
        raise NotImplementedError(
            f"pdf {model.name!r}: normalising over a space with function limits is not supported yet; "
            "normalise over its bounding box or a union of boxes (sampling and data filtering do use them)")


def _current_values(model) -> dict:
    """{parameter: current float value} for every parameter (independent and composed) of a model."""
    from ..layout import ParamLayout

    layout = ParamLayout(model_params(model))
    return layout.values(layout.vector())


def model_params(model) -> list:
    """Every parameter object a model tree uses, composed ones included, in first-seen order."""
    found = []

    def visit(p):
        if p in found:
            return
        if isinstance(p, ComposedParameter):
            for q in p.params.values():
                visit(q)
        found.append(p)

    for p in model._all_params():
        visit(p)
    return found
