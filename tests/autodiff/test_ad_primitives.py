"""Every primitive's derivatives against central finite differences and each other.

For each operation f and each of its arguments x (others held fixed), with
shapes drawn by hypothesis (broadcasting included) and random values:

- reverse mode: uᵀJ matches finite differences of x ↦ ⟨u, f(x)⟩;
- forward mode: J v matches (f(x + εv) − f(x − εv)) / 2ε;
- transposition: ⟨u, J v⟩ = ⟨Jᵀu, v⟩ to rounding;
- second order: the Hessian of φ = ⟨u, f⟩ along v by forward-over-reverse
  matches finite differences of ∇φ, reverse-over-reverse gives the same, and
  forward-over-forward gives the same bilinear form D²f[v, w].
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import symdyn.autodiff as ad
from symdyn.errors import AutodiffError

EPS = 1e-6


def real(rng, shape):
    return rng.uniform(-2.0, 2.0, shape)


def positive(rng, shape):
    return rng.uniform(0.3, 3.0, shape)


def nonzero(rng, shape):
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def distinct(rng, shape):
    """Values at least 1/(4n) apart, so that max/argmax are stable under ±ε."""
    n = int(np.prod(shape))
    return rng.permutation(np.linspace(-2.0, 2.0, max(n, 1)))[:n].reshape(shape)


one = hnp.array_shapes(min_dims=0, max_dims=3, max_side=3).map(lambda s: (s,))
one_nonscalar = hnp.array_shapes(min_dims=1, max_dims=3, max_side=3).map(lambda s: (s,))
two_or_more = hnp.array_shapes(min_dims=2, max_dims=3, max_side=3).map(lambda s: (s,))
two_broadcast = hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3).map(
    lambda b: b.input_shapes
)


@st.composite
def matmul_shapes(draw):
    m, k, n = (draw(st.integers(1, 3)) for _ in range(3))
    batch_a, batch_b = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=2)
    ).input_shapes
    a = (k,) if draw(st.booleans()) else (*batch_a, m, k)
    b = (k,) if draw(st.booleans()) else (*batch_b, k, n)
    return a, b


@st.composite
def joinable_shapes(draw, count, equal):
    base = list(draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3)))
    axis = draw(st.integers(0, len(base) - 1))
    shapes = []
    for _ in range(count):
        if not equal:
            base[axis] = draw(st.integers(1, 3))
        shapes.append(tuple(base))
    return shapes


def _mask(shape):
    return (np.arange(int(np.prod(shape))) % 2 == 0).reshape(shape)


# name: (function, shapes strategy, value generator per argument)
CASES = {
    "add": (lambda x, y: x + y, two_broadcast, [real, real]),
    "subtract": (lambda x, y: x - y, two_broadcast, [real, real]),
    "multiply": (lambda x, y: x * y, two_broadcast, [real, real]),
    "divide": (lambda x, y: x / y, two_broadcast, [real, nonzero]),
    "power": (lambda x, y: x**y, two_broadcast, [positive, real]),
    "rpow": (lambda x: 2.0**x, one, [real]),
    "rtruediv": (lambda x: 1.0 / x, one, [nonzero]),
    "negative": (lambda x: -x, one, [real]),
    "exp": (ad.exp, one, [real]),
    "log": (ad.log, one, [positive]),
    "sqrt": (ad.sqrt, one, [positive]),
    "abs": (ad.abs, one, [nonzero]),
    "sin": (ad.sin, one, [real]),
    "cos": (ad.cos, one, [real]),
    "tan": (ad.tan, one, [lambda rng, s: rng.uniform(-1.0, 1.0, s)]),
    "tanh": (ad.tanh, one, [real]),
    "sigmoid": (ad.sigmoid, one, [real]),
    "relu": (ad.relu, one, [nonzero]),
    "maximum": (ad.maximum, two_broadcast, [distinct, lambda rng, s: distinct(rng, s) + 0.01]),
    "minimum": (ad.minimum, two_broadcast, [distinct, lambda rng, s: distinct(rng, s) + 0.01]),
    "where": (
        lambda x, y: ad.where(_mask(np.broadcast_shapes(x.shape, y.shape)), x, y),
        two_broadcast,
        [real, real],
    ),
    "matmul": (lambda a, b: a @ b, matmul_shapes(), [real, real]),
    "dot": (
        ad.dot,
        matmul_shapes().filter(lambda s: len(s[0]) <= 2 and len(s[1]) <= 2),
        [real, real],
    ),
    "sum": (ad.sum, one, [real]),
    "sum_axis": (lambda x: ad.sum(x, axis=-1), one_nonscalar, [real]),
    "sum_axes_keepdims": (lambda x: ad.sum(x, axis=(0, -1), keepdims=True), two_or_more, [real]),
    "mean_axis": (lambda x: ad.mean(x, axis=0), one_nonscalar, [real]),
    "max": (ad.max, one, [distinct]),
    "min_axis_keepdims": (lambda x: ad.min(x, axis=-1, keepdims=True), one_nonscalar, [distinct]),
    "logsumexp": (lambda x: ad.logsumexp(x, axis=-1), one_nonscalar, [real]),
    "softmax": (ad.softmax, one_nonscalar, [real]),
    "reshape": (lambda x: ad.reshape(x, (-1,)), one, [real]),
    "transpose": (lambda x: ad.transpose(x), one, [real]),
    "transpose_axes": (
        lambda x: ad.transpose(x, (2, 0, 1)),
        hnp.array_shapes(min_dims=3, max_dims=3, max_side=3).map(lambda s: (s,)),
        [real],
    ),
    "T": (lambda x: x.T, one, [real]),
    "broadcast_to": (lambda x: ad.broadcast_to(x, (2, *x.shape)), one, [real]),
    "expand_dims": (lambda x: ad.expand_dims(x, 0), one, [real]),
    "getitem_basic": (lambda x: x[..., ::-1], one_nonscalar, [real]),
    "getitem_fancy": (lambda x: x[[0, 0, -1]], one_nonscalar, [real]),
    "getitem_int": (lambda x: x[0], one_nonscalar, [real]),
    "concatenate": (
        lambda *xs: ad.concatenate(xs, axis=_join_axis(xs)),
        joinable_shapes(3, equal=False),
        [real, real, real],
    ),
    "stack": (
        lambda x, y: ad.stack([x, y], axis=-1),
        joinable_shapes(2, equal=True),
        [real, real],
    ),
}


def _join_axis(arrays):
    """The one axis along which the drawn shapes differ (0 when they agree)."""
    shapes = np.array([np.shape(a) for a in arrays])
    differ = np.flatnonzero((shapes != shapes[0]).any(axis=0))
    return int(differ[0]) if differ.size else 0


def _along(f, args, i):
    return lambda x: f(*args[:i], x, *args[i + 1 :])


def _fd_gradient(phi, x):
    grad = np.zeros_like(x)
    for j in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[j] = EPS
        grad[j] = (phi(x + e) - phi(x - e)) / (2 * EPS)
    return grad


def _close(actual, expected, tol=1e-5):
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


def _check_argument(f, x, rng):
    value = np.asarray(f(x))
    u = rng.standard_normal(value.shape)
    v = rng.standard_normal(x.shape)
    w = rng.standard_normal(x.shape)

    def phi(z):
        return ad.sum(u * f(z))

    value_r, pull = ad.vjp(f, x)
    jt_u = pull(u)
    value_f, jv = ad.jvp(f, x, v)
    assert np.shape(jt_u) == x.shape and np.shape(jv) == value.shape
    _close(value_r, value, 1e-12)
    _close(value_f, value, 1e-12)
    _close(jt_u, _fd_gradient(lambda z: np.sum(u * f(z)), x))
    _close(jv, (np.asarray(f(x + EPS * v)) - np.asarray(f(x - EPS * v))) / (2 * EPS))
    _close(np.sum(u * jv), np.sum(jt_u * v), 1e-10)

    h_v = ad.hvp(phi, x, v)
    grad_phi = ad.grad(phi)
    _close(h_v, (grad_phi(x + EPS * v) - grad_phi(x - EPS * v)) / (2 * EPS), 1e-4)
    _close(ad.grad(lambda z: ad.sum(grad_phi(z) * v))(x), h_v, 1e-9)
    second = ad.jvp(lambda z: ad.jvp(f, z, v)[1], x, w)[1]
    _close(np.sum(u * second), np.sum(w * h_v), 1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
@given(data=st.data())
def test_derivatives_match_finite_differences_and_each_other(name, data):
    f, shapes, makers = CASES[name]
    shape_tuple = data.draw(shapes, label="shapes")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    args = [make(rng, shape) for make, shape in zip(makers, shape_tuple, strict=True)]
    for i in range(len(args)):
        _check_argument(_along(f, args, i), args[i], rng)


def test_float32_inputs_keep_their_dtype():
    x = np.linspace(-1.0, 1.0, 4, dtype=np.float32)
    assert ad.grad(lambda x: ad.sum(ad.tanh(x) * 2.0 + x**2))(x).dtype == np.float32


def test_maximum_splits_the_derivative_at_ties():
    assert ad.grad(lambda x: ad.maximum(x, 1.0))(1.0) == 0.5
    np.testing.assert_allclose(ad.grad(ad.max)(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])


def test_a_vjp_of_the_wrong_shape_fails_where_it_is_registered():
    """As autograd's assert_vspace_match: a wrong rule is an error naming its primitive,
    never a broadcast into a wrong gradient."""
    total = ad.Primitive(lambda x: np.sum(x), name="wrong_sum")
    ad.defvjp(total, lambda g, ans, x: g)  # forgets to broadcast g to x's shape
    with pytest.raises(AutodiffError, match=r"VJP of wrong_sum in argument 0 .* shape \(\)"):
        ad.grad(lambda x: total(x))(np.ones(3))

    realpart = ad.Primitive(lambda x: x * 1.0, name="wrong_real")
    ad.defvjp(realpart, lambda g, ans, x: g * (1 + 0j))
    with pytest.raises(AutodiffError, match="complex cotangent for a real value"):
        ad.grad(lambda x: realpart(x))(2.0)
