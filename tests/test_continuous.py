"""Tests of symdyn.continuous: limit ODEs against published equations, their numerical
convergence, Routh–Hurwitz of the limit, and modified equations against ODE solves."""

import functools
import math
import os
import shutil

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy.integrate import solve_ivp

import symdyn as sd

x, y = sp.symbols("x y", real=True)
eta, beta, gamma, lam = sp.symbols("eta beta gamma lambda", positive=True)
t = sp.Symbol("t", positive=True)
k = sp.Symbol("k", integer=True, positive=True)
L = sp.Function("L")
X = sp.Function("X", real=True)(t)
Y = sp.Function("Y", real=True)(t)


def _pdflatex():
    """pdflatex, or skip locally / fail when CI=true."""
    path = shutil.which("pdflatex")
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pdflatex is required when CI=true")
        pytest.skip("pdflatex is not installed")
    return path


def _same(a, b):
    return sp.simplify(sp.expand(a - b)) == 0


def _slope(steps, errors):
    return np.polyfit(np.log(steps), np.log(errors), 1)[0]


def _ode_rhs(limit, function):
    (eq,) = [e for e in limit.ode if e.lhs.expr == function]
    return eq.lhs.derivative_count, eq.rhs


# -- the limits, against the published equations -------------------------------------------


def test_gd_gives_gradient_flow_for_a_generic_loss():
    """Gradient descent x ← x − η∇L(x) → dX/dt = −∇L(X) (the Euler method, read backwards)."""
    limit = sd.continuous_limit(sd.optimizers.gd(L(x, y), [x, y], lr=eta), h=eta)
    assert limit.order == 1
    assert limit.error_order == 1
    assert limit.functions == {x: X, y: Y}
    expected = [-sp.diff(L(x, y), v).subs({x: X, y: Y}) for v in (x, y)]
    for (order, rhs), want in zip((_ode_rhs(limit, X), _ode_rhs(limit, Y)), expected, strict=True):
        assert order == 1
        assert _same(rhs, want)


@pytest.mark.parametrize("convention", ["polyak", "torch"])
def test_heavy_ball_second_order_limit(convention):
    """Heavy ball with β = 1 − γ√η, t = k√η: X'' + γX' + ∇L(X) = 0 (Polyak 1964; Su, Boyd &
    Candès 2016, §2; Kovachki & Stuart 2021)."""
    rule = sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=beta, convention=convention)
    limit = sd.continuous_limit(
        rule, h=eta, scaling={beta: 1 - gamma * sp.sqrt(eta)}, time_step=sp.sqrt(eta)
    )
    order, rhs = _ode_rhs(limit, X)
    assert order == 2 and limit.order == 2
    assert _same(rhs, -gamma * X.diff(t) - sp.diff(L(x), x).subs(x, X))
    assert limit.time_step == sp.sqrt(eta)
    buffer = rule.state[1]
    assert limit.functions[buffer].has(X.subs(t, t - sp.sqrt(eta)))


def test_heavy_ball_first_order_limit_at_fixed_momentum():
    """At fixed β and t = kη the heavy ball follows dX/dt = −∇L(X)/(1 − β)."""
    rule = sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=beta)
    order, rhs = _ode_rhs(sd.continuous_limit(rule, h=eta), X)
    assert order == 1
    assert _same(rhs, -sp.diff(L(x), x).subs(x, X) / (1 - beta))


@pytest.mark.parametrize("convention", ["y-form", "sutskever"])
def test_nesterov_gives_su_boyd_candes(convention):
    """Nesterov with β_k = (k − 1)/(k + 2), t = k√η: X'' + (3/t)X' + ∇L(X) = 0
    (Su, Boyd & Candès 2016, eq. (3)). The y-form's x_prev is the lagged copy X(t − √η)."""
    loss = sp.log(sp.cosh(x)) + x**4 / 4
    rule = sd.optimizers.nesterov(
        loss, [x], lr=eta, momentum=(k - 1) / (k + 2), convention=convention, counter=k
    )
    limit = sd.continuous_limit(rule, h=eta, time_step=sp.sqrt(eta))
    order, rhs = _ode_rhs(limit, X)
    assert order == 2
    assert _same(rhs, -3 / t * X.diff(t) - sp.diff(loss, x).subs(x, X))
    if convention == "y-form":
        assert limit.functions[rule.state[1]] == X.subs(t, t - sp.sqrt(eta))


