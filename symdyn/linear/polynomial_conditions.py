"""Conditions of degree two or more in the step, with other symbols free.

A condition ``p(step) > 0`` with ``p = Σ c_k step**k`` is decided at the polynomial
level, without radicals beyond a square root:

* the sign of each coefficient is read off its factors: factors of known sign,
  and even powers of a real factor, which are positive wherever the factor is
  nonzero (as another condition, ``(β - 1)**2 > 0``, may require);
* with a positive step, coefficients all nonnegative and ``c_0 > 0`` make the
  condition always hold (Descartes: no positive root); all nonpositive and
  ``c_0 < 0``, never;
* a quadratic with ``c_2 c_0 < 0`` has exactly one positive root
  ``(−c_1 + sign(c_2)·√(c_1² − 4 c_2 c_0)) / (2 c_2)``, an upper end when
  ``c_2 < 0`` and a lower one when ``c_2 > 0``.

Anything else stays undecided.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symdyn.rules.factoring import factor_list
from symdyn.rules.signs import sign_of

__all__ = ["PolynomialCut", "polynomial_cuts"]


@dataclass(frozen=True)
class PolynomialCut:
    """What ``p(step) > 0`` says: ``always`` holds, or the step is above (``side`` "lower")
    or below ("upper") ``at``; ``why`` for the derivation."""

    always: bool
    side: str
    at: sp.Basic
    why: str


def _sign(expr, requires):
    """1, -1 or 0 where ``requires`` holds (strictly, except 0), or None.

    Examples
    --------
    >>> import sympy as sp
    >>> b = sp.Symbol("b", positive=True)
    >>> _sign(3 * b * (b - 1)**2, [sp.Gt((b - 1)**2, 0)])
    1
    >>> _sign(3 * b * (b - 1)**2, []) is None
    True
    """
    if expr == 0:
        return 0
    coefficient, factors = factor_list(sp.together(expr))
    sign = sign_of(coefficient)
    if sign in (None, 0):
        return sign
    known = {(r.lhs, r.rhs) for r in requires if isinstance(r, sp.StrictGreaterThan)}
    for base, power in factors:
        base_sign = sign_of(base)
        if base_sign in (1, -1):
            sign *= base_sign**power
        elif power % 2 == 0 and base.is_extended_real and (base**2, 0) in known:
            continue  # positive: an even power of a factor another condition keeps nonzero
        else:
            return None
    return sign


def polynomial_cuts(relation, step, requires):
    """The :class:`PolynomialCut` of ``relation`` (``p(step) > 0`` or ``< 0``) for a positive
    ``step``, or None when its coefficients' signs do not decide it."""
    if not step.is_positive or not isinstance(relation, (sp.StrictGreaterThan, sp.StrictLessThan)):
        return None
    expr = relation.lhs - relation.rhs
    if isinstance(relation, sp.StrictLessThan):
        expr = -expr
    try:
        poly = sp.Poly(sp.expand(expr), step)
    except sp.PolynomialError:
        return None
    signs = [_sign(c, requires) for c in poly.all_coeffs()]
    constant = signs[-1]
    if constant == 1 and all(s in (0, 1) for s in signs):
        why = "holds for every positive step: no coefficient is negative (Descartes)"
        return PolynomialCut(True, "lower", sp.S.Zero, why)
    if constant == -1 and all(s in (0, -1) for s in signs):
        why = "never holds for a positive step: no coefficient is positive"
        return PolynomialCut(False, "upper", sp.S.Zero, why)
    if poly.degree() == 2 and None not in (signs[0], constant) and signs[0] * constant == -1:
        a, b, c = poly.all_coeffs()
        root = (-b + signs[0] * sp.sqrt(b**2 - 4 * a * c)) / (2 * a)
        side = "upper" if signs[0] == -1 else "lower"
        why = "a quadratic whose extreme coefficients have opposite signs: one positive root"
        return PolynomialCut(False, side, root, why)
    return None
