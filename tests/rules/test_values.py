"""The one exact-number policy (symdyn.rules.values) and the entry points that use it."""

import decimal
import fractions

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn as sd
from symdyn.rules.values import checked_array, exact_number, exact_values, resolve_symbol

x = sp.Symbol("x", real=True)
eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
k = sp.Symbol("k", integer=True, nonnegative=True)
HB = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
GD = sd.optimizers.gd(lam * x**2 / 2, [x], lr=eta)


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_float_becomes_the_decimal_it_prints_as(value):
    exact = exact_number(value)
    assert exact == sp.Rational(fractions.Fraction(repr(value)))
    assert float(exact) == value  # the decimal reads back as the same float


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.1, sp.Rational(1, 10)),
        (1e-3, sp.Rational(1, 1000)),
        (np.float32(0.5), sp.Rational(1, 2)),
        (np.int64(7), sp.Integer(7)),
        (fractions.Fraction(2, 3), sp.Rational(2, 3)),
        (decimal.Decimal("0.125"), sp.Rational(1, 8)),
        (sp.Float(0.1), sp.Rational(1, 10)),
        (sp.sqrt(2), sp.sqrt(2)),
    ],
)
def test_exact_numbers(value, expected):
    assert exact_number(value) == expected


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (float("nan"), "not a finite number"),
        (float("inf"), "not a finite number"),
        (-float("inf"), "not a finite number"),
        (sp.nan, "not a finite number"),
        (sp.zoo, "not a finite number"),
        (sp.oo, "not a finite number"),
        (1j, "complex"),
        (sp.I, "complex"),
        ("0.1", "text"),
        (None, "not a number"),
        (True, "not a number"),
        ([1], "not a number"),
        (decimal.Decimal("1e999999999"), "digits"),
        (-5, "breaks its declared assumption"),
        (0, "breaks its declared assumption"),
    ],
)
def test_refused_values_name_the_symbol(value, why):
    with pytest.raises(sd.ArgumentError, match=f"eta = .*{why}") as info:
        exact_number(value, eta)
    assert info.value.symbol == eta


def test_an_integer_symbol_takes_integers_only():
    assert exact_number(3, k) == 3
    with pytest.raises(sd.ArgumentError, match="k is an integer"):
        exact_number(0.5, k)


def test_closure_admits_a_signs_boundary_only():
    assert exact_number(0, beta, closure=True) == 0
    with pytest.raises(sd.ArgumentError, match="nonnegative"):
        exact_number(-0.5, beta, closure=True)


def test_string_keys_resolve_by_exact_name_only():
    assert exact_values({"eta": 0.5}, [eta]) == {eta: sp.Rational(1, 2)}
    for key in ("eta ", "ETA", "e" + "ta*1", "lambda"):
        with pytest.raises(sd.ArgumentError, match="no symbol is called"):
            resolve_symbol(key, [eta])


def test_a_symbol_with_other_assumptions_is_not_the_rules_own():
    other = sp.Symbol("eta", real=True)
    with pytest.raises(sd.ArgumentError, match="different assumptions"):
        resolve_symbol(other, [eta])


@given(st.floats(-10, 10), st.floats(0.01, 1.5), st.floats(0.01, 5))
def test_is_stable_refuses_what_the_region_was_not_derived_for(eta0, beta0, lam0):
    """A value outside eta > 0 is refused; inside, the answer matches the spectral radius."""
    values = {eta: eta0, beta: beta0, lam: lam0}
    if eta0 <= 0:
        with pytest.raises(sd.ArgumentError, match="eta"):
            sd.stability(HB).is_stable(values)
        return
    jac = np.array(HB.jacobian().subs(values), dtype=float)
    radius = max(abs(np.linalg.eigvals(jac)))
    if abs(radius - 1) > 1e-9:
        assert sd.stability(HB).is_stable(values) == (radius < 1)


def test_gd_at_a_negative_step_is_not_reported_stable():
    with pytest.raises(sd.ArgumentError, match="eta = -5 breaks"):
        sd.stability(GD).is_stable({eta: -5, lam: 1})


def test_is_stable_at_nan_is_refused_not_stable():
    with pytest.raises(sd.ArgumentError, match="not a finite number"):
        sd.stability(HB).is_stable({eta: float("nan"), beta: 0.5, lam: 1})


@pytest.mark.parametrize("bad", [sp.nan, 1j, "0.1", None, True, [0.1]])
def test_is_stable_refuses_each_kind_of_bad_value(bad):
    with pytest.raises(sd.ArgumentError, match="eta"):
        sd.stability(HB).is_stable({eta: bad, beta: 0.5, lam: 1})


def test_is_stable_needs_a_mapping():
    with pytest.raises(sd.ArgumentError, match="mapping"):
        sd.stability(HB).is_stable(5)


def test_subs_refuses_a_complex_step_and_keeps_the_boundary():
    with pytest.raises(sd.ArgumentError, match="complex"):
        HB.subs({eta: 1j})
    assert HB.subs({beta: 0}).params == (eta,)  # heavy ball without momentum
    with pytest.raises(sd.ArgumentError, match="breaks"):
        GD.subs({eta: -5})


def test_floats_in_a_rule_are_exact():
    rule = sd.UpdateRule([x], [(x, x - 0.1 * eta * x)], [eta])
    assert rule.map[0] == x - eta * x / 10


def test_grids_and_simulations_refuse_values_outside_the_assumptions():
    with pytest.raises(sd.ArgumentError, match="holds 0"):
        sd.stability_map(GD, {eta: np.linspace(0, 1, 5)}, fixed={lam: 1.0})
    with pytest.raises(sd.ArgumentError, match="not finite"):
        sd.simulate(GD, {x: 1.0}, {eta: [0.1, np.nan], lam: 1.0}, steps=3)
    with pytest.raises(sd.ArgumentError, match="complex"):
        checked_array(np.array([1j]), eta)


def test_the_analytic_map_agrees_with_the_rule_where_it_is_defined():
    grid = np.linspace(0, 3, 31)[1:]
    smap = sd.stability_map(GD, {eta: grid}, fixed={lam: 1.0})
    assert np.array_equal(smap.stable, grid < 2)