def test_adam_at_fixed_betas_gives_sign_descent():
    """Adam without bias correction (m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², x ← x − ηm/√v)
    at fixed β's and t = kη: the moments relax to g and g², so X' = −sign ∇L(X)
    (Balles & Hennig 2018; Ma, Wu & E 2022)."""
    m, v = sp.symbols("m v", real=True)
    b1, b2 = sp.symbols("beta1 beta2", positive=True)
    g = sp.diff(sp.log(sp.cosh(x)) + x**2 / 2, x)
    rule = sd.UpdateRule(
        [x, m, v],
        [(m, b1 * m + (1 - b1) * g), (v, b2 * v + (1 - b2) * g**2), (x, x - eta * m / sp.sqrt(v))],
        [eta, b1, b2],
    )
    limit = sd.continuous_limit(rule, h=eta)
    order, rhs = _ode_rhs(limit, X)
    g_of_t = g.subs(x, X)
    assert order == 1 and len(limit.ode) == 1
    assert sp.simplify(rhs**2) == 1
    for value in (sp.Rational(-3), sp.Rational(-1, 2), sp.Rational(1, 2), sp.Rational(3)):
        assert sp.sign(rhs.subs(X, value)) == -sp.sign(g.subs(x, value))
    assert _same(limit.functions[m], g_of_t) and _same(limit.functions[v], g_of_t**2)


def test_divergent_scaling_is_refused_with_the_term():
    c = sp.Symbol("c", positive=True)
    rule = sd.UpdateRule([x], [(x, x - c * x**3)], [eta, c])
    with pytest.raises(sd.NoContinuousLimitError, match=r"divergent leading term.*X\(t\)\*\*3"):
        sd.continuous_limit(rule, h=eta, scaling={c: gamma / eta})
    with pytest.raises(sd.NoContinuousLimitError, match="not a power series"):
        sd.continuous_limit(sd.optimizers.gd(x**4 / 4, [x], lr=eta), h=eta, time_step=eta**2)


def test_bad_scaling_and_time_step_are_named():
    rule = sd.optimizers.gd(x**4 / 4, [x], lr=eta)
    with pytest.raises(sd.RuleError, match="not a parameter"):
        sd.continuous_limit(rule, h=eta, scaling={gamma: eta})
    with pytest.raises(sd.RuleError, match="invertible function"):
        sd.continuous_limit(rule, h=eta, time_step=gamma)


# -- numerical convergence of the iterates to the limit ---------------------------------


def _gd_error(step, horizon=1.0, x0=1.5):
    steps = round(horizon / step)
    value = x0
    for _ in range(steps):
        value -= step * math.tanh(value)
    exact = solve_ivp(
        lambda _t, s: [-math.tanh(s[0])], (0, horizon), [x0], rtol=1e-12, atol=1e-14
    ).y[0, -1]
    return abs(value - exact)


def _heavy_ball_error(step, g=1.5, horizon=2.0, x0=1.5):
    tau = math.sqrt(step)
    momentum = 1 - g * tau
    steps = round(horizon / tau)
    position, velocity = x0, 0.0
    for _ in range(steps):
        velocity = momentum * velocity - step * math.tanh(position)
        position += velocity
    exact = solve_ivp(
        lambda _t, s: [s[1], -g * s[1] - math.tanh(s[0])],
        (0, steps * tau),
        [x0, 0.0],
        rtol=1e-12,
        atol=1e-14,
    ).y[0, -1]
    return abs(position - exact)


def test_gd_iterates_converge_to_the_flow_at_the_predicted_order():
    """Global error at t = 1 on the non-quadratic loss log cosh: slope ≈ error_order = 1."""
    limit = sd.continuous_limit(sd.optimizers.gd(sp.log(sp.cosh(x)), [x], lr=eta), h=eta)
    assert _same(_ode_rhs(limit, X)[1], -sp.tanh(X))
    steps = [0.02, 0.01, 0.005, 0.0025]
    slope = _slope(steps, [_gd_error(s) for s in steps])
    assert abs(slope - limit.error_order) < 0.15


