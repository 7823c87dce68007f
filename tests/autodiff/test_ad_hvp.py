"""Hessian-vector products on one recorded graph (issue 20): against finite differences of
gradients, the dense Hessian, the retracing path, and with the graph recorded once."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import symdyn.autodiff as ad

IN, HIDDEN, OUT, BATCH = 3, 4, 2, 5
SHAPES = [(IN, HIDDEN), (HIDDEN,), (HIDDEN, OUT), (OUT,)]
SIZE = sum(int(np.prod(s)) for s in SHAPES)


def mlp_loss(data, labels):
    """A tanh MLP with softmax cross-entropy, over its flattened parameters."""

    def loss(theta):
        parts, start = [], 0
        for shape in SHAPES:
            n = int(np.prod(shape))
            parts.append(ad.reshape(theta[start : start + n], shape))
            start += n
        w1, b1, w2, b2 = parts
        logits = ad.tanh(data @ w1 + b1) @ w2 + b2
        return -ad.sum(labels * ad.log_softmax(logits)) / BATCH + 0.1 * ad.sum(ad.exp(-(theta**2)))

    return loss


def problem(seed):
    rng = np.random.default_rng(seed)
    data = rng.standard_normal((BATCH, IN))
    labels = np.eye(OUT)[rng.integers(0, OUT, BATCH)]
    theta = rng.standard_normal(SIZE)
    return mlp_loss(data, labels), theta, rng.standard_normal(SIZE)


@given(st.integers(0, 2**32 - 1))
def test_hvp_equals_central_differences_of_the_gradient(seed):
    loss, theta, v = problem(seed)
    gradient = ad.grad(loss)
    h = 1e-5
    differences = (gradient(theta + h * v) - gradient(theta - h * v)) / (2 * h)
    np.testing.assert_allclose(ad.hvp(loss, theta, v), differences, rtol=1e-6, atol=1e-8)


@given(st.integers(0, 2**32 - 1))
def test_hvp_equals_the_dense_hessian_times_v_and_the_retracing_path(seed):
    loss, theta, v = problem(seed)
    dense = ad.hessian(loss)(theta)
    np.testing.assert_allclose(dense, dense.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ad.hvp(loss, theta, v), dense @ v, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(
        ad.hvp(loss, theta, v), ad.jvp(ad.grad(loss), theta, v)[1], rtol=1e-12, atol=1e-14
    )


def test_hvp_at_records_the_graph_once_and_gives_every_column_of_the_hessian():
    loss, theta, _ = problem(0)
    calls = []

    def counted(t):
        calls.append(1)
        return loss(t)

    product = ad.hvp_at(counted, theta)
    columns = np.stack([product(e) for e in np.eye(SIZE)], axis=1)
    assert len(calls) == 1  # the SIZE products reuse one trace of the function
    np.testing.assert_allclose(columns, ad.hessian(loss)(theta), rtol=1e-10, atol=1e-12)


def test_hvp_nests_inside_other_transforms():
    """d/dx [v · H(x) v] for f = Σ x⁴: H = diag(12 x²), so the gradient is 24 x v²."""
    x, v = np.array([1.0, -2.0, 0.5]), np.array([0.3, 1.0, -2.0])

    def curvature(y):
        return ad.sum(v * ad.hvp(lambda z: ad.sum(z**4), y, v))

    np.testing.assert_allclose(ad.grad(curvature)(x), 24 * x * v**2, rtol=1e-12)
    # and a traced direction: d/dw [w · H w] = 2 H w for the fixed Hessian at x
    hessian = np.diag(12 * x**2)
    along = ad.grad(lambda w: ad.sum(w * ad.hvp(lambda z: ad.sum(z**4), x, w)))(v)
    np.testing.assert_allclose(along, 2 * hessian @ v, rtol=1e-12)
