"""The limit of a time-varying Jacobian as the step counter k grows, where it exists.

A rule whose Jacobian depends on k through powers b^(ck + d) (Adam's bias correction
1/(1 − β₁ᵏ), a schedule 1 + 2⁻ᵏ) converges to J_∞ when every such power tends to 0 or
stays constant. Each power is written with a per-step base B = b^c as b^d·Bᵏ (or
b^d/(1/B)ᵏ when |B| > 1); Bᵏ is replaced by a symbol u, each entry becomes a rational
function of the u's, and the limit is its value at u = 0, taken only where the
denominator does not vanish there. A base whose modulus is 1 without being 1 ((−1)ᵏ), or
a counter anywhere else (k/(k + 2)), has no limit here: the caller says it is undecided.
Where |B| < 1 is not decided by the assumptions (β positive, not below 1), the limit is
taken under it, and it is returned as a condition the region must be intersected with
(for a number above 1 the limit differs: substitute it first).

Examples
--------
>>> import sympy as sp
>>> k = sp.Symbol("k", integer=True, positive=True)
>>> eta, beta = sp.symbols("eta beta", positive=True)
>>> counter_limit(sp.ImmutableMatrix([[1 - eta * (1 + 2**-k)]]), k)
CounterLimit(jacobian=Matrix([[1 - eta]]), requires=(), bases=(1/2,))
>>> counter_limit(sp.ImmutableMatrix([[1 - eta / (1 - beta**k)]]), k).requires
(beta < 1,)
>>> counter_limit(sp.ImmutableMatrix([[1 - eta * (1 + (-1)**k / 2)]]), k) is None
True
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symdyn.rules.signs import sign_of

__all__ = ["CounterLimit", "counter_limit"]

SIGN = sp.Dummy("sigma")
"""Stands for (−1)ᵏ while the limit is taken."""


@dataclass(frozen=True)
class CounterLimit:
    """J_∞, the conditions |B| < 1 the assumptions did not decide, and the bases B."""

    jacobian: sp.ImmutableMatrix
    requires: tuple
    bases: tuple


def _vanishing_power(power, counter):
    """(b^d, B, inverted, decided) with power = b^d·Bᵏ (inverted: b^d/Bᵏ) and |B| < 1,
    ``decided`` False where the assumptions leave |B| < 1 open; B = 1 for a constant power
    and B = −1 for a sign (−1)ᵏ; None when the power has no limit."""
    base, exponent = power.base, power.exp
    slope = sp.diff(exponent, counter)
    offset = sp.expand(exponent - slope * counter)
    if counter in slope.free_symbols or counter in offset.free_symbols:
        return None
    per_step = sp.simplify(base**slope)
    if per_step in (1, -1):
        return base**offset, per_step, False, True
    below = sign_of(1 - sp.Abs(per_step))
    if below == 0:  # another B on the unit circle
        return None
    if below == -1:
        return base**offset, sp.simplify(1 / per_step), True, True
    return base**offset, per_step, False, below == 1


def counter_limit(jacobian, counter):
    """The limit of ``jacobian`` as ``counter`` → ∞, or None where it has none here."""
    # aᵏ/bᵏ as (a/b)ᵏ, so that the relation between two powers is not lost (3ᵏ/4ᵏ → 0 as
    # one power, where 3ᵏ and 4ᵏ would be two unbounded ones); valid as k is an integer
    jacobian = jacobian.applyfunc(lambda e: sp.powsimp(sp.expand(e), combine="base", force=True))
    powers = [p for p in jacobian.atoms(sp.Pow) if counter in p.exp.free_symbols]
    replacements, symbols, requires = {}, {}, []
    for power in powers:
        found = _vanishing_power(power, counter)
        if found is None:
            return None
        constant, per_step, inverted, decided = found
        if per_step == 1:
            replacements[power] = constant
            continue
        if per_step == -1:  # sympy writes (−b)ᵏ as (−1)ᵏ bᵏ: a sign, decided below
            replacements[power] = constant * SIGN
            continue
        if per_step not in symbols:
            symbols[per_step] = sp.Dummy("u", positive=True)
            if not decided:
                requires.append(sp.simplify(sp.Abs(per_step) < 1))
        u = symbols[per_step]
        replacements[power] = constant / u if inverted else constant * u
    entries = []
    for entry in jacobian:
        rational = sp.cancel(sp.together(entry.xreplace(replacements)))
        if counter in rational.free_symbols:
            return None
        numerator, denominator = sp.fraction(rational)
        # the sign (−1)ᵏ takes both values forever: the limit must not depend on it
        ends = []
        for sign in (1, -1):
            at_zero = {SIGN: sign, **{u: 0 for u in symbols.values()}}
            bottom = sp.simplify(denominator.subs(at_zero))
            if bottom.has(sp.zoo, sp.nan) or sign_of(bottom) not in (1, -1):
                return None  # the entry may grow without bound as k → ∞
            ends.append(sp.simplify(numerator.subs(at_zero) / bottom))
        if sp.simplify(ends[0] - ends[1]) != 0:
            return None
        entries.append(ends[0])
    limit = sp.ImmutableMatrix(jacobian.rows, jacobian.cols, entries)
    return CounterLimit(limit, tuple(requires), tuple(symbols))
