"""Every matrix-free operator against the dense matrix built from explicit Jacobians."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symdyn.autodiff as ad
from symdyn import operators as ops

TOL = 1e-10


def tanh_rnn(seed, batch=2, steps=4, hidden=3, inputs=2, gain=0.9):
    rng = np.random.default_rng(seed)
    H, I = hidden, inputs

    def step(h, x, theta):
        W = theta[: H * H].reshape(H, H)
        U = theta[H * H : H * H + H * I].reshape(I, H)
        b = theta[H * H + H * I :]
        return ad.tanh(h @ W + x @ U + b)

    theta = np.concatenate(
        [gain * rng.standard_normal(H * H) / np.sqrt(H), rng.standard_normal(H * I + H)]
    )
    W_out = rng.standard_normal((H, 2))
    return ops.Recurrence(
        step,
        theta,
        h0=0.1 * rng.standard_normal((batch, H)),
        inputs=rng.standard_normal((batch, steps, I)),
        readout=lambda h, theta: h @ W_out,
    )


def mlp(seed, batch=3, layers=3, width=3):
    """An MLP as a recurrence: one layer per time step, the input as h_0."""
    rng = np.random.default_rng(seed)
    size = width * width + width

    def step(h, x, theta, t):
        block = theta[t * size : (t + 1) * size]
        return ad.tanh(h @ block[: width * width].reshape(width, width) + block[width * width :])

    return ops.Recurrence(
        step,
        rng.standard_normal(layers * size) / np.sqrt(width),
        h0=rng.standard_normal((batch, width)),
        steps=layers,
        time_dependent=True,
    )


def perturbed_unroll(model, e):
    """h_t = F(h_{t-1}, x_{t-1}, θ) + e_t: dh/de at e = 0 is the propagator P."""
    h = model.h0
    states = []
    for t in range(model.steps):
        h = model.apply_step(h, t) + e[:, t]
        states.append(h)
    return ad.stack(states, axis=1)


def dense(op):
    return op @ np.eye(op.shape[1])


def dense_references(model):
    """Φ, K, P and Θ from full Jacobians (ad.jacobian), no operator code involved."""
    n = model.size
    J_h = ad.jacobian(model.unroll)(model.theta).reshape(n, -1)
    J_F = ad.jacobian(model.velocity)(model.theta).reshape(n, -1)
    J_y = ad.jacobian(model.outputs)(model.theta)
    J_y = J_y.reshape(-1, model.theta.size)
    zero = np.zeros(model.shape)
    J_e = ad.jacobian(lambda e: perturbed_unroll(model, e))(zero).reshape(n, n)
    return J_h @ J_h.T, J_F @ J_F.T, J_e, J_y @ J_y.T


MODELS = [tanh_rnn, mlp]


@pytest.mark.parametrize("make", MODELS)
@given(seed=st.integers(0, 2**16))
def test_matvecs_equal_dense_matrices(make, seed):
    model = make(seed)
    Phi, Kd, Pd, Theta = dense_references(model)
    rng = np.random.default_rng(seed + 1)
    v = rng.standard_normal(model.size)
    np.testing.assert_allclose(ops.nto(model) @ v, Phi @ v, atol=TOL, rtol=0)
    np.testing.assert_allclose(ops.K(model) @ v, Kd @ v, atol=TOL, rtol=0)
    np.testing.assert_allclose(ops.P(model) @ v, Pd @ v, atol=TOL, rtol=0)
    np.testing.assert_allclose(ops.P(model).H @ v, Pd.T @ v, atol=TOL, rtol=0)
    u = rng.standard_normal(Theta.shape[0])
    np.testing.assert_allclose(ops.ntk(model) @ u, Theta @ u, atol=TOL, rtol=0)


@pytest.mark.parametrize("make", MODELS)
@given(seed=st.integers(0, 2**16))
def test_phi_is_P_K_P_adjoint(make, seed):
    model = make(seed)
    Phi, Kop, Pop = ops.nto(model), ops.K(model), ops.P(model)
    np.testing.assert_allclose(dense(Phi), dense(Pop @ Kop @ Pop.H), atol=TOL, rtol=0)


def test_propagator_blocks_are_state_transition_matrices():
    """P[b, t, :, b, s, :] = dh_t/dh_s, zero across the batch and above the diagonal."""
    model = tanh_rnn(3, batch=2, steps=3, hidden=2)
    Pd = dense(ops.P(model)).reshape(2, 3, 2, 2, 3, 2)
    np.testing.assert_array_equal(Pd[0, :, :, 1], 0.0)
    np.testing.assert_array_equal(Pd[0, 0, :, 0, 1], 0.0)
    np.testing.assert_allclose(Pd[0, 1, :, 0, 1], np.eye(2))
    # dh_3/dh_2 from ad.jacobian of one step at h_2 (row 0 of the batch)
    h2 = model.trajectory[0:1, 1]
    A = ad.jacobian(lambda h: model.apply_step(h[None], 2)[0])(h2[0])
    np.testing.assert_allclose(Pd[0, 2, :, 0, 1], A, atol=TOL)


@given(
    st.integers(1, 5),
    st.integers(1, 4),
    st.integers(0, 2**16),
)
def test_ntk_of_a_linear_model_is_X_Xt(batch, features, seed):
    X = np.random.default_rng(seed).standard_normal((batch, features))
    model = ops.Recurrence(
        lambda h, x, w: (x @ w)[:, None],
        np.zeros(features),
        np.zeros((batch, 1)),
        X[:, None, :],
    )
    np.testing.assert_allclose(dense(ops.ntk(model)), X @ X.T, atol=1e-12, rtol=0)
    np.testing.assert_allclose(dense(ops.nto(model)), X @ X.T, atol=1e-12, rtol=0)


def test_operators_are_symmetric_and_adjoints_consistent():
    model = tanh_rnn(5)
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal((2, model.size))
    for op in (ops.nto(model), ops.K(model), ops.P(model)):
        assert abs(u @ (op @ v) - (op.H @ u) @ v) < TOL
    Phi = dense(ops.nto(model))
    np.testing.assert_allclose(Phi, Phi.T, atol=TOL)
    assert np.linalg.eigvalsh(Phi).min() > -1e-10


@pytest.mark.parametrize("make", [tanh_rnn, mlp], ids=["tanh_rnn", "mlp"])
def test_small_matrices_built_at_once_equal_the_matvec_matrices(make):
    """to_matrix (one batched JVP over the parameter basis) against one matvec per column."""
    model = make(5)
    for op in (ops.nto(model), ops.K(model), ops.ntk(model), ops.parameter_jacobian(model)):
        assert op.dense is not None
        np.testing.assert_allclose(op.to_matrix(), dense(op), rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(
        ops.svd(ops.ntk(model), k=2).values,
        np.linalg.svd(dense(ops.ntk(model)), compute_uv=False)[:2],
        rtol=1e-12,
    )
