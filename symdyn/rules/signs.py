"""The sign of an expression for every admissible value of its symbols.

:func:`sign_of` decides, exactly, whether an expression is positive, negative
or zero for every value its symbols' assumptions allow, or says it cannot
(``None``). It is the one decision every exact claim in symdyn rests on: a
factor dropped from a condition, a kink found at a linearisation point, a
preconditioner checked positive.
"""

from __future__ import annotations

import math

import sympy as sp

from symdyn.rules.factoring import factor
from symdyn.rules.values import as_basic

__all__ = ["sign_of"]


def sign_of(expr, depth=2):
    """Sign of ``expr`` for every admissible value of its symbols: 1, -1, 0 or None.

    Tries sympy's assumptions on the expression and on its factored form,
    then, for an expression quadratic in one symbol, a positive leading
    coefficient with a negative discriminant (completing the square).

    Examples
    --------
    >>> import sympy as sp
    >>> h, a, b = sp.symbols("h a b", positive=True)
    >>> sign_of(4 - 4*h*a + h**2*a**2 + h**2*b**2)
    1
    >>> sign_of(1 - h) is None
    True
    """
    expr = as_basic(expr)
    for form in _forms(expr):
        if form.is_zero:
            return 0
        if form.is_positive:
            return 1
        if form.is_negative:
            return -1
    if depth > 0:
        for symbol in sorted(expr.free_symbols, key=sp.default_sort_key):
            sign = _quadratic_sign(expr, symbol, depth - 1)
            if sign is not None:
                return sign
    return None


def _forms(expr):
    yield expr
    factored = factor(expr)
    if factored != expr:
        yield factored


def _quadratic_sign(expr, symbol, depth):
    """Sign of an expression quadratic in ``symbol**g`` (g the gcd of its exponents)."""
    try:
        poly = sp.Poly(expr, symbol)
    except sp.PolynomialError:
        return None
    exponents = [m[0] for m in poly.monoms() if m[0]]
    g = math.gcd(*exponents) if exponents else 1
    if g > 1 and (symbol.is_positive or (g % 2 == 0 and symbol.is_real)):
        power = sp.Dummy("u", positive=bool(symbol.is_positive), nonnegative=True)
        poly = sp.Poly(expr.subs(symbol**g, power), power)
        symbol = power
    if poly.degree() != 2:
        return None
    a, b, c = poly.all_coeffs()
    if any(symbol in coeff.free_symbols for coeff in (a, b, c)):
        return None
    discriminant = sp.expand(b**2 - 4 * a * c)
    lead = sign_of(a, depth)
    if lead in (1, -1) and sign_of(discriminant, depth) == -1:
        return lead
    return None
