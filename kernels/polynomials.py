"""Polynomial shapes on a range [lower, upper]: Chebyshev, Legendre and monomial series in
``u = (2x - lower - upper) / (upper - lower)`` (u in [-1, 1]), and Bernstein polynomials in
``v = (x - lower) / (upper - lower)`` (v in [0, 1]). ``coeffs`` starts with the constant term.
Each has a closed-form integral over any window; ``m`` is the math namespace (unused: arithmetic only).

>>> round(chebyshev(0.5, -1.0, 1.0, [1.0, 0.0, 1.0], None), 6)   # 1 + T2(0.5) = 1 - 0.5
0.5
>>> round(chebyshev_integral(-1.0, 1.0, -1.0, 1.0, [1.0, 0.0, 1.0], None), 6)   # 2 - 2/3
1.333333
"""


def _u(x, lower, upper):
    return (2.0 * x - lower - upper) / (upper - lower)


def _series(terms, coeffs):
    total = coeffs[0] * terms[0]
    for c, t in zip(coeffs[1:], terms[1:]):
        total = total + c * t
    return total


def _chebyshev_terms(u, n):
    terms = [1.0 + 0.0 * u, u]
    while len(terms) < n:
        terms.append(2.0 * u * terms[-1] - terms[-2])
    return terms[:n]


def chebyshev(x, lower, upper, coeffs, m):
    return _series(_chebyshev_terms(_u(x, lower, upper), len(coeffs)), coeffs)


def _chebyshev_primitive(u, coeffs):
    t = _chebyshev_terms(u, len(coeffs) + 1)
    prims = [u, 0.5 * u * u]
    for n in range(2, len(coeffs)):
        prims.append(t[n + 1] / (2.0 * (n + 1)) - t[n - 1] / (2.0 * (n - 1)))
    return _series(prims, coeffs)


def chebyshev_integral(a, b, lower, upper, coeffs, m):
    ua, ub = _u(a, lower, upper), _u(b, lower, upper)
    return 0.5 * (upper - lower) * (_chebyshev_primitive(ub, coeffs) - _chebyshev_primitive(ua, coeffs))


def _legendre_terms(u, n):
    terms = [1.0 + 0.0 * u, u]
    k = 1
    while len(terms) < n:
        terms.append(((2 * k + 1) * u * terms[-1] - k * terms[-2]) / (k + 1))
        k += 1
    return terms[:n]


def legendre(x, lower, upper, coeffs, m):
    return _series(_legendre_terms(_u(x, lower, upper), len(coeffs)), coeffs)


def _legendre_primitive(u, coeffs):
    p = _legendre_terms(u, len(coeffs) + 1)
    prims = [u] + [(p[n + 1] - p[n - 1]) / (2 * n + 1) for n in range(1, len(coeffs))]
    return _series(prims, coeffs)


def legendre_integral(a, b, lower, upper, coeffs, m):
    ua, ub = _u(a, lower, upper), _u(b, lower, upper)
    return 0.5 * (upper - lower) * (_legendre_primitive(ub, coeffs) - _legendre_primitive(ua, coeffs))


def monomial(x, lower, upper, coeffs, m):
    u = _u(x, lower, upper)
    return _series([u ** k for k in range(len(coeffs))], coeffs)


def monomial_integral(a, b, lower, upper, coeffs, m):
    half = 0.5 * (upper - lower)
    ua, ub = _u(a, lower, upper), _u(b, lower, upper)
    return half * _series([(ub ** (k + 1) - ua ** (k + 1)) / (k + 1) for k in range(len(coeffs))], coeffs)


def _binomial(n, k):
    out = 1
    for i in range(1, k + 1):
        out = out * (n - k + i) // i
    return out


def _bernstein_basis(v, n):
    return [_binomial(n, i) * v ** i * (1.0 - v) ** (n - i) for i in range(n + 1)]


def bernstein(x, lower, upper, coeffs, m):
    v = (x - lower) / (upper - lower)
    return _series(_bernstein_basis(v, len(coeffs) - 1), coeffs)


def _bernstein_primitive(v, coeffs):
    # integral of b_{i,n} from 0 to v is (1 / (n+1)) * sum_{j > i} b_{j,n+1}(v)
    n = len(coeffs) - 1
    higher = _bernstein_basis(v, n + 1)
    prims = []
    for i in range(n + 1):
        total = higher[i + 1]
        for j in range(i + 2, n + 2):
            total = total + higher[j]
        prims.append(total / (n + 1))
    return _series(prims, coeffs)


def bernstein_integral(a, b, lower, upper, coeffs, m):
    width = upper - lower
    va, vb = (a - lower) / width, (b - lower) / width
    return width * (_bernstein_primitive(vb, coeffs) - _bernstein_primitive(va, coeffs))
