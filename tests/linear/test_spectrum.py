"""Worst cases over [μ, L]: published values exactly, numbers against brute force over
dense eigenvalue grids."""

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


def test_an_asymptotic_rate_outside_the_conditions_of_the_limit_is_refused():
    """Bias-corrected Adam's J_∞ takes β₁ᵏ → 0, under β₁ < 1; at β₁ = 3/2 the correction
    tends to 0 instead, so the rate of that J_∞ would be wrong there and is refused."""
    eta_, beta_ = sp.symbols("eta beta", positive=True)
    q = sd.quadratic("theta", n=sp.Symbol("n"))
    adam = sd.optimizers.adam(q.loss, [q.theta], eta_, beta_, bias_correction=True)
    assert sd.worst_case_rate(adam, (1, 10), params={eta_: 0.1, beta_: 0.5}).rate < 1
    with pytest.raises(sd.UndecidedError, match="beta < 1 fails"):
        sd.worst_case_rate(adam, (1, 10), params={eta_: 0.1, beta_: 1.5})
    with pytest.raises(sd.UndecidedError, match="beta < 1 fails"):
        sd.tune(adam, (1, 10), over=[eta_], params={beta_: 1.5})
