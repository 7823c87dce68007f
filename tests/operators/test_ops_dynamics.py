"""Lyapunov spectra, gradient norms, sharpness and their symbolic counterparts."""

import numpy as np
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import symdyn as sd
import symdyn.autodiff as ad
from symdyn import operators as ops


@given(
    st.lists(st.floats(0.05, 3.0), min_size=3, max_size=3, unique=True),
    st.lists(st.booleans(), min_size=3, max_size=3),
    st.integers(0, 2**16),
)
def test_lyapunov_of_a_linear_map_is_log_abs_eigenvalues(moduli, negative, seed):
    moduli = np.array(moduli)
    # distinct moduli, separated enough for the transient to die within `discard` steps
    logs = np.sort(np.log(moduli))
    assume(np.min(np.diff(logs)) >= 0.1)
    eig = np.where(negative, -moduli, moduli)
    V = np.random.default_rng(seed).standard_normal((3, 3)) + 3 * np.eye(3)
    W = V @ np.diag(eig) @ np.linalg.inv(V)
    exponents = ops.lyapunov_spectrum(lambda h: W @ h, np.zeros(3), steps=200, discard=400)
    np.testing.assert_allclose(exponents, logs[::-1], atol=1e-6)


def test_qr_and_finite_time_estimates_agree_as_T_grows():
    rng = np.random.default_rng(1)
    W = 1.5 * rng.standard_normal((4, 4)) / 2

    def step(h):
        return ad.tanh(W @ h + 0.1)

    h0 = rng.standard_normal(4)
    gaps = []
    for T in (10, 40, 160):
        qr = ops.lyapunov_spectrum(step, h0, steps=T, k=1)
        ftle = ops.finite_time_lyapunov(step, h0, steps=T)[:1]
        gaps.append(abs(qr - ftle)[0])
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 0.05


def test_gradient_norms_of_a_linear_rnn_are_norms_of_powers():
    W = np.array([[0.9, 0.3], [-0.2, 0.7]])
    norms = ops.gradient_norms(lambda h: W @ h, np.zeros(2), steps=6)
    expected = [np.linalg.norm(np.linalg.matrix_power(W, t), 2) for t in range(1, 7)]
    np.testing.assert_allclose(norms, expected, rtol=1e-12)


def test_symbolic_linear_rnn_matches_numeric_gradient_norms():
    h1, h2 = sp.symbols("h1 h2", real=True)
    W = sp.Matrix(
        [[sp.Rational(9, 10), sp.Rational(3, 10)], [sp.Rational(-1, 5), sp.Rational(7, 10)]]
    )
    rule = sd.models.linear_rnn(W, [h1, h2])
    g = ops.gradient_through_time(rule, 5)
    assert g.transition == W**5
    Wn = np.array(W, dtype=float)
    numeric = ops.gradient_norms(lambda h: Wn @ h, np.zeros(2), steps=5)[-1]
    assert abs(float(g.norm_bound) - numeric) < 1e-12
    rho = max(abs(np.linalg.eigvals(Wn)))
    assert bool(g.vanishing) == (rho < 1) and bool(g.exploding) == (rho > 1)
    assert abs(float(g.spectral_radius) - rho) < 1e-12


def test_symbolic_scalar_linear_rnn_condition():
    h, w = sp.symbols("h w", real=True)
    T = sp.Symbol("T", integer=True, positive=True)
    g = ops.gradient_through_time(sd.models.linear_rnn([[w]], [h]), T)
    assert g.transition == sp.Matrix([[w**T]])
    assert g.vanishing == (sp.Abs(w) < 1)
    assert g.exploding == (sp.Abs(w) > 1)
    assert "Gelfand" in g.derivation.to_markdown()


@settings(max_examples=10)
@given(st.integers(0, 2**16))
def test_tanh_rnn_bound_holds_on_trajectories(seed):
    rng = np.random.default_rng(seed)
    Wn = rng.standard_normal((2, 2))
    h1, h2, u = sp.symbols("h1 h2 u", real=True)
    W = sp.Matrix(2, 2, [sp.Rational(round(1000 * v), 1000) for v in Wn.ravel()])
    rule = sd.models.tanh_rnn(W, [h1, h2], [u, 0])
    g = ops.gradient_through_time(rule, 4)
    assert g.transition is None and g.exploding is None
    Wq = np.array(W, dtype=float)
    norms = ops.gradient_norms(
        lambda h: ad.tanh(Wq @ h + np.array([0.3, 0.0])), rng.standard_normal(2), steps=4
    )
    assert norms[-1] <= float(g.norm_bound) * (1 + 1e-12)


def _mlp_loss(seed):
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((8, 4)), rng.standard_normal((8, 2))

    def loss(theta):
        W1 = theta[:24].reshape(4, 6)
        b1 = theta[24:30]
        W2 = theta[30:42].reshape(6, 2)
        b2 = theta[42:]
        out = ad.tanh(X @ W1 + b1) @ W2 + b2
        return ad.sum((out - Y) ** 2) / 16

    return loss, rng.standard_normal(44) / 2


@given(st.integers(0, 2**16))
def test_sharpness_by_lanczos_equals_dense_hessian(seed):
    loss, theta = _mlp_loss(seed)
    top = ops.sharpness(loss, theta, k=2)
    dense = np.linalg.eigvalsh(ad.hessian(loss)(theta))[::-1][:2]
    np.testing.assert_allclose(top, dense, atol=1e-8, rtol=0)
