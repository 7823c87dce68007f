"""Tests of symdyn.limits.modified: modified fields and losses against published formulas and
against ODE solves of one step, on and off the slow manifold."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

import symdyn as sd

x, y = sp.symbols("x y", real=True)
eta, beta, gamma, lam = sp.symbols("eta beta gamma lambda", positive=True)
k = sp.Symbol("k", integer=True, positive=True)
L = sp.Function("L")


def _same(a, b):
    return sp.simplify(sp.expand(a - b)) == 0


def _slope(steps, errors):
    return np.polyfit(np.log(steps), np.log(errors), 1)[0]


def test_gd_modified_loss_is_loss_plus_quarter_step_gradient_norm():
    """GD's first-order modified loss L + (h/4)|∇L|² (Barrett & Dherin 2021, Thm. 3.1)."""
    for variables, loss in (([x], L(x)), ([x, y], L(x, y))):
        me = sd.modified_equation(sd.optimizers.gd(loss, variables, lr=eta), h=eta, order=2)
        norm = sum(sp.diff(loss, v) ** 2 for v in variables)
        assert _same(me.modified_loss, loss + eta / 4 * norm)
        gradient = sp.Matrix([sp.diff(me.modified_loss, v) for v in variables])
        assert all(_same(a, -b) for a, b in zip(me.vector_field, gradient, strict=True))


def test_gd_second_order_modified_field_in_one_dimension():
    """f = −L' − (h/2)L''L' − h²(L''²L'/3 + L'''L'²/12) (Hairer, Lubich & Wanner, §IX.1)."""
    me = sd.modified_equation(sd.optimizers.gd(L(x), [x], lr=eta), h=eta, order=3)
    d1, d2, d3 = (sp.diff(L(x), x, n) for n in (1, 2, 3))
    expected = -d1 - eta / 2 * d2 * d1 - eta**2 * (d2**2 * d1 / 3 + d3 * d1**2 / 12)
    assert _same(me.vector_field[0], expected)


def _local_errors(field_expr, step_fn, steps, x0):
    field = sp.lambdify([x, eta], field_expr, "math")
    errors = []
    for h in steps:
        exact = solve_ivp(
            lambda _t, s, h=h: [field(s[0], h)], (0, h), [x0], rtol=1e-12, atol=1e-15
        ).y[0, -1]
        errors.append(abs(step_fn(x0, h) - exact))
    return errors


@pytest.mark.parametrize("order", [1, 2, 3])
def test_modified_field_matches_one_gd_step_at_the_predicted_order(order):
    """One GD step on x⁴/4 vs the time-h flow of the modified field: error O(h^(order+1))."""
    me = sd.modified_equation(sd.optimizers.gd(x**4 / 4, [x], lr=eta), h=eta, order=order)
    steps = [0.08, 0.04, 0.02, 0.01]
    errors = _local_errors(me.vector_field[0], lambda v, h: v - h * v**3, steps, 1.0)
    assert abs(_slope(steps, errors) - (order + 1)) < 0.3


def test_no_modified_loss_for_a_rotational_game():
    rule = sd.UpdateRule([x, y], [(x, x - eta * y), (y, y + eta * x)], [eta], simultaneous=True)
    me = sd.modified_equation(rule, h=eta, order=2)
    assert me.modified_loss is None
    assert "not a gradient" in me.loss_reason
    assert list(me.vector_field) == [-y + eta * x / 2, x + eta * y / 2]


def test_heavy_ball_modified_loss_on_the_slow_manifold():
    """On its slow manifold, heavy ball follows −∇L̃/(1 − β) with
    L̃ = L + h(1 + β)/(4(1 − β)²)|∇L|² (Kovachki & Stuart 2021; Ghosh et al. 2023):
    (1 + β)/(1 − β) times GD's regulariser at the effective step h/(1 − β)."""
    for variables, loss in (([x], L(x)), ([x, y], L(x, y))):
        rule = sd.optimizers.heavy_ball(loss, variables, lr=eta, momentum=beta)
        me = sd.modified_equation(rule, h=eta, order=2)
        assert me.variables == tuple(variables)
        norm = sum(sp.diff(loss, v) ** 2 for v in variables)
        expected = (loss + eta * (1 + beta) / (4 * (1 - beta) ** 2) * norm) / (1 - beta)
        assert _same(me.modified_loss, expected)
    velocity = sp.Symbol("v_x", real=True)
    leading = sp.expand(me.slow_manifold[velocity]).coeff(eta, 1)
    assert _same(leading, -sp.diff(L(x, y), x) / (1 - beta))


