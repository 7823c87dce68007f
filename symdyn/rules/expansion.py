"""Upper bounds on what an expression expands to, computed without expanding it.

An expression can be small as text and as a sympy tree, yet astronomically large
once its powers are multiplied out, its products distributed and its temporaries
substituted: ``(x + eta + 1)**1000`` has about 500 000 monomials, forty chained
squared temporaries reach ``x**(2**40)``. :func:`size_of` estimates, bottom up, an
upper bound on three sizes of the expanded form: the number of monomials, the
largest power of each atom (a symbol, or a call such as ``exp(x)``) and the bits of
its largest number. A symbol that stands for an earlier expression (a temporary, or a
state already updated in a sequential rule) is given that expression's
:class:`Size`, so the bounds carry through substitution. The limits these bounds are
held to live in :mod:`symdyn.rules.grammar`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from symdyn.rules.grammar import _number_bits

__all__ = ["Size", "size_of"]


@dataclass(frozen=True)
class Size:
    """Upper bounds on the expanded form of an expression.

    Attributes
    ----------
    terms : int
        Monomials once everything is multiplied out.
    powers : mapping of sympy.Basic to int
        The largest absolute power of each atom (symbol or call).
    bits : int
        Bits of the largest number the expansion computes.
    number : sympy.Expr or None
        The value, when the expression (its temporaries substituted) is a number.
    """

    terms: int = 1
    powers: Mapping = field(default_factory=dict)
    bits: int = 0
    number: sp.Expr | None = None

    @property
    def exponent(self) -> int:
        """The largest power of any one atom."""
        return max(self.powers.values(), default=0)


def size_of(expr, known: Mapping, cache: dict | None = None) -> Size:
    """Upper bounds on the expanded form of ``expr``.

    Parameters
    ----------
    expr : sympy.Basic
        The expression, as built (nothing in it is expanded or substituted).
    known : mapping of sympy.Symbol to Size
        Sizes of the symbols that stand for earlier expressions.
    cache : dict, optional
        Sizes already computed, by sub-expression; filled in.

    Returns
    -------
    Size
        Bounds that over-estimate, never under-estimate, the expanded form.

    Examples
    --------
    >>> x, y = sp.symbols("x y")
    >>> size_of((x + y + 1)**4, {}).terms
    15
    >>> size_of((x**50)**50, {}).exponent
    2500
    """
    cache = {} if cache is None else cache
    if expr not in cache:
        cache[expr] = _size(expr, known, cache)
    return cache[expr]


def _size(expr, known, cache) -> Size:
    if isinstance(expr, sp.Symbol):
        return known.get(expr) or Size(powers={expr: 1})
    if isinstance(expr, sp.Rational) or (isinstance(expr, sp.Expr) and expr.is_number):
        return Size(bits=_number_bits(expr))
    if isinstance(expr, sp.Add):
        return _sum([size_of(arg, known, cache) for arg in expr.args])
    if isinstance(expr, sp.Mul):
        return _product([size_of(arg, known, cache) for arg in expr.args])
    if isinstance(expr, sp.Pow) and isinstance(expr.exp, sp.Rational):
        return _power(size_of(expr.base, known, cache), expr.exp)
    return _atom(expr, known)


def _sum(sizes) -> Size:
    powers: dict = {}
    for size in sizes:
        for atom, power in size.powers.items():
            powers[atom] = max(power, powers.get(atom, 0))
    bits = max(size.bits for size in sizes) + math.ceil(math.log2(len(sizes)))
    return Size(sum(size.terms for size in sizes), powers, bits)


def _product(sizes) -> Size:
    powers: dict = {}
    for size in sizes:
        for atom, power in size.powers.items():
            powers[atom] = power + powers.get(atom, 0)
    return Size(math.prod(size.terms for size in sizes), powers, sum(s.bits for s in sizes))


def _power(base: Size, exponent: sp.Rational) -> Size:
    """``base**exponent``: a multinomial expansion to ``ceil(|exponent|)``."""
    n = max(1, math.ceil(abs(exponent)))
    powers = {atom: power * n for atom, power in base.powers.items()}
    # n factors chosen among t terms (a multiset), or every monomial within the powers
    within = math.prod(2 * power + 1 for power in powers.values())
    terms = min(_multisets(base.terms, n, within), within)
    bits = n * base.bits  # a sum's bits already count the sum of its coefficients
    return Size(terms, powers, bits)


def _multisets(kinds: int, n: int, cap: int) -> int:
    """``comb(kinds + n - 1, n)``, or any number above ``cap`` once it is exceeded."""
    total, choose = n + kinds - 1, min(n, kinds - 1)
    count = 1
    for k in range(1, choose + 1):
        count = count * (total - choose + k) // k  # comb(total - choose + k, k), exactly
        if count > cap:
            return count
    return count


def _atom(expr, known) -> Size:
    """A call or a symbolic power: one monomial, holding the numbers of its arguments."""
    inner = [known[s].bits for s in expr.free_symbols if s in known]
    return Size(powers={expr: 1}, bits=max([_number_bits(expr), *inner]))
