"""Gauss–Newton split and response Jacobians against independent numbers."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn.autodiff as ad
from symdyn.curvature.chain_rule import gauss_newton, response_jacobian
from symdyn.errors import ExpressionTypeError, SymdynError

x, y = sp.symbols("x y", real=True)


def test_bad_input():
    with pytest.raises(ExpressionTypeError):
        gauss_newton(x**2, [x], [y])
    with pytest.raises(ExpressionTypeError):
        response_jacobian(x**2, [x], [x])
    with pytest.raises(SymdynError):
        response_jacobian(y**2, [x], [y])  # ∂²L/∂x² ≡ 0


def test_gauss_newton_split_sums_to_the_hessian():
    a, b, c, t = sp.symbols("a b c t", real=True)
    z1, z2 = sp.symbols("z1 z2", real=True)
    loss = sp.log(sp.exp(z1) + sp.exp(z2)) - z1  # softmax cross-entropy, label 1
    model = {z1: a * sp.tanh(b * t), z2: c * t**2}
    gn = gauss_newton(loss, model, [a, b, c])
    assert sp.simplify(gn.gauss_newton + gn.residual - gn.hessian) == sp.zeros(3, 3)
    # Numeric check of the full Hessian with autodiff at one point.
    point = {a: 0.3, b: -0.7, c: 1.1, t: 0.5}
    composed = loss.subs(model)
    f = sp.lambdify([[a, b, c]], composed.subs(t, 0.5), modules=[ad.namespace])
    numeric = ad.hessian(lambda v: f([v[0], v[1], v[2]]))(np.array([0.3, -0.7, 1.1]))
    np.testing.assert_allclose(np.array(gn.hessian.subs(point), dtype=float), numeric, atol=1e-12)
    # Cross-entropy is convex in the logits, so the GN term is PSD numerically.
    assert np.linalg.eigvalsh(np.array(gn.gauss_newton.subs(point), dtype=float)).min() > -1e-12


def test_gauss_newton_psd_condition_for_a_nonconvex_loss():
    a, z = sp.symbols("a z", real=True)
    gn = gauss_newton(-(z**2), {z: a}, [a])
    assert gn.psd_condition is sp.false
    gn = gauss_newton(z**4, {z: a**2}, [a])
    assert gn.psd_condition is sp.true  # 12 z² ≥ 0 for real z


@given(
    st.lists(st.integers(-4, 4), min_size=4, max_size=4),
    st.lists(st.integers(-4, 4), min_size=4, max_size=4),
)
def test_response_jacobian_of_a_quadratic(m, bvals):
    """L = ½θᵀAθ + θᵀBφ has θ* = −A⁻¹Bφ, so dθ*/dφ = −A⁻¹B (A = MᵀM + I)."""
    M = sp.Matrix(2, 2, m)
    A = M.T * M + sp.eye(2)
    B = sp.Matrix(2, 2, bvals)
    w1, w2, p1, p2 = sp.symbols("w1 w2 p1 p2", real=True)
    th, ph = sp.Matrix([w1, w2]), sp.Matrix([p1, p2])
    loss = ((th.T * A * th) / 2 + th.T * B * ph)[0, 0]
    r = response_jacobian(loss, [w1, w2], [p1, p2])
    assert r.matrix == -A.inv() * B
    assert r.condition is sp.true


def test_response_jacobian_matches_differentiating_the_minimiser():
    w, a = sp.symbols("w a", real=True)
    c = sp.Symbol("c", positive=True)
    loss = (w - a) ** 2 / 2 + c * w**4 / 4 + c * w**2 / 2
    r = response_jacobian(loss, [w], [c])

    # Numerically: solve for w*(c) at two nearby c and difference.
    def minimiser(cv):
        roots = np.roots([cv, 0.0, 1.0 + cv, -2.0])  # a = 2
        return float(roots[np.abs(roots.imag) < 1e-12].real[0])

    cv, h = 0.8, 1e-6
    numeric = (minimiser(cv + h) - minimiser(cv - h)) / (2 * h)
    symbolic = float(r.matrix[0, 0].subs({w: minimiser(cv), a: 2, c: cv}))
    assert abs(numeric - symbolic) < 1e-7
    cond = response_jacobian((w - a) ** 2 * c, [w], [a]).condition
    assert cond is sp.true


def test_exported():
    import symdyn as sd

    assert sd.gauss_newton is gauss_newton
    assert sd.response_jacobian is response_jacobian
    assert {"gauss_newton", "response_jacobian"} <= set(sd.__all__)
