"""Input-driven Lyapunov spectra, finite-time exponents and gradient norms, trial by trial."""

import numpy as np
import pytest

import symdyn.autodiff as ad
from symdyn import operators as ops
from symdyn.errors import ShapeError
from tests.operators.test_ops_tangent import tanh_rnn


def dense_jacobians(model):
    """A_t per trial, explicitly (ad.jacobian of one row's step): [B][T] of [H, H]."""
    B, T, H = model.shape
    previous = model.previous_states
    out = []
    for b in range(B):
        jacobians = []
        for t in range(T):
            x = None if model.inputs is None else model.inputs[b : b + 1, t]

            def row_step(h, x=x):
                return ad.reshape(model.step(ad.reshape(h, (1, H)), x, model.theta), (H,))

            jacobians.append(ad.jacobian(row_step)(previous[b, t]))
        out.append(jacobians)
    return out


def benettin(jacobians):
    """The QR method on explicit Jacobians: Q ← qr(A_t Q), summing log |R_ii|."""
    q, total = np.eye(len(jacobians[0])), 0.0
    for a in jacobians:
        q, r = np.linalg.qr(a @ q)
        total = total + np.log(np.abs(np.diag(r)))
    return np.sort(total)[::-1] / len(jacobians)


def products(jacobians):
    m, out = np.eye(len(jacobians[0])), []
    for a in jacobians:
        m = a @ m
        out.append(m)
    return out


def test_one_spectrum_per_trial_matches_dense_products():
    model = tanh_rnn(7, batch=3, steps=12, hidden=4, gain=1.6)
    jacobians = dense_jacobians(model)
    spectrum = ops.lyapunov_spectrum(model)
    assert spectrum.shape == (3, 4)
    for b in range(3):
        np.testing.assert_allclose(spectrum[b], benettin(jacobians[b]), rtol=1e-10, atol=1e-12)
        transitions = products(jacobians[b])
        # the explicit product keeps only the singular values within ~1e-12 of the top one
        finite = np.log(np.linalg.svd(transitions[-1], compute_uv=False)) / 12
        np.testing.assert_allclose(ops.finite_time_lyapunov(model)[b, :2], finite[:2], rtol=1e-10)
        norms = [np.linalg.norm(m, 2) for m in transitions]
        np.testing.assert_allclose(ops.gradient_norms(model)[b], norms, rtol=1e-10)
    # the inputs drive the trials apart: their spectra differ
    assert np.ptp(spectrum[:, 0]) > 1e-3
    top = ops.lyapunov_spectrum(model, k=2, discard=4)
    assert top.shape == (3, 2) and np.all(np.diff(top, axis=1) <= 0)


def test_a_linear_driven_model_has_the_log_moduli_of_its_eigenvalues():
    W = np.array([[1.2, 0.3], [0.0, 0.6]])
    model = ops.Recurrence(
        lambda h, x, w: h @ W.T + x, np.zeros(1), np.zeros((2, 2)), np.ones((2, 300, 2))
    )
    np.testing.assert_allclose(
        ops.lyapunov_spectrum(model, discard=50), np.log([[1.2, 0.6]] * 2), atol=1e-6
    )
    with pytest.raises(ShapeError, match="discard"):
        ops.lyapunov_spectrum(model, discard=300)
