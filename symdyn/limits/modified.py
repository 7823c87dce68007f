"""Modified equations: backward error analysis of a rule at finite step size.

The modified vector field is the one whose exact time-h flow agrees with one
step of the rule to O(h^(order+1)); when it is a gradient, −∇L̃, L̃ is the
modified loss. A momentum rule is first reduced to its slow manifold.

References
----------
Hairer, Lubich & Wanner, *Geometric Numerical Integration* (2006), ch. IX;
Barrett & Dherin, *Implicit gradient regularization* (ICLR 2021); Kovachki &
Stuart (2021) for the slow manifold of momentum methods.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from symdyn.budget import bounded, phase
from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import RuleError
from symdyn.escaping import plain, safe_latex
from symdyn.frozen import freeze_fields
from symdyn.limits._chain import jacobian
from symdyn.limits._potential import _potential
from symdyn.limits._ring_series import polynomial_modified
from symdyn.limits._taylor import _is_zero, _shifted_series, _taylor
from symdyn.rules.factoring import factor
from symdyn.rules.printing import opening
from symdyn.rules.rule import UpdateRule
from symdyn.rules.state_roles import state_roles
from symdyn.rules.values import resolve_symbol

__all__ = ["ModifiedEquation", "modified_equation"]


@dataclass(frozen=True)
class ModifiedEquation(Presented):
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

    def __post_init__(self):
        freeze_fields(self, "slow_manifold")


def _field_terms(increments, state, variables, h):
    """f₁, …, f_order from the step's Taylor coefficients d_j, by recursion on coefficients.

    With f̃ = Σ_r h^r F_r (F_r = f_(r+1)), write P_m = (f̃·∇)^(m−1) f̃ = Σ_r h^r P_m[r].
    Then P_1[r] = F_r and P_m[r] = Σ_(a+b=r) P_(m−1)[a]′ F_b, and matching the flow
    x + Σ_m h^m/m! P_m with the step at h^j gives f_j = d_j − Σ_(m=2..j) P_m[j−m]/m!.
    Each P_m[r] needs only F_0 … F_r, so it is computed once and kept; nothing is
    expanded in h.
    """
    terms, lie = [], {}

    def lie_coefficient(m, r):
        if m == 1:
            return terms[r]
        if (m, r) not in lie:
            total = sp.zeros(len(state), 1)
            for a in range(r + 1):
                total += jacobian(lie_coefficient(m - 1, a), variables) * terms[r - a]
            lie[m, r] = total.applyfunc(sp.expand)
        return lie[m, r]

    for j, increment in enumerate(increments, start=1):
        phase(f"the correction of order {j - 1} in {h}")
        known = sp.zeros(len(state), 1)
        for m in range(2, j + 1):
            known += lie_coefficient(m, j - m) / sp.factorial(m)
        terms.append(
            sp.ImmutableMatrix((increment - known).applyfunc(lambda e: _tidy(e, variables)))
        )
    return terms


@bounded("modified_equation")
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
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

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
    h = resolve_symbol(h, rule.symbols, where=f"{rule.name}: modified_equation(h=...)")
    polynomial = polynomial_modified(rule, h, order)
    if polynomial is not None:
        variables, increments, terms, manifold = polynomial
        terms = [sp.ImmutableMatrix(f.applyfunc(lambda e: _tidy(e, variables))) for f in terms]
    else:
        variables, increments, terms, manifold = _expression_route(rule, h, order)
    state = sp.Matrix(variables)
    vector_field = sp.ImmutableMatrix(
        sum((h**i * f for i, f in enumerate(terms)), sp.zeros(len(state), 1))
    )
    phase("the modified loss")
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


def _expression_route(rule, h, order):
    """(variables, increments, terms, manifold) for any differentiable rule, on sympy
    expressions (:mod:`symdyn.limits._ring_series` is the fast route for polynomial ones)."""
    step = sp.Matrix(rule.next_state) - sp.Matrix(rule.state)
    manifold = None
    if all(_is_zero(e) for e in step.subs(h, 0)):
        variables = list(rule.state)
    else:
        phase("eliminating the fast variables (slow manifold)")
        variables, step, manifold = _slow_manifold(rule, h, order)
    phase("Taylor coefficients of the step")
    increments = [
        sp.ImmutableMatrix(step.applyfunc(lambda e, j=j: _taylor(e, h, j)))
        for j in range(1, order + 1)
    ]
    terms = _field_terms(increments, sp.Matrix(variables), variables, h)
    return variables, increments, terms, manifold


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
        solution = _solve_order(equations, unknowns)
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


def _solve_order(equations, unknowns):
    """The solutions of one order's equations: by one exact linear solve when they are
    linear in the unknowns (they are for a buffer map linear in the buffers), else sympy's."""
    try:
        matrix, rhs = sp.linear_eq_to_matrix([sp.expand(e) for e in equations], unknowns)
    except (sp.polys.polyerrors.PolynomialError, ValueError, NotImplementedError):
        return sp.solve(equations, unknowns, dict=True)
    if matrix.det() == 0:
        return sp.solve(equations, unknowns, dict=True)
    return [dict(zip(unknowns, matrix.LUsolve(rhs).applyfunc(sp.cancel), strict=True))]


def _tidy(expr, variables):
    """Group the terms of ``expr`` by their dependence on ``variables``; factor coefficients."""
    groups = {}
    for term in sp.Add.make_args(sp.expand(expr)):
        coeff, rest = term.as_independent(*variables, as_Add=False)
        groups[rest] = groups.get(rest, sp.S.Zero) + coeff
    return sp.Add(*[factor(c) * r for r, c in groups.items()])


def _modified_loss(terms, state, h):
    field_total = sp.zeros(len(state), 1)
    for i, f in enumerate(terms):
        field_total += h**i * f
    for j, f in enumerate(terms, start=1):
        jac = jacobian(f, state)
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
    d = opening(rule, f"Modified equation of {plain(rule.name)}")
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
        f"Expanded in $h = {safe_latex(h)}$, one step is $x \\mapsto x + \\sum_j h^j d_j(x)$ with",
        tuple(
            TeX(f"d_{{{j}}} = " + safe_latex(inc.applyfunc(lambda e: _tidy(e, list(x)))))
            for j, inc in enumerate(increments, start=1)
        ),
    )
    d = d.then(
        "The exact flow of $\\tilde f = \\sum_j h^{j-1} f_j$ for time $h$ is "
        "$x + \\sum_m \\frac{h^m}{m!} (\\tilde f\\cdot\\nabla)^{m-1}\\tilde f$. Matching it "
        "with the step order by order gives",
        tuple(TeX(f"f_{{{j}}} = " + safe_latex(f)) for j, f in enumerate(terms, start=1)),
    )
    field_total = sum((h**i * f for i, f in enumerate(terms)), sp.zeros(len(x), 1))
    d = d.then(
        "so the modified equation is",
        TeX("\\frac{d}{dt}" + safe_latex(x) + " = " + safe_latex(field_total)),
    )
    if loss is not None:
        d = d.then(
            "The field is a gradient, $\\tilde f = -\\nabla \\tilde L$, with modified loss",
            TeX("\\tilde L = " + safe_latex(loss)),
        )
    else:
        d = d.then("No modified loss: " + reason.replace("f̃", "$\\tilde f$") + ".")
    return d
