"""Forward-mode derivatives up to second order, over any numeric backend.

A :class:`Dual` holds a value, its gradient and its Hessian with respect to the free
parameters of a loss, each stored sparsely: ``g`` maps a parameter index to a partial derivative
and ``h`` maps an index pair ``(j, k)`` with ``j <= k`` to a second derivative; a missing entry is
zero. The *backend* decides what the numbers are:

- :class:`nfit.eager.NumpyBackend`: floats and NumPy arrays (the eager path computes);
- :class:`nfit.compile.emitter.CodeBackend`: names of variables in generated source (the
  compiled path writes code).

Every model node builds its density from Duals (``BasePDF._build``), so one description of the
model yields the value, the gradient and the Hessian, on both paths, in one pass over the events.

>>> from nfit.eager import NumpyBackend
>>> be = NumpyBackend(order=2)
>>> x = Dual(be, 3.0, {0: 1.0})              # the variable x0 at 3.0
>>> y = (x * x).log()                        # log(x0**2)
>>> round(float(y.v), 6), round(float(y.g[0]), 6), round(float(y.h[(0, 0)]), 6)
(2.197225, 0.666667, -0.222222)
"""
from __future__ import annotations

import math


def _pairs(g):
    keys = sorted(g)
    return [(j, k) for a, j in enumerate(keys) for k in keys[a:]]


