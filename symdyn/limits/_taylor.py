"""Taylor coefficients in a small parameter, with an exact zero test for them.

The continuous limit expands a one-step residual in the time step τ, the
modified equation expands the map in the step h; both need the coefficient
of each power exactly and must decide exactly when a coefficient vanishes.
"""

from __future__ import annotations

import itertools

import sympy as sp
from sympy.functions.elementary.hyperbolic import HyperbolicFunction
from sympy.functions.elementary.trigonometric import TrigonometricFunction


def _is_zero(expr):
    """Exact zero test: the expanded numerator of the normal form.

    Trigonometric and hyperbolic functions are rewritten as exponentials first,
    so identities such as cosh² − sinh² = 1 are seen.
    """
    expr = sp.expand(expr)
    if expr == 0:
        return True
    if sp.expand(sp.numer(sp.together(expr))) == 0:
        return True
    if expr.has(HyperbolicFunction, TrigonometricFunction) and sp.count_ops(expr) < 400:
        rewritten = sp.expand(expr.rewrite(sp.exp))
        return sp.expand(sp.numer(sp.together(rewritten))) == 0
    return False


def _atom_taylor(atom, tau, degree, cache):
    """Taylor polynomial of degree ``degree`` in ``tau`` of one factor, by differentiation."""
    key = (atom, degree)
    if key not in cache:
        terms, current = [], atom
        for m in range(degree + 1):
            value = current.subs(tau, 0).doit()
            if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
                raise _Divergent(atom)
            terms.append(value / sp.factorial(m) * tau**m)
            current = sp.diff(current, tau)
        cache[key] = sp.Add(*terms)
    return cache[key]


class _Divergent(Exception):
    def __init__(self, term):
        self.term = term


def _coefficients(expr, tau, degree):
    """Coefficients of tau**p, p <= degree, of ``expr``; negative powers included if present.

    Each term is split into a power of ``tau`` and factors in which ``tau`` sits
    inside functions or denominators; those factors are replaced by Taylor
    polynomials, so the work stays proportional to the size of the expression.
    """
    cache, out = {}, {}
    for term in sp.Add.make_args(sp.expand(expr)):
        power, rest = 0, []
        for factor in sp.Mul.make_args(term):
            base, exponent = factor.as_base_exp()
            if base == tau and exponent.is_Integer:
                power += int(exponent)
            else:
                rest.append(factor)
        if power > degree:
            continue
        product = sp.S.One
        for factor in rest:
            if tau in factor.free_symbols:
                try:
                    factor = _atom_taylor(factor, tau, degree - power, cache)
                except _Divergent:
                    raise _Divergent(term) from None
            product *= factor
        product = sp.expand(product)
        for m in range(degree - power + 1):
            c = product.coeff(tau, m) if m else product.subs(tau, 0)
            if c != 0:
                out[power + m] = out.get(power + m, sp.S.Zero) + c
    return {p: sp.expand(c) for p, c in out.items()}


def _shifted_series(expr, shift, h, degree):
    """expr(x + shift) to order h**degree, for a shift that is O(h): a Taylor sum in the shift.

    Every factor is held as its coefficients of h^0 … h^degree, so products are
    truncated as they are formed rather than expanded whole and cut afterwards.
    """
    if expr == 0:
        return sp.S.Zero
    variables = list(shift)
    shifts = {x: _coefficient_list(shift[x], h, degree) for x in variables}
    powers = {}

    def power(x, c):  # shift[x]**c / c!, truncated
        if (x, c) not in powers:
            below = power(x, c - 1) if c > 1 else _one(degree)
            powers[x, c] = [e / c for e in _product(below, shifts[x], degree)]
        return powers[x, c]

    total = [sp.S.Zero] * (degree + 1)
    for size in range(degree + 1):
        for combo in itertools.combinations_with_replacement(variables, size):
            counts = {x: combo.count(x) for x in set(combo)}
            derivative = sp.diff(expr, *[(x, c) for x, c in counts.items()]) if combo else expr
            if derivative == 0:
                continue
            weight = _one(degree)
            for x, c in counts.items():
                weight = _product(weight, power(x, c), degree)
            term = _product(_coefficient_list(derivative, h, degree), weight, degree)
            total = [a + b for a, b in zip(total, term, strict=True)]
    return sp.Add(*[sp.expand(c) * h**m for m, c in enumerate(total)])


def _coefficient_list(expr, h, degree):
    """The coefficients of h^0 … h^degree of ``expr``, expanded."""
    expr = sp.expand(expr)
    return [expr.coeff(h, m) for m in range(degree + 1)]


def _one(degree):
    return [sp.S.One] + [sp.S.Zero] * degree


def _product(a, b, degree):
    """The product of two truncated series, truncated at h**degree."""
    out = [sp.S.Zero] * (degree + 1)
    for i, left in enumerate(a):
        if left == 0:
            continue
        for k in range(degree + 1 - i):
            if b[k] != 0:
                out[i + k] += left * b[k]
    return [sp.expand(c) for c in out]


def _taylor(expr, h, j):
    """The coefficient of h**j in the Taylor series of ``expr`` at h = 0."""
    expanded = sp.expand(expr)
    if expanded.is_polynomial(h):
        return expanded.coeff(h, j)
    return sp.expand(sp.diff(expr, h, j).subs(h, 0).doit() / sp.factorial(j))
