"""Worst cases over [μ, L] and optimal tuning: published values exactly, numbers against
brute force over dense eigenvalue grids."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.optimize import minimize_scalar

import symdyn as sd

eta, beta, lam, mu, L = sp.symbols("eta beta lambda mu L", positive=True)
x = sp.Symbol("x", real=True)
Q = sd.quadratic("theta", n=sp.Symbol("n"))
GD = sd.optimizers.gd(Q.loss, [Q.theta], eta)
HB = sd.optimizers.heavy_ball(Q.loss, [Q.theta], eta, beta)
kappa = L / mu


def same(left, right):
    return sp.simplify(left - right) == 0


def hb_matrices(lams, e, b):
    """Per-mode heavy-ball matrices [[1 − ηλ, β], [−ηλ, β]], written out by hand."""
    out = np.empty((len(lams), 2, 2))
    out[:, 0, 0], out[:, 0, 1] = 1 - e * lams, b
    out[:, 1, 0], out[:, 1, 1] = -e * lams, b
    return out


def test_gd_asymptotic_worst_case():
    """max over λ ∈ [μ, L] of |1 − ηλ| is max(|1 − ημ|, |1 − ηL|)."""
    result = sd.worst_case_rate(GD, (mu, L))
    assert result.rate == sp.Max(sp.Abs(1 - eta * mu), sp.Abs(1 - eta * L))
    assert "quasi-convex" in result.derivation.to_markdown()


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


finite_params = st.tuples(
    st.floats(0.001, 0.04), st.floats(0.0, 0.95), st.floats(0.5, 5), st.floats(1.0, 80)
)


@given(finite_params, st.integers(1, 60))
def test_finite_horizon_matches_brute_force(params, steps):
    e, b, low, width = params
    high = low + width
    result = sd.worst_case_rate(HB, (low, high), steps=steps, params={eta: e, beta: b})

    def theta(lams):
        state = np.zeros((len(lams), 2))
        state[:, 0] = 1
        matrices = hb_matrices(lams, e, b)
        for _ in range(steps):
            state = np.einsum("nij,nj->ni", matrices, state)
        return np.abs(state[:, 0])

    grid = np.linspace(low, high, 100001)
    values = theta(grid)
    best = int(np.argmax(values))
    # Polish the grid's best point independently, to compare to 1e-9.
    a, c = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    polished = minimize_scalar(
        lambda t: -theta(np.array([t]))[0],
        bounds=(a, c),
        method="bounded",
        options={"xatol": 1e-14},
    )
    brute = max(values.max(), -polished.fun)
    assert result.rate >= values.max() * (1 - 1e-12)
    assert result.rate == pytest.approx(brute, rel=1e-9, abs=1e-12)


def test_finite_horizon_for_gd_is_the_endpoint_power():
    """θ_N = (1 − ηλ)^N, so the worst case is max(|1 − ημ|, |1 − ηL|)^N."""
    result = sd.worst_case_rate(GD, (1, 10), steps=7, params={eta: 0.15})
    assert result.rate == pytest.approx(max(abs(1 - 0.15), abs(1 - 1.5)) ** 7, rel=1e-12)
    assert result.argmax == pytest.approx(1)


def test_finite_horizon_init_and_per_mode_rules():
    scalar = sd.optimizers.nesterov(lam * x**2 / 2, [x], eta, beta, convention="y-form")
    result = sd.worst_case_rate(
        scalar,
        {lam: (1, 4)},
        steps=3,
        init={sp.Symbol("x_prev", real=True): 1},
        params={eta: 0.2, beta: 0.5},
    )
    lams = np.linspace(1, 4, 30001)
    x0, prev = np.ones_like(lams), np.ones_like(lams)
    for _ in range(3):
        y = x0 + 0.5 * (x0 - prev)
        prev, x0 = x0, y - 0.2 * lams * y
    assert result.rate == pytest.approx(np.abs(x0).max(), rel=1e-8)


def test_asymptotic_rate_against_brute_force_for_heavy_ball():
    result = sd.worst_case_rate(HB, (mu, L))
    values = {eta: 0.05, beta: 0.6, mu: 0.5, L: 30}
    lams = np.linspace(0.5, 30, 50001)
    radii = np.abs(np.linalg.eigvals(hb_matrices(lams, 0.05, 0.6))).max(-1)
    assert float(result.rate.subs(values)) == pytest.approx(radii.max(), rel=1e-9)


@pytest.mark.parametrize(
    "spectrum, match",
    [
        ((2, 1), "mu > L"),
        ((0, 1), "positive"),
        ((-1, 1), "positive"),
        ((sp.Symbol("m", real=True), L), "positive"),
        ((1,), "pair"),
    ],
)
def test_bad_spectra_are_refused(spectrum, match):
    with pytest.raises(sd.SpectrumError, match=match):
        sd.worst_case_rate(GD, spectrum)
    with pytest.raises(sd.SpectrumError):
        sd.tune(GD, spectrum)


def test_per_mode_rule_needs_its_curvature_symbol():
    a = sp.Symbol("a", positive=True)
    rule = sd.optimizers.gd(a * x**2 / 2, [x], eta)
    with pytest.raises(sd.SpectrumError, match="curvature"):
        sd.worst_case_rate(rule, (1, 2))
    assert sd.worst_case_rate(rule, {a: (1, 2)}).rate == sp.Max(
        sp.Abs(1 - eta), sp.Abs(1 - 2 * eta)
    )


def test_finite_horizon_needs_numbers():
    with pytest.raises(sd.UndecidedError, match="numeric values"):
        sd.worst_case_rate(HB, (1, 2), steps=3)
    with pytest.raises(sd.SpectrumError, match="positive integer"):
        sd.worst_case_rate(HB, (1, 2), steps=0, params={eta: 0.1, beta: 0.1})


# -- stationary covariance under gradient noise ---------------------------------------------

sigma = sp.Symbol("sigma", positive=True)


def test_gd_stationary_variance_per_mode():
    """θ⁺ = (1 − ηλ)θ − ηξ: Var θ = ησ²/(λ(2 − ηλ)) for 0 < ηλ < 2."""
    result = sd.stationary_covariance(GD, noise=sigma**2)
    assert same(result.covariance[0, 0], eta * sigma**2 / (lam * (2 - eta * lam)))
    assert result.region == sp.Lt(eta * lam, 2)


@given(st.floats(0.01, 1.5), st.floats(0.0, 0.95), st.floats(0.1, 3))
def test_heavy_ball_covariance_against_scipy(e, b, curvature):
    from scipy.linalg import solve_discrete_lyapunov

    values = {eta: e, beta: b, lam: curvature, sigma: 1}
    jac = hb_matrices(np.array([curvature]), e, b)[0]
    if max(abs(np.linalg.eigvals(jac))) >= 1 - 1e-9:
        return
    inputs = np.array([[-e], [-e]])  # v⁺ = βv − η(g + ξ), θ⁺ = θ + v⁺
    expected = solve_discrete_lyapunov(jac, inputs @ inputs.T)
    got = np.array(HB_COVARIANCE.covariance.subs(values), dtype=float)
    assert np.allclose(got, expected, rtol=1e-9, atol=1e-12)


HB_COVARIANCE = sd.stationary_covariance(HB, noise=sigma**2)


def test_numeric_matrix_covariance_and_simulation():
    y = sp.Symbol("y", real=True)
    rule = sd.optimizers.gd((x**2 + x * y + 2 * y**2) / 2, [x, y], eta)
    result = sd.stationary_covariance(rule, noise=0.5, params={eta: 0.2})
    jac = np.eye(2) - 0.2 * np.array([[1, 0.5], [0.5, 2]])
    rng = np.random.default_rng(1)
    state, samples = np.zeros(2), []
    for shock in rng.normal(scale=np.sqrt(0.5), size=(60000, 2)):
        state = jac @ state - 0.2 * shock
        samples.append(state)
    empirical = np.cov(np.array(samples[1000:]).T)
    assert isinstance(result.covariance, np.ndarray)
    assert np.allclose(result.covariance, empirical, rtol=0.1, atol=2e-3)


def test_no_stationary_covariance_outside_the_region():
    with pytest.raises(sd.NoStationaryStateError, match="not stable"):
        sd.stationary_covariance(GD, noise=1, params={eta: 3, lam: 1})
    scalar = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], eta, beta)
    with pytest.raises(sd.NoStationaryStateError):
        sd.stationary_covariance(scalar, noise=1, params={eta: 1, beta: 1.2, lam: 1})


def test_covariance_with_a_frozen_preconditioner_is_refused():
    adam = sd.optimizers.adam(Q.loss, [Q.theta], eta, beta)
    with pytest.raises(sd.NonCommutingError, match="isotropic"):
        sd.stationary_covariance(adam, noise=sigma**2)
    rule = sd.UpdateRule([x], [(x, x - eta * lam * x)], [eta])
    with pytest.raises(sd.SpectrumError, match="g_"):
        sd.stationary_covariance(rule, noise=1)
