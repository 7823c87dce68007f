"""UpdateRule: semantics of assignments, derived objects, and refusal of bad input."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn as sd

x, v, g, y = sp.symbols("x v g y", real=True)
eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
k = sp.Symbol("k", integer=True, positive=True)


def heavy_ball():
    return sd.UpdateRule(
        state=[x, v],
        updates=[(g, sd.grad(lam * x**2 / 2, x)), (v, beta * v - eta * g), (x, x + v)],
        params=[eta, beta],
        name="heavy ball",
    )


def test_sequential_assignments_read_earlier_ones():
    rule = heavy_ball()
    assert rule.map == sp.Matrix([x + beta * v - eta * lam * x, beta * v - eta * lam * x])
    assert rule.temporaries == (g,)
    assert rule.free == (lam,)


def test_simultaneous_assignments_read_the_old_state():
    rule = sd.UpdateRule(
        [x, v], [(v, beta * v - eta * lam * x), (x, x + v)], [eta, beta], simultaneous=True
    )
    assert rule.map == sp.Matrix([x + v, beta * v - eta * lam * x])


def test_temporaries_still_substitute_in_simultaneous_mode():
    rule = sd.UpdateRule(
        [x, y], [(g, x - y), (x, x - eta * g), (y, y + eta * g)], [eta], simultaneous=True
    )
    assert rule.map == sp.Matrix([x - eta * (x - y), y + eta * (x - y)])


@given(st.floats(-3, 3), st.floats(-3, 3), st.floats(0.01, 2), st.floats(0.0, 0.99))
def test_map_equals_running_the_assignments_as_code(x0, v0, eta0, beta0):
    rule = heavy_ball()
    values = {eta: eta0, beta: beta0, lam: 1.5}
    g0 = 1.5 * x0
    v1 = beta0 * v0 - eta0 * g0
    x1 = x0 + v1
    got = [float(e.subs(values).subs({x: x0, v: v0})) for e in rule.map]
    np.testing.assert_allclose(got, [x1, v1], rtol=1e-12, atol=1e-12)


@given(st.floats(-2, 2), st.floats(-2, 2), st.floats(0.01, 1), st.floats(0.0, 0.99))
def test_jacobian_matches_central_differences(x0, v0, eta0, beta0):
    rule = sd.UpdateRule([x, v], [(v, beta * v - eta * sp.sin(x) * x**2), (x, x + v)], [eta, beta])
    values = {eta: eta0, beta: beta0}
    f = sp.lambdify([x, v], rule.map.subs(values), "numpy")
    jac = np.array(rule.jacobian(at={x: x0, v: v0, **values}), dtype=float)
    step = 1e-6
    numeric = np.column_stack(
        [
            (
                np.ravel(f(*(np.array([x0, v0]) + step * e)))
                - np.ravel(f(*(np.array([x0, v0]) - step * e)))
            )
            / (2 * step)
            for e in np.eye(2)
        ]
    )
    np.testing.assert_allclose(jac, numeric, rtol=1e-5, atol=1e-7)


def test_fixed_points_solve_the_map():
    rule = sd.UpdateRule([x], [(x, x - eta * (x**3 - x))], [eta])
    points = rule.fixed_points()
    assert sorted(p[x] for p in points) == [-1, 0, 1]
    for point in points:
        assert sp.simplify(rule.map[0].subs(point) - point[x]) == 0


def test_subs_moves_symbols_between_params_and_free():
    gamma = sp.Symbol("gamma", positive=True)
    rule = heavy_ball().subs({beta: 1 - gamma * sp.sqrt(eta)})
    assert set(rule.params) == {eta, gamma}
    assert rule.subs({lam: 2}).free == ()
    with pytest.raises(sd.AssignmentError, match="state"):
        heavy_ball().subs({x: 0})


def test_counter_makes_a_rule_time_varying():
    rule = sd.UpdateRule([x], [(x, x - eta / k * x)], [eta], counter=k)
    assert rule.is_time_varying
    assert not heavy_ball().is_time_varying
    with pytest.raises(sd.RuleError, match="integer"):
        sd.UpdateRule([x], [(x, x)], [], counter=sp.Symbol("t"))


def test_affine_detection():
    assert heavy_ball().is_affine
    assert not sd.UpdateRule([x], [(x, x - eta * x**3)], [eta]).is_affine


def test_repr_and_latex_name_every_assignment():
    rule = heavy_ball()
    text = repr(rule)
    assert "heavy ball" in text and "v ← beta*v - eta*g" in text
    assert r"\leftarrow" in rule._repr_latex_()


# -- grad ---------------------------------------------------------------------------------


def test_grad_of_symbol_list_matrixsymbol_and_undefined_function():
    assert sd.grad(x**2 * y, x) == 2 * x * y
    assert sd.grad(x**2 * y, [x, y]) == sp.Matrix([2 * x * y, x**2])
    L = sp.Function("L")
    assert sd.grad(L(x, y), [x, y])[1] == sp.Derivative(L(x, y), y)
    theta = sp.MatrixSymbol("theta", 3, 1)
    b = sp.MatrixSymbol("b", 3, 1)
    gradient = sd.grad((b.T * theta)[0, 0], theta)
    assert sp.Matrix(gradient) == sp.Matrix(b)


def test_grad_refuses_strings_and_bad_variables():
    with pytest.raises(sd.ExpressionTypeError, match="never evaluated"):
        sd.grad("x**2", x)
    with pytest.raises(sd.ExpressionTypeError):
        sd.grad(x**2, "x")


# -- bad input ------------------------------------------------------------------------------


def test_undeclared_symbol_is_named_with_its_update():
    typo = sp.Symbol("etaa", positive=True)
    with pytest.raises(sd.UnknownSymbolError, match=r"update 2 .*etaa"):
        sd.UpdateRule(
            [x, v], [(v, beta * v - eta * lam * x), (x, x + typo * v)], [eta, beta], free=[lam]
        )


def test_temporary_read_before_assignment_is_refused():
    with pytest.raises(sd.UnknownSymbolError, match="update 1"):
        sd.UpdateRule([x], [(x, x - eta * g), (g, lam * x)], [eta])


def test_assigning_to_a_parameter_is_refused():
    with pytest.raises(sd.AssignmentError, match=r"update 1 .*eta is a parameter"):
        sd.UpdateRule([x], [(eta, eta / 2), (x, x - eta * x)], [eta])


def test_non_sympy_right_side_is_refused():
    with pytest.raises(sd.ExpressionTypeError, match=r"update 1 .*str"):
        sd.UpdateRule([x], [(x, "x - eta*x")], [eta])
    with pytest.raises(sd.ExpressionTypeError):
        sd.UpdateRule([x], [(x, [x])], [eta])


def test_matrix_right_side_for_a_scalar_target_is_refused():
    with pytest.raises(sd.ShapeError, match="update 1"):
        sd.UpdateRule([x], [(x, sp.Matrix([x, x]))], [])


def test_non_square_linearisation_is_refused():
    with pytest.raises(sd.ShapeError, match="not square"):
        sd.stability(sp.Matrix([[1, 2, 3], [4, 5, 6]]))


def test_state_and_parameter_must_be_distinct_symbols():
    with pytest.raises(sd.RuleError, match="both state and parameter"):
        sd.UpdateRule([x], [(x, x)], [x])
    with pytest.raises(sd.RuleError, match="twice"):
        sd.UpdateRule([x, x], [(x, x)], [])


def test_grad_of_a_matrix_expression_loss():
    theta = sp.MatrixSymbol("theta", 3, 1)
    H = sp.MatrixSymbol("H", 3, 3)
    gradient = sd.grad(theta.T * H * theta / 2, theta)
    assert sp.simplify(sp.Matrix(gradient) - sp.Matrix((H + H.T) * theta / 2)) == sp.zeros(3, 1)
