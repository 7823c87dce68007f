"""Continuous-time limits of update rules: the ODE the iterates sample as the step → 0.

Iterates are treated as values X(t_k) of smooth curves at t_k = k·τ, buffers and
lagged copies are eliminated in favour of the positions (:mod:`symdyn.rules.state_roles`),
and the one-step recurrence is Taylor-expanded in τ (:mod:`symdyn.limits._taylor`). The
stability of a limit is in :mod:`symdyn.limits.routh_hurwitz`, its numerical solution
in :mod:`symdyn.limits.integration`.

References
----------
Su, Boyd & Candès, *A differential equation for modeling Nesterov's
accelerated gradient method* (JMLR 2016); Kovachki & Stuart, *Continuous time
analysis of momentum methods* (JMLR 2021).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from symdyn.budget import bounded, phase
from symdyn.derivation import Derivation, Presented
from symdyn.errors import (
    ArgumentError,
    NoContinuousLimitError,
    RuleError,
    ShapeError,
    UndecidedError,
)
from symdyn.escaping import plain, safe_latex
from symdyn.frozen import freeze_fields
from symdyn.limits._taylor import _coefficients, _Divergent, _is_zero
from symdyn.linear.zero_stability import with_root_condition, zero_stability
from symdyn.rules.factoring import factor
from symdyn.rules.printing import opening
from symdyn.rules.rule import UpdateRule
from symdyn.rules.state_roles import state_roles
from symdyn.rules.values import exact_value, exact_values, resolve_symbol

__all__ = ["ContinuousLimit", "NoContinuousLimitError", "continuous_limit"]

T = sp.Symbol("t", positive=True)
_MAX_ORDER = 5


def _substitute_counter(expr, counter, value, state):
    """Replace the counter in the state-free subexpressions, each simplified by ``cancel``."""
    if counter is None or counter not in expr.free_symbols:
        return expr
    if not (expr.free_symbols & state):
        return sp.cancel(sp.together(expr.subs(counter, value)))
    if isinstance(expr, (sp.Subs, sp.Derivative)):
        return expr.subs(counter, value)
    return expr.func(*[_substitute_counter(a, counter, value, state) for a in expr.args])


@dataclass(frozen=True)
class ContinuousLimit(Presented):
    """The ODE a rule's iterates follow as the time step goes to zero.

    Attributes
    ----------
    rule : UpdateRule
    ode : tuple of sympy.Eq
        One equation per position, solved for its highest derivative, in
        functions of ``t``.
    functions : dict
        State symbol → its continuous counterpart: X(t) for a position,
        X(t − τ) for a lagged copy, the exact expression for a buffer.
    order : int
        The highest time derivative in ``ode``.
    error_order : int or None
        The first neglected term of the expansion is O(τ^error_order) relative
        to the kept one (so the iterates follow the ODE to O(τ^error_order) on
        bounded time intervals); None if not found up to order 4, or when fast
        variables were slaved (their relaxation sets the correction).
    time_step : sympy.Expr
        τ, the time between iterates.
    h : sympy.Symbol
        The step parameter.
    scaling : dict
        The parameters written in terms of ``h``.
    derivation : Derivation
    requires : tuple of sympy relations or None
        Where the iterates follow the limit at all: every root of the step's
        linearisation at ``h = 0`` other than the slow ones (1, once per
        order per position) strictly inside the unit circle, so that the
        fast modes die out (Dahlquist's root condition; ``beta < 1`` for
        heavy ball at fixed momentum). ``()`` when nothing is needed, None
        when that linearisation depends on the state or its roots at 1
        depend on the step counter (Su–Boyd–Candès momentum).
    """

    rule: UpdateRule
    ode: tuple
    functions: dict
    order: int
    error_order: int | None
    time_step: sp.Expr
    h: sp.Symbol
    scaling: dict
    derivation: Derivation = field(repr=False)
    requires: tuple | None = ()

    def __post_init__(self):
        freeze_fields(self, "functions", "scaling")

    @property
    def t(self):
        return T

    def first_order_system(self):
        """The limit as a first-order system: (phase variables X, X', …; real dummies
        standing for them; their rates in those dummies).

        Examples
        --------
        >>> import sympy as sp, symdyn as sd
        >>> x = sp.Symbol("x", real=True)
        >>> eta = sp.Symbol("eta", positive=True)
        >>> limit = sd.continuous_limit(sd.optimizers.gd(x**2 / 2, [x], eta), h=eta)
        >>> phase, dummies, rates = limit.first_order_system()
        >>> phase, rates
        ([X(t)], [-_y0])
        """
        phase, fields = [], []
        for eq in self.ode:
            function, order = eq.lhs.expr, eq.lhs.derivative_count
            states = [function] + [sp.Derivative(function, (T, m)) for m in range(1, order)]
            phase.extend(states)
            fields.extend([*states[1:], eq.rhs])
        dummies = [sp.Dummy(f"y{i}", real=True) for i in range(len(phase))]
        # derivatives are replaced before the functions they contain
        replace = dict(zip(reversed(phase), reversed(dummies), strict=True))
        return phase, dummies, [f.subs(replace) for f in fields]

    def values(self, mapping, where, *, functions=False):
        """``mapping`` with checked keys and exact values (:mod:`symdyn.rules.values`).

        Keys are the rule's symbols or their exact names (never parsed); with
        ``functions``, a state symbol stands for its curve (``x`` for X(t)) and
        the curves themselves are accepted too.
        """
        if mapping is None:
            return {}
        if not isinstance(mapping, Mapping):
            raise ArgumentError(
                f"{where}: expected a mapping {{symbol: value}}, got {type(mapping).__name__}"
            )
        curves = {f for f in self.functions.values() if isinstance(f, AppliedUndef)}

        def is_curve(key):
            derived = isinstance(key, sp.Derivative) and key.expr in curves
            return functions and (key in curves or derived)

        plain = {k: v for k, v in mapping.items() if not is_curve(k)}
        out = exact_values(plain, self.rule.symbols, where=where, expressions=True)
        if functions:
            out = {self.functions.get(k, k): v for k, v in out.items()}
        for key in set(mapping) - set(plain):
            out[key] = exact_value(mapping[key], where=where)
        return out


def _function_of(symbol):
    name = symbol.name
    return sp.Function(name[0].upper() + name[1:], real=True)


@bounded("continuous_limit")
def continuous_limit(rule, h, scaling=None, time_step=None):
    """Continuous-time limit of ``rule`` as the step ``h`` goes to zero.

    The k-th iterate of each position x is read as X(t_k), t_k = kτ with τ =
    ``time_step`` (default ``h``). Lagged copies (``x_prev ← x``) become
    X(t − τ); a buffer a with x⁺ − x = C·a⁺ becomes (X(t) − X(t − τ))/C. The
    resulting recurrence X(t + τ) = Φ(X(t), X(t − τ), …) is expanded in τ and
    its lowest non-vanishing order is kept.

    Parameters
    ----------
    rule : UpdateRule
    h : sympy.Symbol
        The step parameter that goes to zero.
    scaling : mapping, optional
        Parameters written in terms of ``h`` (e.g. ``{beta: 1 - gamma*sqrt(h)}``).
    time_step : sympy.Expr, optional
        τ as a function of ``h`` (e.g. ``sqrt(h)``). The step counter k of a
        time-varying rule becomes t/τ.
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

    Returns
    -------
    ContinuousLimit

    Raises
    ------
    NoContinuousLimitError
        If a term diverges as h → 0, or the expansion has no time derivative.

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> sd.continuous_limit(sd.optimizers.gd(x**4 / 4, [x], lr=eta), h=eta).ode
    (Eq(Derivative(X(t), t), -X(t)**3),)

    References
    ----------
    Su, Boyd & Candès (2016) for Nesterov's limit; Polyak (1964) for heavy ball.
    """
    if not isinstance(rule, UpdateRule):
        raise RuleError(f"continuous_limit needs an UpdateRule, got {type(rule).__name__}")
    if any(isinstance(s, sp.MatrixSymbol) for s in rule.state):
        raise ShapeError(f"{rule.name}: continuous_limit needs a state of scalar symbols")
    where = f"{rule.name}: continuous_limit"
    h = resolve_symbol(h, rule.symbols, where=f"{where}(h=...)")
    scaling = exact_values(
        scaling, rule.symbols, where=f"{where}(scaling=...)", expressions=True, closure=True
    )
    for key in scaling:
        if key not in rule.params and key not in rule.free:
            raise RuleError(
                f"{rule.name}: scaling names {key}, which is not a parameter", symbol=key
            )
    step = h if time_step is None else exact_value(time_step, where=f"{where}(time_step=...)")
    tau = sp.Dummy("tau", positive=True)
    solutions = [s for s in sp.solve(sp.Eq(step, tau), h) if s.is_positive is not False]
    if h not in step.free_symbols or not solutions:
        raise RuleError(f"{rule.name}: the time step {step} must be an invertible function of {h}")
    h_of_tau = solutions[0]

    phase("reading the state's roles (positions, buffers, lagged copies)")
    roles = state_roles(rule)
    state = set(rule.state)
    k = rule.counter
    nxt = dict(zip(rule.state, rule.next_state, strict=True))
    ahead = {x: sp.Dummy(f"{x.name}_next", real=True) for x in roles.positions}
    past = {}

    def behind(x, j):
        return past.setdefault((x, j), sp.Dummy(f"{x.name}_{j}", real=True))

    history = {x: x for x in roles.positions}
    for a, (x, j) in roles.lags.items():
        history[a] = behind(x, j)
    for a, (x, ratio) in roles.buffers.items():
        ratio_before = ratio if k is None else ratio.subs(k, k - 1)
        history[a] = (x - behind(x, 1)) / ratio_before

    def to_tau(expr):
        expr = expr.subs(scaling).subs(h, h_of_tau)
        return _substitute_counter(
            expr, k, T / tau, state | set(ahead.values()) | set(past.values())
        )

    residuals = {
        x: to_tau(ahead[x] - nxt[x].subs(history, simultaneous=True)) for x in roles.positions
    }
    jets = {
        x: [x] + [sp.Dummy(f"{x.name}_d{m}", real=True) for m in range(1, _MAX_ORDER + 1)]
        for x in roles.positions
    }

    def shifted(x, j):
        return x + sum((j * tau) ** m / sp.factorial(m) * jets[x][m] for m in range(1, _MAX_ORDER))

    at_times = {ahead[x]: shifted(x, 1) for x in roles.positions}
    at_times.update({symbol: shifted(x, -j) for (x, j), symbol in past.items()})
    expanded = {x: r.subs(at_times) for x, r in residuals.items()}

    functions = {x: _function_of(x)(T) for x in roles.positions}
    to_functions = {}
    for x in roles.positions:
        to_functions.update(
            {jets[x][m]: sp.Derivative(functions[x], (T, m)) for m in range(1, _MAX_ORDER + 1)}
        )

    def as_functions(expr):
        return expr.xreplace(to_functions).subs(functions)

    def shown_term(expr):
        return as_functions(expr).subs(tau, step)

    leading, coefficients = {}, {}
    for x in roles.positions:
        phase(f"Taylor-expanding the update of {x} in the time step")
        try:
            coeffs = _coefficients(expanded[x], tau, _MAX_ORDER - 1)
        except _Divergent as bad:
            raise NoContinuousLimitError(
                f"{rule.name}: in the update of {x}, the term {shown_term(bad.term)} is not a "
                f"power series in the time step {step} (it diverges or has fractional powers "
                f"as {h} → 0); choose a scaling and time_step under which every coefficient "
                "is a power series in the time step"
            ) from None
        for p in sorted(coeffs):
            if p < 0 and not _is_zero(coeffs[p]):
                raise NoContinuousLimitError(
                    f"{rule.name}: in the update of {x}, the expansion has the divergent "
                    f"leading term {shown_term(coeffs[p] * tau**p)}; choose a scaling under "
                    "which it cancels"
                )
        coefficients[x] = [coeffs.get(m, sp.S.Zero) for m in range(_MAX_ORDER)]
        nonzero = [m for m, c in enumerate(coefficients[x]) if not _is_zero(c)]
        if not nonzero:
            raise NoContinuousLimitError(
                f"{rule.name}: the expansion of the update of {x} vanishes to order "
                f"{_MAX_ORDER - 1} in the time step"
            )
        leading[x] = nonzero[0]

    equations = [coefficients[x][leading[x]] for x in roles.positions]
    dynamic, slaved = _slave_fast_variables(
        rule, roles.positions, equations, jets, step, as_functions
    )
    reduced = [_factor_radicals(equations[roles.positions.index(x)].subs(slaved)) for x in dynamic]
    highest = {}
    for x in dynamic:
        orders = [m for m in range(1, _MAX_ORDER + 1) if any(eq.has(jets[x][m]) for eq in reduced)]
        if not orders:
            raise NoContinuousLimitError(
                f"{rule.name}: no time derivative of {functions[x]} survives at leading order; "
                f"the iterates do not move on the time scale {step}"
            )
        highest[x] = max(orders)
    phase("solving the leading equations for the highest derivatives")
    unknowns = [jets[x][highest[x]] for x in dynamic]
    solved = sp.solve(reduced, unknowns, dict=True)
    if len(solved) != 1:
        raise UndecidedError(
            f"{rule.name}: cannot solve the leading equations for "
            f"{[as_functions(u) for u in unknowns]}"
        )
    solution = {u: _neat(solved[0][u]) for u in unknowns}

    phase("finding the order of the first neglected term")
    error_order = None
    if not slaved:  # with fast variables the correction depends on their relaxation
        error_order = _error_order(dynamic, coefficients, leading, jets, highest, solution)
    ode = tuple(
        sp.Eq(
            sp.Derivative(functions[x], (T, highest[x])),
            as_functions(solution[jets[x][highest[x]]]),
        )
        for x in dynamic
    )
    shown = dict(functions)
    for x, value in slaved.items():
        shown[x] = as_functions(value)
    for a, (x, j) in roles.lags.items():
        shown[a] = functions[x].subs(T, T - j * step)
    for a, (x, ratio) in roles.buffers.items():
        before = ratio if k is None else ratio.subs(k, k - 1)
        shown[a] = (functions[x] - functions[x].subs(T, T - step)) / before.subs(scaling)

    phase("the root condition of the step at h = 0")
    roots = zero_stability(rule, h, scaling, sum(highest.values()))
    derivation = _limit_derivation(
        rule,
        h,
        scaling,
        step,
        roles,
        shown,
        functions,
        ode,
        [as_functions(e) for e in equations],
        leading,
        error_order,
        slaved,
    )
    derivation = with_root_condition(derivation, roots, h)
    return ContinuousLimit(
        rule,
        ode,
        shown,
        max(highest.values()),
        error_order,
        step,
        h,
        scaling,
        derivation,
        roots.conditions if roots.applies else None,
    )


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


def _slave_fast_variables(rule, positions, equations, jets, step, as_functions):
    """Split positions into dynamic ones and fast ones fixed by an algebraic leading equation.

    A position whose own leading equation has no time derivative relaxes on a
    faster scale than ``step``; at leading order it sits on the manifold that
    equation defines (an index-1 reduction), so it is solved for and substituted.
    """
    fast = [
        x
        for x, eq in zip(positions, equations, strict=True)
        if not any(eq.has(jets[x][m]) for m in range(1, _MAX_ORDER + 1))
    ]
    if not fast:
        return list(positions), {}
    derivatives = {jets[y][m] for y in positions for m in range(1, _MAX_ORDER + 1)}
    constraints = [equations[positions.index(x)] for x in fast]
    if len(fast) == len(positions) or any(c.free_symbols & derivatives for c in constraints):
        shown = ", ".join(f"{as_functions(c)} = 0" for c in constraints)
        raise NoContinuousLimitError(
            f"{rule.name}: at leading order the updates of {', '.join(map(str, fast))} give "
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
            f"{rule.name}: the fast variables {fast} relax to {len(solutions)} solutions of "
            f"{[as_functions(c) for c in constraints]}; cannot pick a slow manifold"
        )
    slaved = {x: factor(solutions[0][x]) for x in fast}
    dynamic = [x for x in positions if x not in slaved]
    return dynamic, slaved


def _total_derivative(expr, positions, jets):
    """d/dt of an expression in the jets (jets[x][m] is the m-th derivative of x)."""
    out = sp.diff(expr, T)
    for x in positions:
        for m in range(_MAX_ORDER):
            out += sp.diff(expr, jets[x][m]) * jets[x][m + 1]
    return out


def _reduce(expr, positions, jets, highest, solution):
    """Eliminate derivatives at or above the ODE's order using the ODE itself."""
    rules = {}
    for x in positions:
        value = solution[jets[x][highest[x]]]
        rules[jets[x][highest[x]]] = value
        for m in range(highest[x] + 1, _MAX_ORDER + 1):
            value = _total_derivative(value, positions, jets)
            rules[jets[x][m]] = value
    for _ in range(_MAX_ORDER):
        new = expr.subs(rules)
        if new == expr:
            break
        expr = new
    return expr


