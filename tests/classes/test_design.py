"""Tuning over a function class: the parameters found are certified exactly, and the rate
sits between what no method can beat and the published optimum."""

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn as sd
from symdyn.classes.certificates import verify
from symdyn.classes.design import _FeasibilityOracle, _roundings
from symdyn.classes.linear_system import linear_system
from symdyn.classes.spectral import spectral_rate
from tests.optional import require_module

require_module("cvxpy")
require_module("clarabel")

x, xp, y, u = sp.symbols("x x_p y u", real=True)
eta = sp.Symbol("eta", positive=True)
alpha, beta, gamma = sp.symbols("alpha beta gamma", positive=True)
f = sp.Function("f")
S = sd.function_classes.SmoothStronglyConvex


def three_parameter_family():
    """x⁺ = (1 + β)x − βx_p − α∇f((1 + γ)x − γx_p): gradient descent, heavy ball,
    Nesterov (γ = β) and triple momentum are members."""
    updates = [
        (y, (1 + gamma) * x - gamma * xp),
        (u, sd.grad(f(y), y)),
        (x, (1 + beta) * x - beta * xp - alpha * u),
        (xp, x),
    ]
    return sd.UpdateRule([x, xp], updates, simultaneous=True, name="three-parameter family")


def test_gradient_descent_tuned_over_the_class_is_the_classical_step(pdflatex, tmp_path):
    """GD on S(μ, L): the rate max(|1 − ημ|, |1 − ηL|) (LRP 2016, §4.4) is least at
    η = 2/(μ + L), where it is (κ − 1)/(κ + 1)."""
    gd = sd.optimizers.gd(f(x), [x], lr=eta)
    tuned = sd.tune(gd, S(1, 9), over=[eta])
    assert isinstance(tuned, sd.ClassTuning) and tuned.optimality == "local"
    step = tuned.params[eta]
    assert step.is_Rational and abs(step - sp.Rational(1, 5)) < 1e-4
    assert tuned.certificate.verified and verify(tuned.certificate).verified
    # sound: not below GD's exact rate at the step found, which a quadratic attains
    assert tuned.rate >= max(abs(1 - step), abs(1 - 9 * step))
    assert tuned.rate <= sp.Rational(4, 5) + 2e-6
    text = tuned.derivation.to_markdown()
    for piece in ("local minimum", r"\eta = \frac{1}{5}", r"V(\hat\xi_{k+1})", r"M \preceq 0"):
        assert piece in text
    tuned.derivation.save(str(tmp_path / "tuning.pdf"))
    assert (tmp_path / "tuning.pdf").stat().st_size > 1000


def test_the_three_parameter_family_tuned_over_the_class_finds_triple_momentum():
    """With α = (1 + ρ)/L fixed at κ = 25 (ρ = 4/5), tuning (β, γ) finds the triple
    momentum method exactly (Van Scoy, Freeman & Lynch 2018: β = ρ²/(2 − ρ) = 8/15,
    γ = ρ²/((1 + ρ)(2 − ρ)) = 8/27) and its rate 1 − 1/√κ. No first-order method does
    better on S(μ, L) (Taylor & Drori 2023, the lower bound (1 − 1/√κ)^k on |x_k − x*|), so
    a certified rate below 4/5 would be unsound."""
    rule = three_parameter_family()
    tuned = sd.tune(rule, S(1, 25), over=[beta, gamma], params={alpha: sp.Rational(9, 125)})
    assert tuned.certificate.verified and verify(tuned.certificate).verified
    # the search stops about 2e-4 above 4/5 (it poses the LMI on the whole space); the
    # rounding with denominators up to 32 is triple momentum itself, where the states
    # reached form a plane and the certificate closes to the bisection's tol
    assert tuned.search_rate > 0.8001
    assert (tuned.params[beta], tuned.params[gamma]) == (sp.Rational(8, 15), sp.Rational(8, 27))
    assert tuned.certificate.basis.cols == 2
    assert sp.Rational(4, 5) <= tuned.rate <= sp.Rational(4, 5) + 2e-6
    at_tuned = {alpha: sp.Rational(9, 125), **tuned.params}
    quadratic = spectral_rate(linear_system(rule, at_tuned), sd.function_classes.Quadratics(1, 25))
    assert tuned.rate >= quadratic.rate


def test_quadratics_go_the_spectrum_route():
    lam = sp.Symbol("lambda", positive=True)
    gd = sd.optimizers.gd(lam * x**2 / 2, [x], lr=eta)
    assert sd.tune(gd, sd.function_classes.Quadratics(1, 9)).params == {eta: sp.Rational(1, 5)}


def test_tuning_over_a_class_names_what_is_missing():
    rule = three_parameter_family()
    with pytest.raises(sd.ArgumentError, match="alpha"):
        sd.tune(rule, S(1, 25), over=[beta, gamma])
    with pytest.raises(sd.ArgumentError, match="over="):
        sd.tune(rule, S(1, 25), params={alpha: 1})
    with pytest.raises(sd.FunctionClassError, match="no method has a linear rate"):
        sd.tune(rule, sd.function_classes.SmoothConvex(1), over=[beta, gamma])


def test_the_search_stops_at_its_time_budget():
    rule = three_parameter_family()
    with pytest.raises(sd.BudgetExceededError, match="the numeric search"):
        sd.tune(rule, S(1, 25), over=[alpha, beta, gamma], timeout=1)


nonzero = st.floats(-10, 10, allow_nan=False).filter(lambda v: v != 0)


@given(st.lists(nonzero, min_size=1, max_size=3))
def test_every_rounding_keeps_the_signs_and_the_finest_is_close(point):
    """A rounding to 0 or across it would hand a positive parameter a value its symbol
    refuses; the finest rounding stays within the denominator's resolution."""
    roundings = _roundings(point)
    assert roundings and len(set(roundings)) == len(roundings)
    for rounded in roundings:
        assert all(q * v > 0 for q, v in zip(rounded, point, strict=True))
    for q, v in zip(roundings[-1], point, strict=True):
        assert abs(float(q) - v) <= 1e-6


def test_a_pole_of_the_parameters_is_no_rate():
    """x⁺ = x − η/(β − 1)∇f(x) has no system at β = 1: the search sees an infinite rate
    there, not an exception or a number."""
    rule = sd.UpdateRule([x], [(u, sd.grad(f(x), x)), (x, x - eta / (beta - 1) * u)])
    oracle = _FeasibilityOracle(rule, S(1, 9), (eta, beta), None)
    assert oracle.rate([0.1, 1.0], 1e-3) == float("inf")
    assert oracle.rate([0.2, 2.0], 1e-3) == pytest.approx(0.8, abs=2e-3)
