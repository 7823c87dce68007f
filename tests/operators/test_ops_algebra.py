"""Operator algebra, alignment, comparison and Hutch++ against exact dense values."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symdyn import operators as ops
from symdyn.errors import ShapeError
from tests.operators.test_ops_tangent import dense, tanh_rnn


def matrix_operator(M, shape, symmetric=False, name="M"):
    return ops.TensorOperator(
        lambda v: (M @ v.ravel()).reshape(shape),
        lambda u: (M.T @ u.ravel()).reshape(shape),
        shape,
        shape,
        symmetric,
        name,
    )


def psd(rng, n, decay=0.7):
    Q = np.linalg.qr(rng.standard_normal((n, n)))[0]
    return Q @ np.diag(decay ** np.arange(n)) @ Q.T


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), c=st.floats(-3, 3))
def test_algebra_matches_matrix_algebra_and_keeps_shapes(seed, c):
    rng = np.random.default_rng(seed)
    shape = (2, 3)
    A, B = rng.standard_normal((6, 6)), rng.standard_normal((6, 6))
    a, b = matrix_operator(A, shape, name="A"), matrix_operator(B, shape, name="B")
    cases = {
        "compose": (a @ b, A @ B),
        "sum": (a + b, A + B),
        "difference": (a - b, A - B),
        "scale": (c * a, c * A),
        "adjoint": (ops.adjoint(a), A.T),
        "symmetric part": (ops.symmetric_part(a), (A + A.T) / 2),
        "nested": (ops.compose(ops.add(a, ops.scale(b, c)), a.H), (A + c * B) @ A.T),
    }
    for name, (op, expected) in cases.items():
        assert isinstance(op, ops.TensorOperator), name
        assert op.in_shape == op.out_shape == shape, name
        np.testing.assert_allclose(dense(op), expected, atol=1e-12, err_msg=name)
        np.testing.assert_allclose(dense(op.H), expected.T, atol=1e-12, err_msg=name)


def test_algebra_on_model_operators_and_shape_errors():
    model = tanh_rnn(0)
    Phi, K, P = ops.nto(model), ops.K(model), ops.P(model)
    product = P @ K @ P.H
    assert product.in_shape == model.shape and product.dense is None  # P has no dense form
    np.testing.assert_allclose(dense(product), dense(Phi), atol=1e-12)
    np.testing.assert_allclose((Phi + 2 * K).to_matrix(), dense(Phi) + 2 * dense(K), atol=1e-12)
    with pytest.raises(ShapeError, match="gives"):
        ops.compose(ops.parameter_jacobian(model), Phi)
    with pytest.raises(ShapeError, match="maps"):
        ops.add(Phi, ops.ntk(model))


def exact_alignment(A, B):
    return np.sum(A * B) / (np.linalg.norm(A) * np.linalg.norm(B))


def test_an_operator_is_aligned_with_itself():
    Phi = ops.nto(tanh_rnn(1))
    result = ops.alignment(Phi, Phi, k=3)
    assert result.kernel == pytest.approx(1.0, abs=1e-12) and result.stderr < 1e-12
    np.testing.assert_allclose(result.angles, 0.0, atol=1e-6)
    same = ops.compare(Phi, Phi)
    assert same.distance == 0.0 and same.stderr == 0.0


def test_estimates_match_exact_values_within_their_standard_errors():
    """Twenty cases: every error within 4 standard errors, and the errors bars not inflated."""
    z_kernel, z_distance = [], []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        A, B = psd(rng, 12), psd(rng, 12)
        B = 0.5 * A + B  # partly aligned
        a, b = matrix_operator(A, (12,), True), matrix_operator(B, (12,), True)
        result = ops.alignment(a, b, k=3, samples=200, seed=seed)
        z_kernel.append((result.kernel - exact_alignment(A, B)) / result.stderr)
        distance = np.linalg.norm(A - B) / np.linalg.norm(B)
        comparison = ops.compare(a, b, samples=200, seed=seed)
        z_distance.append((comparison.distance - distance) / comparison.stderr)
        ua, ub = np.linalg.eigh(A)[1][:, ::-1][:, :3], np.linalg.eigh(B)[1][:, ::-1][:, :3]
        cosines = np.linalg.svd(ua.T @ ub, compute_uv=False)
        np.testing.assert_allclose(
            result.angles, np.sort(np.arccos(np.clip(cosines, -1, 1))), atol=1e-6
        )
    for z in (np.abs(z_kernel), np.abs(z_distance)):
        assert z.max() < 4 and 0.2 < z.mean() < 2, z


def test_hutch_plus_plus_is_unbiased_and_beats_hutchinson_on_a_decaying_spectrum():
    K = ops.K(tanh_rnn(2, batch=3, steps=5, hidden=4))
    exact = np.trace(dense(K))
    plain = ops.trace(K, samples=60, seed=3)
    plus = ops.trace(K, samples=60, seed=3, method="hutch++")
    assert plus.method == "hutch++" and plus.samples == 60
    assert abs(plus.value - exact) < 4 * plus.stderr + 1e-9 * exact
    assert abs(plain.value - exact) < 4 * plain.stderr
    assert plus.stderr < plain.stderr / 2
