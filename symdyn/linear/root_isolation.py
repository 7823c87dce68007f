"""Stable steps from conditions of any degree in the step, by exact real-root isolation.

Where every other symbol has a value, each stability condition is ``p(step) > 0``
for a rational polynomial ``p``. The real roots of the product of the ``p``'s
(square-free), isolated exactly, cut the line into open intervals on which no
``p`` changes sign; a rational point inside each decides it. The stable steps
are the intervals where every condition holds. When they form one interval its
end points are algebraic numbers (``CRootOf`` or radicals), exact, and are shown
with a decimal value; otherwise the answer is honestly undecided.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import sympy as sp

from symdyn.errors import UndecidedError
from symdyn.escaping import safe_latex

__all__ = ["StepInterval", "polynomial_in", "stable_interval"]


@dataclass(frozen=True)
class StepInterval:
    """The open interval ``lower < step < upper`` where every condition holds."""

    lower: sp.Basic
    upper: sp.Basic

    def latex(self, step):
        """``a < step < b`` with a decimal value next to each irrational end point."""
        return f"{_shown(self.lower)} < {safe_latex(step)} < {_shown(self.upper)}"


def _shown(end):
    if end.is_Rational or end.is_infinite:
        return safe_latex(end)
    return f"{safe_latex(end)} \\approx {sp.N(end, 8)}"


def polynomial_in(relation, step):
    """``p`` with ``relation`` equivalent to ``p(step) > 0``, rational coefficients, or None.

    Examples
    --------
    >>> import sympy as sp
    >>> t = sp.Symbol("t", positive=True)
    >>> polynomial_in(sp.Lt(t**3, 2 * t / 3 + 1), t)
    Poly(-3*t**3 + 2*t + 3, t, domain='QQ')
    """
    if not isinstance(relation, (sp.StrictGreaterThan, sp.StrictLessThan)):
        return None
    expr = relation.lhs - relation.rhs
    if isinstance(relation, sp.StrictLessThan):
        expr = -expr
    numerator, denominator = sp.fraction(sp.together(expr))
    if not (denominator.is_Rational and denominator != 0):
        return None
    try:
        poly = sp.Poly(numerator * sp.sign(denominator), step, domain="QQ")
    except (sp.PolynomialError, sp.polys.polyerrors.CoercionFailed):
        return None
    return poly


def stable_interval(polys, step, name):
    """The one interval of ``step`` (within its assumptions) where every ``p > 0``.

    Raises
    ------
    UndecidedError
        When no step, or more than one interval of steps, satisfies them all
        (a step bound is one interval).

    Examples
    --------
    >>> import sympy as sp
    >>> t = sp.Symbol("t", positive=True)
    >>> stable_interval([sp.Poly(3 - t**3 - t, t)], t, "x").upper
    CRootOf(x**3 + x - 3, 0)
    """
    product = sp.Poly(sp.Mul(*(p.as_expr() for p in polys)), step)
    if step.is_nonnegative:
        product = product * sp.Poly(step, step)
    square_free = sp.Poly(sp.sqf_part(product.as_expr()), step, domain="QQ")
    roots = list(dict.fromkeys(square_free.real_roots())) if square_free.degree() > 0 else []
    ends = [-sp.oo, *roots, sp.oo]
    samples = _samples(square_free, len(roots))
    stable = []
    for left, right, point in zip(ends[:-1], ends[1:], samples, strict=True):
        if step.is_nonnegative and right is not sp.oo and right <= 0:
            continue
        if all(p(point) > 0 for p in polys):
            stable.append(StepInterval(lower=left, upper=right))
    if len(stable) != 1:
        shown = ", ".join(f"({s.lower}, {s.upper})" for s in stable) or "none"
        raise UndecidedError(
            f"{name}: the stable values of {step} are not one interval (they are {shown}), "
            "so no step bound describes them"
        )
    return stable[0]


def _samples(square_free, count):
    """One rational point in each open gap between consecutive real roots (and beyond)."""
    if count == 0:
        return [sp.S.Zero]
    eps = None
    while True:
        found = sp.intervals(square_free, eps=eps) if eps else sp.intervals(square_free)
        boxes = [box for box, _ in found]
        gaps = list(itertools.pairwise(boxes))
        if all(low[1] < high[0] for low, high in gaps):
            break
        eps = (eps or sp.Rational(1, 4)) / 16  # boxes touch: shrink them apart
    inner = [(low[1] + high[0]) / 2 for low, high in gaps]
    return [boxes[0][0] - 1, *inner, boxes[-1][1] + 1]