def test_heavy_ball_iterates_converge_to_the_damped_oscillator_at_the_predicted_order():
    """Heavy ball vs X'' + γX' + tanh X = 0: the error at t = 2 shrinks like τ = √η."""
    rule = sd.optimizers.heavy_ball(sp.log(sp.cosh(x)), [x], lr=eta, momentum=beta)
    limit = sd.continuous_limit(
        rule, h=eta, scaling={beta: 1 - gamma * sp.sqrt(eta)}, time_step=sp.sqrt(eta)
    )
    steps = [1e-3, 2.5e-4, 6.25e-5, 1.5625e-5]
    taus = np.sqrt(steps)
    slope = _slope(taus, [_heavy_ball_error(s) for s in steps])
    assert abs(slope - limit.error_order) < 0.3


def test_integrate_solves_the_gradient_flow_of_a_quadratic():
    limit = sd.continuous_limit(sd.optimizers.gd(lam * x**2 / 2, [x], lr=eta), h=eta)
    solution = sd.integrate(limit, {x: 2.0}, (0.0, 1.5), values={lam: 3.0})
    assert solution.y[0, -1] == pytest.approx(2.0 * math.exp(-4.5), rel=1e-8)


@pytest.mark.parametrize(
    ("name", "make", "scaling", "time_step", "steps"),
    [
        (
            "gd",
            lambda loss: sd.optimizers.gd(loss, [x], lr=eta),
            None,
            None,
            [0.02, 0.01, 0.005, 0.0025],
        ),
        (
            "heavy ball",
            lambda loss: sd.optimizers.heavy_ball(loss, [x], lr=eta, momentum=beta),
            {beta: 1 - gamma * sp.sqrt(eta)},
            sp.sqrt(eta),
            [1e-3, 2.5e-4, 6.25e-5, 1.5625e-5],
        ),
        (
            "nesterov y-form",
            lambda loss: sd.optimizers.nesterov(
                loss, [x], lr=eta, momentum=beta, convention="y-form"
            ),
            {beta: 1 - gamma * sp.sqrt(eta)},
            sp.sqrt(eta),
            [1e-3, 2.5e-4, 6.25e-5, 1.5625e-5],
        ),
    ],
)
def test_convergence_helper_measures_the_predicted_order(name, make, scaling, time_step, steps):
    """On log cosh, the fitted slope of the discrete-vs-ODE error is within 0.15 of
    error_order (issue 8); lagged copies and buffers are initialised from X(0), X'(0)."""
    limit = sd.continuous_limit(
        make(sp.log(sp.cosh(x))), h=eta, scaling=scaling, time_step=time_step
    )
    result = sd.convergence(limit, {x: 1.5}, 2.0, steps, values={gamma: 1.5})
    assert result.predicted == 1
    assert abs(result.order - result.predicted) < 0.15, (name, result)
    assert all(a > b for a, b in zip(result.errors[:-1], result.errors[1:], strict=True))


# -- Routh–Hurwitz of the limit -----------------------------------------------------------


def test_routh_hurwitz_of_the_heavy_ball_limit():
    g = sp.Symbol("g", real=True)
    rule = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
    limit = sd.continuous_limit(
        rule, h=eta, scaling={beta: 1 - g * sp.sqrt(eta)}, time_step=sp.sqrt(eta)
    )
    result = sd.routh_hurwitz(limit)
    s = result.charpoly.gen
    assert result.charpoly.as_expr() == s**2 + g * s + lam
    assert result.region == (g > 0)


@functools.cache
def _heavy_ball_regions():
    b, g = sp.Symbol("b", real=True), sp.Symbol("g", real=True)
    discrete = sd.stability(sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=b))
    limit = sd.continuous_limit(
        sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta),
        h=eta,
        scaling={beta: 1 - g * sp.sqrt(eta)},
        time_step=sp.sqrt(eta),
    )
    return b, g, discrete, sd.routh_hurwitz(limit).region


