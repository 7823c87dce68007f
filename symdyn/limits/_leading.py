"""The later phases of a continuous limit: expand in τ, keep the leading order, solve.

Each position's residual (:mod:`symdyn.limits._sampling`) is a power series in τ
(:mod:`symdyn.limits._taylor`); its lowest non-vanishing coefficient must vanish. Fast
variables, whose leading equation has no time derivative, are slaved to the manifold
it defines; the rest is solved for the highest derivatives, and the first neglected
term is reduced with the limit itself to find the order of the error.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symdyn.budget import phase
from symdyn.errors import NoContinuousLimitError, UndecidedError
from symdyn.escaping import safe_latex
from symdyn.frozen import FrozenMapping
from symdyn.limits._sampling import MAX_ORDER, T
from symdyn.limits._taylor import _coefficients, _Divergent, _is_zero
from symdyn.rules.factoring import factor


@dataclass(frozen=True)
class Leading:
    """Per position, its Taylor coefficients in τ (orders 0 … MAX_ORDER − 1) and the
    order of the first that does not vanish."""

    coefficients: FrozenMapping
    leading: FrozenMapping

    def equation(self, x):
        return self.coefficients[x][self.leading[x]]


@dataclass(frozen=True)
class Reduction:
    """Dynamic positions, slaved fast ones (x → value in the jets), the leading equations
    of the dynamic ones with the slaved values substituted, and each one's highest
    derivative."""

    dynamic: tuple
    slaved: FrozenMapping
    equations: tuple
    highest: FrozenMapping


@dataclass(frozen=True)
class Solution:
    """The highest derivative of each dynamic position, in the jets; the limit ODE."""

    values: FrozenMapping
    ode: tuple


def expand_to_leading_order(setup, sampling, derivation):
    """The Taylor coefficients of each residual; its leading equation goes in the derivation."""
    coefficients, leading = {}, {}
    for x in sampling.positions:
        phase(f"Taylor-expanding the update of {x} in the time step")
        coefficients[x] = _series(setup, sampling, x)
        nonzero = [m for m, c in enumerate(coefficients[x]) if not _is_zero(c)]
        if not nonzero:
            raise NoContinuousLimitError(
                f"{setup.rule.name}: the expansion of the update of {x} vanishes to order "
                f"{MAX_ORDER - 1} in the time step"
            )
        leading[x] = nonzero[0]
        below = f"every order below $\\tau^{{{leading[x]}}}$ cancels; " if leading[x] else ""
        derivation = derivation.then(
            f"Taylor-expanding the update of ${safe_latex(x)}$ in $\\tau$, {below}the "
            f"coefficient of $\\tau^{{{leading[x]}}}$ must vanish:",
            sp.Eq(sampling.as_functions(coefficients[x][leading[x]]), 0),
        )
    return Leading(FrozenMapping(coefficients), FrozenMapping(leading)), derivation


def _series(setup, sampling, x):
    """The coefficients of τ^0 … τ^(MAX_ORDER − 1) of x's residual; no negative power."""
    name, step, tau = setup.rule.name, setup.step, setup.tau

    def shown(expr):
        return sampling.as_functions(expr).subs(tau, step)

    try:
        coeffs = _coefficients(sampling.residuals[x], tau, MAX_ORDER - 1)
    except _Divergent as bad:
        raise NoContinuousLimitError(
            f"{name}: in the update of {x}, the term {shown(bad.term)} is not a "
            f"power series in the time step {step} (it diverges or has fractional powers "
            f"as {setup.h} → 0); choose a scaling and time_step under which every coefficient "
            "is a power series in the time step"
        ) from None
    for p in sorted(coeffs):
        if p < 0 and not _is_zero(coeffs[p]):
            raise NoContinuousLimitError(
                f"{name}: in the update of {x}, the expansion has the divergent "
                f"leading term {shown(coeffs[p] * tau**p)}; choose a scaling under "
                "which it cancels"
            )
    return tuple(coeffs.get(m, sp.S.Zero) for m in range(MAX_ORDER))


def slave_fast_variables(setup, sampling, leading, derivation):
    """Split positions into dynamic ones and fast ones fixed by an algebraic leading equation.

    A position whose own leading equation has no time derivative relaxes on a
    faster scale than τ; at leading order it sits on the manifold that
    equation defines (an index-1 reduction), so it is solved for and substituted.
    """
    positions = sampling.positions
    fast = [x for x in positions if not leading.equation(x).has(*sampling.derivatives(x))]
    slaved = _slaved_values(setup, sampling, leading, fast) if fast else {}
    dynamic = tuple(x for x in positions if x not in slaved)
    equations = tuple(_factor_radicals(leading.equation(x).subs(slaved)) for x in dynamic)
    highest = {}
    for x in dynamic:
        orders = [
            m
            for m in range(1, MAX_ORDER + 1)
            if any(eq.has(sampling.jets[x][m]) for eq in equations)
        ]
        if not orders:
            raise NoContinuousLimitError(
                f"{setup.rule.name}: no time derivative of {sampling.functions[x]} survives at "
                f"leading order; the iterates do not move on the time scale {setup.step}"
            )
        highest[x] = max(orders)
    if slaved:
        derivation = derivation.then(
            "The equations of "
            + ", ".join(f"${safe_latex(sampling.functions[x])}$" for x in slaved)
            + " have no time derivative: these variables relax faster than $\\tau$ and, to "
            "leading order, sit on the manifold the equations define:",
            tuple(
                sp.Eq(sampling.functions[x], sampling.as_functions(v)) for x, v in slaved.items()
            ),
        )
    reduction = Reduction(dynamic, FrozenMapping(slaved), equations, FrozenMapping(highest))
    return reduction, derivation