@pytest.mark.parametrize("order", [1, 2])
def test_heavy_ball_reduced_flow_matches_one_step_at_the_predicted_order(order):
    """Start on the slow manifold, take one heavy-ball step (β = 1/2, loss x⁴/4) and compare
    with the time-h flow of the modified field: error O(h^(order+1))."""
    momentum = sp.Rational(1, 2)
    rule = sd.optimizers.heavy_ball(x**4 / 4, [x], lr=eta, momentum=momentum)
    me = sd.modified_equation(rule, h=eta, order=order)
    velocity = sp.lambdify([x, eta], me.slow_manifold[rule.state[1]], "math")

    def step(v0, h):
        return v0 + 0.5 * velocity(v0, h) - h * v0**3

    steps = [0.04, 0.02, 0.01, 0.005]
    errors = _local_errors(me.vector_field[0], step, steps, 1.0)
    assert abs(_slope(steps, errors) - (order + 1)) < 0.3


def test_modified_equation_refuses_rules_without_a_near_identity_reduction():
    rule = sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=1)
    with pytest.raises(sd.RuleError, match="no unique slow manifold"):
        sd.modified_equation(rule, h=eta)
    doubling = sd.UpdateRule([x], [(x, 2 * x - eta * x**3)], [eta])
    with pytest.raises(sd.RuleError, match="not the identity"):
        sd.modified_equation(doubling, h=eta)
    varying = sd.UpdateRule([x], [(x, x - eta / k * x)], [eta], counter=k)
    with pytest.raises(sd.RuleError, match="counter"):
        sd.modified_equation(varying, h=eta)


@pytest.mark.latex
def test_derivations_compile(tmp_path, pdflatex):
    hb = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
    game = sd.UpdateRule([x, y], [(x, x - eta * y), (y, y + eta * x)], [eta], simultaneous=True)
    derivations = [
        sd.modified_equation(sd.optimizers.gd(L(x, y), [x, y], lr=eta), h=eta).derivation,
        sd.modified_equation(hb, h=eta).derivation,
        sd.modified_equation(game, h=eta).derivation,
    ]
    for number, derivation in enumerate(derivations):
        pdf = derivation.save(tmp_path / f"d{number}.pdf")
        assert pdf.stat().st_size > 0


# -- the recursion on Taylor coefficients, against the composite flow it replaced ----------


def _composite_terms(rule, h, order):
    """f_1 … f_order of a near-identity rule by the route modified_equation took before:
    expand the exact flow of the truncated field Σ_(i<j) h^i f_(i+1) in h, order by order."""
    state = sp.Matrix(rule.state)
    step = sp.Matrix(rule.next_state) - state
    increments = [step.applyfunc(lambda e, j=j: sp.expand(e).coeff(h, j)) for j in range(1, 4)]
    terms = []
    for j in range(1, order + 1):
        field = sum((h**i * f for i, f in enumerate(terms)), sp.zeros(len(state), 1))
        flow, power = sp.zeros(len(state), 1), field
        for m in range(1, j + 1):
            if m > 1:
                power = (power.jacobian(state) * field).applyfunc(sp.expand)
            flow += h**m / sp.factorial(m) * power
        known = flow.applyfunc(lambda e, j=j: sp.expand(e).coeff(h, j))
        terms.append(increments[j - 1] - known)
    return terms


z = sp.Symbol("z", real=True)
CUBIC_3D = x**3 / 3 + x * y * z + y * z**2 / 2


