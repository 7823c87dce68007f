"""Step bounds: the interval of a step size (a learning rate) on which a rule is stable.

From the exact region of :func:`symdyn.linear.stability.stability`: each condition
solved for the step (:class:`Bound`), the cuts of its real and complex crossings,
and the end points joined into one :class:`StepBound` with what it requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from symdyn.budget import bounded, phase
from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import ArgumentError, UndecidedError
from symdyn.escaping import safe_latex
from symdyn.linear.polynomial_conditions import polynomial_cuts
from symdyn.linear.root_isolation import polynomial_in, stable_interval
from symdyn.linear.stability import StabilityResult, stability
from symdyn.linear.step_cuts import (
    Cut,
    cuts_of,
    end_point,
    readable_bound,
    sign_given,
    solve_for_step,
    where_flat,
)
from symdyn.rules.values import as_basic, exact_number, exact_values

__all__ = ["StepBound", "step_bound"]


@dataclass(frozen=True)
class StepBound(Presented):
    """The stable interval ``lower < step < upper`` with the other symbols free.

    Attributes
    ----------
    step : sympy.Symbol
    lower, upper : sympy.Expr
        Exact end points (``upper`` may be ``oo``); ``Piecewise`` where a
        condition's slope in the step changes sign with the other symbols.
    requires : tuple of sympy relations
        Conditions on the other parameters that must hold as well.
    derivation : Derivation
    """

    step: sp.Symbol
    lower: sp.Basic
    upper: sp.Basic
    requires: tuple
    derivation: Derivation = field(repr=False)

    def contains(self, value, values: Mapping | None = None):
        """Whether ``value`` lies strictly inside the interval, exactly.

        Parameters
        ----------
        value : number
            A value of the step (floats follow :mod:`symdyn.rules.values`).
        values : mapping, optional
            Values of the other symbols the end points and ``requires``
            depend on; where ``requires`` fails no step is stable.

        Raises
        ------
        UndecidedError
            When the end points depend on symbols that have no value.

        Examples
        --------
        >>> import sympy as sp
        >>> eta, lam = sp.symbols("eta lambda", positive=True)
        >>> bound = step_bound(sp.Matrix([[1 - eta * lam]]), eta)
        >>> bound.contains(0.1, {lam: 2})
        True
        >>> bound.contains(1, {lam: 2})
        False
        """
        where = f"StepBound.contains ({self.step})"
        step_value = exact_number(value, self.step, where=where)
        claims = (self.lower, self.upper, *self.requires)
        others = set().union(*(as_basic(c).free_symbols for c in claims)) - {self.step}
        given = exact_values(values, others, where=where)
        missing = sorted(map(str, others - set(given)))
        if missing:
            raise UndecidedError(
                f"{where}: the end points depend on {', '.join(missing)}; pass their values, "
                f"e.g. contains({value!r}, {{{missing[0]}: ...}})"
            )
        inside = sp.And(
            *(as_basic(r).subs(given) for r in self.requires),
            sp.Lt(self.lower.subs(given), step_value),
            sp.Lt(step_value, self.upper.subs(given)),
        )
        if inside not in (sp.true, sp.false):
            raise UndecidedError(f"{where}: cannot decide {inside} exactly")
        return bool(inside)


@bounded("step_bound")
def step_bound(rule, step):
    """The interval of values of ``step`` for which ``rule`` is linearly stable.

    Each stability condition that involves ``step`` is solved for it (the
    boundary may come from a real root crossing ±1 or from a complex pair
    crossing the circle); conditions on other symbols are reported in
    ``requires``.

    Parameters
    ----------
    rule : UpdateRule or StabilityResult
    step : sympy.Symbol
        The parameter to bound; other symbols stay free.
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

    Returns
    -------
    StepBound

    Raises
    ------
    UndecidedError
        When a condition is not of the form ``a*step**k + b > 0`` after
        dividing out factors of known sign, or ``k > 1`` and the sign of
        ``a`` is unknown. For ``k = 1`` a slope of either sign gives
        piecewise end points (a lower bound where ``a > 0``, an upper one
        where ``a < 0``, and ``b > 0`` in ``requires`` where ``a = 0``).

    Examples
    --------
    >>> import sympy as sp
    >>> from symdyn import UpdateRule
    >>> x, v = sp.symbols("x v", real=True)
    >>> eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
    >>> hb = UpdateRule([x, v], [(v, beta*v - eta*lam*x), (x, x + v)], [eta, beta])
    >>> step_bound(hb, step=eta).upper
    2*(beta + 1)/lambda
    """
    result, name = _analysed(rule, step)
    derivation = result.derivation.then(
        f"Solving each condition for ${safe_latex(step)}$ with the other symbols free:"
    )
    cuts = [Cut("lower", sp.S.Zero)] if step.is_nonnegative else []
    requires = [c for c in result.conditions if step not in c.free_symbols]
    at_zero_slope = []
    joint = _to_isolate(result.conditions, step)
    for condition in result.conditions:
        if step not in condition.free_symbols or condition in joint:
            continue
        phase(f"solving {condition} for {step}")
        solved = _solve_condition(condition, step, requires, name)
        cuts += solved.cuts
        if solved.flat is not None and solved.flat is not sp.true:
            at_zero_slope.append(solved.flat)
        for text, shown in solved.steps:
            derivation = derivation.then(text, shown)
    if joint:
        phase(f"isolating the real roots of {len(joint)} conditions in {step}")
        found, shown = _isolated(joint, step, name)
        cuts += found
        derivation = derivation.then(*shown)
    requires = list(dict.fromkeys([*requires, *at_zero_slope]))
    lower, upper = end_point(cuts, "lower"), end_point(cuts, "upper")
    derivation = derivation.then(
        "so the stable step sizes form the interval"
        + (" provided " + ", ".join(f"${safe_latex(r)}$" for r in requires) if requires else ""),
        TeX(f"{safe_latex(lower)} < {safe_latex(step)} < {safe_latex(upper)}"),
    )
    return StepBound(
        step=step, lower=lower, upper=upper, requires=tuple(requires), derivation=derivation
    )


def _analysed(rule, step):
    """The stability result to bound, and the rule's name; refused when ``step`` is not in
    the linearisation or no value is stable."""
    result = rule if isinstance(rule, StabilityResult) else stability(rule)
    name = result.rule.name if result.rule is not None else "the linearisation"
    symbols = result.jacobian.free_symbols
    if step not in symbols:
        raise ArgumentError(
            f"{name}: {step} does not appear in the linearisation, whose symbols are "
            f"{', '.join(sorted(map(str, symbols)))} (a symbol made again with other "
            "assumptions is another symbol to sympy)"
        )
    if result.region is sp.false:
        raise UndecidedError(f"{name}: no value of {step} is stable (the region is empty)")
    return result, name


def _to_isolate(conditions, step):
    """The conditions in ``step`` alone, when one of them is not ``a*step**k + b > 0``:
    decided together by exact real-root isolation (:mod:`symdyn.linear.root_isolation`)."""
    alone = [c for c in conditions if c.free_symbols == {step}]
    polys = [polynomial_in(c, step) for c in alone]
    if None in polys or all(solve_for_step(c, step) is not None for c in alone):
        return ()
    return tuple(alone)


def _isolated(conditions, step, name):
    """The cuts of one stable interval of ``conditions`` (all in ``step`` alone), and the
    derivation step that says how it was found."""
    polys = [polynomial_in(c, step) for c in conditions]
    interval = stable_interval(polys, step, name)
    degree = max(p.degree() for p in polys)
    text = (
        f"the conditions in ${safe_latex(step)}$ alone, polynomials of degree up to {degree}, "
        "change sign only at their real roots; isolating those exactly (the end points are "
        "algebraic numbers, shown with their decimal values) and deciding each interval "
        "between them at a rational point leaves"
    )
    cuts = [Cut("lower", interval.lower), Cut("upper", interval.upper)]
    return cuts, (text, TeX(interval.latex(step)))


@dataclass(frozen=True)
class _Solved:
    """One condition solved for the step: its cuts, what it asks where its slope vanishes
    (None when the slope's sign is known), and the derivation steps that say so."""

    cuts: tuple
    flat: sp.Basic | None
    steps: tuple


def _solve_condition(condition, step, requires, name):
    solved = solve_for_step(condition, step)
    slope_sign = None if solved is None else sign_given(solved.slope, requires)
    if solved is None or (slope_sign is None and solved.power > 1):
        decided = polynomial_cuts(condition, step, requires)
        if decided is not None:
            cuts = () if decided.always else (Cut(decided.side, decided.at),)
            shown = (
                sp.true
                if decided.always
                else (sp.Gt if decided.side == "lower" else sp.Lt)(step, decided.at)
            )
            text = f"the condition ${safe_latex(condition)}$, polynomial in ${safe_latex(step)}$, "
            return _Solved(cuts, None, ((text + decided.why + ":", shown),))
        raise UndecidedError(
            f"{name}: cannot solve {condition} for {step} exactly (it is not of the form "
            f"a*{step}**k + b > 0 with k = 1 or a of known sign); inspect result.conditions"
        )
    slope, offset, k = solved.slope, solved.offset, solved.power
    found = tuple(cuts_of(slope, offset, k, requires))
    if slope_sign is None:
        flat = where_flat(slope, offset)
        return _Solved(
            found, flat, (_either_sign_step(condition, step, slope, offset, flat, found),)
        )
    shown = []
    for cut in found:
        at = readable_bound(cut.at, requires) if cut.where is sp.true else cut.at
        relation = (sp.Gt if cut.side == "lower" else sp.Lt)(step, at)
        shown.append(
            relation
            if cut.where is sp.true
            else TeX(rf"{safe_latex(relation)} \quad \text{{where }} {safe_latex(cut.where)}")
        )
    text = f"the condition ${safe_latex(condition)}$ gives"
    return _Solved(found, None, tuple((text, relation) for relation in shown))


def _either_sign_step(condition, step, slope, offset, flat, cuts):
    return (
        f"the condition ${safe_latex(condition)}$, whose slope "
        f"${safe_latex(slope)}$ in ${safe_latex(step)}$ can take either sign, gives "
        "a lower bound where the slope is positive and an upper bound where it is "
        f"negative; where it vanishes it asks ${safe_latex(offset)} > 0$"
        + (", which then holds" if flat is sp.true else "")
        + ":",
        tuple(
            TeX(
                rf"{safe_latex((sp.Gt if c.side == 'lower' else sp.Lt)(step, c.at))} "
                rf"\quad \text{{where }} {safe_latex(c.where)}"
            )
            for c in cuts
        ),
    )
