"""Tests of symdyn.numeric.codegen: lambdified code against exact sympy, autodiff against the
symbolic Jacobian."""

import functools

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

import symdyn as sd
import symdyn.autodiff as ad
from symdyn.catalogue.named import CATALOGUE, beta, eta, lam
from symdyn.errors import ArgumentError

NAMES = sorted(CATALOGUE)
x = sp.Symbol("x", real=True)


@functools.cache
def rule_of(name):
    return CATALOGUE[name].factory()


@functools.cache
def result_of(name):
    return sd.stability(rule_of(name))


@functools.cache
def compiled(name, what):
    source = rule_of(name) if what in ("map", "jacobian") else result_of(name)
    return sd.lambdify(source, what)


def draw_value(symbol):
    """Floats of moderate size, respecting the symbol's sign assumptions."""
    if symbol.is_positive:
        low = 0.01
    elif symbol.is_nonnegative:
        low = 0.0
    else:
        low = -2.0
    return st.floats(low, 2.0, allow_nan=False).map(lambda v: round(v, 6))


def points(name):
    rule = rule_of(name)
    symbols = [*rule.state, *rule.params, *rule.free]
    return st.fixed_dictionaries({s: draw_value(s) for s in symbols})


def exact(expr, values):
    """Exact value of ``expr`` at the float values, converted to float at the end."""
    rational = {s: sp.Rational(v) for s, v in values.items()}
    return complex(sp.N(sp.sympify(expr).xreplace(rational), 30))


@functools.cache
def high_precision(name):
    """The spectral radius evaluated by mpmath at 40 digits (complex intermediates allowed).

    Exact substitution is not used here: sympy's ``Max`` refuses arguments whose
    realness it cannot prove, and closed-form cubic roots often are such arguments.
    """
    result = result_of(name)
    symbols = sorted(result.spectral_radius.free_symbols, key=str)
    return symbols, sp.lambdify(symbols, result.spectral_radius, modules="mpmath")


def radius_reference(name, values):
    symbols, f = high_precision(name)
    with mpmath.workdps(40):
        return float(mpmath.re(f(*(mpmath.mpf(values[s]) for s in symbols))))


def keywords(values, rule):
    return {str(s): v for s, v in values.items() if s not in rule.state}


