"""Stability regions and step bounds: published results, and agreement with numeric
spectral radii on hypothesis-drawn parameters (including negative momentum)."""

import functools
import pickle

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import symdyn as sd
from symdyn.catalogue.named import CATALOGUE, build
from symdyn.linear.root_modulus import LargestRootModulus

x, y = sp.symbols("x y", real=True)
eta, beta, lam, a, b, h = sp.symbols("eta beta lambda a b h", positive=True)
beta_real = sp.Symbol("beta", real=True)
k = sp.Symbol("k", integer=True, positive=True)
QUADRATIC = lam * x**2 / 2


@functools.cache
def numeric_map(rule):
    symbols = sorted(rule.free_symbols, key=str)
    return symbols, sp.lambdify([*rule.state, *symbols], list(rule.map), "numpy")


def numeric_radius(rule, values):
    """Spectral radius from central differences of the map (exact for affine maps)."""
    symbols, f = numeric_map(rule)
    params = [float(values[s]) for s in symbols]
    n = len(rule.state)
    jac = np.column_stack(
        [
            (np.array(f(*e, *params), dtype=float) - np.array(f(*-e, *params), dtype=float)) / 2
            for e in np.eye(n)
        ]
    )
    return max(abs(np.linalg.eigvals(jac)))


def exact(value):
    return sp.Rational(str(round(value, 4)))


positive = st.floats(0.01, 5).map(exact)


@functools.cache
def analysed(name):
    return sd.stability(build(name))


momentum = st.floats(0.0, 1.4).map(exact).filter(lambda value: value > 0)  # beta is positive


@pytest.mark.parametrize("name", sorted(CATALOGUE))
@given(data=st.data())
def test_is_stable_agrees_with_numeric_spectral_radius(name, data):
    rule = build(name)
    result = analysed(name)
    values = {}
    for symbol in sorted(rule.free_symbols, key=str):
        if symbol.is_positive:
            values[symbol] = data.draw(
                momentum if symbol.name == "beta" else positive, label=symbol.name
            )
        elif symbol.is_nonnegative:
            values[symbol] = data.draw(st.floats(0, 1.5).map(exact), label=symbol.name)
        else:
            values[symbol] = data.draw(st.floats(-1.5, 1.5).map(exact), label=symbol.name)
    radius = numeric_radius(rule, values)
    assume(abs(radius - 1) > 1e-6)
    assert result.is_stable(values) == (radius < 1), (values, radius, result.region)


NEGATIVE_MOMENTUM = sd.stability(sd.optimizers.heavy_ball(QUADRATIC, [x], eta, beta_real))


@given(st.floats(-1.5, 1.5).map(exact), positive, positive)
def test_negative_momentum(beta0, eta0, lam0):
    result = NEGATIVE_MOMENTUM
    rule = result.rule
    values = {beta_real: beta0, eta: eta0, lam: lam0}
    radius = numeric_radius(rule, values)
    assume(abs(radius - 1) > 1e-6)
    assert result.is_stable(values) == (radius < 1)


@pytest.mark.parametrize("name", ["gd", "heavy-ball", "ema-momentum", "resnet-block"])
@given(data=st.data())
def test_closed_form_spectral_radius_matches_numeric(name, data):
    result = analysed(name)
    rule = result.rule
    values = {
        s: data.draw(momentum if s.name == "beta" else positive, label=s.name)
        for s in sorted(rule.free_symbols, key=str)
    }
    assume(not (name == "ema-momentum" and values[beta] >= 1))
    expected = numeric_radius(rule, values)
    got = float(result.spectral_radius.subs(values))
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


# -- published step bounds, each exactly ------------------------------------------------


def same(left, right):
    return sp.simplify(left - right) == 0


def test_gradient_descent_bound():
    """η < 2/λ (e.g. Nesterov, Introductory Lectures, 2004)."""
    bound = sd.step_bound(sd.optimizers.gd(QUADRATIC, [x], eta), eta)
    assert (bound.lower, bound.upper) == (0, 2 / lam)