def _error_order(positions, coefficients, leading, jets, highest, solution):
    orders = []
    for x in positions:
        for m in range(leading[x] + 1, _MAX_ORDER):
            reduced = _reduce(coefficients[x][m], positions, jets, highest, solution)
            if not _is_zero(reduced.doit()):
                orders.append(m - leading[x])
                break
    return min(orders) if orders else None


def _limit_derivation(
    rule,
    h,
    scaling,
    step,
    roles,
    shown,
    functions,
    ode,
    leading_eqs,
    leading,
    error_order,
    slaved,
):
    d = opening(rule, f"Continuous-time limit of {plain(rule.name)}")
    if scaling:
        d = d.then(
            f"The parameters are scaled with the step ${safe_latex(h)}$:",
            tuple(sp.Eq(k, v) for k, v in scaling.items()),
        )
    d = d.then(
        f"Read the iterates as samples of smooth curves at $t_k = k\\,\\tau$, with time step "
        f"$\\tau = {safe_latex(step)}$"
        + (" (so the counter is $k = t/\\tau$)" if rule.counter is not None else "")
        + ":",
        tuple(
            sp.Eq(sp.Symbol(f"{{{safe_latex(s)}}}_{{k}}"), functions[s] if s in slaved else v)
            for s, v in shown.items()
        ),
    )
    if roles.buffers or roles.lags:
        d = d.then(
            "Lagged copies and buffers are functions of past positions, so the "
            "rule is a multistep recurrence in the positions alone."
        )
    for x, eq in zip(roles.positions, leading_eqs, strict=True):
        below = f"every order below $\\tau^{{{leading[x]}}}$ cancels; " if leading[x] else ""
        d = d.then(
            f"Taylor-expanding the update of ${safe_latex(x)}$ in $\\tau$, {below}the "
            f"coefficient of $\\tau^{{{leading[x]}}}$ must vanish:",
            sp.Eq(eq, 0),
        )
    if slaved:
        d = d.then(
            "The equations of "
            + ", ".join(f"${safe_latex(functions[x])}$" for x in slaved)
            + " have no time derivative: these variables relax faster than $\\tau$ and, to "
            "leading order, sit on the manifold the equations define:",
            tuple(sp.Eq(functions[x], shown[x]) for x in slaved),
        )
    d = d.then("Solved for the highest derivatives, the limit is", ode)
    if error_order is not None:
        d = d.then(
            f"The first neglected term is $O(\\tau^{{{error_order}}})$ relative to "
            "the kept ones, even after the limit equation is used to simplify it."
        )
    return d