@given(st.floats(-2, 2).filter(lambda v: abs(v) > 1e-2), st.floats(0.1, 10))
def test_limit_region_matches_the_discrete_region_for_small_steps(g, curvature):
    """For small η the discrete heavy-ball region with β = 1 − γ√η agrees with γ > 0."""
    b, g_symbol, discrete, continuous = _heavy_ball_regions()
    step = 1e-8
    values = {eta: step, b: 1 - g * math.sqrt(step), lam: curvature}
    assert discrete.is_stable(values) == bool(continuous.subs(g_symbol, g))


def test_routh_hurwitz_refuses_time_varying_and_ambiguous_limits():
    rule = sd.optimizers.nesterov(
        x**2 / 2, [x], lr=eta, momentum=(k - 1) / (k + 2), convention="y-form", counter=k
    )
    with pytest.raises(sd.UndecidedError, match="depends on t"):
        sd.routh_hurwitz(sd.continuous_limit(rule, h=eta, time_step=sp.sqrt(eta)))
    limit = sd.continuous_limit(sd.optimizers.gd(x**4 / 4 - x**2 / 2, [x], lr=eta), h=eta)
    with pytest.raises(sd.UndecidedError, match="equilibria"):
        sd.routh_hurwitz(limit)
    assert sd.routh_hurwitz(limit, at={x: 1}).region == sp.true
    assert sd.routh_hurwitz(limit, at={x: 0}).region == sp.false


# -- modified equations --------------------------------------------------------------------


def test_gd_modified_loss_is_loss_plus_quarter_step_gradient_norm():
    """GD's first-order modified loss L + (h/4)|∇L|² (Barrett & Dherin 2021, Thm. 3.1)."""
    for variables, loss in (([x], L(x)), ([x, y], L(x, y))):
        me = sd.modified_equation(sd.optimizers.gd(loss, variables, lr=eta), h=eta, order=2)
        norm = sum(sp.diff(loss, v) ** 2 for v in variables)
        assert _same(me.modified_loss, loss + eta / 4 * norm)
        gradient = sp.Matrix([sp.diff(me.modified_loss, v) for v in variables])
        assert all(_same(a, -b) for a, b in zip(me.vector_field, gradient, strict=True))


def test_gd_second_order_modified_field_in_one_dimension():
    """f = −L' − (h/2)L''L' − h²(L''²L'/3 + L'''L'²/12) (Hairer, Lubich & Wanner, §IX.1)."""
    me = sd.modified_equation(sd.optimizers.gd(L(x), [x], lr=eta), h=eta, order=3)
    d1, d2, d3 = (sp.diff(L(x), x, n) for n in (1, 2, 3))
    expected = -d1 - eta / 2 * d2 * d1 - eta**2 * (d2**2 * d1 / 3 + d3 * d1**2 / 12)
    assert _same(me.vector_field[0], expected)


def _local_errors(field_expr, step_fn, steps, x0):
    field = sp.lambdify([x, eta], field_expr, "math")
    errors = []
    for h in steps:
        exact = solve_ivp(
            lambda _t, s, h=h: [field(s[0], h)], (0, h), [x0], rtol=1e-12, atol=1e-15
        ).y[0, -1]
        errors.append(abs(step_fn(x0, h) - exact))
    return errors


@pytest.mark.parametrize("order", [1, 2, 3])
def test_modified_field_matches_one_gd_step_at_the_predicted_order(order):
    """One GD step on x⁴/4 vs the time-h flow of the modified field: error O(h^(order+1))."""
    me = sd.modified_equation(sd.optimizers.gd(x**4 / 4, [x], lr=eta), h=eta, order=order)
    steps = [0.08, 0.04, 0.02, 0.01]
    errors = _local_errors(me.vector_field[0], lambda v, h: v - h * v**3, steps, 1.0)
    assert abs(_slope(steps, errors) - (order + 1)) < 0.3