def test_heavy_ball_bound_and_region():
    """η < 2(1 + β)/λ, β < 1 (Polyak, 1964)."""
    rule = sd.optimizers.heavy_ball(QUADRATIC, [x], eta, beta)
    result = sd.stability(rule)
    assert result.region == sp.And(beta < 1, sp.Lt(eta * lam, 2 * beta + 2))
    bound = sd.step_bound(result, eta)
    assert same(bound.upper, 2 * (1 + beta) / lam)
    assert bound.requires == (beta < 1,)


def test_torch_heavy_ball_is_polyak_in_disguise():
    polyak = sd.step_bound(sd.optimizers.heavy_ball(QUADRATIC, [x], eta, beta), eta)
    torch = sd.step_bound(
        sd.optimizers.heavy_ball(QUADRATIC, [x], eta, beta, convention="torch"), eta
    )
    assert same(polyak.upper, torch.upper)


def test_ema_momentum_bound():
    """η < 2(1 + β)/((1 − β)λ) for m ← βm + (1 − β)g, x ← x − ηm."""
    rule = sd.optimizers.heavy_ball(QUADRATIC, [x], eta, beta, convention="ema")
    bound = sd.step_bound(rule, eta)
    assert same(bound.upper, 2 * (1 + beta) / ((1 - beta) * lam))


@pytest.mark.parametrize("convention", ["sutskever", "torch", "y-form"])
def test_nesterov_bound_in_every_convention(convention):
    """η < 2(1 + β)/((1 + 2β)λ), and η > (β − 1)/(βλ) (Sutskever et al., 2013)."""
    rule = sd.optimizers.nesterov(QUADRATIC, [x], eta, beta, convention=convention)
    bound = sd.step_bound(rule, eta)
    assert same(bound.upper, 2 * (1 + beta) / ((1 + 2 * beta) * lam))
    assert bound.lower == sp.Max(0, (beta - 1) / (beta * lam))


def test_extragradient_bound_comes_from_a_complex_pair():
    """On f = a·xy extragradient converges iff η < 1/a (Korpelevich, 1976)."""
    rule = sd.games.extragradient(a * x * y, [x], [y], eta)
    result = sd.stability(rule)
    assert all(f.degree() == 2 for f in result.factors)
    assert sd.step_bound(result, eta).upper == 1 / a


def test_resnet_blocks():
    """Forward Euler: h < 2/a for f = −ax, h < 2a/(a² + b²) for the spiral."""
    assert sd.step_bound(sd.models.resnet_block(-a * x, [x], h), h).upper == 2 / a
    spiral = sd.models.resnet_block([-a * x - b * y, b * x - a * y], [x, y], h)
    assert same(sd.step_bound(spiral, h).upper, 2 * a / (a**2 + b**2))


def test_linear_rnn_interval_is_symmetric():
    w = sp.Symbol("w", real=True)
    bound = sd.step_bound(sd.models.linear_rnn([[w]], [x]), w)
    assert (bound.lower, bound.upper) == (-1, 1)


@given(
    momentum=st.floats(-0.99, 2.0).filter(lambda m: min(abs(m), abs(m + 0.5)) > 1e-3),
    curvature=st.floats(0.1, 10.0),
    lr=st.floats(0.0, 8.0, exclude_min=True),
)
def test_nesterov_bound_for_momentum_of_either_sign(momentum, curvature, lr):
    """With β only known real both slopes change sign (at β = 0 and β = −1/2): the bound
    is piecewise, and lower < η < upper is exactly where the spectral radius is below 1."""
    rule = sd.optimizers.nesterov(QUADRATIC, [x], eta, beta_real)
    bound = bound_of(rule)
    values = {beta_real: momentum, lam: curvature}
    lower, upper = (float(e.subs(values)) for e in (bound.lower, bound.upper))
    assert bound.requires == ()
    assume(min(abs(lr - lower), abs(lr - upper)) > 1e-6 * (1 + lr))
    radius = numeric_radius(rule, {**values, eta: lr})
    assume(abs(radius - 1) > 1e-9)
    assert (lower < lr < upper) == (radius < 1), (lower, upper, radius)


@functools.cache
def bound_of(rule):
    return sd.step_bound(rule, eta)


# -- marginal and undecided cases ----------------------------------------------------------


