"""Critical points, Gauss–Newton split and response Jacobians against independent numbers."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn.autodiff as ad
from symdyn.curvature import critical_points, gauss_newton, response_jacobian
from symdyn.errors import ExpressionTypeError, ShapeError, SymdynError, UndecidedError

x, y = sp.symbols("x y", real=True)


def _autodiff_hessian(loss, variables, point):
    """∇²L at ``point`` from symdyn.autodiff, sharing nothing with sympy's differentiation."""
    f = sp.lambdify([variables], loss, modules=[ad.namespace])
    values = np.array([float(point[v]) for v in variables])
    return ad.hessian(lambda z: f([z[i] for i in range(len(variables))]))(values)


def _kinds(loss, variables):
    return sorted(
        (tuple(cp.point[v] for v in variables), cp.kind) for cp in critical_points(loss, variables)
    )


def test_double_well_has_two_minima_and_a_maximum():
    found = critical_points(x**4 - 2 * x**2, [x])
    assert sorted((cp.point[x], cp.kind) for cp in found) == [
        (-1, "minimum"),
        (0, "maximum"),
        (1, "minimum"),
    ]
    for cp in found:
        np.testing.assert_allclose(
            np.array(cp.hessian, dtype=float),
            _autodiff_hessian(x**4 - 2 * x**2, [x], cp.point),
            atol=1e-12,
        )


def test_saddle_and_its_hessian():
    (cp,) = critical_points(x**2 - y**2, [x, y])
    assert cp.point == {x: 0, y: 0}
    assert cp.kind == "saddle"
    np.testing.assert_allclose(
        np.array(cp.hessian, dtype=float), _autodiff_hessian(x**2 - y**2, [x, y], cp.point)
    )


def test_singular_hessian_decided_by_higher_order_test():
    loss = x**4 + y**2
    (cp,) = critical_points(loss, [x, y])
    assert cp.hessian == sp.Matrix([[0, 0], [0, 2]])
    assert cp.kind == "minimum"
    np.testing.assert_allclose(
        np.array(cp.hessian, dtype=float), _autodiff_hessian(loss, [x, y], cp.point)
    )
    assert "order 4" in cp.derivation.to_markdown()


@pytest.mark.parametrize(
    ("loss", "kind"),
    [
        (-(x**4) - y**2, "maximum"),
        (x**3 + y**2, "saddle"),  # odd order along the null direction
        (x**4 - y**2, "saddle"),  # the null direction rises, the other falls
        (-(x**4) + y**2, "saddle"),
        # Peano's surface: a minimum on every line through 0, yet a saddle. The line
        # test must not call it a minimum.
        ((y - x**2) * (y - 2 * x**2), "degenerate"),
        (x**4 + y**4, "degenerate"),  # two-dimensional null space
    ],
)
def test_degenerate_cases_are_never_guessed(loss, kind):
    (cp,) = [c for c in critical_points(loss, [x, y]) if c.point == {x: 0, y: 0}]
    assert cp.kind == kind


def test_symbolic_parameter_leaves_the_kind_undecided():
    a = sp.Symbol("a", real=True)
    (cp,) = critical_points(a * x**2, [x])
    assert cp.kind == "undecided"
    b = sp.Symbol("b", positive=True)
    assert critical_points(b * x**2, [x])[0].kind == "minimum"
    # singular Hessian, and the quartic term's sign is a free symbol
    (cp,) = critical_points(a * x**4 + y**2, [x, y])
    assert cp.kind == "undecided"


def test_line_of_minima_keeps_the_free_variable():
    (cp,) = critical_points((x - y) ** 2, [x, y])
    assert cp.point[y] == y and cp.point[x] == y
    assert cp.kind == "degenerate"


def test_transcendental_single_variable():
    found = critical_points(sp.exp(x) - 2 * x, [x])
    assert [(cp.point[x], cp.kind) for cp in found] == [(sp.log(2), "minimum")]
    with pytest.raises(UndecidedError):
        critical_points(sp.sin(x), [x])


@given(
    st.lists(st.integers(-5, 5).filter(bool), min_size=2, max_size=2),
    st.integers(-3, 3),
)
def test_quadratic_kind_matches_numeric_eigenvalues(diag, off):
    """For L = ½ zᵀ A z the kind is decided by the eigenvalues of A (computed by NumPy)."""
    A = sp.Matrix([[diag[0], off], [off, diag[1]]])
    z = sp.Matrix([x, y])
    loss = (z.T * A * z)[0, 0] / 2
    eig = np.linalg.eigvalsh(np.array(A, dtype=float))
    (cp,) = critical_points(loss, [x, y])  # the origin, or a line through it
    assert all(value.subs({x: 0, y: 0}) == 0 for value in cp.point.values())
    if np.all(eig > 1e-12):
        assert cp.kind == "minimum"
    elif np.all(eig < -1e-12):
        assert cp.kind == "maximum"
    elif eig.min() < -1e-12 and eig.max() > 1e-12:
        assert cp.kind == "saddle"
    else:
        assert cp.kind == "degenerate"  # a line of critical points: not strict
    np.testing.assert_allclose(
        np.array(cp.hessian, dtype=float), _autodiff_hessian(loss, [x, y], {x: 0, y: 0})
    )


@given(st.floats(-1.5, 1.5), st.floats(-1.5, 1.5))
def test_double_well_values_confirm_kinds(dx, dy):
    """Near each classified point, the loss stays on the side its kind says."""
    loss = (x**2 - 1) ** 2 + y**2 * (1 + x**2)
    f = sp.lambdify([x, y], loss)
    eps = 1e-2
    for cp in critical_points(loss, [x, y]):
        p = (float(cp.point[x]), float(cp.point[y]))
        here = f(*p)
        there = f(p[0] + eps * dx, p[1] + eps * dy)
        if cp.kind == "minimum":
            assert there >= here - 1e-15
        elif cp.kind == "maximum":
            assert there <= here + 1e-15


def test_bad_input():
    with pytest.raises(ExpressionTypeError):
        critical_points(x**2, ["x"])
    with pytest.raises(ExpressionTypeError):
        critical_points(x**2, [])
    with pytest.raises(ShapeError):
        critical_points(sp.Matrix([x, y]), [x, y])
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

    assert sd.critical_points is critical_points
    assert sd.gauss_newton is gauss_newton
    assert sd.response_jacobian is response_jacobian
    assert {"critical_points", "gauss_newton", "response_jacobian"} <= set(sd.__all__)


@given(st.lists(st.integers(-3, 3), min_size=10, max_size=10))
def test_descartes_counts_match_numeric_eigenvalues(entries):
    """The fallback for eigenvalues without closed form counts signs exactly."""
    from symdyn.curvature import _descartes

    A = sp.zeros(4, 4)
    upper = iter(entries)
    for i in range(4):
        for j in range(i, 4):
            A[i, j] = A[j, i] = next(upper)
    A = A * A.T / 2 - sp.diag(*entries[:4])  # symmetric, often singular or indefinite
    eig = np.linalg.eigvalsh(np.array(A, dtype=float))
    tol = 1e-9
    expected = ((eig > tol).sum(), (eig < -tol).sum(), (abs(eig) <= tol).sum(), 0)
    assert _descartes(sp.ImmutableMatrix(A)) == expected
