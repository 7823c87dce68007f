"""Code printed by ``sympy.lambdify`` runs on traced values through ``ad.namespace``.

The gradient of each lambdified expression must match sympy's exact
derivative evaluated at the same point.
"""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn.autodiff as ad

x, y = sp.symbols("x y", real=True)

EXPRESSIONS = [
    x**2 * y + sp.sin(x) * sp.exp(-y),
    sp.sqrt(x**2 + 1) / (1 + y**2),
    sp.tanh(x * y) + sp.Abs(x) - sp.cos(x) ** 3,
    sp.Max(x, y, 2 * x) + sp.Min(x, 2 * y),
    sp.log(1 + x**2) * sp.cos(y) + sp.pi * x + sp.E * y,
    sp.Heaviside(x) * y + sp.sign(x) * y**2,
    x ** sp.Rational(1, 3) / y + 2**x - 1 / x + sp.tan(y / 4),
]

points = st.tuples(
    st.floats(0.2, 2.0) | st.floats(-2.0, -0.2), st.floats(0.2, 2.0) | st.floats(-2.0, -0.2)
).filter(lambda p: min(abs(p[0] - p[1]), abs(2 * p[0] - p[1]), abs(p[0] - 2 * p[1])) > 1e-3)


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=str)
@given(point=points)
def test_lambdified_gradient_matches_sympy_derivative(expr, point):
    if expr.has(sp.Rational(1, 3)) and point[0] < 0:
        point = (-point[0], point[1])  # real cube root of a negative is not x**(1/3)
    f = sp.lambdify([x, y], expr, modules=[ad.namespace])
    at = dict(zip((x, y), point, strict=True))
    got = ad.grad(f, argnum=(0, 1))(*point)
    exact = [float(sp.diff(expr, s).subs(at).evalf()) for s in (x, y)]
    np.testing.assert_allclose(got, exact, rtol=1e-10, atol=1e-12)
    assert float(f(*point)) == pytest.approx(float(expr.subs(at).evalf()), rel=1e-10)


def test_lambdified_matrix_jacobian_matches_sympy():
    expr = sp.Matrix([x * y, sp.tanh(x), sp.exp(x - y)])
    f = sp.lambdify([x, y], expr, modules=[ad.namespace])
    point = np.array([0.3, -0.7])
    got = ad.jacobian(lambda v: ad.reshape(f(v[0], v[1]), (-1,)))(point)
    exact = np.array(expr.jacobian([x, y]).subs({x: 0.3, y: -0.7}).evalf(), dtype=float)
    np.testing.assert_allclose(got, exact, rtol=1e-12)


def test_lambdified_hessian_matches_sympy():
    expr = sp.exp(x * y) * sp.sin(x) + y**4
    f = sp.lambdify([x, y], expr, modules=[ad.namespace])
    point = {x: 0.4, y: 1.3}
    got = ad.hessian(lambda v: f(v[0], v[1]))(np.array([0.4, 1.3]))
    exact = np.array(sp.hessian(expr, [x, y]).subs(point).evalf(), dtype=float)
    np.testing.assert_allclose(got, exact, rtol=1e-12)
