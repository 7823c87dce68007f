"""Tests of symdyn.limits.integration: integrate against closed-form flows, and the
convergence helper against the predicted order."""

import math

import pytest
import sympy as sp

import symdyn as sd

x, y = sp.symbols("x y", real=True)
eta, beta, gamma, lam = sp.symbols("eta beta gamma lambda", positive=True)


def test_integrate_solves_the_gradient_flow_of_a_quadratic():
    limit = sd.continuous_limit(sd.optimizers.gd(lam * x**2 / 2, [x], lr=eta), h=eta)
    solution = sd.integrate(limit, {x: 2.0}, (0.0, 1.5), values={lam: 3.0})
    assert solution.y[0, -1] == pytest.approx(2.0 * math.exp(-4.5), rel=1e-8)


@pytest.mark.parametrize(
    ("name", "make", "scaling", "time_step", "steps"),
    [
        (
            "gd",
            lambda loss: sd.optimizers.gd(loss, [x], lr=eta),
            None,
            None,
            [0.02, 0.01, 0.005, 0.0025],
        ),
        (
            "heavy ball",
            lambda loss: sd.optimizers.heavy_ball(loss, [x], lr=eta, momentum=beta),
            {beta: 1 - gamma * sp.sqrt(eta)},
            sp.sqrt(eta),
            [1e-3, 2.5e-4, 6.25e-5, 1.5625e-5],
        ),
        (
            "nesterov y-form",
            lambda loss: sd.optimizers.nesterov(
                loss, [x], lr=eta, momentum=beta, convention="y-form"
            ),
            {beta: 1 - gamma * sp.sqrt(eta)},
            sp.sqrt(eta),
            [1e-3, 2.5e-4, 6.25e-5, 1.5625e-5],
        ),
    ],
)
def test_convergence_helper_measures_the_predicted_order(name, make, scaling, time_step, steps):
    """On log cosh, the fitted slope of the discrete-vs-ODE error is within 0.15 of
    error_order (issue 8); lagged copies and buffers are initialised from X(0), X'(0)."""
    limit = sd.continuous_limit(
        make(sp.log(sp.cosh(x))), h=eta, scaling=scaling, time_step=time_step
    )
    result = sd.convergence(limit, {x: 1.5}, 2.0, steps, values={gamma: 1.5})
    assert result.predicted == 1
    assert abs(result.order - result.predicted) < 0.15, (name, result)
    assert all(a > b for a, b in zip(result.errors[:-1], result.errors[1:], strict=True))


def test_convergence_starts_buffers_on_the_limit_so_second_order_shows():
    """Alternating GDA on xy is leapfrog for Y'' = −Y: x is the buffer (y − y_prev)/η and
    the iterates follow the limit to O(η²), seen only when x starts consistently."""
    limit = sd.continuous_limit(sd.games.gda(x * y, [x], [y], eta, mode="alternating"), h=eta)
    assert limit.error_order == 2
    start = {y: 0.5, sp.Derivative(limit.functions[y], limit.t): 1.0}
    result = sd.convergence(limit, start, 1.0, [0.02, 0.01, 0.005])
    assert abs(result.order - 2) < 0.15, result
    flow = sd.integrate(limit, start, (0.0, 1.0))
    assert flow.y[0, -1] == pytest.approx(0.5 * math.cos(1) + math.sin(1), rel=1e-8)
