"""Batched forward mode: k tangents in one pass agree with k separate JVPs."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import symdyn.autodiff as ad
from symdyn.errors import AutodiffError

W = np.arange(12.0).reshape(3, 4) / 10
V = np.linspace(-1.0, 1.0, 3)

# Each maps x of shape [2, 3] to an array: between them they use every primitive.
FUNCTIONS = {
    "elementwise": lambda x: ad.tanh(x) * ad.exp(-x) / (2.0 + ad.sin(x)) - ad.sqrt(x * x + 1.0),
    "broadcast": lambda x: x * V + ad.cos(V) ** x - ad.log(1.5 + ad.sigmoid(x)),
    "piecewise": lambda x: ad.relu(x) + ad.abs(x) + ad.maximum(x, 0.1) - ad.minimum(x, V),
    "where": lambda x: ad.where(x > 0, x**3, -x),
    "matmul": lambda x: x @ W,
    "matmul-left": lambda x: W.T @ x.T,
    "matvec": lambda x: x @ V + ad.sum(x[0] * x[1]) + x[1] @ x[0],
    "batched-matmul": lambda x: ad.reshape(x, (2, 3, 1)) @ ad.reshape(x, (2, 1, 3)),
    "vector-times-tensor": lambda x: x[0] @ ad.reshape(ad.concatenate([x, x]), (2, 3, 2)),
    "reductions": lambda x: ad.stack(
        [ad.sum(x, axis=0), ad.max(x, axis=0), ad.min(x * x, axis=-2), ad.mean(x, axis=0)]
    ),
    "total": lambda x: ad.sum(x**2) + ad.max(x),
    "shapes": lambda x: ad.transpose(ad.broadcast_to(x, (4, 2, 3)), (2, 0, 1)).T,
    "indexing": lambda x: ad.concatenate(
        [x[:, 1:], x[::-1, :1] ** 2, x[[0, 1, 1], [2, 0, 1]][:, None][:2]], axis=1
    ),
    "softmax": lambda x: ad.softmax(x, axis=-1) + ad.logsumexp(x, axis=0),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**16), k=st.integers(1, 4))
def test_batch_jvp_matches_one_jvp_per_tangent(name, seed, k):
    f = FUNCTIONS[name]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 3))
    tangents = rng.standard_normal((k, 2, 3))
    value, pushed = ad.batch_jvp(f, x, tangents)
    np.testing.assert_allclose(value, ad.jvp(f, x, tangents[0])[0], atol=1e-14)
    expected = np.stack([ad.jvp(f, x, t)[1] for t in tangents])
    assert pushed.shape == (k, *np.shape(value))
    np.testing.assert_allclose(pushed, expected, rtol=1e-12, atol=1e-12)


def test_identity_tangents_give_the_jacobian_and_nest_under_grad():
    f = FUNCTIONS["elementwise"]
    x = np.array([[0.3, -0.2, 1.0], [0.5, 0.1, -0.7]])
    columns = ad.batch_jvp(f, x, np.eye(6).reshape(6, 2, 3))[1]
    np.testing.assert_allclose(
        columns.reshape(6, 6).T, ad.jacobian(f)(x).reshape(6, 6), rtol=1e-13, atol=1e-14
    )

    # Under reverse mode: d/dx of sum over tangents, against the gradient of the sum of JVPs
    def batched(x):
        return ad.sum(ad.batch_jvp(f, x, np.ones((2, 2, 3)))[1])

    def single(x):
        return 2 * ad.sum(ad.jvp(f, x, np.ones((2, 3)))[1])

    np.testing.assert_allclose(ad.grad(batched)(x), ad.grad(single)(x), rtol=1e-12)


def test_a_primitive_without_a_batched_rule_runs_its_rule_per_tangent():
    cube = ad.Primitive(lambda x: x**3, "cube")
    ad.defjvp(cube, lambda t, ans, x: t * 3 * x**2)
    x = np.array([1.0, 2.0])
    pushed = ad.batch_jvp(cube, x, np.array([[1.0, 0.0], [1.0, 1.0]]))[1]
    np.testing.assert_allclose(pushed, [[3.0, 0.0], [3.0, 12.0]])


def test_wrong_tangent_shapes_and_constant_functions():
    with pytest.raises(AutodiffError, match=r"\[k, \*\(2,\)\]"):
        ad.batch_jvp(ad.sin, np.zeros(2), np.zeros(2))
    with pytest.raises(AutodiffError, match="does not depend"):
        ad.batch_jvp(lambda x: np.ones(3), np.zeros(2), np.zeros((4, 2)))
