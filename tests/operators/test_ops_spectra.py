"""Top singular values, effective ranks, Hutchinson traces and reduced views vs dense algebra."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.sparse.linalg import aslinearoperator

import symdyn.autodiff as ad
from symdyn import operators as ops


def rnn(seed, batch=2, steps=6, hidden=6):
    rng = np.random.default_rng(seed)
    H = hidden

    def step(h, x, theta):
        return ad.tanh(h @ theta[: H * H].reshape(H, H) + x * theta[H * H :])

    theta = np.concatenate([rng.standard_normal(H * H) / np.sqrt(H), rng.standard_normal(H)])
    return ops.Recurrence(
        step, theta, np.zeros((batch, H)), rng.standard_normal((batch, steps, 1))
    )


def dense(op):
    return op @ np.eye(op.shape[1])


@settings(max_examples=10)
@given(seed=st.integers(0, 2**16))
def test_lanczos_top_values_of_phi_match_dense(seed):
    model = rnn(seed)  # 72 × 72: above the dense limit, so ARPACK runs
    Phi = ops.nto(model)
    result = ops.svd(Phi, k=4)
    exact = np.linalg.eigvalsh(dense(Phi))[::-1][:4]
    np.testing.assert_allclose(result.values, exact, rtol=1e-8, atol=1e-10)
    assert result.left.shape == (4, *model.shape)
    # Each singular function is one: Φ v = σ v.
    for sigma, v in zip(result.values, result.right, strict=True):
        np.testing.assert_allclose(Phi.apply(v), sigma * v, atol=1e-7 * result.values[0])


def test_svds_for_the_non_symmetric_propagator():
    model = rnn(1)
    result = ops.svd(ops.P(model), k=3)
    exact = np.linalg.svd(dense(ops.P(model)), compute_uv=False)[:3]
    np.testing.assert_allclose(result.values, exact, rtol=1e-8)


def test_small_operators_are_decomposed_densely_up_to_full_rank():
    A = np.diag([3.0, 1.0, 2.0])
    result = ops.svd(aslinearoperator(A), k=3)
    np.testing.assert_allclose(result.values, [3.0, 2.0, 1.0])


def test_a_dense_svd_that_lapack_fails_to_converge_falls_back_to_gesvd(monkeypatch):
    """OpenBLAS 0.3.31's gesdd failed to converge on a well-conditioned 480 x 480 kernel."""
    rng = np.random.default_rng(0)
    A = rng.standard_normal((6, 4))

    def fails(*args, **kwargs):
        raise np.linalg.LinAlgError("SVD did not converge")

    exact = np.linalg.svd(A, compute_uv=False)
    monkeypatch.setattr(np.linalg, "svd", fails)
    result = ops.svd(aslinearoperator(A), k=3)
    np.testing.assert_allclose(result.values, exact[:3], rtol=1e-12)
    np.testing.assert_allclose(
        np.abs(result.left @ A @ result.right.T), np.diag(exact[:3]), atol=1e-12
    )


@given(st.lists(st.floats(0.01, 100.0), min_size=1, max_size=20), st.floats(0.1, 10.0))
def test_effective_rank_bounds_and_scale_invariance(values, scale):
    values = np.array(values)
    n = len(values)
    for method in ("entropy", "participation"):
        r = ops.effective_rank(values, method)
        assert 1.0 - 1e-12 <= r <= n + 1e-9
        assert abs(ops.effective_rank(scale * values, method) - r) < 1e-9 * n
        assert abs(ops.effective_rank(np.full(n, values[0]), method) - n) < 1e-9 * n


def test_hutchinson_trace_with_error_bar():
    model = rnn(2)
    Phi = ops.nto(model)
    exact = np.trace(dense(Phi))
    estimate = ops.trace(Phi, samples=200, seed=1)
    assert estimate.stderr > 0
    assert abs(estimate.value - exact) < 4 * estimate.stderr
    # Rademacher probes are exact on a diagonal.
    diag = ops.trace(aslinearoperator(np.diag(np.arange(5.0))), samples=4)
    assert (diag.value, diag.stderr) == (10.0, 0.0)


@pytest.mark.parametrize("over", [("time",), ("batch",), ("hidden",), ("batch", "time")])
def test_average_is_R_op_E(over):
    model = rnn(4, batch=2, steps=3, hidden=2)
    Phi = ops.nto(model)
    view = ops.average(Phi, over=over)
    axes = tuple(sorted({"batch": 0, "time": 1, "hidden": 2}[a] for a in over))
    reduced = view.in_shape
    # E copies along the averaged axes; R = Eᵀ / count averages.
    E = np.stack(
        [
            np.broadcast_to(np.expand_dims(e.reshape(reduced), axes), model.shape).ravel()
            for e in np.eye(int(np.prod(reduced)))
        ],
        axis=1,
    )
    count = model.size // E.shape[1]
    expected = E.T @ dense(Phi) @ E / count
    np.testing.assert_allclose(dense(view), expected, atol=1e-12)
    np.testing.assert_allclose(dense(view.H), expected.T, atol=1e-12)
