"""One stability condition solved for the step: the end points it puts on the step.

:func:`solve_for_step` reads a condition as ``slope * step**power + offset > 0``
(:class:`Bound`); :func:`cuts_of` turns it into :class:`Cut`\\ s, lower or upper
ends that may hold only where the slope has a sign; :func:`end_point` joins the
cuts of every condition into the tightest ``Max``/``Min``, piecewise where needed.
:mod:`symdyn.linear.step_bounds` drives them.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symdyn.linear.criteria import sign_of, simplify_condition
from symdyn.rules.factoring import factor

__all__ = [
    "Bound",
    "Cut",
    "cuts_of",
    "end_point",
    "exclusive",
    "readable_bound",
    "sign_given",
    "solve_for_step",
    "under",
    "where_flat",
]


def under(requires):
    """Substitutions that encode single-symbol bounds ``s < c`` / ``s > c`` as assumptions.

    ``s < c`` becomes ``s = c - t`` with ``t > 0`` (and ``s > c`` becomes
    ``s = c + t``), so that sign decisions may use the other conditions.
    """
    substitutions = {}
    for relation in requires:
        lhs, rhs = relation.lhs, relation.rhs
        if isinstance(lhs, sp.Symbol) and lhs not in rhs.free_symbols and lhs not in substitutions:
            gap = sp.Dummy(f"d_{lhs}", positive=True)
            below = isinstance(relation, (sp.StrictLessThan, sp.LessThan))
            substitutions[lhs] = rhs - gap if below else rhs + gap
    return substitutions


def readable_bound(bound, requires):
    """Flip ``-a/(b - 1)`` to ``a/(1 - b)`` when the other conditions make ``1 - b`` positive."""
    numerator, denominator = sp.fraction(factor(bound))
    if not numerator.could_extract_minus_sign():
        return bound
    assumed = under(requires)
    for part in sp.Mul.make_args(denominator):
        if part.is_Add and sign_of((-part).subs(assumed)) == 1:
            rest = sp.Mul(*(f for f in sp.Mul.make_args(denominator) if f is not part))
            return -numerator / (rest * sp.expand(-part))
    return bound


def sign_given(expr, requires):
    """Sign of ``expr`` under the assumptions, else wherever ``requires`` holds, else None."""
    sign = sign_of(expr)
    if sign is None and requires:
        sign = sign_of(expr.subs(under(requires)))
    return sign


@dataclass(frozen=True)
class Bound:
    """A stability condition solved for the step: ``slope * step**power + offset > 0``."""

    slope: sp.Expr
    offset: sp.Expr
    power: int


def solve_for_step(relation, step):
    """The :class:`Bound` that ``relation`` reads as, or None when it is not of that form.

    ``power > 1`` needs a positive step, so that the root is monotone.
    """
    expr = sp.expand(relation.lhs - relation.rhs)  # relation is expr > 0 or expr < 0 (or weak)
    if isinstance(relation, (sp.StrictLessThan, sp.LessThan)):
        expr = -expr
    poly = sp.Poly(expr, step)
    k = poly.degree()
    if len(poly.terms()) > 2 or k < 1 or (k > 1 and not step.is_positive):
        return None
    return Bound(slope=poly.coeff_monomial(step**k), offset=poly.coeff_monomial(1), power=k)


@dataclass(frozen=True)
class Cut:
    """``step > at`` (side "lower") or ``step < at`` (side "upper"), wherever ``where`` holds."""

    side: str
    at: sp.Basic
    where: sp.Basic = sp.true


def cuts_of(slope, offset, k, requires):
    """The end points that ``slope*step**k + offset > 0`` puts on the step.

    A slope of unknown sign (``k = 1``) gives the cut ``-offset/slope`` as a
    lower end where the slope is positive and an upper end where it is
    negative. For ``k > 1`` the k-th root of ``r = -offset/slope`` is an end
    only where ``r > 0``; where ``r <= 0`` a lower end always holds and an
    upper one never does (the interval is empty: upper end 0).
    """
    ratio = factor(-offset / slope)
    sign = sign_given(slope, requires)
    if sign is None:
        return [
            Cut("lower", ratio, simplify_condition(slope)),
            Cut("upper", ratio, simplify_condition(-slope)),
        ]
    side = "lower" if sign > 0 else "upper"
    if k == 1:
        return [Cut(side, ratio)]
    root = ratio ** sp.Rational(1, k)
    ratio_sign = sign_given(ratio, requires)
    if ratio_sign == 1:
        return [Cut(side, root)]
    if ratio_sign is not None:
        return [] if side == "lower" else [Cut("upper", sp.S.Zero)]
    positive = simplify_condition(ratio)
    cuts = [Cut(side, root, positive)]
    if side == "upper":
        cuts.append(Cut("upper", sp.S.Zero, sp.Not(positive)))
    return cuts


def end_point(cuts, side):
    """The tightest ``side`` end of ``cuts``: ``Max`` of the lower ends, ``Min`` of the upper.

    Cuts that hold only under a condition become one ``Piecewise`` over the
    conditions, whose branches are ``Max``/``Min`` of plain expressions. sympy's
    ``Max``/``Min`` must never see a ``Piecewise`` with an infinite branch: its
    assumptions call ``-Piecewise((c, b < 0), (oo, True))`` positive, and so
    ``Min(4/3, Piecewise((-4/3, b < 0), (oo, True)))`` drops 4/3.
    """
    extreme, empty = (sp.Max, -sp.oo) if side == "lower" else (sp.Min, sp.oo)
    mine = [c for c in cuts if c.side == side and c.where is not sp.false]
    always = [c.at for c in mine if c.where is sp.true]
    conditions = list(dict.fromkeys(c.where for c in mine if c.where is not sp.true))

    def pieces(ends, remaining, assumed):
        """``(end, condition)`` pairs, the last one under ``True``."""
        if not remaining:
            return [(extreme(*ends) if ends else empty, sp.true)]
        where, later = remaining[0], remaining[1:]
        if any(exclusive(where, other) for other in assumed):
            return pieces(ends, later, assumed)
        chosen = [c.at for c in mine if c.where == where]
        inside = pieces([*ends, *chosen], later, [*assumed, where])
        outside = pieces(ends, later, assumed)
        if len(inside) == 1 and inside == outside:
            return outside
        head = [(end, sp.And(where, condition)) for end, condition in inside[:-1]]
        return [*head, (inside[-1][0], where), *outside]

    branches = pieces(always, conditions, [])
    return branches[0][0] if len(branches) == 1 else sp.Piecewise(*branches)


def exclusive(first, second):
    """Whether two strict relations ``d1 > 0`` and ``d2 > 0`` can never hold together
    (``d1/d2`` is negative everywhere), or one is the negation of the other."""
    if sp.Not(first) == second:
        return True
    strict = (sp.StrictGreaterThan, sp.StrictLessThan)
    if not (isinstance(first, strict) and isinstance(second, strict)):
        return False
    d1, d2 = (
        (r.lhs - r.rhs) if isinstance(r, sp.StrictGreaterThan) else (r.rhs - r.lhs)
        for r in (first, second)
    )
    return sign_of(sp.cancel(d1 / d2)) == -1


def where_flat(slope, offset):
    """What ``slope*step + offset > 0`` asks of the other symbols: ``offset > 0`` where the
    slope vanishes, written ``slope > 0 | slope < 0 | offset > 0``.

    ``True`` when, for one symbol ``t`` of the slope, the slope is a polynomial
    in ``t`` with a leading coefficient of known sign (so it vanishes exactly at
    its roots in ``t``, whatever the other symbols) and ``offset`` is positive
    at each of those roots.
    """
    for symbol in sorted(slope.free_symbols, key=sp.default_sort_key):
        try:
            poly = sp.Poly(slope, symbol)
        except sp.PolynomialError:
            continue
        if sign_of(poly.LC()) not in (1, -1):
            continue
        roots = sp.roots(poly) if poly.degree() <= 2 else {}
        if sum(roots.values()) == poly.degree() and all(
            sign_of(offset.subs(symbol, r)) == 1 for r in roots
        ):
            return sp.true
    sloped = simplify_condition(slope) | simplify_condition(-slope)
    return sloped | simplify_condition(offset)