def test_no_modified_loss_for_a_rotational_game():
    rule = sd.UpdateRule([x, y], [(x, x - eta * y), (y, y + eta * x)], [eta], simultaneous=True)
    me = sd.modified_equation(rule, h=eta, order=2)
    assert me.modified_loss is None
    assert "not a gradient" in me.loss_reason
    assert list(me.vector_field) == [-y + eta * x / 2, x + eta * y / 2]


def test_heavy_ball_modified_loss_on_the_slow_manifold():
    """On its slow manifold, heavy ball follows −∇L̃/(1 − β) with
    L̃ = L + h(1 + β)/(4(1 − β)²)|∇L|² (Kovachki & Stuart 2021; Ghosh et al. 2023):
    (1 + β)/(1 − β) times GD's regulariser at the effective step h/(1 − β)."""
    for variables, loss in (([x], L(x)), ([x, y], L(x, y))):
        rule = sd.optimizers.heavy_ball(loss, variables, lr=eta, momentum=beta)
        me = sd.modified_equation(rule, h=eta, order=2)
        assert me.variables == tuple(variables)
        norm = sum(sp.diff(loss, v) ** 2 for v in variables)
        expected = (loss + eta * (1 + beta) / (4 * (1 - beta) ** 2) * norm) / (1 - beta)
        assert _same(me.modified_loss, expected)
    velocity = sp.Symbol("v_x", real=True)
    leading = sp.expand(me.slow_manifold[velocity]).coeff(eta, 1)
    assert _same(leading, -sp.diff(L(x, y), x) / (1 - beta))


@pytest.mark.parametrize("order", [1, 2])
def test_heavy_ball_reduced_flow_matches_one_step_at_the_predicted_order(order):
    """Start on the slow manifold, take one heavy-ball step (β = 1/2, loss x⁴/4) and compare
    with the time-h flow of the modified field: error O(h^(order+1))."""
    momentum = sp.Rational(1, 2)
    rule = sd.optimizers.heavy_ball(x**4 / 4, [x], lr=eta, momentum=momentum)
    me = sd.modified_equation(rule, h=eta, order=order)
    velocity = sp.lambdify([x, eta], me.slow_manifold[rule.state[1]], "math")

    def step(v0, h):
        return v0 + 0.5 * velocity(v0, h) - h * v0**3

    steps = [0.04, 0.02, 0.01, 0.005]
    errors = _local_errors(me.vector_field[0], step, steps, 1.0)
    assert abs(_slope(steps, errors) - (order + 1)) < 0.3


def test_modified_equation_refuses_rules_without_a_near_identity_reduction():
    rule = sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=1)
    with pytest.raises(sd.RuleError, match="no unique slow manifold"):
        sd.modified_equation(rule, h=eta)
    doubling = sd.UpdateRule([x], [(x, 2 * x - eta * x**3)], [eta])
    with pytest.raises(sd.RuleError, match="not the identity"):
        sd.modified_equation(doubling, h=eta)
    varying = sd.UpdateRule([x], [(x, x - eta / k * x)], [eta], counter=k)
    with pytest.raises(sd.RuleError, match="counter"):
        sd.modified_equation(varying, h=eta)


# -- stochastic modified equations ------------------------------------------------------------

xi = sp.Symbol("xi", real=True)
sigma = sp.Symbol("sigma", positive=True)
SGD = sd.UpdateRule([x], [(x, x - eta * (lam * x + xi))], [eta])


def test_sgd_sde_on_a_quadratic():
    """dX = −λX dt + √(hσ²) dW; stationary variance hσ²/(2λ), against the exact discrete
    ησ²/(λ(2 − ηλ)) (Li, Tai & E 2017): the ratio tends to 1 as h → 0."""
    sde = sd.sde_limit(SGD, h=eta, noise={xi: sigma**2})
    assert sde.drift[0] == -lam * x
    assert sde.diffusion[0] == eta * sigma**2
    stationary = sde.stationary_covariance()[0]
    assert _same(stationary, eta * sigma**2 / (2 * lam))
    discrete = eta * sigma**2 / (lam * (2 - eta * lam))
    assert sp.limit(stationary / discrete, eta, 0) == 1