class Dual:
    """A value with sparse first (``g``) and second (``h``) derivatives; see the module docstring."""

    __slots__ = ("be", "v", "g", "h")

    def __init__(self, be, v, g=None, h=None):
        self.be = be
        self.v = v
        self.g = g if g is not None else {}
        self.h = h if h is not None else {}

    def _wrap(self, other) -> Dual:
        return other if isinstance(other, Dual) else Dual(self.be, self.be.lift(other))

    @property
    def constant(self) -> bool:
        return not self.g and not self.h

    # ------------------------------------------------------------------ arithmetic
    def __add__(self, other):
        o, be = self._wrap(other), self.be
        return Dual(be, be.add(self.v, o.v), _combine(be.add, self.g, o.g, be.neg, False),
                    _combine(be.add, self.h, o.h, be.neg, False))

    __radd__ = __add__

    def __sub__(self, other):
        o, be = self._wrap(other), self.be
        return Dual(be, be.sub(self.v, o.v), _combine(be.sub, self.g, o.g, be.neg, True),
                    _combine(be.sub, self.h, o.h, be.neg, True))

    def __rsub__(self, other):
        return self._wrap(other) - self

    def __neg__(self):
        be = self.be
        return Dual(be, be.neg(self.v), {j: be.neg(x) for j, x in self.g.items()},
                    {jk: be.neg(x) for jk, x in self.h.items()})

    def __mul__(self, other):
        a, b, be = self, self._wrap(other), self.be
        if b.constant:
            return a._scaled(b.v)
        if a.constant:
            return b._scaled(a.v)
        g = {}
        for j in sorted(set(a.g) | set(b.g)):
            g[j] = _sum(be, [be.mul(a.g[j], b.v) if j in a.g else None,
                             be.mul(a.v, b.g[j]) if j in b.g else None])
        h = {}
        if be.order >= 2:
            for jk in sorted(set(a.h) | set(b.h) | _cross_pairs(a.g, b.g)):
                j, k = jk
                terms = [be.mul(a.h[jk], b.v) if jk in a.h else None,
                         be.mul(a.v, b.h[jk]) if jk in b.h else None,
                         be.mul(a.g[j], b.g[k]) if j in a.g and k in b.g else None,
                         be.mul(a.g[k], b.g[j]) if k in a.g and j in b.g else None]
                h[jk] = _sum(be, terms)
        return Dual(be, be.mul(a.v, b.v), g, h)

    __rmul__ = __mul__

    def _scaled(self, c):
        be = self.be
        return Dual(be, be.mul(self.v, c), {j: be.mul(x, c) for j, x in self.g.items()},
                    {jk: be.mul(x, c) for jk, x in self.h.items()})

    def __truediv__(self, other):
        o = self._wrap(other)
        if o.constant:
            be = self.be
            return Dual(be, be.div(self.v, o.v), {j: be.div(x, o.v) for j, x in self.g.items()},
                        {jk: be.div(x, o.v) for jk, x in self.h.items()})
        return self * o.reciprocal()

    def __rtruediv__(self, other):
        return self._wrap(other) * self.reciprocal()

    def __pow__(self, other):
        o = self._wrap(other)
        be = self.be
        if not o.constant:
            return (o * self.log()).exp()
        c = o.v
        f = be.pow(self.v, c)
        if be.order == 0 or self.constant:
            return Dual(be, f)
        cm1 = be.sub(c, be.lift(1.0))
        f1 = be.mul(c, be.pow(self.v, cm1))
        f2 = be.mul(be.mul(c, cm1), be.pow(self.v, be.sub(c, be.lift(2.0)))) if be.order >= 2 else None
        return self.apply(f, f1, f2)

    def __rpow__(self, other):
        return self._wrap(other) ** self

    # ------------------------------------------------------------------ functions
    def apply(self, f, f1, f2):
        """``F(self)`` given the backend numbers ``F(v)``, ``F'(v)`` and ``F''(v)`` (chain rule)."""
        be = self.be
        g = {j: be.mul(f1, x) for j, x in self.g.items()}
        h = {}
        if be.order >= 2:
            for jk in sorted(set(self.h) | set(_pairs(self.g))):
                j, k = jk
                terms = [be.mul(f1, self.h[jk]) if jk in self.h else None,
                         be.mul(f2, be.mul(self.g[j], self.g[k])) if j in self.g and k in self.g else None]
                h[jk] = _sum(be, terms)
        return Dual(be, f, g, h)

    def reciprocal(self):
        be = self.be
        r = be.div(be.lift(1.0), self.v)
        if self.constant:
            return Dual(be, r)
        r2 = be.mul(r, r)
        return self.apply(r, be.neg(r2), be.mul(be.lift(2.0), be.mul(r2, r)) if be.order >= 2 else None)

    def log(self):
        be = self.be
        f = be.func("log", self.v)
        if self.constant:
            return Dual(be, f)
        r = be.div(be.lift(1.0), self.v)
        g = {j: be.mul(r, x) for j, x in self.g.items()}
        h = {}
        if be.order >= 2:
            # d² log v = d²v / v - (dv / v)(dv / v)ᵀ: the second term a product of the gradient's own
            # entries (per entry one product fewer than -(1 / v²) dv dvᵀ, where a likelihood spends most)
            for jk in sorted(set(self.h) | set(_pairs(self.g))):
                j, k = jk
                outer = be.mul(g[j], g[k]) if j in g and k in g else None
                if jk not in self.h:
                    h[jk] = be.neg(outer)
                elif outer is None:
                    h[jk] = be.mul(r, self.h[jk])
                else:
                    h[jk] = be.sub(be.mul(r, self.h[jk]), outer)
        return Dual(be, f, g, h)

    def exp(self):
        be = self.be
        f = be.func("exp", self.v)
        return Dual(be, f) if self.constant else self.apply(f, f, f)

    def func(self, name):
        """A function of :mod:`nfit.z` by name, with its derivatives."""
        be = self.be
        f = be.func(name, self.v)
        if self.constant or be.order == 0:
            return Dual(be, f)
        f1, f2 = _DERIVATIVES[name](be, self.v, f)
        return self.apply(f, f1, f2 if be.order >= 2 else None)


def _combine(op, a, b, neg, subtract):
    out = dict(a)
    for key, x in b.items():
        if key in out:
            out[key] = op(out[key], x)
        else:
            out[key] = neg(x) if subtract else x
    return out


def _cross_pairs(ga, gb):
    out = set()
    for j in ga:
        for k in gb:
            out.add((min(j, k), max(j, k)))
    return out


def _sum(be, terms):
    terms = [t for t in terms if t is not None]
    total = terms[0]
    for t in terms[1:]:
        total = be.add(total, t)
    return total


def where(be, cond, a: Dual, b: Dual) -> Dual:
    """Elementwise choice between two Duals (derivatives follow the chosen branch)."""
    zero = be.lift(0.0)
    g = {j: be.where(cond, a.g.get(j, zero), b.g.get(j, zero)) for j in sorted(set(a.g) | set(b.g))}
    h = {jk: be.where(cond, a.h.get(jk, zero), b.h.get(jk, zero)) for jk in sorted(set(a.h) | set(b.h))}
    return Dual(be, be.where(cond, a.v, b.v), g, h)


