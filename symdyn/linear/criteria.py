"""Exact root-location criteria for real polynomials with symbolic coefficients.

* :func:`hurwitz_conditions` — all roots in the open left half-plane
  (Routh–Hurwitz, in the Liénard–Chipart form: positive coefficients and
  every other Hurwitz determinant).
* :func:`schur_conditions` — all roots strictly inside the unit circle
  (Schur–Cohn–Jury), by the Möbius map z = (1+s)/(1−s) that sends the open
  disc onto the open left half-plane, followed by the Hurwitz test.

Conditions are returned as strict inequalities, each simplified under the
symbols' assumptions: factors of known sign are divided out, conditions
that hold for every admissible value are dropped, and a condition that can
never hold becomes ``False``. Coefficients must be provably real; otherwise
the criteria do not apply and :class:`~symdyn.errors.UndecidedError` is raised.

References
----------
Liénard & Chipart (1914); Jury, *Theory and Application of the z-Transform
Method* (1964); Gantmacher, *The Theory of Matrices*, vol. II, ch. XV.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.polys.matrices import DomainMatrix

from symdyn.errors import ArgumentError, UndecidedError
from symdyn.rules.factoring import factor, factor_list
from symdyn.rules.rule import as_expression
from symdyn.rules.signs import sign_of
from symdyn.rules.values import as_basic

__all__ = [
    "Criterion",
    "hurwitz_conditions",
    "hurwitz_matrix",
    "moebius_transform",
    "schur_conditions",
    "sign_of",
    "simplify_condition",
]


def _split_sign(expr):
    """Write ``expr`` as ``sign * rest`` with factors of known sign removed.

    Returns ``(sign, rest)`` where sign is 1, -1 or 0 (expr is identically
    zero) and ``rest`` is the product of the factors whose sign is unknown.
    Only factors of known strict sign are removed, so the split is valid for
    strict and weak relations alike.
    """
    numerator, denominator = sp.fraction(sp.cancel(sp.together(expr)))
    if numerator.is_polynomial() and denominator.is_polynomial():
        parts = _factor_powers(numerator) + _factor_powers(denominator)
    else:
        numerator, denominator = sp.fraction(factor(sp.together(expr)))
        parts = _factor_powers(numerator * denominator)
    sign = 1
    kept = []
    for part, power in parts:
        factor_sign = _coefficient_sign(part)
        if factor_sign is None:
            factor_sign = sign_of(part)
        if factor_sign == 0:
            return 0, sp.S.Zero
        if factor_sign is not None:
            sign *= factor_sign**power
            continue
        kept.append(part ** (power % 2 or 2))  # an odd power has the sign of its base
    return sign, sp.Mul(*kept)


def _coefficient_sign(part):
    """1 (or -1) when ``part`` is a polynomial in positive symbols whose coefficients are
    all positive (negative): a sign read off the polynomial, before any assumption query."""
    symbols = part.free_symbols
    if not symbols or not all(s.is_positive for s in symbols) or not part.is_polynomial():
        return None
    signs = {sp.sign(c) for c in sp.Poly(part, *sorted(symbols, key=str)).coeffs()}
    return signs.pop() if len(signs) == 1 and signs <= {1, -1} else None


def _factor_powers(expr):
    coeff, factors = factor_list(expr) if expr.is_polynomial() else (1, [(expr, 1)])
    out = list(factors)
    if coeff != 1:
        out.append((as_basic(coeff), 1))
    return out


def _present(rest, sign, weak):
    """A readable relation for ``sign * rest > 0`` (``>= 0`` when weak)."""
    if sign < 0:
        rest = -rest
    if rest.is_Mul and rest.args[0].is_Number:
        rest = sp.expand(rest)
    if rest.is_Add:
        negative = [t for t in rest.args if t.could_extract_minus_sign()]
        positive = [t for t in rest.args if not t.could_extract_minus_sign()]
        if negative and positive:
            small, large = -sp.Add(*negative), sp.Add(*positive)
            if small.is_Add:  # eta*lambda*(2*beta + 1) reads better than its expansion
                small = factor(small)
            return (sp.Le if weak else sp.Lt)(small, large)
        constants = [t for t in positive if t.is_Number]
        if constants and len(positive) > len(constants):
            return (sp.Ge if weak else sp.Gt)(
                sp.Add(*(set(positive) - set(constants))), -sp.Add(*constants)
            )
    if rest.could_extract_minus_sign():
        return (sp.Le if weak else sp.Lt)(-rest, 0)
    return (sp.Ge if weak else sp.Gt)(rest, 0)


def simplify_condition(expr, weak=False):
    """Simplify ``expr > 0`` (or ``expr >= 0``) under the symbols' assumptions.

    Returns ``sympy.true``, ``sympy.false`` or a readable relation.

    Examples
    --------
    >>> import sympy as sp
    >>> eta, lam, beta = sp.symbols("eta lambda beta", positive=True)
    >>> simplify_condition(2 + 2*beta - eta*lam)
    eta*lambda < 2*beta + 2
    >>> simplify_condition(eta*lam)
    True
    """
    sign, rest = _split_sign(as_basic(expr))
    if sign == 0:
        return sp.true if weak else sp.false
    if rest == 1:
        return sp.true if sign > 0 else sp.false
    return _present(rest, sign, weak)


def _normalised(relation):
    """``c*t < r`` with a positive number c becomes ``t < r/c``."""
    coeff, rest = relation.lhs.as_coeff_Mul()
    if coeff.is_positive and coeff != 1 and relation.lhs.is_Mul:
        return relation.func(rest, relation.rhs / coeff)
    return relation


def _without_redundant(relations):
    """Drop repeats and upper bounds on the same expression that a tighter one implies."""
    kept = []
    for relation in map(_normalised, relations):
        upper = isinstance(relation, (sp.StrictLessThan, sp.LessThan))
        dominated = False
        for i, other in enumerate(kept):
            if other == relation:
                dominated = True
                break
            if not (upper and type(other) is type(relation) and other.lhs == relation.lhs):
                continue
            gap = sign_of(relation.rhs - other.rhs)
            if gap in (0, 1):
                dominated = True
                break
            if gap == -1:
                kept[i] = relation
                dominated = True
                break
        if not dominated:
            kept.append(relation)
    return tuple(dict.fromkeys(kept))


def hurwitz_matrix(poly):
    """The Hurwitz matrix of ``poly`` (leading coefficient first in each row).

    Examples
    --------
    >>> import sympy as sp
    >>> s, a, b, c = sp.symbols("s a b c")
    >>> hurwitz_matrix(sp.Poly(s**3 + a*s**2 + b*s + c, s))
    Matrix([
    [a, c, 0],
    [1, b, 0],
    [0, a, c]])
    """
    coeffs = poly.all_coeffs()  # coeffs[k] multiplies s**(n-k)
    n = poly.degree()

    def coefficient(k):
        return coeffs[k] if 0 <= k <= n else sp.S.Zero

    return sp.Matrix(n, n, lambda i, j: coefficient(2 * (j + 1) - (i + 1)))


@dataclass(frozen=True)
class Criterion:
    """Raw conditions of a criterion, each ``expr > 0``, with a reason for each."""

    exprs: tuple
    reasons: tuple

    def simplified(self, weak=False):
        """Simplified relations, without the ones that always hold."""
        relations = [simplify_condition(e, weak) for e in self.exprs]
        if any(r is sp.false for r in relations):
            return (sp.false,)
        return _without_redundant([r for r in relations if r is not sp.true])


def _require_real(poly, what):
    unknown = [c for c in poly.all_coeffs() if c.is_extended_real is not True]
    if unknown:
        symbols = sorted(set().union(*(c.free_symbols for c in unknown)), key=str)
        names = ", ".join(map(str, symbols)) or str(unknown[0])
        raise UndecidedError(
            f"{what}: the coefficients must be real for the criterion to apply, and "
            f"{names} carry no such assumption; declare them with real=True or positive=True"
        )


def hurwitz_criterion(poly):
    """Raw Liénard–Chipart conditions for ``poly`` to be Hurwitz stable."""
    _require_real(poly, "Routh–Hurwitz")
    n = poly.degree()
    coeffs = poly.all_coeffs()
    lead = coeffs[0]
    lead_sign = sign_of(lead)
    scale = 1 if lead_sign == 1 else (-1 if lead_sign == -1 else lead)
    exprs, reasons = [], []
    if lead_sign is None:
        exprs.append(lead**2)
        reasons.append("the leading coefficient is nonzero")
    coefficients, determinants = _lienard_chipart(poly, scale)
    exprs += coefficients + [d for _, d in determinants]
    reasons += [
        f"the coefficient of $s^{{{n - k}}}$ has the sign of the leading one"
        for k in range(1, n + 1)
    ]
    reasons += [f"the Hurwitz determinant $\\Delta_{{{k}}}$ is positive" for k, _ in determinants]
    return Criterion(tuple(exprs), tuple(reasons))


def _lienard_chipart(poly, scale=1):
    """Coefficients after the leading one, and every other Hurwitz determinant
    (Δ_{n−1}, Δ_{n−3}, ..., down to Δ_2), each multiplied by ``scale`` to the power that
    makes its sign the one it has for the polynomial divided by ``scale``."""
    n = poly.degree()
    coefficients = [c * scale for c in poly.all_coeffs()[1:]]
    H = _hurwitz_domain_matrix(poly)
    determinants = [
        (k, poly.domain.to_sympy(H[:k, :k].det()) * scale**k) for k in range(n - 1, 1, -2)
    ]
    return coefficients, determinants


def _hurwitz_domain_matrix(poly):
    """The Hurwitz matrix over the polynomial's own coefficient domain, so that its minors
    are computed fraction-free there (``DomainMatrix.det``), never as expressions."""
    coeffs = poly.rep.to_list()
    n = poly.degree()
    zero = poly.domain.zero

    def coefficient(k):
        return coeffs[k] if 0 <= k <= n else zero

    rows = [[coefficient(2 * (j + 1) - (i + 1)) for j in range(n)] for i in range(n)]
    return DomainMatrix(rows, (n, n), poly.domain)


def hurwitz_conditions(poly, s=None):
    """Conditions for all roots of ``poly`` to lie in the open left half-plane.

    Parameters
    ----------
    poly : sympy.Poly or sympy.Expr
        A polynomial with real (possibly symbolic) coefficients.
    s : sympy.Symbol, optional
        The variable, needed when ``poly`` is an expression.

    Returns
    -------
    tuple of sympy relations
        Strict inequalities, necessary and sufficient, simplified under the
        symbols' assumptions; ``(False,)`` if they can never hold.

    Examples
    --------
    >>> import sympy as sp
    >>> s = sp.Symbol("s")
    >>> a, b = sp.symbols("a b", real=True)
    >>> hurwitz_conditions(s**2 + a*s + b, s)
    (a > 0, b > 0)
    """
    return hurwitz_criterion(_polynomial(poly, s, "hurwitz_conditions")).simplified()


def moebius_transform(poly, s):
    """``(1 - s)**n * p((1 + s)/(1 - s))``: Schur stability of p becomes Hurwitz stability.

    Examples
    --------
    >>> import sympy as sp
    >>> z, s = sp.symbols("z s")
    >>> moebius_transform(sp.Poly(z - sp.Rational(1, 2), z), s).as_expr()
    3*s/2 + 1/2
    """
    n = poly.degree()
    expr = sum(c * (1 + s) ** k * (1 - s) ** (n - k) for (k,), c in poly.terms())
    return sp.Poly(sp.expand(expr), s)


def schur_criterion(poly):
    """Raw conditions for ``poly`` (real coefficients) to be Schur stable, with reasons."""
    _require_real(poly, "Schur–Cohn–Jury")
    s = sp.Dummy("s")
    lead_sign = sign_of(poly.LC())
    if lead_sign == -1:
        poly = -poly
    elif lead_sign is None:
        poly = poly * poly.LC()
    n = poly.degree()
    q = moebius_transform(poly, s)
    lead = q.coeff_monomial(s**n)  # (-1)^n p(-1): a condition, since the degree may drop
    if lead == 0:
        return Criterion((sp.S.Zero,), (f"$(-1)^{{{n}}} p(-1) > 0$: here $p(-1) = 0$",))
    coefficients, determinants = _lienard_chipart(sp.Poly(q.as_expr(), s))
    exprs = [lead, *coefficients, *(d for _, d in determinants)]
    reasons = [f"$(-1)^{{{n}}} p(-1) > 0$: no real root at or beyond $z = -1$"]
    for k in range(1, n + 1):
        if k == n:
            reasons.append("$p(1) > 0$: no real root at or beyond $z = 1$")
        elif n == 2:
            reasons.append(
                "the product of the roots is below 1 in modulus: "
                "a complex pair stays inside the circle"
            )
        else:
            reasons.append(f"the coefficient of $s^{{{n - k}}}$ of the transform is positive")
    reasons += [
        f"the Hurwitz determinant $\\Delta_{{{k}}}$ of the transform is positive"
        for k, _ in determinants
    ]
    return Criterion(tuple(exprs), tuple(reasons))


def schur_conditions(poly, z=None):
    """Conditions for all roots of ``poly`` to lie strictly inside the unit circle.

    Parameters
    ----------
    poly : sympy.Poly or sympy.Expr
        A polynomial with real (possibly symbolic) coefficients.
    z : sympy.Symbol, optional
        The variable, needed when ``poly`` is an expression.

    Returns
    -------
    tuple of sympy relations
        Strict inequalities, necessary and sufficient, simplified under the
        symbols' assumptions; ``(False,)`` if they can never hold.

    Examples
    --------
    >>> import sympy as sp
    >>> z = sp.Symbol("z")
    >>> eta, lam, beta = sp.symbols("eta lambda beta", positive=True)
    >>> schur_conditions(z**2 - (1 + beta - eta*lam)*z + beta, z)
    (eta*lambda < 2*beta + 2, beta < 1)
    """
    return schur_criterion(_polynomial(poly, z, "schur_conditions")).simplified()


def _polynomial(poly, variable, where):
    """A caller's polynomial as a ``Poly`` in ``variable``; nothing is parsed."""
    if isinstance(poly, sp.Poly) and variable is None:
        return poly
    if variable is None or not isinstance(variable, sp.Symbol):
        raise ArgumentError(f"{where}: give the variable as a sympy Symbol, got {variable!r:.60}")
    expr = poly.as_expr() if isinstance(poly, sp.Poly) else as_expression(poly, f"{where}: p")
    try:
        return sp.Poly(expr, variable)
    except sp.PolynomialError as error:
        raise ArgumentError(
            f"{where}: {expr} is not a polynomial in {variable}: {error}"
        ) from None
