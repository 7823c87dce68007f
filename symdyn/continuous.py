"""Continuous-time limits and modified equations of update rules.

* :func:`continuous_limit` — the ODE whose solution the iterates sample as the
  step goes to zero: iterates are treated as values X(t_k) of smooth curves at
  t_k = k·τ, buffers and lagged copies are eliminated in favour of the
  positions, and the one-step recurrence is Taylor-expanded in τ.
* :func:`routh_hurwitz` — stability of the limit ODE's linearisation.
* :func:`modified_equation` — backward error analysis: the vector field whose
  exact time-h flow agrees with one step of the rule to O(h^(order+1)), and the
  modified loss when that field is a gradient.

References
----------
Su, Boyd & Candès, *A differential equation for modeling Nesterov's
accelerated gradient method* (JMLR 2016); Hairer, Lubich & Wanner,
*Geometric Numerical Integration* (2006), ch. IX; Barrett & Dherin,
*Implicit gradient regularization* (ICLR 2021).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sympy as sp
from sympy.functions.elementary.hyperbolic import HyperbolicFunction
from sympy.functions.elementary.trigonometric import TrigonometricFunction

from symdyn.criteria import hurwitz_conditions
from symdyn.derivation import Derivation, TeX
from symdyn.errors import RuleError, ShapeError, SymdynError, UndecidedError
from symdyn.rule import UpdateRule

__all__ = [
    "ContinuousLimit",
    "Convergence",
    "LimitStability",
    "ModifiedEquation",
    "NoContinuousLimitError",
    "SdeLimit",
    "continuous_limit",
    "convergence",
    "integrate",
    "modified_equation",
    "routh_hurwitz",
    "sde_limit",
]

T = sp.Symbol("t", positive=True)
_MAX_ORDER = 5


class NoContinuousLimitError(SymdynError, ValueError):
    """The expansion of a rule in its step has no consistent leading order."""


# -- roles of the state variables ------------------------------------------------


@dataclass(frozen=True)
class _Roles:
    """Positions, lagged copies (a → (position, lag)) and buffers (a → (position, C)).

    A buffer ``a`` of position ``x`` satisfies ``x⁺ − x = C·a⁺`` identically,
    so ``a_k = (x_k − x_{k−1}) / C_{k−1}``.
    """

    positions: tuple
    lags: dict
    buffers: dict


def _is_zero(expr):
    """Exact zero test: the expanded numerator of the normal form.

    Trigonometric and hyperbolic functions are rewritten as exponentials first,
    so identities such as cosh² − sinh² = 1 are seen.
    """
    expr = sp.expand(expr)
    if expr == 0:
        return True
    if sp.expand(sp.numer(sp.together(expr))) == 0:
        return True
    if expr.has(HyperbolicFunction, TrigonometricFunction) and sp.count_ops(expr) < 400:
        rewritten = sp.expand(expr.rewrite(sp.exp))
        return sp.expand(sp.numer(sp.together(rewritten))) == 0
    return False


def state_roles(rule):
    """Split the state of ``rule`` into positions, lagged copies and momentum buffers."""
    state, nxt = rule.state, dict(zip(rule.state, rule.next_state, strict=True))
    lags = {}
    for a in state:
        if nxt[a] in state and nxt[a] != a:
            lags[a] = nxt[a]
    resolved = {}
    for a, source in lags.items():
        depth, seen = 1, {a}
        while source in lags:
            if source in seen:
                raise RuleError(
                    f"{rule.name}: the lagged copies {sorted(map(str, seen))} form a cycle"
                )
            seen.add(source)
            source, depth = lags[source], depth + 1
        resolved[a] = (source, depth)
    buffers = {}
    candidates = [s for s in state if s not in resolved]
    for x in candidates:
        increment = nxt[x] - x
        if increment == 0:
            continue
        for a in candidates:
            if a == x or a in buffers or nxt[a] == 0:
                continue
            ratio = sp.cancel(sp.together(increment / nxt[a]))
            if (
                ratio != 0
                and not (ratio.free_symbols & set(state))
                and not ratio.has(sp.Subs, sp.Derivative, sp.core.function.AppliedUndef)
            ):
                buffers[a] = (x, ratio)
                break
    positions = tuple(s for s in state if s not in resolved and s not in buffers)
    for a, (x, _) in resolved.items():
        if x not in positions:
            raise RuleError(f"{rule.name}: {a} is a lagged copy of {x}, which is not a position")
    return _Roles(positions, resolved, buffers)


# -- Taylor coefficients -----------------------------------------------------------


def _substitute_counter(expr, counter, value, state):
    """Replace the counter in the state-free subexpressions, each simplified by ``cancel``."""
    if counter is None or counter not in expr.free_symbols:
        return expr
    if not (expr.free_symbols & state):
        return sp.cancel(sp.together(expr.subs(counter, value)))
    if isinstance(expr, (sp.Subs, sp.Derivative)):
        return expr.subs(counter, value)
    return expr.func(*[_substitute_counter(a, counter, value, state) for a in expr.args])


def _atom_taylor(atom, tau, degree, cache):
    """Taylor polynomial of degree ``degree`` in ``tau`` of one factor, by differentiation."""
    key = (atom, degree)
    if key not in cache:
        terms, current = [], atom
        for m in range(degree + 1):
            value = current.subs(tau, 0).doit()
            if value.has(sp.zoo, sp.nan, sp.oo, -sp.oo):
                raise _Divergent(atom)
            terms.append(value / sp.factorial(m) * tau**m)
            current = sp.diff(current, tau)
        cache[key] = sp.Add(*terms)
    return cache[key]


class _Divergent(Exception):
    def __init__(self, term):
        self.term = term


def _coefficients(expr, tau, degree):
    """Coefficients of tau**p, p <= degree, of ``expr``; negative powers included if present.

    Each term is split into a power of ``tau`` and factors in which ``tau`` sits
    inside functions or denominators; those factors are replaced by Taylor
    polynomials, so the work stays proportional to the size of the expression.
    """
    cache, out = {}, {}
    for term in sp.Add.make_args(sp.expand(expr)):
        power, rest = 0, []
        for factor in sp.Mul.make_args(term):
            base, exponent = factor.as_base_exp()
            if base == tau and exponent.is_Integer:
                power += int(exponent)
            else:
                rest.append(factor)
        if power > degree:
            continue
        product = sp.S.One
        for factor in rest:
            if tau in factor.free_symbols:
                try:
                    factor = _atom_taylor(factor, tau, degree - power, cache)
                except _Divergent:
                    raise _Divergent(term) from None
            product *= factor
        product = sp.expand(product)
        for m in range(degree - power + 1):
            c = product.coeff(tau, m) if m else product.subs(tau, 0)
            if c != 0:
                out[power + m] = out.get(power + m, sp.S.Zero) + c
    return {p: sp.expand(c) for p, c in out.items()}


# -- the limit ---------------------------------------------------------------------


@dataclass(frozen=True)
class ContinuousLimit:
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

    @property
    def t(self):
        return T


def _function_of(symbol):
    name = symbol.name
    return sp.Function(name[0].upper() + name[1:], real=True)


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
    h = sp.sympify(h)
    scaling = {sp.sympify(k): sp.sympify(v) for k, v in dict(scaling or {}).items()}
    for key in scaling:
        if key not in rule.params and key not in rule.free:
            raise RuleError(f"{rule.name}: scaling names {key}, which is not a parameter")
    step = h if time_step is None else sp.sympify(time_step)
    tau = sp.Dummy("tau", positive=True)
    solutions = [s for s in sp.solve(sp.Eq(step, tau), h) if s.is_positive is not False]
    if h not in step.free_symbols or not solutions:
        raise RuleError(f"{rule.name}: the time step {step} must be an invertible function of {h}")
    h_of_tau = solutions[0]

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
    unknowns = [jets[x][highest[x]] for x in dynamic]
    solved = sp.solve(reduced, unknowns, dict=True)
    if len(solved) != 1:
        raise UndecidedError(
            f"{rule.name}: cannot solve the leading equations for "
            f"{[as_functions(u) for u in unknowns]}"
        )
    solution = {u: _neat(solved[0][u]) for u in unknowns}

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
    return ContinuousLimit(
        rule, ode, shown, max(highest.values()), error_order, step, h, scaling, derivation
    )


def _factor_radicals(expr):
    """Factor the radicands of fractional powers, so that √(g²) becomes |g|."""
    return expr.replace(
        lambda e: isinstance(e, sp.Pow) and e.exp.is_Rational and not e.exp.is_Integer,
        lambda e: sp.factor(sp.cancel(e.base)) ** e.exp,
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
    slaved = {x: sp.factor(solutions[0][x]) for x in fast}
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
    d = Derivation(f"Continuous-time limit of {rule.name}").then(
        f"The rule \u201c{rule.name}\u201d performs the assignments", TeX(rule.to_latex())
    )
    if scaling:
        d = d.then(
            f"The parameters are scaled with the step ${sp.latex(h)}$:",
            tuple(sp.Eq(k, v) for k, v in scaling.items()),
        )
    d = d.then(
        f"Read the iterates as samples of smooth curves at $t_k = k\\,\\tau$, with time step "
        f"$\\tau = {sp.latex(step)}$"
        + (" (so the counter is $k = t/\\tau$)" if rule.counter is not None else "")
        + ":",
        tuple(
            sp.Eq(sp.Symbol(f"{{{sp.latex(s)}}}_{{k}}"), functions[s] if s in slaved else v)
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
            f"Taylor-expanding the update of ${sp.latex(x)}$ in $\\tau$, {below}the "
            f"coefficient of $\\tau^{{{leading[x]}}}$ must vanish:",
            sp.Eq(eq, 0),
        )
    if slaved:
        d = d.then(
            "The equations of "
            + ", ".join(f"${sp.latex(functions[x])}$" for x in slaved)
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


# -- stability of the limit -----------------------------------------------------------


@dataclass(frozen=True)
class LimitStability:
    """Routh–Hurwitz stability of a limit ODE linearised at an equilibrium.

    Attributes
    ----------
    point : dict
        Function → value at the equilibrium.
    matrix : sympy.ImmutableMatrix
        The linearisation as a first-order system.
    charpoly : sympy.Poly
        ``det(s I − A)`` in ``s``.
    conditions : tuple of sympy relations
    region : sympy.Boolean
    derivation : Derivation
    """

    point: dict
    matrix: sp.ImmutableMatrix
    charpoly: sp.Poly
    conditions: tuple
    region: sp.Basic
    derivation: Derivation = field(repr=False)


def _first_order_system(limit):
    """(phase variables X, X', …; dummies standing for them; their rates) of ``limit.ode``."""
    phase, fields = [], []
    for eq in limit.ode:
        function, order = eq.lhs.expr, eq.lhs.derivative_count
        states = [function] + [sp.Derivative(function, (T, m)) for m in range(1, order)]
        phase.extend(states)
        fields.extend([*states[1:], eq.rhs])
    dummies = [sp.Dummy(f"y{i}", real=True) for i in range(len(phase))]
    # derivatives are replaced before the functions they contain
    replace = dict(zip(reversed(phase), reversed(dummies), strict=True))
    return phase, dummies, [f.subs(replace) for f in fields]


def routh_hurwitz(limit, at=None):
    """Routh–Hurwitz stability of the linearisation of ``limit.ode`` at an equilibrium.

    Parameters
    ----------
    limit : ContinuousLimit
    at : mapping, optional
        Position symbol (or function of t) → value; by default the unique
        equilibrium.

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta, lam, gamma = sp.symbols("eta lambda gamma", positive=True)
    >>> beta = sp.Symbol("beta", positive=True)
    >>> hb = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
    >>> lim = sd.continuous_limit(hb, h=eta, scaling={beta: 1 - gamma * sp.sqrt(eta)},
    ...                           time_step=sp.sqrt(eta))
    >>> routh_hurwitz(lim).charpoly.as_expr()
    gamma*s + lambda + s**2
    """
    s = sp.Symbol("s")
    phase, dummies, fields = _first_order_system(limit)
    if any(T in f.free_symbols for f in fields):
        raise UndecidedError(
            "the limit ODE depends on t explicitly; Routh–Hurwitz needs an "
            "autonomous linearisation"
        )
    positions = [
        d for d, p in zip(dummies, phase, strict=True) if not isinstance(p, sp.Derivative)
    ]
    rates = [d for d, p in zip(dummies, phase, strict=True) if isinstance(p, sp.Derivative)]
    if at is None:
        at_rest = [f.subs({r: 0 for r in rates}) for f in fields]
        solutions = sp.solve([f for f in at_rest if f != 0], positions, dict=True)
        if len(solutions) != 1:
            raise UndecidedError(
                f"the limit ODE has {len(solutions)} equilibria found; give one with at={{...}}"
            )
        point = {
            positions[i]: solutions[0].get(positions[i], positions[i])
            for i in range(len(positions))
        }
    else:
        given = {}
        for key, value in dict(at).items():
            key = sp.sympify(key)
            key = limit.functions.get(key, key)
            given[key] = sp.sympify(value)
        point = {d: given[p] for d, p in zip(dummies, phase, strict=True) if p in given}
    point.update({r: 0 for r in rates})
    matrix = sp.ImmutableMatrix(sp.Matrix(fields).jacobian(dummies).subs(point).doit())
    poly = sp.Poly(sp.expand((s * sp.eye(len(dummies)) - matrix).det(method="berkowitz")), s)
    conditions = hurwitz_conditions(poly)
    region = sp.And(*conditions)
    shown_point = {p: point[d] for d, p in zip(dummies, phase, strict=True)}
    derivation = (
        Derivation("Routh–Hurwitz stability of the limit ODE")
        .then("The limit equations are", limit.ode)
        .then(
            "Written as a first-order system and linearised at the equilibrium",
            tuple(sp.Eq(k, v) for k, v in shown_point.items()),
        )
        .then("the system matrix is", TeX("A = " + sp.latex(matrix)))
        .then(
            "Solutions decay exactly when every root of the characteristic polynomial "
            "lies in the open left half-plane:",
            sp.Eq(sp.Symbol("p(s)"), poly.as_expr()),
        )
        .then(
            "By the Liénard–Chipart form of the Routh–Hurwitz criterion this holds if and only if",
            conditions,
        )
    )
    return LimitStability(shown_point, matrix, poly, conditions, region, derivation)


# -- modified equations -----------------------------------------------------------------


@dataclass(frozen=True)
class ModifiedEquation:
    """The modified vector field of a rule, and its modified loss when it is a gradient.

    Attributes
    ----------
    rule : UpdateRule
    h : sympy.Symbol
    order : int
        The flow of ``vector_field`` for time h matches one step to O(h^(order+1)).
    variables : tuple
        The state symbols the field acts on (the positions, for a momentum rule).
    slow_manifold : dict or None
        For a momentum rule, each buffer as a series in h on its slow manifold
        (to the order used); None for a near-identity rule.
    terms : tuple of sympy.ImmutableMatrix
        f₁, …, f_order with ``vector_field = Σ h^(j−1) f_j``.
    vector_field : sympy.ImmutableMatrix
        In the state symbols.
    modified_loss : sympy.Expr or None
        L̃ with ``vector_field = −∇L̃``; None when the field is not a gradient
        (or no potential was found), with the reason in ``loss_reason``.
    loss_reason : str
    derivation : Derivation
    """

    rule: UpdateRule
    h: sp.Symbol
    order: int
    variables: tuple
    slow_manifold: dict | None
    terms: tuple
    vector_field: sp.ImmutableMatrix
    modified_loss: sp.Expr | None
    loss_reason: str
    derivation: Derivation = field(repr=False)


def _lie(g, f, state):
    """Directional derivative of the column ``g`` along the field ``f``: g'(x) f(x)."""
    return g.jacobian(state) * f


def _coefficient(expr, h, m):
    return sp.expand(expr).coeff(h, m)


def modified_equation(rule, h, order=2):
    """Backward error analysis of a near-identity rule, to ``order`` terms.

    With the map x ↦ x + Σ_j h^j d_j(x), the field f̃ = Σ_j h^(j−1) f_j is
    built order by order: f_j = d_j − [h^j] of the exact flow of the field
    truncated before f_j, whose Taylor series is Σ_m h^m/m! (f̃·∇)^(m−1) f̃.

    Parameters
    ----------
    rule : UpdateRule
        Must be autonomous. If it is not the identity at h = 0, its buffers (or
        lagged copies) are first eliminated on the slow manifold a = Σ h^j A_j(x),
        found order by order from A(Ψ(x)) = F_a(x, A(x)); the field then acts on
        the positions, in time t = k·h (heavy ball: −∇L/(1 − β) + O(h)).
    h : sympy.Symbol
    order : int
        Number of terms; ``order=1`` gives the gradient flow of GD.

    Returns
    -------
    ModifiedEquation

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> L = sp.Function("L")(x)
    >>> me = sd.modified_equation(sd.optimizers.gd(L, [x], lr=eta), h=eta, order=2)
    >>> me.modified_loss
    eta*Derivative(L(x), x)**2/4 + L(x)

    References
    ----------
    Hairer, Lubich & Wanner (2006), §IX.1; Barrett & Dherin (2021).
    """
    if not isinstance(rule, UpdateRule):
        raise RuleError(f"modified_equation needs an UpdateRule, got {type(rule).__name__}")
    if order < 1 or int(order) != order:
        raise RuleError(f"modified_equation: order must be a positive integer, got {order}")
    if rule.is_time_varying:
        raise RuleError(
            f"{rule.name}: the map depends on the counter {rule.counter}; "
            "backward error analysis needs an autonomous rule"
        )
    h = sp.sympify(h)
    step = sp.Matrix(rule.next_state) - sp.Matrix(rule.state)
    manifold = None
    if all(_is_zero(e) for e in step.subs(h, 0)):
        variables = list(rule.state)
    else:
        variables, step, manifold = _slow_manifold(rule, h, order)
    state = sp.Matrix(variables)
    increments = [
        sp.ImmutableMatrix(step.applyfunc(lambda e, j=j: _taylor(e, h, j)))
        for j in range(1, order + 1)
    ]
    terms = []
    for j in range(1, order + 1):
        field_so_far = sp.zeros(len(state), 1)
        for i, f in enumerate(terms):
            field_so_far += h**i * f
        flow = sp.zeros(len(state), 1)
        power = field_so_far
        for m in range(1, j + 1):
            if m > 1:
                power = _lie(power, field_so_far, state).applyfunc(
                    lambda e, d=j - m: _truncate(e, h, d)
                )
            flow += h**m / sp.factorial(m) * power
        known = flow.applyfunc(lambda e, j=j: _coefficient(e, h, j))
        terms.append(
            sp.ImmutableMatrix(
                (increments[j - 1] - known).applyfunc(lambda e: _tidy(e, variables))
            )
        )
    vector_field = sp.ImmutableMatrix(
        sum((h**i * f for i, f in enumerate(terms)), sp.zeros(len(state), 1))
    )
    loss, reason = _modified_loss(terms, variables, h)
    if loss is not None:
        loss = _tidy(loss, [*variables, h])
    if manifold is not None:
        manifold = {a: _tidy(v, [*variables, h]) for a, v in manifold.items()}
    derivation = _modified_derivation(rule, h, increments, terms, loss, reason, manifold)
    return ModifiedEquation(
        rule,
        h,
        order,
        tuple(variables),
        manifold,
        tuple(terms),
        vector_field,
        loss,
        reason,
        derivation,
    )


def _slow_manifold(rule, h, order):
    """Reduce a momentum rule to its slow manifold a = A(x) = Σ h^j A_j(x).

    Invariance A(Ψ(x)) = F_a(x, A(x)), with Ψ(x) = F_x(x, A(x)), is solved order by
    order (each order is linear in A_j); Ψ is then a near-identity map of the positions.
    """
    roles = state_roles(rule)
    auxiliaries = [a for a in rule.state if a not in roles.positions]
    if not auxiliaries:
        raise RuleError(
            f"{rule.name}: at {h} = 0 the map is not the identity and it has no momentum "
            "buffer to eliminate; backward error analysis needs a near-identity map"
        )
    nxt = dict(zip(rule.state, rule.next_state, strict=True))
    unknowns = [sp.Dummy(f"A_{a.name}") for a in auxiliaries]
    series = dict.fromkeys(auxiliaries, sp.S.Zero)
    for j in range(order + 1):
        trial = {a: series[a] + h**j * z for a, z in zip(auxiliaries, unknowns, strict=True)}
        reduced = {x: nxt[x].subs(trial, simultaneous=True) for x in roles.positions}
        shift = {x: sp.expand(reduced[x] - x) for x in roles.positions}
        composed = {a: _shifted_series(series[a], shift, h, j) for a in auxiliaries}
        equations = [
            _taylor(composed[a] + h**j * z - nxt[a].subs(trial, simultaneous=True), h, j)
            for a, z in zip(auxiliaries, unknowns, strict=True)
        ]
        solution = sp.solve(equations, unknowns, dict=True)
        if len(solution) != 1 or any(z not in solution[0] for z in unknowns):
            raise RuleError(
                f"{rule.name}: the buffers {auxiliaries} have no unique slow manifold at order "
                f"{j} (the equations {equations} do not fix them); at h = 0 the buffer map "
                "must contract, e.g. momentum β ≠ 1"
            )
        for a, z in zip(auxiliaries, unknowns, strict=True):
            series[a] = series[a] + h**j * sp.expand(solution[0][z])
    step = sp.Matrix([nxt[x].subs(series, simultaneous=True) - x for x in roles.positions])
    if any(not _is_zero(e) for e in step.subs(h, 0)):
        raise RuleError(
            f"{rule.name}: on the slow manifold the positions still move at {h} = 0, so the "
            "reduced map is not near the identity"
        )
    return list(roles.positions), step, series


def _tidy(expr, variables):
    """Group the terms of ``expr`` by their dependence on ``variables``; factor coefficients."""
    groups = {}
    for term in sp.Add.make_args(sp.expand(expr)):
        coeff, rest = term.as_independent(*variables, as_Add=False)
        groups[rest] = groups.get(rest, sp.S.Zero) + coeff
    return sp.Add(*[sp.factor(c) * r for r, c in groups.items()])


def _shifted_series(expr, shift, h, degree):
    """expr(x + shift) to order h**degree, for a shift that is O(h): a Taylor sum in the shift."""
    if expr == 0:
        return sp.S.Zero
    variables = list(shift)
    shifts = {x: _truncate(shift[x], h, degree) for x in variables}
    total = sp.S.Zero
    for size in range(degree + 1):
        for combo in itertools.combinations_with_replacement(variables, size):
            counts = {x: combo.count(x) for x in set(combo)}
            derivative = sp.diff(expr, *[(x, c) for x, c in counts.items()]) if combo else expr
            if derivative == 0:
                continue
            weight = sp.Mul(*[shifts[x] ** c / sp.factorial(c) for x, c in counts.items()])
            total += derivative * weight
    return _truncate(total, h, degree)


def _taylor(expr, h, j):
    """The coefficient of h**j in the Taylor series of ``expr`` at h = 0."""
    expanded = sp.expand(expr)
    if expanded.is_polynomial(h):
        return expanded.coeff(h, j)
    return sp.expand(sp.diff(expr, h, j).subs(h, 0).doit() / sp.factorial(j))


def _truncate(expr, h, degree):
    expr = sp.expand(expr)
    return sum((expr.coeff(h, m) * h**m for m in range(degree + 1)), sp.S.Zero)


def _potential(field, state):
    """A scalar Ψ with ∇Ψ = field, or None: an ansatz in function atoms, then integrals."""
    psi = _potential_by_ansatz(field, state)
    if psi is None:
        psi = _potential_by_integration(field, state)
    if psi is None:
        return None
    check = [sp.expand(sp.diff(psi, s) - f) for s, f in zip(state, field, strict=True)]
    return psi if all(_is_zero(c) for c in check) else None


def _potential_by_integration(field, state):
    psi = sp.S.Zero
    for s, f in zip(state, field, strict=True):
        rest = sp.expand(f - sp.diff(psi, s))
        part = sp.integrate(rest, s)
        if part.has(sp.Integral):
            return None
        psi += part
    return sp.expand(psi)


def _atoms(expr):
    return {
        a
        for a in sp.expand(expr).atoms(sp.Derivative, sp.core.function.AppliedUndef)
        if not isinstance(a, sp.Subs)
    }


def _lowered(atom):
    """The atom and every derivative one order lower (down to the function itself)."""
    out = {atom}
    if isinstance(atom, sp.Derivative):
        counts = dict(atom.variable_count)
        for var in counts:
            reduced = dict(counts)
            reduced[var] -= 1
            pairs = [(v, c) for v, c in reduced.items() if c > 0]
            out.add(sp.Derivative(atom.expr, *pairs) if pairs else atom.expr)
    return out


def _weight(atom):
    return atom.derivative_count if isinstance(atom, sp.Derivative) else 0


def _potential_by_ansatz(field, state):
    """Ψ as a combination of products of derivatives of undefined functions."""
    atoms = set()
    for f in field:
        atoms |= _atoms(f)
    if not atoms:
        return None
    factors = set()
    for a in atoms:
        factors |= _lowered(a)
    factors = sorted(factors, key=sp.default_sort_key)
    shapes = set()
    for f in field:
        for term in sp.Add.make_args(sp.expand(f)):
            powers = term.as_powers_dict()
            degree = sum(int(p) for a, p in powers.items() if a in atoms)
            weight = sum(int(p) * _weight(a) for a, p in powers.items() if a in atoms)
            shapes.add((degree, weight - 1))
    candidates = []
    for degree, weight in shapes:
        for combo in itertools.combinations_with_replacement(factors, degree):
            if sum(_weight(a) for a in combo) == weight:
                candidates.append(sp.Mul(*combo))
    if not candidates or len(candidates) > 400:
        return None
    unknowns = sp.symbols(f"c0:{len(candidates)}")
    psi = sum(c * m for c, m in zip(unknowns, candidates, strict=True))
    residual = [sp.expand(sp.diff(psi, s) - f) for s, f in zip(state, field, strict=True)]
    generators = sorted(
        set().union(*(_atoms(r) for r in residual)) | set(state), key=sp.default_sort_key
    )
    equations = []
    for r in residual:
        try:
            poly = sp.Poly(r, *generators)
        except sp.PolynomialError:
            return None
        equations.extend(poly.coeffs())
    solution = sp.solve(equations, unknowns, dict=True)
    if not solution:
        return None
    return sp.expand(psi.subs(solution[0]).subs({c: 0 for c in unknowns}))


def _modified_loss(terms, state, h):
    field_total = sp.zeros(len(state), 1)
    for i, f in enumerate(terms):
        field_total += h**i * f
    for j, f in enumerate(terms, start=1):
        jac = f.jacobian(state)
        if any(not _is_zero(jac[a, b] - jac[b, a]) for a in range(len(state)) for b in range(a)):
            return None, (
                f"the order-{j} term has a non-symmetric Jacobian, so the modified "
                "field is not a gradient and no modified loss exists"
            )
    loss = sp.S.Zero
    for i, f in enumerate(terms):
        psi = _potential(list(-f), state)
        if psi is None:
            return None, (
                f"the order-{i + 1} term is curl-free but no closed-form potential was found"
            )
        loss += h**i * psi
    return sp.expand(loss), "the modified field is a gradient: f̃ = −∇L̃"


def _modified_derivation(rule, h, increments, terms, loss, reason, manifold):
    d = Derivation(f"Modified equation of {rule.name}").then(
        f"The rule \u201c{rule.name}\u201d performs the assignments", TeX(rule.to_latex())
    )
    if manifold is not None:
        x = sp.Matrix([s for s in rule.state if s not in manifold])
        d = d.then(
            "At $h = 0$ the buffers still move, so the rule is first reduced to its slow "
            "manifold: writing each buffer as a series in $h$ and requiring that one step "
            "maps the manifold into itself gives, order by order,",
            tuple(sp.Eq(a, v) for a, v in manifold.items()),
        )
    else:
        x = sp.Matrix(rule.state)
    d = d.then(
        f"Expanded in $h = {sp.latex(h)}$, one step is $x \\mapsto x + \\sum_j h^j d_j(x)$ with",
        tuple(
            TeX(f"d_{{{j}}} = " + sp.latex(inc.applyfunc(lambda e: _tidy(e, list(x)))))
            for j, inc in enumerate(increments, start=1)
        ),
    )
    d = d.then(
        "The exact flow of $\\tilde f = \\sum_j h^{j-1} f_j$ for time $h$ is "
        "$x + \\sum_m \\frac{h^m}{m!} (\\tilde f\\cdot\\nabla)^{m-1}\\tilde f$. Matching it "
        "with the step order by order gives",
        tuple(TeX(f"f_{{{j}}} = " + sp.latex(f)) for j, f in enumerate(terms, start=1)),
    )
    field_total = sum((h**i * f for i, f in enumerate(terms)), sp.zeros(len(x), 1))
    d = d.then(
        "so the modified equation is",
        TeX("\\frac{d}{dt}" + sp.latex(x) + " = " + sp.latex(field_total)),
    )
    if loss is not None:
        d = d.then(
            "The field is a gradient, $\\tilde f = -\\nabla \\tilde L$, with modified loss",
            TeX("\\tilde L = " + sp.latex(loss)),
        )
    else:
        d = d.then("No modified loss: " + reason.replace("f̃", "$\\tilde f$") + ".")
    return d


# -- simulation of limits ------------------------------------------------------------------


def integrate(limit, init, t_span, values=None, rtol=1e-10, atol=1e-12):
    """Solve ``limit.ode`` numerically with scipy's ``solve_ivp`` (dense output).

    Parameters
    ----------
    limit : ContinuousLimit
    init : mapping
        Initial values: position symbols (or X(t)) and, for second-order
        limits, ``sp.Derivative(X(t), t)``; missing derivatives start at 0.
    t_span : (float, float)
    values : mapping
        Numbers for the remaining symbols.

    Returns
    -------
    scipy.integrate.OdeResult
        ``.y`` rows follow ``X, X', …`` for each position in turn.

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> lim = sd.continuous_limit(sd.optimizers.gd(x**2 / 2, [x], lr=eta), h=eta)
    >>> round(float(sd.integrate(lim, {x: 1.0}, (0, 1)).y[0, -1]), 6)
    0.367879
    """
    import numpy as np
    from scipy.integrate import solve_ivp

    phase, dummies, fields = _first_order_system(limit)
    values = {sp.sympify(k): v for k, v in dict(values or {}).items()}
    fields = [f.subs(values).doit() for f in fields]
    loose = set().union(*(f.free_symbols for f in fields)) - set(dummies) - {T}
    if loose:
        raise UndecidedError(f"integrate needs values for {sorted(map(str, loose))}")
    rates = sp.lambdify([T, dummies], fields, "numpy")
    start = []
    init = {limit.functions.get(sp.sympify(k), sp.sympify(k)): v for k, v in dict(init).items()}
    for variable in phase:
        start.append(float(init.get(variable, 0.0)))
    return solve_ivp(
        lambda time, y: np.asarray(rates(time, y), dtype=float),
        t_span,
        start,
        rtol=rtol,
        atol=atol,
        dense_output=True,
    )


@dataclass(frozen=True)
class Convergence:
    """Distance between iterates and the limit ODE at a fixed time, for several steps.

    Attributes
    ----------
    steps : tuple of float
        Values of h.
    time_steps : tuple of float
        The matching τ.
    errors : tuple of float
        max |x_k − X(kτ)| over the positions at the last iterate before ``t_end``.
    order : float
        Least-squares slope of log(error) against log(τ).
    predicted : int or None
        ``limit.error_order``.
    """

    steps: tuple
    time_steps: tuple
    errors: tuple
    order: float
    predicted: int | None


def convergence(limit, init, t_end, steps, values=None):
    """Measure how fast the rule's iterates approach the limit ODE as h shrinks.

    The rule starts from the positions in ``init`` with buffers and lagged copies
    set from X(0) and X'(0) to first order (X(−τ) ≈ X(0) − τX'(0)); after
    round(t_end/τ) steps its positions are compared with :func:`integrate`.
    Autonomous rules only.

    Returns
    -------
    Convergence

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> lim = sd.continuous_limit(sd.optimizers.gd(x**4 / 4, [x], lr=eta), h=eta)
    >>> result = sd.convergence(lim, {x: 1.0}, 1.0, [0.02, 0.01, 0.005])
    >>> round(result.order, 1), result.predicted
    (1.0, 1)
    """
    import numpy as np

    rule = limit.rule
    if rule.is_time_varying:
        raise RuleError(f"{rule.name}: convergence supports autonomous rules only")
    values = {sp.sympify(k): v for k, v in dict(values or {}).items()}
    roles = state_roles(rule)
    functions = {x: limit.functions[x] for x in roles.positions}
    init = {limit.functions.get(sp.sympify(k), sp.sympify(k)): v for k, v in dict(init).items()}
    next_state = [e.subs(limit.scaling).subs(values) for e in rule.next_state]
    step_map = sp.lambdify([list(rule.state), limit.h], next_state, "math")
    errors, taus = [], []
    for h in steps:
        tau = float(limit.time_step.subs(values).subs(limit.h, h))
        count = round(t_end / tau)
        start = {}
        for x, function in functions.items():
            position = float(init[function])
            rate = float(init.get(sp.Derivative(function, T), 0.0))
            start[x], start[("past", x)] = position, position - tau * rate
        state = []
        for s in rule.state:
            if s in roles.positions:
                state.append(start[s])
            elif s in roles.lags:
                state.append(start[("past", roles.lags[s][0])])
            else:
                x, ratio = roles.buffers[s]
                gain = float(ratio.subs(limit.scaling).subs(values).subs(limit.h, h))
                state.append((start[x] - start[("past", x)]) / gain)
        for _ in range(count):
            state = [float(v) for v in step_map(state, h)]
        solution = integrate(limit, init, (0.0, count * tau), values)
        phase, _, _ = _first_order_system(limit)
        exact = {p: solution.y[i, -1] for i, p in enumerate(phase)}
        errors.append(
            max(abs(state[rule.state.index(x)] - exact[f]) for x, f in functions.items())
        )
        taus.append(tau)
    slope = float(np.polyfit(np.log(taus), np.log(errors), 1)[0])
    return Convergence(tuple(steps), tuple(taus), tuple(errors), slope, limit.error_order)


# -- stochastic gradients ---------------------------------------------------------------


@dataclass(frozen=True)
class SdeLimit:
    """Leading-order stochastic modified equation dX = b(X) dt + √D dW (first order only).

    Attributes
    ----------
    rule : UpdateRule
    h : sympy.Symbol
    variables : tuple
        The state symbols X stands for (positions, for a momentum rule).
    noise : tuple of sympy.Symbol
        The noise symbols of the rule, each of mean zero.
    covariance : sympy.ImmutableMatrix
        Their covariance Σ per step.
    drift : sympy.ImmutableMatrix
        b(X): the first-order modified field with the noise set to zero.
    diffusion : sympy.ImmutableMatrix
        D = h·G Σ Gᵀ, the covariance of the noise per unit time, where G is the
        response of the drift to a constant noise value (its zero-frequency gain).
    derivation : Derivation
    """

    rule: UpdateRule
    h: sp.Symbol
    variables: tuple
    noise: tuple
    covariance: sp.ImmutableMatrix
    drift: sp.ImmutableMatrix
    diffusion: sp.ImmutableMatrix
    derivation: Derivation = field(repr=False)

    def stationary_covariance(self):
        """Stationary covariance P of the SDE for an affine drift: A P + P Aᵀ + D = 0.

        Raises
        ------
        UndecidedError
            If the drift is not affine in the state.
        """
        state = sp.Matrix(self.variables)
        matrix = self.drift.jacobian(state)
        if matrix.free_symbols & set(self.variables):
            raise UndecidedError(
                f"{self.rule.name}: the drift is not affine, so the stationary "
                "covariance of the SDE has no closed form here"
            )
        n = len(self.variables)
        entries = sp.symbols(f"P0:{n * n}")
        P = sp.Matrix(n, n, lambda i, j: entries[min(i, j) * n + max(i, j)])
        equations = list(matrix * P + P * matrix.T + self.diffusion)
        solution = sp.solve(equations, sorted(P.free_symbols, key=str), dict=True)
        if len(solution) != 1:
            raise UndecidedError(f"{self.rule.name}: the Lyapunov equation has no unique solution")
        return sp.ImmutableMatrix(P.subs(solution[0]).applyfunc(sp.factor))

    def simulate(self, init, t_end, dt, paths, values=None, seed=0):
        """Euler–Maruyama paths from ``init`` to time ``t_end``; returns the final states.

        Parameters
        ----------
        init : sequence of float
            Initial value of each variable.
        values : mapping
            Numbers for every other symbol (h included).

        Returns
        -------
        numpy.ndarray
            Shape ``(paths, n)``.
        """
        import numpy as np

        values = dict(values or {})
        drift = sp.lambdify([self.variables], self.drift.subs(values), "numpy")
        diffusion = np.array(self.diffusion.subs(values), dtype=float)
        root = np.linalg.cholesky(diffusion + 1e-300 * np.eye(len(self.variables)))
        rng = np.random.default_rng(seed)
        state = np.tile(np.asarray(init, dtype=float), (paths, 1))
        for _ in range(round(t_end / dt)):
            rate = np.asarray(drift(state.T), dtype=float).reshape(len(self.variables), -1).T
            kicks = rng.standard_normal(state.shape) @ root.T
            state = state + dt * rate + np.sqrt(dt) * kicks
        return state


def sde_limit(rule, h, noise):
    """Leading-order SDE of a rule with gradient noise (the stochastic modified equation).

    The noise is written into the rule as symbols (``x ← x − η(∇L(x) + ξ)``) of
    mean zero and covariance Σ. The drift is the first-order modified field with
    the noise set to zero; the diffusion is h·GΣGᵀ, with G the response of the
    first-order field to a constant noise value. For a momentum rule that is the
    gain through the slow manifold, so heavy ball gets G = −1/(1 − β).

    Parameters
    ----------
    rule : UpdateRule
    h : sympy.Symbol
    noise : mapping or tuple
        ``{xi: variance}`` for independent noises, or ``(symbols, covariance matrix)``.

    Returns
    -------
    SdeLimit

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x, xi = sp.symbols("x xi", real=True)
    >>> eta, lam, sigma = sp.symbols("eta lambda sigma", positive=True)
    >>> sgd = sd.UpdateRule([x], [(x, x - eta * (lam * x + xi))], [eta])
    >>> sde = sd.sde_limit(sgd, h=eta, noise={xi: sigma**2})
    >>> sde.drift[0], sde.diffusion[0], sde.stationary_covariance()[0]
    (-lambda*x, eta*sigma**2, eta*sigma**2/(2*lambda))

    References
    ----------
    Li, Tai & E, *Stochastic modified equations and adaptive stochastic gradient
    algorithms* (ICML 2017), Thm. 1 (first order).
    """
    if isinstance(noise, tuple):
        symbols, covariance = tuple(noise[0]), sp.ImmutableMatrix(noise[1])
    else:
        pairs = dict(noise)
        symbols = tuple(pairs)
        covariance = sp.ImmutableMatrix(sp.diag(*[sp.sympify(v) for v in pairs.values()]))
    if covariance.shape != (len(symbols), len(symbols)):
        raise ShapeError(
            f"{rule.name}: {len(symbols)} noise symbols need a "
            f"{len(symbols)}×{len(symbols)} covariance, got {covariance.shape}"
        )
    missing = [s for s in symbols if s not in rule.free_symbols]
    if missing:
        raise RuleError(f"{rule.name}: the noise symbols {missing} do not appear in the rule")
    first = modified_equation(rule, h, order=1)
    at_rest = dict.fromkeys(symbols, 0)
    field_ = first.terms[0]
    drift = sp.ImmutableMatrix(field_.subs(at_rest).applyfunc(sp.factor))
    gain = field_.jacobian(sp.Matrix(symbols)).subs(at_rest)
    if gain.free_symbols & set(first.variables):
        raise UndecidedError(
            f"{rule.name}: the noise enters multiplied by the state ({gain}); only additive "
            "gradient noise is supported"
        )
    diffusion = sp.ImmutableMatrix((h * gain * covariance * gain.T).applyfunc(sp.factor))
    state = sp.Matrix(first.variables)
    derivation = (
        Derivation(f"Stochastic modified equation of {rule.name}")
        .then(f"The rule \u201c{rule.name}\u201d performs the assignments", TeX(rule.to_latex()))
        .then(
            "with mean-zero noise of covariance",
            TeX(
                r"\operatorname{Cov}"
                + sp.latex(sp.Matrix(symbols).T)
                + " = "
                + sp.latex(covariance)
            ),
        )
        .then(
            "Its first-order modified field is $f(x) + G\\,\\xi$ with",
            (TeX("f = " + sp.latex(drift)), TeX("G = " + sp.latex(gain))),
        )
        .then(
            "One step adds $h\\,G\\,\\xi$, of covariance $h^2 G\\Sigma G^T$ per time $h$, so to "
            "first order in $h$ only (Li, Tai & E 2017) the iterates follow",
            TeX(
                "d"
                + sp.latex(state)
                + " = "
                + sp.latex(drift)
                + r"\,dt + \sqrt{"
                + sp.latex(diffusion)
                + r"}\,dW"
            ),
        )
    )
    return SdeLimit(rule, h, first.variables, symbols, covariance, drift, diffusion, derivation)
