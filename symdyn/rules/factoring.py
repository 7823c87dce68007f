"""Factoring that never factors a huge integer.

SymPy's ``factor`` and ``factor_list`` factor integer contents and, for
multivariate polynomials, pick evaluation primes above the coefficients'
size (Wang's algorithm calls ``nextprime`` on them): a 1200-digit coefficient
makes either run for hours. symdyn factors to *read* and to *split* a
polynomial, never to decide a claim (an unfactored polynomial satisfies the
same criteria), so above :data:`MAX_FACTOR_BITS` it keeps the content and
the primitive part as they are.

Examples
--------
>>> import sympy as sp
>>> x = sp.Symbol("x")
>>> factor_list(x**2 - 1)
(1, [(x - 1, 1), (x + 1, 1)])
>>> huge = sp.Integer(10) ** 400 + 1
>>> factor_list(huge * x**2 - huge)
(100000...0001, [(x**2 - 1, 1)])
"""

from __future__ import annotations

import sympy as sp

__all__ = ["MAX_FACTOR_BITS", "factor", "factor_list", "huge"]

MAX_FACTOR_BITS = 256
"""Largest coefficient, in bits of numerator or denominator, that symdyn lets SymPy factor."""


def _largest_bits(expr):
    if isinstance(expr, sp.Poly):
        expr = expr.as_expr()
    numbers = list(expr.atoms(sp.Rational)) if isinstance(expr, sp.Basic) else []
    return max((max(abs(n.p).bit_length(), n.q.bit_length()) for n in numbers), default=0)


def huge(expr):
    """Whether ``expr`` holds a number too large to factor."""
    return _largest_bits(expr) > MAX_FACTOR_BITS


def factor(expr):
    """``sympy.factor``, or ``sympy.factor_terms`` when a coefficient is huge."""
    if huge(expr):
        return sp.factor_terms(expr)
    return sp.factor(expr)


def factor_list(expr, *gens):
    """``sympy.factor_list``, or (content, [(primitive part, 1)]) when a coefficient is huge.

    Returns ``(coefficient, [(factor, multiplicity), ...])`` as SymPy does,
    for an expression or a ``Poly`` (the factors are then Polys too).
    """
    if not huge(expr):
        return sp.factor_list(expr, *gens)
    poly = expr if isinstance(expr, sp.Poly) else sp.Poly(expr, *gens) if gens else None
    if poly is None:
        content, rest = sp.factor_terms(expr).as_coeff_Mul()
        return content, [(rest, 1)]
    content, primitive = poly.primitive()
    lead = primitive.LC()
    if lead.is_negative:
        content, primitive = -content, -primitive
    if isinstance(expr, sp.Poly):
        return content, [(primitive, 1)]
    return content, [(primitive.as_expr(), 1)]
