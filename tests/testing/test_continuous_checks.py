"""Checks of continuous-time claims: true limits and forms pass, wrong ones are caught."""

import dataclasses

import pytest
import sympy as sp

import symdyn as sd
from symdyn import testing

x = sp.Symbol("x", real=True)
eta, beta, gamma = sp.symbols("eta beta gamma", positive=True)
LOSS = x**4 / 4 + x**2
GD_LIMIT = sd.continuous_limit(sd.optimizers.gd(LOSS, [x], eta), h=eta)
HEAVY_BALL = sd.optimizers.heavy_ball(LOSS, [x], eta, beta)


def test_gradient_flow_passes():
    assert testing.check_continuous_limit(GD_LIMIT, examples=5).passed


def test_damped_oscillator_limit_of_heavy_ball_passes():
    limit = sd.continuous_limit(
        HEAVY_BALL, h=eta, scaling={beta: 1 - gamma * sp.sqrt(eta)}, time_step=sp.sqrt(eta)
    )
    assert testing.check_continuous_limit(limit, examples=5).passed


def test_wrong_limit_ode_is_caught():
    (ode,) = GD_LIMIT.ode
    wrong = dataclasses.replace(GD_LIMIT, ode=(sp.Eq(ode.lhs, 2 * ode.rhs),))
    with pytest.raises(testing.CheckFailure, match="at order"):
        testing.check_continuous_limit(wrong, examples=5)


def test_heavy_ball_form_passes_and_a_wrong_contraction_is_caught():
    form = sd.hamiltonian_form(HEAVY_BALL)
    assert testing.check_hamiltonian(form, examples=15).passed
    with pytest.raises(testing.CheckFailure, match="JᵀΩJ"):
        testing.check_hamiltonian(dataclasses.replace(form, contraction=beta**2))
    with pytest.raises(testing.CheckFailure, match="det J"):
        testing.check_hamiltonian(dataclasses.replace(form, det_jacobian=2 * beta))


def test_a_form_without_constant_contraction_is_refused():
    form = sd.hamiltonian_form(sd.optimizers.nesterov(LOSS, [x], eta, beta))
    with pytest.raises(sd.SymdynError, match="no constant contraction"):
        testing.check_hamiltonian(form)


def test_second_order_limit_of_alternating_gda_passes_and_an_overclaimed_order_is_caught():
    """Leapfrog for Y'' = −Y: iterates follow it to O(η²) from drawn Y(0) and Y'(0)."""
    y = sp.Symbol("y", real=True)
    limit = sd.continuous_limit(sd.games.gda(x * y, [x], [y], eta, mode="alternating"), h=eta)
    assert (limit.order, limit.error_order) == (2, 2)
    assert testing.check_continuous_limit(limit, examples=5).passed
    with pytest.raises(testing.CheckFailure, match="not 3"):
        testing.check_continuous_limit(dataclasses.replace(limit, error_order=3), examples=5)


def test_first_order_limit_of_momentum_at_fixed_beta_passes_where_it_holds():
    """At fixed β the limit holds only for β < 1 (its requires); draws honour that."""
    limit = sd.continuous_limit(HEAVY_BALL, h=eta)
    assert limit.requires == (beta < 1,)
    assert testing.check_continuous_limit(limit, examples=5).passed


def test_a_wrong_requires_is_caught_from_either_side():
    """Too loose (nothing needed) fails where β > 1 makes a fast mode grow; too strict
    (β < 1/4) fails where β ≤ 1/2 and the iterates do follow the limit."""
    limit = sd.continuous_limit(HEAVY_BALL, h=eta)
    with pytest.raises(testing.CheckFailure, match=r"yet the claimed requires .* hold"):
        testing.check_continuous_limit(dataclasses.replace(limit, requires=()), examples=20)
    too_strict = dataclasses.replace(limit, requires=(beta < sp.Rational(1, 4),))
    with pytest.raises(testing.CheckFailure, match=r"yet the claimed requires .* fail"):
        testing.check_continuous_limit(too_strict, examples=20)
