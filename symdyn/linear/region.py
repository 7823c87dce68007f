"""The stability region of a linearisation, in named phases.

:func:`analyse` takes a Jacobian and the derivation so far through four phases,
each a small typed result that appends its steps to the derivation as it runs:

1. :func:`factored`: the characteristic polynomial and its irreducible factors;
2. :func:`schur`: the raw Schur–Cohn–Jury conditions of every factor;
3. :func:`simplified`: the conditions simplified under the assumptions, the region;
4. :func:`radius`: the exact spectral radius.

:mod:`symdyn.linear.stability` wraps the outcome in a ``StabilityResult``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symdyn.budget import phase
from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import RuleError
from symdyn.escaping import safe_latex
from symdyn.linear.criteria import (
    Criterion,
    moebius_transform,
    schur_criterion,
    simplify_condition,
)
from symdyn.linear.kernel import Z, characteristic_polynomial, factor_radius
from symdyn.rules.factoring import factor, factor_list

__all__ = ["Analysis", "Factored", "Schur", "analyse", "marginal_set"]

S = sp.Symbol("s")


@dataclass(frozen=True)
class Factored:
    """The characteristic polynomial and its distinct irreducible factors of degree ≥ 1."""

    poly: sp.Poly
    factors: tuple


@dataclass(frozen=True)
class Schur:
    """The raw Schur–Cohn–Jury conditions (each ``expr > 0``) of every factor.

    ``closed`` is whether their weak forms are the closed disc (every factor of
    degree ≤ 2, where the conditions are linear in the coefficients).
    """

    raw: tuple
    reasons: tuple
    closed: bool


@dataclass(frozen=True)
class Analysis(Presented):
    """Everything :func:`analyse` found, and the derivation that says how."""

    factored: Factored
    schur: Schur
    conditions: tuple
    region: sp.Basic
    spectral_radius: sp.Basic | None
    marginal: sp.Basic | None
    derivation: Derivation


def analyse(rule, jac, derivation) -> Analysis:
    """Every phase in turn, for the linearisation ``jac`` of ``rule`` (None for a matrix)."""
    require_finite(jac, rule)
    found, derivation = factored(jac, derivation)
    raw, derivation = schur(found, derivation)
    conditions, region, derivation = simplified(raw, jac, derivation)
    spectral_radius, derivation = radius(found, derivation)
    # A never-stable rule's derivation says where it is marginal, so that is worked out
    # now (and kept); otherwise it waits until ``marginal`` is read.
    marginal = marginal_set(raw.raw) if region is sp.false and raw.closed else None
    if marginal not in (None, sp.false):
        derivation = derivation.then(
            "No parameter values make the rule contract. Where the following holds every "
            "root stays in the closed disc with one on the circle: the rule is marginal",
            marginal,
        )
    return Analysis(
        factored=found,
        schur=raw,
        conditions=conditions,
        region=region,
        spectral_radius=spectral_radius,
        marginal=marginal,
        derivation=derivation,
    )


def factored(jac, derivation):
    """Phase 1: ``det(zI − J)``, its factors, and each factor's Möbius transform."""
    phase("the characteristic polynomial")
    poly = characteristic_polynomial(jac)
    derivation = derivation.then(
        "Iterates of the linearisation contract exactly when every root of the "
        "characteristic polynomial lies strictly inside the unit circle:",
        _charpoly_statement(jac, poly),
    )
    phase("factoring the characteristic polynomial")
    _, found = factor_list(poly)
    factors = tuple(sp.Poly(f, Z) for f, _ in found if sp.Poly(f, Z).degree() > 0)
    if len(factors) > 1:
        derivation = derivation.then(
            "It splits into factors whose roots can be located separately:",
            tuple(f.as_expr() for f in factors),
        )
    derivation = derivation.then(
        "The Möbius map $z = (1+s)/(1-s)$ sends the open unit disc onto the open left "
        "half-plane; each factor of degree $n$ becomes a polynomial in $s$:",
        tuple(_moebius_identity(f) for f in factors),
        again="The Möbius map $z = (1+s)/(1-s)$ again gives polynomials in $s$:",
    )
    return Factored(poly=poly, factors=factors), derivation


def schur(found: Factored, derivation):
    """Phase 2: the raw Schur–Cohn–Jury conditions of each factor, with their reasons."""
    raw, reasons = [], []
    closed = True
    for piece in found.factors:
        phase(f"the Schur–Cohn–Jury conditions of a factor of degree {piece.degree()}")
        criterion = schur_criterion(piece)
        raw.extend(criterion.exprs)
        reasons.extend(criterion.reasons)
        closed &= piece.degree() <= 2
    derivation = derivation.then(
        "By the Schur–Cohn–Jury criterion in this bilinear form, with the Liénard–Chipart "
        "form of the Routh–Hurwitz test applied to the transformed polynomial, every root "
        "lies inside the circle if and only if each of the following is positive: "
        + "; ".join(f"({i}) {reason}" for i, reason in enumerate(reasons, 1))
        + ".",
        tuple(sp.Gt(factor(e), 0, evaluate=False) for e in raw),
        again="By the Schur–Cohn–Jury criterion, stated above, each of these must be positive:",
    )
    return Schur(raw=tuple(raw), reasons=tuple(reasons), closed=closed), derivation


