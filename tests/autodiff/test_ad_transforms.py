"""The transforms: results, nesting, modes, and errors on bad input."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import symdyn.autodiff as ad
from symdyn.errors import AutodiffError, SymdynError


@given(st.floats(-3.0, 3.0), st.integers(1, 6))
def test_nth_derivative_of_sin_cycles_through_cos_and_sin(x, n):
    f = ad.sin
    for _ in range(n):
        f = ad.grad(f)
    expected = [math.sin, math.cos, lambda t: -math.sin(t), lambda t: -math.cos(t)][n % 4](x)
    assert f(x) == pytest.approx(expected, abs=1e-12)


def test_derivatives_of_a_polynomial_reach_zero_and_stay_zero():
    f = lambda x: x**3  # noqa: E731
    values = []
    for _ in range(5):
        f = ad.grad(f)
        values.append(float(f(2.0)))
    assert values == [12.0, 12.0, 6.0, 0.0, 0.0]


def test_nested_transforms_do_not_confuse_perturbations():
    """d/dx [x · d/dy (x + y)] = 1 (Siskind & Pearlmutter's perturbation confusion)."""
    outer = ad.grad(lambda x: x * ad.grad(lambda y: x + y)(1.0))
    assert outer(3.0) == 1.0


def test_value_and_grad_with_several_arguments():
    value, (gx, gy) = ad.value_and_grad(lambda x, y: ad.sum(x * y) + 2.0, argnum=(0, 1))(
        np.array([1.0, 2.0]), np.array([3.0, 5.0])
    )
    assert value == 15.0
    np.testing.assert_array_equal(gx, [3.0, 5.0])
    np.testing.assert_array_equal(gy, [1.0, 2.0])


def test_gradient_is_zero_for_an_argument_the_output_ignores():
    gx, gy = ad.grad(lambda x, y: ad.sum(x**2), argnum=(0, 1))(np.ones(2), np.ones(3))
    np.testing.assert_array_equal(gy, np.zeros(3))
    np.testing.assert_array_equal(gx, 2 * np.ones(2))


@pytest.mark.parametrize("n_in, n_out", [(2, 5), (5, 2), (3, 3)])
def test_jacobian_in_both_modes_matches_the_explicit_matrix(n_in, n_out):
    rng = np.random.default_rng(n_in * 10 + n_out)
    a = rng.standard_normal((n_out, n_in))
    x = rng.standard_normal(n_in)
    jac = ad.jacobian(lambda x: ad.tanh(a @ x))(x)
    np.testing.assert_allclose(jac, (1 - np.tanh(a @ x) ** 2)[:, None] * a, atol=1e-12)


def test_jacobian_of_matrix_valued_function_has_output_then_input_shape():
    x = np.arange(6.0).reshape(2, 3)
    jac = ad.jacobian(lambda x: x.T * 2.0)(x)
    assert jac.shape == (3, 2, 2, 3)
    assert jac[1, 0, 0, 1] == 2.0 and jac[1, 0, 1, 0] == 0.0


def test_hessian_and_hvp_agree_with_the_analytic_hessian():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    x, v = rng.standard_normal(4), rng.standard_normal(4)

    def f(x):
        return ad.sum(ad.exp(a @ x))

    exact = a.T @ np.diag(np.exp(a @ x)) @ a
    np.testing.assert_allclose(ad.hessian(f)(x), exact, rtol=1e-12)
    np.testing.assert_allclose(ad.hvp(f, x, v), exact @ v, rtol=1e-12)


def test_third_order_tensor_by_nested_jacobians():
    third = ad.jacobian(ad.hessian(lambda x: ad.sum(x**3)))(np.array([1.0, 2.0]))
    expected = np.zeros((2, 2, 2))
    expected[0, 0, 0], expected[1, 1, 1] = 6.0, 6.0
    np.testing.assert_array_equal(third, expected)


def test_jacobian_of_a_linear_map_inside_another_transform_is_constant():
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    hess = ad.hessian(lambda x: ad.sum(ad.jacobian(lambda y: a @ y)(x) * x[0]))
    np.testing.assert_array_equal(hess(np.ones(2)), np.zeros((2, 2)))


def test_numpy_ufuncs_and_reflected_operators_dispatch_to_primitives():
    def g(x):
        return np.sum(np.exp(x) * np.ones(2) + 1.0 / x - 2.0**x + np.float64(3.0) * x)

    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(
        ad.grad(g)(x), np.exp(x) - 1 / x**2 - np.log(2) * 2.0**x + 3.0, rtol=1e-12
    )


def test_tracers_support_indexing_methods_and_unpacking():
    def f(x):
        a, b = x
        return (x.T @ x).sum() + x.mean(axis=0)[1] + a[0] * b.reshape(1, 2)[0, 1]

    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = 2 * x.sum(axis=1, keepdims=True) * np.ones((2, 2))
    expected += np.array([[0.0, 0.5], [0.0, 0.5]]) + np.array([[4.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(ad.grad(f)(x), expected)


def test_deep_graph_does_not_overflow_the_stack():
    def f(x):
        for _ in range(20_000):
            x = x * 1.0001
        return x

    assert ad.grad(f)(1.0) == pytest.approx(1.0001**20_000)


def test_gradient_of_a_scalar_keeps_shape_and_dtype():
    g = ad.grad(lambda x: x * x)(np.float32(3.0))
    assert g.shape == () and g.dtype == np.float32


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: ad.grad(lambda x: x * 2.0)(np.ones(3)), "must return a scalar"),
        (lambda: ad.grad(lambda x: x * x)(3), "dtype int"),
        (lambda: ad.grad(lambda x: x * x)(np.array([True])), "dtype bool"),
        (lambda: ad.grad(lambda x: 1.0)(2.0), "does not depend on its input"),
        (lambda: ad.grad(lambda x: float(x) ** 2)(2.0), "cannot be converted"),
        (lambda: ad.grad(lambda x: np.asarray(x).sum())(np.ones(2)), "cannot be converted"),
        (lambda: ad.jacobian(lambda x: [x[0], x[1]])(np.ones(2)), "got list"),
        (lambda: ad.grad(lambda x: None)(1.0), "got NoneType"),
        (lambda: ad.jvp(ad.sin, np.ones(2), np.ones(3)), "tangent of shape"),
        (lambda: ad.vjp(ad.sin, np.ones(2))[1](np.ones(3)), "cotangent of shape"),
        (lambda: ad.grad(lambda x: ad.sum(np.cumsum(x)))(np.ones(2)), "cannot be converted"),
        (lambda: ad.grad(lambda x: np.arctan(x))(1.0), "np.arctan is not differentiable"),
        (lambda: ad.grad(lambda x: np.sum(x, dtype=np.float32))(np.ones(2)), "dtype="),
        (lambda: ad.dot(np.ones((2, 2, 2)), np.ones(2)), "use matmul"),
    ],
)
def test_bad_input_raises_a_clear_autodiff_error(call, message):
    with pytest.raises(AutodiffError, match=message) as info:
        call()
    assert isinstance(info.value, SymdynError) and isinstance(info.value, TypeError)


def test_a_new_primitive_is_one_definition_per_rule():
    cube = ad.Primitive(lambda x: x**3, "cube")
    ad.defvjp(cube, lambda g, ans, x: g * 3.0 * x**2)
    ad.defjvp(cube, lambda t, ans, x: t * 3.0 * x**2)
    assert ad.grad(ad.grad(cube))(2.0) == 12.0
    assert ad.jvp(cube, 2.0, 1.0)[1] == 12.0
    assert ad.hvp(cube, np.array(2.0), np.array(1.0)) == 12.0


def test_primitive_without_a_rule_names_itself():
    floor = ad.Primitive(np.floor, "floor")
    with pytest.raises(AutodiffError, match=r"forward-mode rule .* floor"):
        ad.jvp(floor, 1.5, 1.0)
    with pytest.raises(AutodiffError, match=r"reverse-mode rule .* floor"):
        ad.grad(floor)(1.5)
    half = ad.Primitive(lambda x, n: x / n, "half")
    ad.defvjp(half, lambda g, ans, x, n: g / n)
    with pytest.raises(AutodiffError, match="half is not differentiable in argument 1"):
        ad.grad(half, argnum=1)(1.0, 2.0)


def test_constant_functions_have_zero_derivatives_inside_other_transforms():
    np.testing.assert_array_equal(ad.hessian(lambda x: 3.0)(np.ones(2)), np.zeros((2, 2)))
    assert ad.grad(lambda x: ad.jvp(lambda y: 2.0, x, 1.0)[1] + x)(1.0) == 1.0
    assert ad.hvp(lambda x: ad.sum(5.0 * x), np.ones(2), np.ones(2)).tolist() == [0.0, 0.0]


def test_jacobian_with_no_inputs_or_no_outputs_is_empty():
    assert ad.jacobian(lambda x: x * 2.0)(np.zeros(0)).shape == (0, 0)
    assert ad.jacobian(lambda x: x[:0])(np.ones(2)).shape == (0, 2)


def test_tracers_behave_like_arrays_for_len_bool_repr_and_transpose():
    seen = {}

    def f(x):
        seen["len"], seen["bool"], seen["repr"] = len(x), bool(x[0, 0]), repr(x)
        return ad.sum(x.transpose(1, 0)[0] * ad.dot(2.0, x)[:, 0])

    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(ad.grad(f)(x), [[4.0, 0.0], [12.0, 0.0]])
    assert seen["len"] == 2 and seen["bool"] is True
    assert seen["repr"].startswith("ReverseTracer(array([[1., 2.],")
    assert repr(ad.exp) == "Primitive(exp)"
