"""Stationary covariance under gradient noise: closed forms exactly, numbers against SciPy's
Lyapunov solver and against simulation."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn as sd

eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
x = sp.Symbol("x", real=True)
Q = sd.quadratic("theta", n=sp.Symbol("n"))
GD = sd.optimizers.gd(Q.loss, [Q.theta], eta)
HB = sd.optimizers.heavy_ball(Q.loss, [Q.theta], eta, beta)


def same(left, right):
    return sp.simplify(left - right) == 0


def hb_matrices(lams, e, b):
    """Per-mode heavy-ball matrices [[1 − ηλ, β], [−ηλ, β]], written out by hand."""
    out = np.empty((len(lams), 2, 2))
    out[:, 0, 0], out[:, 0, 1] = 1 - e * lams, b
    out[:, 1, 0], out[:, 1, 1] = -e * lams, b
    return out


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


def test_full_noise_covariance_against_scipy_and_exactly():
    """GD on (x² + xy + 2y²)/2 with correlated gradient noise Σ: C = J C Jᵀ + η² Σ, against
    SciPy's solver (numeric) and as an exact identity (symbolic)."""
    from scipy.linalg import solve_discrete_lyapunov

    y = sp.Symbol("y", real=True)
    rule = sd.optimizers.gd((x**2 + x * y + 2 * y**2) / 2, [x, y], eta)
    covariance = [[1, sp.Rational(3, 10)], [sp.Rational(3, 10), 2]]
    result = sd.stationary_covariance(rule, noise=sp.Matrix(covariance), params={eta: 0.2})
    jac = np.eye(2) - 0.2 * np.array([[1, 0.5], [0.5, 2]])
    expected = solve_discrete_lyapunov(jac, 0.04 * np.array(covariance, dtype=float))
    assert np.allclose(result.covariance, expected, rtol=1e-12, atol=1e-14)

    s = sp.Symbol("s", real=True)
    exact = sd.stationary_covariance(rule, noise=sp.Matrix([[1, s], [s, 2]])).covariance
    J = sp.eye(2) - eta * sp.Matrix([[1, sp.Rational(1, 2)], [sp.Rational(1, 2), 2]])
    residual = J * exact * J.T + eta**2 * sp.Matrix([[1, s], [s, 2]]) - exact
    assert residual.applyfunc(sp.simplify) == sp.zeros(2, 2)


def test_full_noise_covariance_is_checked():
    y = sp.Symbol("y", real=True)
    rule = sd.optimizers.gd((x**2 + y**2) / 2, [x, y], eta)
    with pytest.raises(sd.SpectrumError, match="2x2"):
        sd.stationary_covariance(rule, noise=sp.eye(3))
    with pytest.raises(sd.SpectrumError, match="symmetric"):
        sd.stationary_covariance(rule, noise=sp.Matrix([[1, 0], [1, 1]]))
