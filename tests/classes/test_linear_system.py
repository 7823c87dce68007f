"""The linear system of a rule in feedback with ∇f, against the rule's own map."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn as sd
from symdyn.classes.linear_system import linear_system

x, v, y, g = sp.symbols("x v y g", real=True)
eta, beta = sp.symbols("eta beta", positive=True)
f = sp.Function("f")
values = st.fractions(0, 2, max_denominator=50)


@given(values, values, st.lists(st.floats(-3, 3), min_size=2, max_size=2))
def test_the_matrices_reproduce_the_map(step, momentum, point):
    """On f(y) = y⁴/4 + y²/2 (any f will do), Aξ + B∇f(Cξ) is the next state of the same
    catalogue rule built on that f."""
    params = {eta: sp.Rational(step), beta: sp.Rational(momentum)}
    system = linear_system(sd.optimizers.nesterov(f(x), [x], lr=eta, momentum=beta), params)
    concrete = sd.optimizers.nesterov(x**4 / 4 + x**2 / 2, [x], lr=eta, momentum=beta)
    step_map = sp.lambdify([*concrete.state, eta, beta], list(concrete.next_state))
    expected = step_map(*point, float(step), float(momentum))
    xi = np.array(point)
    A, B, C = (np.array(m.tolist(), dtype=float) for m in (system.A, system.B, system.C))
    u = (C @ xi) ** 3 + C @ xi
    assert np.allclose(A @ xi + B @ u, np.array(expected, dtype=float))
    assert system.A * system.fixed_direction == system.fixed_direction
    assert system.C * system.fixed_direction == sp.ones(system.C.rows, 1)


def test_every_gradient_call_is_found_once():
    rule = sd.UpdateRule(
        [x, v],
        [(g, sd.grad(f(x), x)), (v, v / 2 - g / 10), (x, x + v - sd.grad(f(x), x) / 10)],
        name="twice",
    )
    system = linear_system(rule)
    assert system.points == (x,) and system.B.shape == (2, 1)


@pytest.mark.parametrize(
    "updates, match",
    [
        ([(x, x - eta * sd.grad(f(x) ** 2, x))], "outside a gradient"),
        ([(x, x - eta * sd.grad(sd.grad(f(x), x), x))], "not a gradient"),
        ([(x, x - eta * sd.grad(f(x), x) * x)], "not linear"),
        ([(x, x + 1 - eta * sd.grad(f(x), x))], "not linear"),
        ([(x, x**2)], "no gradient"),
        ([(x, 2 * x - eta * sd.grad(f(x), x))], "fixed point"),
    ],
)
def test_rules_that_are_not_linear_systems_are_refused(updates, match):
    rule = sd.UpdateRule([x], updates, params=[eta])
    with pytest.raises(sd.GradientOracleError, match=match):
        linear_system(rule, {eta: sp.Rational(1, 10)})


def test_parameters_need_rational_values():
    rule = sd.optimizers.gd(f(x), [x], lr=eta)
    with pytest.raises(sd.GradientOracleError, match="eta"):
        linear_system(rule)
    with pytest.raises(sd.GradientOracleError, match="irrational"):
        linear_system(rule, {eta: sp.sqrt(2) / 10})


def test_two_functions_are_refused():
    h = sp.Function("h")
    rule = sd.UpdateRule([x], [(x, x - sd.grad(f(x), x) - sd.grad(h(x), x))])
    with pytest.raises(sd.GradientOracleError, match="several functions"):
        linear_system(rule)