def test_alternating_gda_cycles_on_the_bilinear_game():
    """Alternating GDA on xy keeps both eigenvalues on the unit circle for η ≤ 2."""
    result = sd.stability(sd.games.gda(x * y, [x], [y], eta, mode="alternating"))
    assert result.region is sp.false
    assert result.marginal.subs(eta, 1) is sp.true
    assert result.marginal.subs(eta, 3) is sp.false
    rule = result.rule
    for eta0 in (0.1, 1.0, 1.9):
        assert numeric_radius(rule, {eta: eta0}) == pytest.approx(1, abs=1e-12)
    assert numeric_radius(rule, {eta: 2.5}) > 1


def test_a_never_stable_rule_states_where_it_is_marginal():
    result = sd.stability(sd.games.gda(x * y, [x], [y], eta, mode="alternating"))
    last = result.derivation.steps[-1]
    assert "marginal" in last.text and last.math == result.marginal


def test_a_rule_analysed_again_reuses_its_result():
    first = sd.stability(sd.optimizers.heavy_ball(QUADRATIC, [x], eta, beta))
    assert sd.stability(sd.optimizers.heavy_ball(QUADRATIC, [x], eta, beta)) is first
    rule = sd.optimizers.heavy_ball(QUADRATIC, [x], eta, beta)
    at_origin = sd.stability(rule, at={s: 0 for s in rule.state})
    assert at_origin is not first and at_origin.region == first.region


def test_simultaneous_gda_diverges_everywhere():
    result = sd.stability(sd.games.gda(x * y, [x], [y], eta))
    assert result.region is sp.false and result.marginal is sp.false
    assert same(result.spectral_radius, sp.sqrt(1 + eta**2))
    with pytest.raises(sd.UndecidedError, match="empty"):
        sd.step_bound(result, eta)


def test_boundary_point_is_not_stable():
    result = sd.stability(sd.optimizers.gd(QUADRATIC, [x], eta))
    assert not result.is_stable({eta: 2, lam: 1})
    assert result.marginal.subs({eta: 2, lam: 1}) is sp.true


def test_is_stable_with_missing_values_is_undecided():
    result = sd.stability(sd.optimizers.heavy_ball(QUADRATIC, [x], eta, beta))
    with pytest.raises(sd.UndecidedError, match="lambda"):
        result.is_stable({eta: 0.1, beta: 0.5})
    # ... unless another condition settles it: beta < 1 fails whatever lambda is.
    assert result.is_stable({eta: 0.1, beta: 1.5}) is False


def test_is_stable_refuses_values_outside_the_declared_assumptions():
    """The region was derived for eta > 0; at eta = 0 (a root at 1) it says nothing."""
    result = sd.stability(sd.optimizers.heavy_ball(QUADRATIC, [x], eta, beta))
    with pytest.raises(sd.ArgumentError, match="eta = 0 breaks its declared assumption"):
        result.is_stable({eta: 0, beta: 0.5, lam: 3})


def test_parameters_without_sign_information_are_undecided():
    loose = sp.Symbol("beta")
    with pytest.raises(sd.UndecidedError, match="beta"):
        sd.stability(sd.optimizers.heavy_ball(QUADRATIC, [x], eta, loose))


def test_time_varying_rule_is_undecided_until_the_counter_is_fixed():
    rule = sd.optimizers.nesterov(QUADRATIC, [x], eta, (k - 1) / (k + 2), counter=k)
    assert rule.is_time_varying
    with pytest.raises(sd.UndecidedError, match="counter"):
        sd.stability(rule)
    frozen = sd.stability(rule.subs({k: 10}))
    assert frozen.is_stable({eta: sp.Rational(1, 2), lam: 1})


def test_nonlinear_rule_is_linearised_at_its_fixed_point_or_origin():
    rule = sd.UpdateRule([x], [(x, x - eta * (x**3 - x))], [eta])
    at_one = sd.stability(rule, at={x: 1})
    assert at_one.region == sp.Lt(eta, 1)
    at_origin = sd.stability(rule)  # the origin is a maximum of x**4/4 - x**2/2
    assert at_origin.region is sp.false