def _slaved_values(setup, sampling, leading, fast):
    """Solve the fast variables' algebraic leading equations for them (exactly when linear)."""
    name, step = setup.rule.name, setup.step
    positions = sampling.positions
    derivatives = {d for y in positions for d in sampling.derivatives(y)}
    constraints = [leading.equation(x) for x in fast]
    if len(fast) == len(positions) or any(c.free_symbols & derivatives for c in constraints):
        shown = ", ".join(f"{sampling.as_functions(c)} = 0" for c in constraints)
        raise NoContinuousLimitError(
            f"{name}: at leading order the updates of {', '.join(map(str, fast))} give "
            f"{shown}, which fixes no motion on the time scale {step}; choose another "
            "time_step or scaling"
        )
    try:  # linear constraints (moment buffers): solve exactly, keep function atoms intact
        matrix, rhs = sp.linear_eq_to_matrix([sp.expand(c) for c in constraints], fast)
        values = matrix.LUsolve(rhs).applyfunc(sp.cancel) if matrix.det() != 0 else None
        solutions = [dict(zip(fast, values, strict=True))] if values is not None else []
    except (sp.polys.polyerrors.PolynomialError, ValueError, NotImplementedError):
        solutions = sp.solve(constraints, fast, dict=True)
    if len(solutions) != 1 or any(x not in solutions[0] for x in fast):
        raise NoContinuousLimitError(
            f"{name}: the fast variables {fast} relax to {len(solutions)} solutions of "
            f"{[sampling.as_functions(c) for c in constraints]}; cannot pick a slow manifold"
        )
    return {x: factor(solutions[0][x]) for x in fast}


def solve_for_highest(setup, sampling, reduction, derivation):
    """Solve the leading equations for the highest derivatives: the limit ODE."""
    unknowns = [sampling.jets[x][reduction.highest[x]] for x in reduction.dynamic]
    solved = sp.solve(list(reduction.equations), unknowns, dict=True)
    if len(solved) != 1:
        raise UndecidedError(
            f"{setup.rule.name}: cannot solve the leading equations for "
            f"{[sampling.as_functions(u) for u in unknowns]}"
        )
    values = {u: _neat(solved[0][u]) for u in unknowns}
    ode = tuple(
        sp.Eq(
            sp.Derivative(sampling.functions[x], (T, reduction.highest[x])),
            sampling.as_functions(values[sampling.jets[x][reduction.highest[x]]]),
        )
        for x in reduction.dynamic
    )
    derivation = derivation.then("Solved for the highest derivatives, the limit is", ode)
    return Solution(FrozenMapping(values), ode), derivation


def find_error_order(sampling, leading, reduction, solution, derivation):
    """The order in τ of the first neglected term relative to the kept one, after reducing
    it with the limit itself, and "" ; or None and why it is undecided (fast variables
    were slaved, so their relaxation sets the correction; or nothing survives below
    MAX_ORDER). The derivation says which."""
    if reduction.slaved:
        names = ", ".join(map(str, reduction.slaved))
        reason = (
            f"the fast variables {names} were slaved to their manifold, and how fast they "
            "relax sets the first correction, which this expansion does not find"
        )
        return None, reason, derivation.then(f"The order of the error is undecided: {reason}.")
    orders = []
    for x in reduction.dynamic:
        for m in range(leading.leading[x] + 1, MAX_ORDER):
            term = _reduce(leading.coefficients[x][m], sampling, reduction, solution)
            if not _is_zero(term.doit()):
                orders.append(m - leading.leading[x])
                break
    if not orders:
        reason = (
            "every neglected term up to the expansion's last order "
            f"(τ^{MAX_ORDER - 1}) vanishes once the limit is used, so the first one "
            "that does not was not reached"
        )
        return None, reason, derivation.then(f"The order of the error is undecided: {reason}.")
    order = min(orders)
    return (
        order,
        "",
        derivation.then(
            f"The first neglected term is $O(\\tau^{{{order}}})$ relative to "
            "the kept ones, even after the limit equation is used to simplify it."
        ),
    )


def _total_derivative(expr, sampling, positions):
    """d/dt of an expression in the jets (jets[x][m] is the m-th derivative of x)."""
    out = sp.diff(expr, T)
    for x in positions:
        jets = sampling.jets[x]
        for m in range(MAX_ORDER):
            out += sp.diff(expr, jets[m]) * jets[m + 1]
    return out


def _reduce(expr, sampling, reduction, solution):
    """Eliminate derivatives at or above the ODE's order using the ODE itself."""
    rules = {}
    for x in reduction.dynamic:
        jets, top = sampling.jets[x], reduction.highest[x]
        value = solution.values[jets[top]]
        rules[jets[top]] = value
        for m in range(top + 1, MAX_ORDER + 1):
            value = _total_derivative(value, sampling, reduction.dynamic)
            rules[jets[m]] = value
    for _ in range(MAX_ORDER):
        new = expr.subs(rules)
        if new == expr:
            break
        expr = new
    return expr


def _factor_radicals(expr):
    """Factor the radicands of fractional powers, so that √(g²) becomes |g|."""
    return expr.replace(
        lambda e: isinstance(e, sp.Pow) and e.exp.is_Rational and not e.exp.is_Integer,
        lambda e: factor(sp.cancel(e.base)) ** e.exp,
    )


def _neat(expr):
    """``simplify`` for small expressions; grouping of common factors for large ones."""
    if sp.count_ops(expr) <= 30:
        return sp.simplify(expr)
    return sp.factor_terms(sp.expand(expr))
