"""Critical points and their kinds against independent numbers."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn.autodiff as ad
from symdyn.curvature.critical_points import critical_points
from symdyn.errors import ExpressionTypeError, ShapeError, UndecidedError

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


def test_exported():
    import symdyn as sd

    assert sd.critical_points is critical_points
    assert {"critical_points"} <= set(sd.__all__)


@given(st.lists(st.integers(-3, 3), min_size=10, max_size=10))
def test_descartes_counts_match_numeric_eigenvalues(entries):
    """The fallback for eigenvalues without closed form counts signs exactly."""
    from symdyn.curvature.critical_points import _descartes

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
