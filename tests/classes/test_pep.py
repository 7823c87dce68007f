"""Performance estimation built from a rule: published worst cases, exact bounds that hold."""

import os

import pytest
import sympy as sp

import symdyn as sd
from symdyn.classes import pep as pep_module
from tests.optional import require_module

require_module("PEPit")
require_module("clarabel")

x = sp.Symbol("x", real=True)
eta, beta = sp.symbols("eta beta", positive=True)
f = sp.Function("f")
GD = sd.optimizers.gd(f(x), [x], lr=eta)
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"


@pytest.mark.parametrize("steps", list(range(1, 11)) if THOROUGH else [1, 4])
@pytest.mark.parametrize("smoothness", [sp.Integer(1), sp.Integer(3)])
def test_gradient_descent_on_smooth_convex_functions(steps, smoothness):
    """Drori & Teboulle (2014): GD with step 1/L on F(0, L) has worst case
    f(x_N) − f* = L‖x_0 − x*‖²/(4N + 2), attained; the bound is verified exactly."""
    result = sd.pep(
        GD,
        sd.function_classes.SmoothConvex(L=smoothness),
        steps=steps,
        params={eta: 1 / smoothness},
    )
    expected = smoothness / (4 * steps + 2)
    assert result.verified
    assert abs(result.value - float(expected)) < 1e-6
    assert expected <= result.bound < expected + sp.Rational(1, 10**6)


def test_distance_after_gradient_descent_on_strongly_convex_functions():
    """GD with step 1/L on S(μ, L) contracts the distance by (1 − μ/L)² per step, tightly
    (on the quadratic μx²/2): after N steps ‖x_N − x*‖² ≤ (1 − μ/L)^{2N}."""
    cls = sd.function_classes.SmoothStronglyConvex(mu=1, L=4)
    result = sd.pep(GD, cls, steps=3, metric="distance", params={eta: sp.Rational(1, 4)})
    expected = sp.Rational(3, 4) ** 6
    assert result.verified
    assert abs(result.value - float(expected)) < 1e-6
    assert expected <= result.bound < expected + sp.Rational(1, 10**6)


def test_momentum_metrics_and_initial_conditions():
    """Heavy ball on S(1, 10), every metric from either initial condition: the exact bound
    is at least the value (to the solver's accuracy) and close to it."""
    rule = sd.optimizers.heavy_ball(f(x), [x], lr=eta, momentum=beta)
    params = {eta: sp.Rational(1, 10), beta: sp.Rational(1, 2)}
    cls = sd.function_classes.SmoothStronglyConvex(1, 10)
    for metric in ("distance", "gradient_norm", "function_value"):
        for initial in ("distance", "function_value"):
            result = sd.pep(rule, cls, steps=2, metric=metric, initial=initial, params=params)
            assert result.verified, (metric, initial)
            assert abs(float(result.bound) - result.value) < 1e-5 * max(1, result.value)


def test_a_bound_below_the_worst_case_is_never_verified(monkeypatch):
    """Lower the dual's τ by 0.1%: L/(4N+2) is attained, so the identity cannot hold."""
    original = pep_module.check_dual

    def lowered(metric, initial, constraints, tau, duals, threshold):
        return original(metric, initial, constraints, tau * 0.999, duals, threshold)

    monkeypatch.setattr(pep_module, "check_dual", lowered)
    result = sd.pep(GD, sd.function_classes.SmoothConvex(L=1), steps=2, params={eta: 1})
    assert not result.verified and result.bound == sp.oo
    assert "no bound is claimed" in result.derivation.to_markdown()


def test_bad_arguments_are_refused():
    cls = sd.function_classes.SmoothConvex(L=1)
    with pytest.raises(sd.ArgumentError, match="metric"):
        sd.pep(GD, cls, steps=2, metric="loss", params={eta: 1})
    with pytest.raises(sd.ArgumentError, match="steps"):
        sd.pep(GD, cls, steps=0, params={eta: 1})
    with pytest.raises(sd.FunctionClassError, match="worst_case_rate"):
        sd.pep(GD, sd.function_classes.Quadratics(1, 2), steps=2, params={eta: 1})


def test_the_certifying_dual_writes_the_interpolation_conditions_as_the_exact_forms():
    """The float matrices Clarabel is given equal the exact c_ij, pair by pair (PEPit's
    order), on random rational points of S(1/2, 3)."""
    import numpy as np
    from sympy import QQ

    from symdyn.classes.pep_certificate import interpolation
    from symdyn.classes.pep_dual import interpolation_matrices

    rng = np.random.default_rng(5)
    dimension, count = 4, 4
    points = [
        (
            np.array([QQ(int(v), 7) for v in rng.integers(-9, 10, dimension)], dtype=object),
            np.array([QQ(int(v), 5) for v in rng.integers(-9, 10, dimension)], dtype=object),
            k,
        )
        for k in range(count)
    ]
    mu, big = QQ(1, 2), QQ(3)
    quadratic, linear = interpolation_matrices(points, float(mu), float(big), count)
    pairs = [(i, j) for i in range(count) for j in range(count) if i != j]
    assert len(quadratic) == len(pairs)
    for k, (i, j) in enumerate(pairs):
        exact = interpolation(points[i], points[j], mu, big, count)
        np.testing.assert_allclose(quadratic[k], exact.quadratic.astype(float), atol=1e-12)
        np.testing.assert_allclose(linear[k], exact.linear.astype(float), atol=1e-12)