def chain(be, value, inputs, first, second) -> Dual:
    """The Dual of ``F(inputs)`` from ``F``'s value, its partials ``first[m]`` by input ``m`` and its
    second partials ``second[(m, n)]`` (``m <= n``), all backend numbers."""
    g, h = {}, {}
    if be.order >= 1:
        for j in sorted({j for d in inputs for j in d.g}):
            g[j] = _sum(be, [be.mul(first[m], d.g[j]) for m, d in enumerate(inputs) if j in d.g])
    if be.order >= 2:
        pairs = set()
        for d in inputs:
            pairs |= set(d.h)
        pairs |= set(_pairs(g))
        for jk in sorted(pairs):
            j, k = jk
            terms = [be.mul(first[m], d.h[jk]) for m, d in enumerate(inputs) if jk in d.h]
            for m, dm in enumerate(inputs):
                if j not in dm.g:
                    continue
                for n, dn in enumerate(inputs):
                    if k not in dn.g:
                        continue
                    key = (m, n) if m <= n else (n, m)
                    terms.append(be.mul(second[key], be.mul(dm.g[j], dn.g[k])))
            if terms:
                h[jk] = _sum(be, terms)
    return Dual(be, value, g, h)


def _d_sqrt(be, x, f):
    f1 = be.div(be.lift(0.5), f)
    return f1, be.neg(be.div(f1, be.mul(be.lift(2.0), x)))


def _d_erf(be, x, f):
    f1 = be.mul(be.lift(2.0 / math.sqrt(math.pi)), be.func("exp", be.neg(be.mul(x, x))))
    return f1, be.mul(be.mul(be.lift(-2.0), x), f1)


def _d_erfc(be, x, f):
    f1, f2 = _d_erf(be, x, f)
    return be.neg(f1), be.neg(f2)


def _d_sin(be, x, f):
    return be.func("cos", x), be.neg(f)


def _d_cos(be, x, f):
    return be.neg(be.func("sin", x)), be.neg(f)


def _d_tan(be, x, f):
    f1 = be.add(be.lift(1.0), be.mul(f, f))
    return f1, be.mul(be.mul(be.lift(2.0), f), f1)


def _d_atan(be, x, f):
    f1 = be.div(be.lift(1.0), be.add(be.lift(1.0), be.mul(x, x)))
    return f1, be.mul(be.mul(be.lift(-2.0), x), be.mul(f1, f1))


def _d_tanh(be, x, f):
    f1 = be.sub(be.lift(1.0), be.mul(f, f))
    return f1, be.mul(be.mul(be.lift(-2.0), f), f1)


def _d_sinh(be, x, f):
    return be.func("cosh", x), f


def _d_cosh(be, x, f):
    return be.func("sinh", x), f


def _d_abs(be, x, f):
    return be.where(be.cmp("lt", x, be.lift(0.0)), be.lift(-1.0), be.lift(1.0)), be.lift(0.0)


def _d_log1p(be, x, f):
    r = be.div(be.lift(1.0), be.add(be.lift(1.0), x))
    return r, be.neg(be.mul(r, r))


def _d_asinh(be, x, f):
    r = be.div(be.lift(1.0), be.func("sqrt", be.add(be.lift(1.0), be.mul(x, x))))
    return r, be.neg(be.mul(x, be.mul(r, be.mul(r, r))))


def _d_expm1(be, x, f):
    e = be.func("exp", x)
    return e, e


def _d_lgamma(be, x, f):
    raise NotImplementedError("lgamma of a parameter has no derivative in nfit yet (lgamma of the data has none "
                              "to take)")


_DERIVATIVES = {
    "sqrt": _d_sqrt, "erf": _d_erf, "erfc": _d_erfc, "sin": _d_sin, "cos": _d_cos, "tan": _d_tan,
    "atan": _d_atan, "tanh": _d_tanh, "sinh": _d_sinh, "cosh": _d_cosh, "abs": _d_abs,
    "log1p": _d_log1p, "expm1": _d_expm1, "asinh": _d_asinh, "lgamma": _d_lgamma,
    "exp": lambda be, x, f: (f, f),
    "log": lambda be, x, f: (be.div(be.lift(1.0), x), be.neg(be.div(be.lift(1.0), be.mul(x, x)))),
}


def as_dual(be, x) -> Dual:
    return x if isinstance(x, Dual) else Dual(be, be.lift(x))
