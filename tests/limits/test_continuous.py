"""Tests of symdyn.limits.continuous: limit ODEs against published equations and the numerical
convergence of the iterates to them."""

import math

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

import symdyn as sd

x, y = sp.symbols("x y", real=True)
eta, beta, gamma, lam = sp.symbols("eta beta gamma lambda", positive=True)
t = sp.Symbol("t", positive=True)
k = sp.Symbol("k", integer=True, positive=True)
L = sp.Function("L")
X = sp.Function("X", real=True)(t)
Y = sp.Function("Y", real=True)(t)


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


# -- derivations -----------------------------------------------------------------------


@pytest.mark.latex
def test_derivations_compile(tmp_path, pdflatex):
    hb = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
    limit = sd.continuous_limit(
        hb, h=eta, scaling={beta: 1 - gamma * sp.sqrt(eta)}, time_step=sp.sqrt(eta)
    )
    nesterov = sd.optimizers.nesterov(
        x**4 / 4, [x], lr=eta, momentum=(k - 1) / (k + 2), convention="y-form", counter=k
    )
    derivations = [
        limit.derivation,
        sd.continuous_limit(nesterov, h=eta, time_step=sp.sqrt(eta)).derivation,
    ]
    for number, derivation in enumerate(derivations):
        pdf = derivation.save(tmp_path / f"d{number}.pdf")
        assert pdf.stat().st_size > 0


# -- the limit as a reader sees it -------------------------------------------------------------


def test_ode_text_reads_as_a_paper_writes_the_second_order_limits():
    """X'' + γX' + L'(X) = 0 for heavy ball, X'' + (3/t)X' + ∇L(X) = 0 for Nesterov, and the
    neural ODE of a ResNet block, with the coefficients of the ODE itself."""
    heavy_ball = sd.continuous_limit(
        sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=beta),
        h=eta,
        scaling={beta: 1 - gamma * sp.sqrt(eta)},
        time_step=sp.sqrt(eta),
    )
    assert heavy_ball.ode_text() == "X'' + gamma*X' + L'(X) = 0"
    assert heavy_ball.ode_latex() == r"X'' + \gamma\,X' + L'{\left(X \right)} = 0"
    nesterov = sd.continuous_limit(
        sd.optimizers.nesterov(x**2 / 2, [x], lr=eta, momentum=(k - 1) / (k + 2), counter=k),
        h=eta,
        time_step=sp.sqrt(eta),
    )
    assert nesterov.ode_text() == "X'' + 3/t*X' + X = 0"
    a, b = sp.symbols("a b", positive=True)
    spiral = sd.models.resnet_block([-a * x - b * y, b * x - a * y], [x, y], eta)
    text = sd.continuous_limit(spiral, h=eta).ode_text()
    assert text == "X' + a*X + b*Y = 0\nY' + a*Y - b*X = 0"


def test_error_order_is_stated_in_the_time_step_or_as_undecided():
    """Heavy ball at τ = √η: the error is stated in τ, not in the step η. With fast variables
    slaved (two momentum buffers, as AggMo) the order is undecided, and says why."""
    limit = sd.continuous_limit(
        sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=beta),
        h=eta,
        scaling={beta: 1 - gamma * sp.sqrt(eta)},
        time_step=sp.sqrt(eta),
    )
    assert limit.error_text() == f"O(τ^{limit.error_order}) in the time step τ = sqrt(eta)"
    v1, v2 = sp.symbols("v1 v2", real=True)
    b1, b2 = sp.symbols("beta1 beta2", positive=True)
    aggmo = sd.UpdateRule(
        [x, v1, v2],
        [(v1, b1 * v1 - lam * x), (v2, b2 * v2 - lam * x), (x, x + eta * (v1 + v2) / 2)],
        [eta, b1, b2],
    )
    slaved = sd.continuous_limit(aggmo, h=eta)
    assert slaved.error_order is None and "slaved" in slaved.error_reason
    assert slaved.error_text().startswith("undecided: the fast variables v1, v2")
    text = slaved.derivation.to_markdown()
    assert "undecided" in text and "None" not in text
