"""Tests of symdyn.numeric: lambdified code against exact sympy, simulation against the
exact stability region, autodiff against the symbolic Jacobian."""

import dataclasses
import functools

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

import symdyn as sd
import symdyn.autodiff as ad
from symdyn.catalogue import CATALOGUE, beta, eta, lam
from symdyn.numeric import ArgumentError

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
        assert np.isclose(radius, np.abs(np.linalg.eigvals(jac)).max(), rtol=1e-6, atol=1e-9)


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
    np.testing.assert_allclose(numeric, np.array(symbolic.tolist(), dtype=float), rtol=1e-12)


def test_simulate_matches_a_hand_loop_and_records_the_trajectory():
    rule = rule_of("heavy-ball")
    lr = np.array([0.1, 0.5, 4.5])
    run = sd.simulate(
        rule, {"x": 1.0, "v_x": 0.0}, {eta: lr, beta: 0.5, lam: 1.0}, steps=60, record=True, tol=0
    )
    x_, v_ = np.ones(3), np.zeros(3)
    for _ in range(60):
        v_ = 0.5 * v_ - lr * x_
        x_ = x_ + v_
    np.testing.assert_allclose(run.final[x][:2], x_[:2], rtol=1e-12)
    assert run.diverged.tolist() == [False, False, True]
    assert run.exit_step[2] < 60 and run.exit_step[0] == 60
    path = run.trajectory[x]
    assert path.shape == (61, 3)
    np.testing.assert_allclose(path[-1, :2], x_[:2], rtol=1e-12)
    assert np.isnan(path[-1, 2])
    # the empirical rate tends to the spectral radius sqrt(beta) (complex pair)
    assert abs(run.rate[0] - np.sqrt(0.5)) < 0.05


def test_simulate_stops_converged_points_early_and_holds_their_value():
    rule = rule_of("gd")
    run = sd.simulate(
        rule, {x: [[1.0], [-3.0]]}, {eta: [0.5, 1.0, 1.9], lam: 1.0}, steps=400, record=True
    )
    assert run.final[x].shape == (2, 3) and run.converged.all()
    assert run.exit_step[0, 1] == 2  # eta*lambda = 1 lands on the minimum in one step
    assert run.exit_step[0, 0] < run.exit_step[0, 2] < 400
    assert np.all(run.trajectory[x][-1] == run.final[x])


def test_time_varying_rule_sees_the_counter_from_one():
    k = sp.Symbol("k", integer=True, positive=True)
    rule = sd.optimizers.nesterov(
        lam * x**2 / 2, [x], lr=eta, momentum=(k - 1) / (k + 2), counter=k
    )
    assert rule.is_time_varying
    step = sd.lambdify(rule)
    assert "k" in [str(s) for s in step.keywords]
    run = sd.simulate(rule, {x: 1.0, "v_x": 0.0}, {eta: 0.1, lam: 1.0}, steps=30, tol=0)
    x_, v_ = 1.0, 0.0
    for t in range(1, 31):
        b = (t - 1) / (t + 2)
        v_ = b * v_ - 0.1 * (x_ + b * v_)
        x_ = x_ + v_
    assert abs(float(run.final[x]) - x_) < 1e-12


def heavy_ball_grid(n):
    return {eta: np.linspace(0.01, 5.0, n), beta: np.linspace(0.0, 1.2, n)}


def test_analytic_and_simulated_heavy_ball_maps_agree_off_the_boundary():
    """Polyak (1964): stable iff beta < 1 and eta*lambda < 2(1 + beta)."""
    rule = rule_of("heavy-ball")
    analytic = sd.stability_map(rule, heavy_ball_grid(64), fixed={lam: 1.0})
    simulated = sd.stability_map(
        rule, heavy_ball_grid(64), fixed={lam: 1.0}, method="simulate", steps=500
    )
    assert analytic.values.shape == analytic.stable.shape == (64, 64)
    assert analytic.agreement(simulated) >= 0.995
    assert 0.3 < analytic.stable.mean() < 0.7
    wrong = analytic.stable != simulated.stable
    assert np.all(np.abs(analytic.values[wrong] - 1) < 0.02)
    # the exact region, independently
    e, b = np.meshgrid(*heavy_ball_grid(64).values(), indexing="ij")
    np.testing.assert_array_equal(analytic.stable, (b < 1) & (e < 2 * (1 + b)))


def test_eigenvalue_path_equals_the_closed_form_radius():
    result = result_of("heavy-ball")
    closed = sd.stability_map(result, heavy_ball_grid(32), fixed={"lambda": 2.0})
    numeric = sd.stability_map(
        dataclasses.replace(result, spectral_radius=None),
        heavy_ball_grid(32),
        fixed={"lambda": 2.0},
    )
    np.testing.assert_allclose(closed.values, numeric.values, rtol=1e-6, atol=1e-9)
    assert closed.agreement(numeric) == 1.0


