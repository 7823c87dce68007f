"""Optimal tuning over [μ, L]: published values exactly, numbers against brute force over
dense eigenvalue grids."""

import numpy as np
import pytest
import sympy as sp

import symdyn as sd

eta, beta, lam, mu, L = sp.symbols("eta beta lambda mu L", positive=True)
x = sp.Symbol("x", real=True)
Q = sd.quadratic("theta", n=sp.Symbol("n"))
GD = sd.optimizers.gd(Q.loss, [Q.theta], eta)
kappa = L / mu


def same(left, right):
    return sp.simplify(left - right) == 0


def test_tune_gd_recovers_the_classical_step():
    """η = 2/(μ + L), rate (κ − 1)/(κ + 1) (e.g. Polyak, Introduction to Optimization, 1987)."""
    result = sd.tune(GD, (mu, L))
    assert result.exact
    assert same(result.params[eta], 2 / (mu + L))
    assert same(result.rate, (kappa - 1) / (kappa + 1))


@pytest.mark.parametrize("convention", ["polyak", "ema", "torch"])
def test_tune_heavy_ball_recovers_polyak(convention):
    """Polyak (1964): η = 4/(√L + √μ)², β = ((√κ − 1)/(√κ + 1))², rate (√κ − 1)/(√κ + 1)."""
    rule = sd.optimizers.heavy_ball(Q.loss, [Q.theta], eta, beta, convention=convention)
    result = sd.tune(rule, (mu, L), over=[eta, beta])
    root = sp.sqrt(kappa)
    assert result.exact
    assert same(result.rate, (root - 1) / (root + 1))
    assert same(result.params[beta], ((root - 1) / (root + 1)) ** 2)
    if convention == "ema":  # m ← βm + (1 − β)g: the step is η(1 − β)
        assert same(
            result.params[eta] * (1 - beta).subs(result.params),
            4 / (sp.sqrt(L) + sp.sqrt(mu)) ** 2,
        )
    else:
        assert same(result.params[eta], 4 / (sp.sqrt(L) + sp.sqrt(mu)) ** 2)
    # The tuned rate is the worst case of the tuned rule, checked by brute force.
    values = {mu: 1, L: 50}
    tuned = {k: float(v.subs(values)) for k, v in result.params.items()}
    rate = float(result.rate.subs(values))
    lams = np.linspace(1, 50, 20001)
    scalar = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], eta, beta, convention=convention)
    f = sp.lambdify([lam, eta, beta], list(scalar.jacobian()), "numpy")
    entries = [np.broadcast_to(e, lams.shape) for e in f(lams, tuned[eta], tuned[beta])]
    radii = np.abs(np.linalg.eigvals(np.stack(entries, -1).reshape(-1, 2, 2))).max(-1)
    assert radii.max() == pytest.approx(rate, rel=1e-6)


def test_tune_nesterov_numerically_with_a_certificate():
    """No closed form is used; the known optimum (Lessard et al. 2016) is found:
    η = 4/(3L + μ), rate 1 − 2/√(3κ + 1)."""
    rule = sd.optimizers.nesterov(Q.loss, [Q.theta], eta, beta)
    result = sd.tune(rule, (1, 100))
    assert not result.exact
    assert result.certificate["max_on_grid"] <= 1 - 2 / np.sqrt(301) + 1e-6
    assert result.params[eta] == pytest.approx(4 / 301, rel=1e-3)