def test_heavy_ball_sde_goes_through_the_slow_manifold():
    """Heavy ball: drift −λX/(1 − β), diffusion hσ²/(1 − β)²; its stationary variance matches
    the exact discrete one (discrete Lyapunov equation) to leading order in h."""
    from scipy.linalg import solve_discrete_lyapunov

    v = sp.Symbol("v", real=True)
    rule = sd.UpdateRule([x, v], [(v, beta * v - eta * (lam * x + xi)), (x, x + v)], [eta, beta])
    sde = sd.sde_limit(rule, h=eta, noise={xi: sigma**2})
    assert _same(sde.drift[0], -lam * x / (1 - beta))
    assert _same(sde.diffusion[0], eta * sigma**2 / (1 - beta) ** 2)
    stationary = sde.stationary_covariance()[0]
    gaps = []
    for h in (1e-2, 1e-3, 1e-4):
        b, curvature = 0.6, 2.0
        step = np.array([[1 - h * curvature, b], [-h * curvature, b]])  # (x, v) after one step
        kick = np.array([-h, -h])
        exact = solve_discrete_lyapunov(step, np.outer(kick, kick))[0, 0]
        approx = float(stationary.subs({eta: h, beta: b, lam: curvature, sigma: 1}))
        gaps.append(abs(approx / exact - 1))
    assert gaps[0] > gaps[1] > gaps[2] and gaps[2] < 1e-3


def test_sgd_and_its_sde_have_the_predicted_stationary_variances_in_simulation():
    h, curvature = 0.05, 1.0
    sde = sd.sde_limit(SGD, h=eta, noise={xi: sigma**2})
    values = {eta: h, lam: curvature, sigma: 1.0}
    paths = 4000
    continuous = sde.simulate([0.0], 15.0, 0.01, paths, values=values, seed=1)[:, 0]
    rng = np.random.default_rng(2)
    discrete = np.zeros(paths)
    for _ in range(round(15.0 / h)):
        discrete = discrete - h * (curvature * discrete + rng.standard_normal(paths))
    assert continuous.var() == pytest.approx(h / (2 * curvature), rel=0.1)
    assert discrete.var() == pytest.approx(h / (curvature * (2 - h * curvature)), rel=0.1)


def test_sde_limit_refuses_bad_noise():
    with pytest.raises(sd.RuleError, match="do not appear"):
        sd.sde_limit(SGD, h=eta, noise={sp.Symbol("zeta"): 1})
    with pytest.raises(sd.ShapeError, match="covariance"):
        sd.sde_limit(SGD, h=eta, noise=((xi,), sp.eye(2)))
    multiplicative = sd.UpdateRule([x], [(x, x - eta * lam * x * (1 + xi))], [eta])
    with pytest.raises(sd.UndecidedError, match="additive"):
        sd.sde_limit(multiplicative, h=eta, noise={xi: sigma**2})


# -- derivations -----------------------------------------------------------------------


@pytest.mark.latex
def test_derivations_compile(tmp_path):
    _pdflatex()
    hb = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
    limit = sd.continuous_limit(
        hb, h=eta, scaling={beta: 1 - gamma * sp.sqrt(eta)}, time_step=sp.sqrt(eta)
    )
    nesterov = sd.optimizers.nesterov(
        x**4 / 4, [x], lr=eta, momentum=(k - 1) / (k + 2), convention="y-form", counter=k
    )
    game = sd.UpdateRule([x, y], [(x, x - eta * y), (y, y + eta * x)], [eta], simultaneous=True)
    derivations = [
        limit.derivation,
        sd.routh_hurwitz(limit).derivation,
        sd.continuous_limit(nesterov, h=eta, time_step=sp.sqrt(eta)).derivation,
        sd.modified_equation(sd.optimizers.gd(L(x, y), [x, y], lr=eta), h=eta).derivation,
        sd.modified_equation(hb, h=eta).derivation,
        sd.sde_limit(SGD, h=eta, noise={xi: sigma**2}).derivation,
        sd.modified_equation(game, h=eta).derivation,
    ]
    for number, derivation in enumerate(derivations):
        pdf = derivation.save(tmp_path / f"d{number}.pdf")
        assert pdf.stat().st_size > 0
