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


def test_tune_nesterov_at_a_numeric_spectrum():
    """The closed form (Lessard et al. 2016) at κ = 100: η = 4/301, rate 1 − 2/√301, checked
    against a dense grid of eigenvalues (NumPy) at the tuned values."""
    rule = sd.optimizers.nesterov(Q.loss, [Q.theta], eta, beta)
    result = sd.tune(rule, (1, 100))
    assert result.exact and result.params[eta] == sp.Rational(4, 301)
    b = float(result.params[beta])
    lams = np.linspace(1, 100, 20001)
    c = 1 - 4 / 301 * lams
    disc = np.sqrt(((1 + b) ** 2 * c**2 - 4 * b * c).astype(complex))
    radius = np.maximum(abs((1 + b) * c + disc), abs((1 + b) * c - disc)) / 2
    # a critically damped end: the square root of a rounding error, so 1e-7 relative
    assert radius.max() == pytest.approx(1 - 2 / np.sqrt(301), rel=1e-7)
    assert float(result.rate) == pytest.approx(1 - 2 / np.sqrt(301), rel=1e-14)


def test_nesterov_closed_form_tuning():
    """Lessard, Recht & Packard (2016), §2.2: Nesterov's best tuning over [μ, L] is
    α = 4/(3L + μ), β = (√(3κ+1) − 2)/(√(3κ+1) + 2), rate 1 − 2/√(3κ+1)."""
    eta_, beta_, mu_, big = sp.symbols("eta beta mu L", positive=True)
    q = sd.quadratic("theta", n=sp.Symbol("n"))
    nag = sd.optimizers.nesterov(q.loss, [q.theta], lr=eta_, momentum=beta_)
    result = sd.tune(nag, (mu_, big))
    root = sp.sqrt(3 * big / mu_ + 1)
    assert result.exact
    assert sp.simplify(result.params[eta_] - 4 / (3 * big + mu_)) == 0
    assert sp.simplify(result.params[beta_] - (root - 2) / (root + 2)) == 0
    assert sp.simplify(result.rate - (1 - 2 / root)) == 0


def test_nesterov_tuning_beats_every_tuning_on_a_grid():
    """κ = 10⁴: the closed form gives 1 − 2/√30001 ≈ 0.988453 (numeric tuning found 0.98852);
    worst_case_rate confirms it at the tuned values, and no (α, β) on a fine grid around it
    does better (end points decide, by quasi-convexity; eigenvalues by NumPy)."""
    eta_, beta_ = sp.symbols("eta beta", positive=True)
    q = sd.quadratic("theta", n=sp.Symbol("n"))
    nag = sd.optimizers.nesterov(q.loss, [q.theta], lr=eta_, momentum=beta_)
    result = sd.tune(nag, (1, 10**4))
    expected = 1 - 2 / np.sqrt(30001)
    assert float(result.rate) == pytest.approx(expected, rel=1e-14)
    check = sd.worst_case_rate(nag, (1, 10**4), params=dict(result.params)).rate
    assert float(check) == pytest.approx(expected, rel=1e-12)

    alpha, momentum = (float(result.params[eta_]), float(result.params[beta_]))
    alphas = alpha * (1 + np.linspace(-0.02, 0.02, 201))[:, None]
    betas = momentum + np.linspace(-0.002, 0.002, 201)[None, :]
    worst = np.zeros(np.broadcast(alphas, betas).shape)
    for lam_end in (1.0, 1e4):
        c = 1 - alphas * lam_end
        trace, det = (1 + betas) * c, betas * c
        disc = np.sqrt((trace**2 - 4 * det).astype(complex))
        roots = np.maximum(np.abs((trace + disc) / 2), np.abs((trace - disc) / 2))
        worst = np.maximum(worst, roots)
    assert worst.min() >= expected - 1e-12


def test_closed_forms_are_global_optima():
    assert sd.tune(GD, (mu, L)).optimality == "global"
    rule = sd.optimizers.nesterov(Q.loss, [Q.theta], eta, beta)
    assert sd.tune(rule, (1, 100)).optimality == "global"


def test_numeric_tuning_is_a_local_optimum_that_brute_force_confirms():
    """Heavy ball with β = 1/2 fixed, η tuned over [1, 10]: no closed form applies, so
    Nelder–Mead finds it and says the optimum is local; brute force over 2·10⁵ step sizes
    (end-point radii by NumPy, which decide by quasi-convexity) finds none better."""
    rule = sd.optimizers.heavy_ball(Q.loss, [Q.theta], eta, beta)
    result = sd.tune(rule, (1, 10), over=[eta], params={beta: sp.Rational(1, 2)})
    assert not result.exact and result.optimality == "local"
    assert "local minimum" in result.derivation.to_markdown()
    steps = np.linspace(1e-3, 2.0, 200001)
    worst = np.zeros_like(steps)
    for end in (1.0, 10.0):
        trace, det = 1.5 - steps * end, 0.5
        disc = np.sqrt((trace**2 - 4 * det).astype(complex))
        worst = np.maximum(worst, np.maximum(abs(trace + disc), abs(trace - disc)) / 2)
    assert result.rate == pytest.approx(worst.min(), abs=1e-6)
    assert result.rate >= worst.min() - 1e-9
    # the optimum is a plateau (both end modes complex, radius √β): check the value returned
    tuned = float(result.params[eta])
    at_tuned = np.interp(tuned, steps, worst)
    assert at_tuned == pytest.approx(result.rate, abs=1e-6)