@pytest.mark.parametrize(
    "rule",
    [
        sd.optimizers.gd(CUBIC_3D, [x, y, z], lr=eta),
        sd.optimizers.gd(L(x), [x], lr=eta),
        sd.UpdateRule([x, y], [(x, x - eta * y**3), (y, y + eta * x)], [eta], simultaneous=True),
    ],
    ids=["gd 3-D", "gd generic 1-D", "cubic game"],
)
def test_order_three_terms_equal_the_composite_flow_expansion(rule):
    me = sd.modified_equation(rule, h=eta, order=3)
    for ours, theirs in zip(me.terms, _composite_terms(rule, eta, 3), strict=True):
        assert all(sp.expand(a - b) == 0 for a, b in zip(ours, theirs, strict=True))


def test_order_three_field_in_three_dimensions_matches_one_step_to_fourth_order():
    """The time-h flow of the order-3 field on a 3-D cubic against one GD step: the
    local error falls as h⁴ (and the order-2 field's as h³, so the third term counts)."""
    rule = sd.optimizers.gd(CUBIC_3D, [x, y, z], lr=eta)
    start = np.array([0.6, -0.4, 0.5])
    gradient = sp.lambdify([x, y, z], [sp.diff(CUBIC_3D, v) for v in (x, y, z)], "numpy")
    steps = [0.04, 0.02, 0.01, 0.005]
    for order in (2, 3):
        me = sd.modified_equation(rule, h=eta, order=order)
        field = sp.lambdify([x, y, z, eta], list(me.vector_field), "numpy")
        errors = []
        for h in steps:
            flow = solve_ivp(
                lambda _t, s, h=h, field=field: field(*s, h), (0, h), start, rtol=1e-13, atol=1e-16
            ).y[:, -1]
            errors.append(np.linalg.norm(start - h * np.array(gradient(*start)) - flow))
        assert abs(_slope(steps, errors) - (order + 1)) < 0.3


# -- the sparse-ring route for polynomial rules, against the expression route ----------------

MONOMIALS = [x, y, x**2, x * y, y**2, x**3, x**2 * y, x * y**3, y**4, x**2 * y**2]


@settings(max_examples=4, deadline=None)
@given(
    coefficients=st.lists(st.integers(-3, 3), min_size=len(MONOMIALS), max_size=len(MONOMIALS)),
    momentum=st.booleans(),
)
def test_the_polynomial_ring_route_equals_the_expression_route(coefficients, momentum):
    """A random polynomial loss in 2-D, GD or heavy ball with β symbolic, order 3: the
    slow manifold, the step's Taylor coefficients and the field's terms from
    symdyn.limits._ring_series are those of the expression route, exactly."""
    from symdyn.limits._ring_series import polynomial_modified
    from symdyn.limits.modified import _expression_route

    loss = sum((c * m for c, m in zip(coefficients, MONOMIALS, strict=True)), sp.S.Zero)
    loss = loss + x**2 + y**2  # never constant
    if momentum:
        rule = sd.optimizers.heavy_ball(loss, [x, y], lr=eta, momentum=beta)
    else:
        rule = sd.optimizers.gd(loss, [x, y], lr=eta)
    ring = polynomial_modified(rule, eta, 3)
    assert ring is not None
    expression = _expression_route(rule, eta, 3)
    assert ring[0] == expression[0]
    for ours, theirs in zip([*ring[1], *ring[2]], [*expression[1], *expression[2]], strict=True):
        assert all(sp.cancel(a - b) == 0 for a, b in zip(ours, theirs, strict=True))
    if momentum:
        assert all(sp.cancel(ring[3][a] - expression[3][a]) == 0 for a in expression[3])
    else:
        assert ring[3] is None and expression[3] is None


def test_rules_that_are_not_polynomial_take_the_expression_route():
    from symdyn.limits._ring_series import polynomial_modified

    assert polynomial_modified(sd.optimizers.gd(sp.cos(x), [x], lr=eta), eta, 2) is None
    assert polynomial_modified(sd.optimizers.gd(L(x), [x], lr=eta), eta, 2) is None
    assert polynomial_modified(sd.optimizers.gd(x**4, [x], lr=1 / (1 + eta)), eta, 2) is None
