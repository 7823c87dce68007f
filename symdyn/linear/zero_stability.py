"""Where a continuous limit holds: the root condition of the step as h → 0.

As the step goes to zero an update rule becomes a recurrence whose linear
part is the Jacobian ``J₀`` of the map at ``h = 0``. Its characteristic
polynomial has the root 1 once for every order of the limit ODE in every
position (the slow modes the ODE describes); the iterates follow the ODE
only if every other root lies strictly inside the unit circle, so that
the fast modes (momentum buffers, lagged copies off the limit) die out.
This is Dahlquist's root condition (zero-stability) for the recurrence; for
heavy ball at fixed momentum it is ``|β| < 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symdyn.escaping import safe_latex
from symdyn.linear.criteria import schur_criterion
from symdyn.linear.kernel import characteristic_polynomial

__all__ = ["ZeroStability", "with_root_condition", "zero_stability"]

ZETA = sp.Symbol("zeta")


@dataclass(frozen=True)
class ZeroStability:
    """The root condition of a rule as its step goes to zero, or why it does not apply.

    Attributes
    ----------
    jacobian : sympy.ImmutableMatrix
        ``J₀``, the Jacobian of the map at ``h = 0``.
    slow : int
        How many roots equal 1 (the slow modes).
    fast : sympy.Poly
        The rest of ``det(ζI − J₀)``, in ``zeta`` (``1`` when the condition does not apply).
    conditions : tuple of sympy relations
        Necessary and sufficient for every root of ``fast`` to lie strictly
        inside the unit circle; ``()`` when there is no fast mode.
    undecided : str
        Why the root condition does not apply (``""`` when it does): ``J₀``
        depends on the state or has no finite limit, or ``det(ζI − J₀)`` has
        fewer than ``slow`` roots at 1.
    """

    jacobian: sp.ImmutableMatrix
    slow: int
    fast: sp.Poly
    conditions: tuple
    undecided: str = ""

    @property
    def applies(self) -> bool:
        """Whether the root condition decides where the limit is followed."""
        return not self.undecided


def zero_stability(rule, h, scaling, slow) -> ZeroStability:
    """The root condition of ``rule`` at ``h = 0``.

    Parameters
    ----------
    rule : UpdateRule
    h : sympy.Symbol
        The step.
    scaling : mapping
        Parameters written in terms of ``h``.
    slow : int
        The number of slow modes: the sum over positions of the order of
        their limit equation.

    Returns
    -------
    ZeroStability
        With ``applies`` False (and the reason in ``undecided``) when ``J₀``
        depends on the state or has no finite limit, or when ``det(ζI − J₀)``
        has fewer than ``slow`` roots at 1 (as for a momentum that tends to 1
        only as the step counter grows).

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
    >>> hb = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], eta, beta)
    >>> zero_stability(hb, eta, {}, slow=1).conditions
    (beta < 1,)
    """
    jacobian = rule.jacobian().subs(scaling)
    at_zero = jacobian.subs(h, 0)
    if at_zero.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        at_zero = jacobian.applyfunc(lambda entry: sp.limit(entry, h, 0, "+"))
    at_zero = sp.ImmutableMatrix(sp.simplify(at_zero))
    none = sp.Poly(1, ZETA)
    if at_zero.free_symbols & set(rule.state):
        return ZeroStability(at_zero, slow, none, (), "the Jacobian at h = 0 depends on the state")
    if at_zero.has(sp.nan, sp.zoo, sp.oo):
        return ZeroStability(at_zero, slow, none, (), "the Jacobian has no finite limit at h = 0")
    poly = characteristic_polynomial(at_zero, ZETA)
    fast, remainder = sp.div(poly, sp.Poly((ZETA - 1) ** slow, ZETA))
    if not remainder.is_zero:
        return ZeroStability(
            at_zero,
            slow,
            none,
            (),
            f"the characteristic polynomial has fewer than {slow} roots at 1",
        )
    conditions = schur_criterion(fast).simplified() if fast.degree() > 0 else ()
    return ZeroStability(at_zero, slow, fast, tuple(conditions))


def with_root_condition(derivation, roots, h):
    """``derivation`` followed by the root condition's steps (none without fast modes)."""
    if not roots.applies or roots.fast.degree() < 1:
        return derivation
    n = roots.slow
    slow = "the slow mode" if n == 1 else f"the {n} slow modes"
    derivation = derivation.then(
        f"At ${safe_latex(h)} = 0$ the step is linear, with Jacobian "
        f"$J_0 = {safe_latex(roots.jacobian)}$ and characteristic polynomial",
        sp.Eq(
            sp.Determinant(ZETA * sp.eye(roots.jacobian.rows) - roots.jacobian),
            (ZETA - 1) ** n * roots.fast.as_expr(),
            evaluate=False,
        ),
    )
    rule = (
        f"The root $1$ gives {slow} the limit describes. The iterates follow the limit "
        "only if the other roots, the fast modes, lie strictly inside the unit circle "
        "(Dahlquist's root condition)"
    )
    if not roots.conditions:
        return derivation.then(rule + ", as they always do here.")
    if roots.conditions == (sp.false,):
        return derivation.then(rule + ", which they never do: this limit is never followed.")
    return derivation.then(rule + ", that is where", roots.conditions)