def close(numeric, expected):
    return np.isclose(numeric, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_map_and_jacobian_equal_exact_evaluation(name, data):
    rule = rule_of(name)
    values = data.draw(points(name))
    state = [values[s] for s in rule.state]
    step = compiled(name, "map")(*state, **keywords(values, rule))
    assert len(step) == len(rule.state)
    for numeric, expr in zip(step, rule.next_state, strict=True):
        assert close(numeric, exact(expr, values).real)
    jac = compiled(name, "jacobian")(*state, **keywords(values, rule))
    n = len(rule.state)
    assert jac.shape == (n, n)
    for (i, j), expr in np.ndenumerate(np.array(rule.jacobian().tolist(), dtype=object)):
        assert close(jac[i, j], exact(expr, values).real)


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_region_and_radius_equal_exact_evaluation(name, data):
    rule, result = rule_of(name), result_of(name)
    values = data.draw(points(name))
    params = keywords(values, rule)
    margins = [exact(c.lhs - c.rhs, values).real for c in result.conditions if c.is_Relational]
    assume(all(abs(m) > 1e-9 for m in margins))
    region = compiled(name, "region")(**params)
    assert region.dtype == bool
    assert bool(region) == bool(
        result.region.xreplace({s: sp.Rational(v) for s, v in values.items()})
    )
    if result.spectral_radius is not None:
        radius = compiled(name, "spectral_radius")(**params)
        # Near a double root the radius is the square root of a vanishing discriminant,
        # so a rounding of 1e-16 in the inputs moves it by 1e-8: rtol 1e-12 plus an
        # absolute slack of sqrt(machine epsilon).
        reference = radius_reference(name, values)
        assert np.isclose(radius, reference, rtol=1e-12, atol=1e-7)
        jac = sd.lambdify(result, "jacobian")(**params)
        assert np.isclose(radius, eigenvalue_radius(jac), rtol=1e-12, atol=1e-7)


def eigenvalue_radius(matrix):
    """Largest eigenvalue modulus of a float matrix, computed by mpmath at 40 digits.

    ``np.linalg.eigvals`` is only sqrt(machine epsilon) accurate at a defective eigenvalue:
    at a nilpotent Jacobian it returns +-1e-8 where the radius is 0.
    """
    with mpmath.workdps(40):
        eigenvalues = mpmath.eig(mpmath.matrix(np.asarray(matrix, dtype=float).tolist()))[0]
        return float(max(abs(e) for e in eigenvalues))


def test_the_radius_at_a_nilpotent_jacobian_is_zero():
    """Regression: nesterov-torch at eta = 1, beta = 3/2, lambda = 1 has the Jacobian
    [[-3/2, -9/4], [1, 3/2]], one Jordan block at 0."""
    result = result_of("nesterov-torch")
    params = {"eta": 1.0, "beta": 1.5, "lambda": 1.0}
    jac = sd.lambdify(result, "jacobian")(**params)
    assert np.all(jac @ jac == 0)
    assert compiled("nesterov-torch", "spectral_radius")(**params) == 0.0
    assert eigenvalue_radius(jac) < 1e-15


def test_broadcasting_returns_the_common_shape_in_state_order():
    rule = rule_of("heavy-ball")
    step = sd.lambdify(rule)
    assert step.keywords == (eta, beta, lam)
    xs, vs = step(np.ones((3, 1)), 0.0, eta=np.linspace(0, 1, 4), beta=0.5, **{"lambda": 1.0})
    assert xs.shape == vs.shape == (3, 4)
    np.testing.assert_allclose(xs[0], 1 - np.linspace(0, 1, 4))
    # a constant output (x_prev <- x reads no parameter) is broadcast as well
    prev = sd.lambdify(rule_of("nesterov-y"))(
        2.0, np.zeros(5), eta=0.1, beta=0.5, **{"lambda": 1.0}
    )[1]
    assert prev.shape == (5,) and np.all(prev == 2.0)


def test_keyword_errors_name_the_symbols():
    step = sd.lambdify(rule_of("heavy-ball"))
    with pytest.raises(ArgumentError, match="missing values for lambda"):
        step(1.0, 0.0, eta=0.1, beta=0.5)
    with pytest.raises(ArgumentError, match="no symbol called gamma"):
        step(1.0, 0.0, eta=0.1, beta=0.5, gamma=1.0, **{"lambda": 1.0})
    with pytest.raises(ArgumentError, match="2 positional"):
        step(1.0, eta=0.1, beta=0.5, **{"lambda": 1.0})
    with pytest.raises(ArgumentError, match="what="):
        sd.lambdify(rule_of("gd"), what="hessian")


@given(
    st.lists(st.floats(-2, 2), min_size=2, max_size=2),
    st.floats(0.01, 1.0),
    st.floats(0.0, 0.99),
    st.floats(0.1, 3.0),
)
def test_autodiff_jacobian_of_lambdified_heavy_ball_equals_symbolic(point, lr, mom, curv):
    rule = rule_of("heavy-ball")
    step = sd.lambdify(rule, backend="autodiff")
    values = {"eta": lr, "beta": mom, "lambda": curv}

    def f(s):
        return ad.stack(list(step(s[0], s[1], **values)))

    numeric = ad.jacobian(f)(np.array(point))
    symbolic = rule.jacobian(at={eta: lr, beta: mom, lam: curv, x: point[0]})
    # The symbolic side is exact (lr = 0.99999 is 99999/100000), the numeric one rounds
    # 0.99999 first; an entry such as 1 - lr*curv cancels, so its error is relative to the
    # terms it is made of, not to itself.
    scale = 1 + lr * curv + mom
    np.testing.assert_allclose(
        numeric, np.array(symbolic.tolist(), dtype=float), rtol=1e-12, atol=1e-12 * scale
    )


def test_matrix_states_are_refused_with_a_shape_error():
    theta = sp.MatrixSymbol("theta", 3, 1)
    rule = sd.UpdateRule([theta], [(theta, theta - eta * theta)], [eta])
    with pytest.raises(sd.ShapeError, match="matrix symbols"):
        sd.lambdify(rule)