def test_stability_map_rejects_unknown_axes():
    with pytest.raises(ArgumentError, match="no parameter called gamma"):
        sd.stability_map(rule_of("gd"), {"gamma": [1.0]})


def test_as_optimizer_reproduces_simulate_on_a_quadratic():
    rule = rule_of("heavy-ball")
    hyper = {eta: 0.05, beta: 0.8}
    curvature = np.array([0.5, 1.0, 3.0, 10.0])
    start = np.array([1.0, -2.0, 0.5, 0.1])
    opt = sd.as_optimizer(rule, hyper)
    params = {"w": start.copy(), "b": [start[:2].copy()][0]}
    state = opt.init(params)
    for _ in range(200):
        grads = {"w": curvature * params["w"], "b": curvature[:2] * params["b"]}
        updates, state = opt.update(grads, state, params)
        params = {k: params[k] + updates[k] for k in params}
    run = sd.simulate(rule, {x: start, "v_x": 0.0}, {**hyper, lam: curvature}, steps=200, tol=0)
    np.testing.assert_allclose(params["w"], run.final[x], rtol=0, atol=1e-12)
    np.testing.assert_allclose(params["b"], run.final[x][:2], rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        state.buffers["v_x"]["w"], run.final[sp.Symbol("v_x", real=True)], rtol=0, atol=1e-12
    )


def test_as_optimizer_refuses_gradients_at_a_shifted_point():
    with pytest.raises(sd.RuleError, match="not at x alone"):
        sd.as_optimizer(rule_of("nesterov"), {eta: 0.1, beta: 0.9})


def test_numba_backend_matches_numpy_step_and_simulation():
    pytest.importorskip("numba")
    rule = rule_of("heavy-ball")
    lr = np.linspace(0.01, 4.5, 9)
    values = {"eta": lr[:, None], "beta": np.array([0.0, 0.5, 0.95]), "lambda": 1.0}
    fast = sd.lambdify(rule, backend="numba")(1.0, 0.0, **values)
    slow = sd.lambdify(rule)(1.0, 0.0, **values)
    for a, b in zip(fast, slow, strict=True):
        assert a.shape == (9, 3)
        np.testing.assert_allclose(a, b, rtol=1e-12)
    init, params = {x: 1.0, "v_x": 0.0}, {eta: lr[:, None], beta: [0.0, 0.5, 0.95], lam: 1.0}
    fast = sd.simulate(rule, init, params, 400, backend="numba")
    slow = sd.simulate(rule, init, params, 400)
    for field in ("diverged", "converged", "exit_step"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(slow, field))
    np.testing.assert_allclose(fast.rate, slow.rate, rtol=1e-12)
    np.testing.assert_allclose(fast.final[x], slow.final[x], rtol=1e-12)
    assert fast.diverged.any() and fast.converged.any() and not fast.converged.all()
    with pytest.raises(ArgumentError, match="record"):
        sd.simulate(rule, init, params, 4, record=True, backend="numba")


def test_numba_simulation_of_a_time_varying_rule():
    pytest.importorskip("numba")
    k = sp.Symbol("k", integer=True, positive=True)
    rule = sd.optimizers.nesterov(
        lam * x**2 / 2, [x], lr=eta, momentum=(k - 1) / (k + 2), counter=k
    )
    params = {eta: np.array([0.1, 0.5, 1.5]), lam: 1.0}
    fast = sd.simulate(rule, {x: 1.0, "v_x": 0.0}, params, 50, tol=0, backend="numba")
    slow = sd.simulate(rule, {x: 1.0, "v_x": 0.0}, params, 50, tol=0)
    np.testing.assert_allclose(fast.final[x], slow.final[x], rtol=1e-12)


def test_chunked_map_equals_the_in_memory_map():
    pytest.importorskip("dask.array")
    rule = rule_of("heavy-ball")
    grid = {eta: np.linspace(0.01, 5.0, 90), beta: np.linspace(0.0, 1.2, 70)}
    whole = sd.stability_map(rule, grid, fixed={lam: 1.0})
    blocks = sd.stability_map(rule, grid, fixed={lam: 1.0}, chunks=(32, 25))
    assert blocks.stable.chunks == ((32, 32, 26), (25, 25, 20))
    np.testing.assert_array_equal(blocks.stable.compute(), whole.stable)
    np.testing.assert_allclose(blocks.values.compute(), whole.values)
    assert whole.agreement(blocks) == 1.0
    simulated = sd.stability_map(rule, grid, fixed={lam: 1.0}, method="simulate", chunks=40)
    assert whole.agreement(simulated) >= 0.99


def test_matrix_states_are_refused_with_a_shape_error():
    theta = sp.MatrixSymbol("theta", 3, 1)
    rule = sd.UpdateRule([theta], [(theta, theta - eta * theta)], [eta])
    with pytest.raises(sd.ShapeError, match="matrix symbols"):
        sd.lambdify(rule)
