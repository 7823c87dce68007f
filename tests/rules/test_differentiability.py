"""Non-differentiable updates: a kink or jump at the linearisation point is a
NonDifferentiableError naming the update; away from it the Jacobian is the
derivative, checked against central differences."""

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn as sd
from symdyn.errors import NonDifferentiableError
from symdyn.rules.differentiability import require_differentiable
from symdyn.rules.rulefile import parse_spec, rule_from_spec

x, y = sp.symbols("x y", real=True)
eta = sp.Symbol("eta", positive=True)
c = sp.Symbol("c", real=True)

SWITCHES = {
    "sign": sp.sign(x),
    "Abs": sp.Abs(x),
    "Heaviside": sp.Heaviside(x),
    "Max": sp.Max(x, 0),
    "Min": sp.Min(x, 0),
    "Piecewise": sp.Piecewise((x, x > 0), (2 * x, True)),
}


@pytest.mark.parametrize("name", sorted(SWITCHES))
def test_a_switch_at_the_linearisation_point_is_refused(name):
    """Today sign gives a region of DiracDelta(0), Abs a silent False, Max Heaviside(0)."""
    rule = sd.UpdateRule([x], [(x, x - eta * SWITCHES[name])], [eta], name="kinked")
    with pytest.raises(NonDifferentiableError, match=r"kinked: update 1 \(x ← .*") as info:
        sd.stability(rule)
    assert info.value.update_index == 1 and info.value.symbol == x
    assert str(SWITCHES[name]) in str(info.value)


def test_the_update_that_holds_the_switch_is_named():
    """In a sequential rule the third update reads x as the second one left it:
    x⁺ = x − η(x − 1), which is 0 at x = 2, η = 2."""
    g = sp.Symbol("g", real=True)
    rule = sd.UpdateRule([x, y], [(g, x - 1), (x, x - eta * g), (y, y - eta * sp.Abs(x))], [eta])
    expected = sp.Matrix([[1 - eta, 0], [-eta * (1 - eta), 1]])
    assert sp.simplify(rule.jacobian(at={x: 0, y: 0}) - expected) == sp.zeros(2, 2)
    with pytest.raises(NonDifferentiableError, match=r"update 3 \(y ← ") as info:
        rule.jacobian(at={x: 2, y: 0, eta: 2})
    assert info.value.update_index == 3 and info.value.symbol == y


def test_a_kink_in_a_temporary_is_named_where_it_is_written():
    g = sp.Symbol("g", real=True)
    rule = sd.UpdateRule([x], [(g, sp.Abs(x)), (x, x - eta * g)], [eta])
    with pytest.raises(NonDifferentiableError, match=r"update 1 \(g ← Abs\(x\)\)"):
        sd.stability(rule)


def test_a_switch_the_assumptions_cannot_place_is_refused():
    """|x - c| at x = 0 has a kink when c = 0, which a merely real c does not exclude."""
    rule = sd.UpdateRule([x], [(x, x - eta * sp.Abs(x - c))], [eta])
    with pytest.raises(NonDifferentiableError, match="assumptions"):
        sd.stability(rule, at={x: 0})
    positive_c = sp.Symbol("c", positive=True)
    region = sd.stability(rule.subs({c: positive_c}), at={x: 0}).region
    assert region is sp.false  # J = 1 + eta: x moves away from c


def test_smooth_cases_stay_smooth():
    """|f| with f = ∇f = 0, Max with a strict winner, ties of equal gradient, and
    switches of the parameters alone are all differentiable."""
    g = sp.Symbol("g", real=True)
    # x·|x| through a temporary: the map does not feel the kink to first order.
    felt_not = sd.UpdateRule([x], [(g, sp.Abs(x)), (x, x - eta * x * g)], [eta])
    assert felt_not.jacobian(at={x: 0}) == sp.Matrix([[1]])
    cases = [
        (x - eta * sp.Abs(x**3), {x: 0}),
        (x - eta * sp.Abs(x) * sp.Abs(y), {x: 0, y: 0}),
        (x - eta * sp.Max(x, x + 1), {x: 0}),
        (x - eta * sp.Max(x**2, 0), {x: 0}),
        (x - sp.Abs(c) * eta * x, {x: 0}),
        (x - eta * sp.sign(x) * x**2, {x: 1}),
    ]
    for value, point in cases:
        require_differentiable(sd.UpdateRule([x], [(x, value)], [eta], free=[y, c]), point)


def test_a_jump_times_a_kink_is_refused():
    """sign(x)·|x| = x, yet sympy's formula gives 2|x|δ(x) + sign(x)² = 0 at 0: jumps
    on their switching set are refused even where the product happens to be smooth."""
    with pytest.raises(NonDifferentiableError, match="sign"):
        sd.stability(sd.UpdateRule([x], [(x, x - eta * sp.sign(x) * sp.Abs(x))], [eta]))


@given(st.floats(-3, 3).filter(lambda v: abs(v) > 1e-3), st.floats(0.01, 3))
def test_away_from_the_kink_the_jacobian_is_the_derivative(x0, eta0):
    """Abs, sign, Heaviside and Max linearised where their argument is nonzero: the
    exact Jacobian matches central differences of the map."""
    value = x - eta * (sp.Abs(x) * x + sp.Max(x, -x / 2) + sp.sign(x) + sp.Heaviside(x))
    rule = sd.UpdateRule([x], [(x, value)], [eta])
    point = {x: sp.Rational(repr(x0))}
    jacobian = rule.jacobian(at={**point, eta: sp.Rational(repr(eta0))})
    f = sp.lambdify([x], value.subs(eta, sp.Rational(repr(eta0))), "numpy")
    step = 1e-6
    numeric = (f(x0 + step) - f(x0 - step)) / (2 * step)
    assert float(jacobian[0, 0]) == pytest.approx(numeric, rel=1e-5, abs=1e-6)
    assert not jacobian.has(sp.DiracDelta, sp.Heaviside, sp.sign)


def test_a_rule_file_with_x_over_abs_x_is_refused():
    """lambda*x/Abs(x) in a rule file: the error is about the kink, not assumptions."""
    spec = parse_spec(
        """
name = "normalised step"
state = ["x"]
[params]
eta = { positive = true }
[free]
lambda = { positive = true }
[[update]]
target = "x"
expr = "x - eta*lambda*x/Abs(x)"
"""
    )
    rule = rule_from_spec(spec)
    with pytest.raises(NonDifferentiableError, match=r"normalised step: update 1 .*Abs\(x\)"):
        sd.stability(rule)


def test_a_jacobian_with_poles_is_a_rule_error():
    for entry in (sp.nan, sp.zoo, sp.oo, -sp.oo):
        with pytest.raises(sd.RuleError, match="not finite"):
            sd.stability(sp.Matrix([[entry, 0], [0, sp.Rational(1, 2)]]))
    with pytest.raises(sd.RuleError, match="row 1, column 1"):
        sd.stability(sd.UpdateRule([x], [(x, x - eta / x)], [eta]))