def test_factorisation_splits_decoupled_modes():
    mu = sp.Symbol("mu", positive=True)
    rule = sd.optimizers.heavy_ball(lam * x**2 / 2 + mu * y**2 / 2, [x, y], eta, beta)
    result = sd.stability(rule)
    assert len(result.factors) == 2
    for lam0, mu0, eta0 in [(1, 10, 0.3), (1, 10, 0.1), (2, 3, 1.2)]:
        values = {lam: lam0, mu: mu0, eta: sp.Rational(str(eta0)), beta: sp.Rational(1, 2)}
        assert result.is_stable(values) == (numeric_radius(rule, values) < 1)


def test_partial_linearisation_point_is_refused():
    rule = sd.optimizers.nesterov(x**4 / 4 + x**2, [x], eta, beta)
    with pytest.raises(sd.RuleError, match="no value for v_x"):
        sd.stability(rule, at={x: 0})
    assert sd.stability(rule, at={x: 0, rule.state[1]: 0}).region.free_symbols == {eta, beta}


def test_undefined_losses_at_shifted_points():
    """Nesterov's look-ahead gradient of an undefined loss stays a valid Subs."""
    L = sp.Function("L")
    rule = sd.optimizers.nesterov(L(x), [x], eta, beta)
    concrete = rule.map.subs(L(x).func, sp.Lambda(x, lam * x**2 / 2)).doit()
    expected = sd.optimizers.nesterov(QUADRATIC, [x], eta, beta).map
    assert sp.simplify(concrete - expected) == sp.zeros(2, 1)


def test_a_step_missing_from_the_linearisation_is_refused():
    """sp.Symbol("eta") without positive=True is another symbol than the rule's eta."""
    rule = sd.optimizers.gd(QUADRATIC, [x], eta)
    with pytest.raises(sd.ArgumentError, match=r"eta does not appear .* eta, lambda"):
        sd.step_bound(rule, sp.Symbol("eta"))


# -- step bounds whose slopes change sign --------------------------------------------------

b_real, eta_real = sp.symbols("b eta", real=True)
x1, x2, x3 = sp.symbols("x1:4", real=True)


def three_state_rule():
    """J = [[1−b, 0, −3η/2], [3b−η/2, 1−3η/2, −b+η/2], [−b/2, 0, 1]] with b, η only real.

    Its region holds b·η < 0 and η > 0, so it is empty for b > 0; step_bound once
    claimed 0 < η < 4.16 at b = 25/32, where the spectral radius is 1.0074."""
    half = sp.Rational(1, 2)
    jacobian = sp.Matrix(
        [
            [1 - b_real, 0, -3 * half * eta_real],
            [3 * b_real - half * eta_real, 1 - 3 * half * eta_real, -b_real + half * eta_real],
            [-half * b_real, 0, 1],
        ]
    )
    state = [x1, x2, x3]
    updates = [(s, sum(jacobian[i, j] * state[j] for j in range(3))) for i, s in enumerate(state)]
    return sd.UpdateRule(state, updates, [b_real, eta_real], simultaneous=True)


@functools.cache
def three_state_bound():
    return sd.step_bound(three_state_rule(), eta_real)


def matrix_radius(rule, values):
    jacobian = np.array(rule.jacobian().subs(values), dtype=float)
    return max(abs(np.linalg.eigvals(jacobian)))


def test_no_step_is_stable_where_the_slopes_say_so():
    rule, bound = three_state_rule(), three_state_bound()
    b0 = sp.Rational(25, 32)
    assert matrix_radius(rule, {b_real: b0, eta_real: 1}) > 1.007
    for eta0 in (sp.Rational(1, 10), 1, 4, sp.Rational(416, 100)):
        assert not bound.contains(eta0, {b_real: b0})
        assert matrix_radius(rule, {b_real: b0, eta_real: eta0}) > 1


@given(st.floats(-3, 3).map(exact), st.floats(-3, 6).map(exact))
def test_a_bound_with_slopes_of_either_sign_agrees_with_numeric_radii(b0, eta0):
    rule, bound = three_state_rule(), three_state_bound()
    radius = matrix_radius(rule, {b_real: b0, eta_real: eta0})
    assume(abs(radius - 1) > 1e-6)
    assert bound.contains(eta0, {b_real: b0}) == (radius < 1), (b0, eta0, radius)


# -- spectral radii of numeric factors of degree ≥ 3, and other edges ----------------------