def simplified(raw: Schur, jac, derivation):
    """Phase 3: the conditions simplified under the assumptions, and the region."""
    phase("simplifying the conditions under the assumptions")
    conditions = Criterion(raw.raw, raw.reasons).simplified()
    region = sp.And(*conditions)
    assumptions = _assumption_text(jac.free_symbols)
    derivation = derivation.then(
        f"Dividing out factors of known sign{assumptions} and dropping conditions that "
        "always hold leaves the stability region",
        region if region in (sp.true, sp.false) else tuple(conditions),
    )
    return conditions, region, derivation


def radius(found: Factored, derivation):
    """Phase 4: the spectral radius, the largest of the factors' (None if one has none)."""
    phase("the spectral radius")
    radii = [factor_radius(f) for f in found.factors]
    if any(r is None for r in radii):
        return None, derivation
    value = radii[0] if len(radii) == 1 else sp.Max(*radii)
    derivation = derivation.then(
        "The asymptotic rate of convergence is the spectral radius",
        TeX(r"\rho(J) = " + safe_latex(value)),
    )
    return value, derivation


def require_finite(jac, rule):
    """Refuse a Jacobian with an entry that is not finite: no claim can be made from it."""
    for i in range(jac.rows):
        for j in range(jac.cols):
            entry = jac[i, j]
            if not entry.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
                continue
            where, hint = "stability: the linearisation", ""
            if rule is not None:
                where = f"{rule.name}: the Jacobian at the linearisation point"
                hint = " (the map has a pole or 0/0 there); linearise elsewhere with at={...}"
            raise RuleError(
                f"{where} has the entry {entry} in row {i + 1}, column {j + 1}, "
                f"which is not finite{hint}"
            )


def _charpoly_statement(jac, poly):
    """``det(zI - J) = p(z)``: an identity for n ≥ 2; for n = 1 ``|zI - J|`` would read
    as an absolute value, so the statement is written out instead."""
    if jac.rows == 1:
        return TeX("p(z) = z - J = " + safe_latex(sp.collect(poly.as_expr(), Z)))
    return sp.Eq(
        sp.Determinant(Z * sp.eye(jac.rows) - jac), sp.collect(poly.as_expr(), Z), evaluate=False
    )


def _moebius_identity(piece):
    """``(1 - s)**n p((1 + s)/(1 - s)) = q(s)`` as a checkable equation."""
    n = piece.degree()
    p = piece.as_expr().subs(piece.gen, (1 + S) / (1 - S))
    q = moebius_transform(piece, S).as_expr()
    return sp.Eq((1 - S) ** n * p, sp.collect(q, S), evaluate=False)


def marginal_set(raw):
    """Where every raw condition holds weakly and at least one with equality.

    For factors of degree at most two the conditions are linear in the
    coefficients, so their weak form is exactly the closed disc.

    Examples
    --------
    >>> import sympy as sp
    >>> b = sp.Symbol("b", real=True)
    >>> marginal_set((1 - b, 1 + b))
    (b >= -1) & (b <= 1) & (Eq(b, -1) | Eq(b, 1))
    """
    closure, touches = [], []
    for expr in raw:
        strict, weak = simplify_condition(expr), simplify_condition(expr, weak=True)
        closure.append(weak)
        if weak is sp.false or strict is sp.true:
            continue
        # A weak form that always holds (b**2 >= 0 is True to sympy) still has a
        # boundary: where the strict form fails, i.e. where the relation is an equality.
        edge = weak if weak.is_Relational else strict
        touches.append(sp.true if strict is sp.false else sp.Eq(edge.lhs, edge.rhs))
    if len(touches) == 1 and isinstance(touches[0], sp.Eq):
        # Equality already implies its own weak inequality.
        boundary = touches[0]
        closure = [
            c
            for c in closure
            if not (c.is_Relational and (c.lhs, c.rhs) == (boundary.lhs, boundary.rhs))
        ]
    return sp.And(*closure, sp.Or(*touches))


def _assumption_text(symbols):
    positive = sorted((s for s in symbols if s.is_positive), key=str)
    if not positive:
        return ""
    names = ", ".join(f"${safe_latex(s)}$" for s in positive)
    return f" (with {names} positive)"