R = sp.Rational
NUMERIC_CUBICS = [
    [[0, 1, 0], [0, 0, 1], [R(1, 7), R(-2, 5), R(1, 3)]],  # a complex pair dominates
    [[0, 1, 0], [0, 0, 1], [2, 0, 0]],  # z**3 = 2: three roots of one modulus
    [[1, 0, R(3, 4)], [-3, 0, 0], [R(5, 16), R(-1, 4), R(-15, 8)]],
    [[0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1], [R(1, 5), R(-1, 3), R(1, 2), R(-1, 7)]],
]


@pytest.mark.parametrize("rows", NUMERIC_CUBICS)
def test_the_radius_of_a_numeric_factor_of_degree_three_or_more_is_exact(rows):
    """Once a raw ValueError: Max of Cardano radicals that are 'not comparable'."""
    matrix = sp.Matrix(rows)
    result = sd.stability(matrix)
    assert any(f.degree() >= 3 for f in result.factors)
    numeric = max(abs(np.linalg.eigvals(np.array(matrix, dtype=float))))
    assert result.spectral_radius.is_number
    assert float(sp.N(result.spectral_radius, 30)) == pytest.approx(numeric, rel=1e-12)
    assert (result.region is sp.true) == (numeric < 1)


@given(st.floats(-8, 8, allow_nan=False))
@settings(max_examples=10, deadline=None)
def test_a_symbolic_factor_of_degree_three_has_its_largest_root_modulus_as_radius(b0):
    """No radicals: the radius is max |z| over the roots, exact at rational values and
    numeric (evalf, lambdify) at floats, equal to NumPy's eigenvalues' largest modulus."""
    rows = [[0, 1, 0], [0, 0, 1], [b_real / 7, R(-2, 5), R(1, 3)]]
    radius = sd.stability(sp.Matrix(rows)).spectral_radius
    assert isinstance(radius, LargestRootModulus) and not radius.has(sp.sqrt(b_real))
    numeric = max(abs(np.linalg.eigvals(np.array(sp.Matrix(rows).subs(b_real, b0), dtype=float))))
    assert float(radius.subs(b_real, b0)) == pytest.approx(numeric, rel=1e-9)
    exact = radius.subs(b_real, sp.Rational(b0).limit_denominator(1000))
    assert exact.is_number and not isinstance(exact, LargestRootModulus)
    compiled = sp.lambdify([b_real], radius, "numpy")
    assert compiled(np.array([b0, b0]))[1] == pytest.approx(numeric, rel=1e-9)


def test_the_marginal_set_where_a_weak_condition_always_holds():
    """For z − (1 − b²) the weak form of b² > 0 is True to sympy; the boundary is still
    b = 0 (z = 1) or b² = 2 (z = −1). Once an AttributeError on BooleanTrue.lhs."""
    result = sd.stability(sp.Matrix([[1 - b_real**2]]))
    for b0 in (0, sp.sqrt(2), -sp.sqrt(2)):
        assert result.marginal.subs(b_real, b0) is sp.true
    for b0 in (R(1, 2), 2, 0.001):
        assert result.marginal.subs(b_real, b0) is sp.false


def test_contains_needs_values_for_symbolic_end_points():
    bound = sd.step_bound(sp.Matrix([[1 - eta * b_real]]), eta)
    with pytest.raises(sd.UndecidedError, match="depend on b"):
        bound.contains(0.1)
    assert bound.contains(0.1, {b_real: 1})
    assert not bound.contains(0.1, {b_real: -1})  # requires b > 0
    exact_ends = sd.step_bound(sd.optimizers.gd(QUADRATIC, [x], eta).subs({lam: 4}), eta)
    assert exact_ends.contains(R(1, 2) - R(1, 10**30))
    assert not exact_ends.contains(R(1, 2))


def test_a_cached_result_cannot_be_changed_by_one_caller_for_the_next():
    rule = sd.optimizers.gd(lam * x**2 / 2, [x], eta)
    first = sd.stability(rule)
    with pytest.raises(TypeError):
        first.point[x] = 1
    assert sd.stability(rule).point == {x: 0}
    assert pickle.loads(pickle.dumps(first)).point == first.point  # results still pickle
