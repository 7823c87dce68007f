"""Rules with a step counter on quadratics: the exact worst case after N steps against brute
force over 10^6 eigenvalues (vectorised NumPy)."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symdyn as sd
from symdyn.linear.time_varying import time_varying_worst_case

k = sp.Symbol("k", integer=True, nonnegative=True)
x, v = sp.symbols("x v", real=True)
lam, L = sp.symbols("lambda L", positive=True)
Q = sd.quadratic("theta", n=sp.Symbol("n"))
GRID = 10**6


def brute_force(step_sizes, momenta, low, high, steps, metric="ratio"):
    """max over 10^6 λ of the metric, by the recurrence v⁺ = β_k v − η_k λ x, x⁺ = x + v⁺."""
    lams = np.linspace(low, high, GRID)
    xs, vs = np.ones(GRID), np.zeros(GRID)
    for i in range(steps):
        vs = momenta(i) * vs - step_sizes(i) * lams * xs
        xs = xs + vs
    values = {
        "ratio": np.abs(xs),
        "distance": xs**2,
        "function_value": lams * xs**2 / 2,
        "gradient_norm": lams**2 * xs**2,
    }[metric]
    return values.max()


def test_a_periodic_step_size_schedule():
    """GD on θᵀHθ/2 with the steps 3/2, 1/2, 3/2, ... (η_k = 1 + (−1)^k/2), L = 1."""
    eta_k = 1 + sp.Rational(1, 2) * (-1) ** k
    theta = Q.theta
    rule = sd.UpdateRule([theta], [(theta, theta - eta_k * sd.grad(Q.loss, theta))], counter=k)
    result = sd.worst_case_rate(rule, (sp.Rational(1, 10), 1), steps=12)
    expected = brute_force(lambda i: 1 + 0.5 * (-1) ** i, lambda i: 0.0, 0.1, 1.0, 12)
    assert result.rate == pytest.approx(expected, rel=1e-9)
    assert result.rate >= expected * (1 - 1e-12)  # the grid never beats the exact maximum


@pytest.mark.parametrize("metric", ["ratio", "distance", "function_value", "gradient_norm"])
def test_nesterov_momentum_schedule(metric):
    """Nesterov's momentum k/(k+3) (the (k−1)/(k+2) of Nesterov 1983 from k = 1) with
    step 1/L, per mode, λ ∈ [1/100, 1], N = 20 steps, every metric."""
    rule = sd.UpdateRule(
        [x, v], [(v, k / (k + 3) * v - lam * x / L), (x, x + v)], counter=k, params=[L]
    )
    result = time_varying_worst_case(
        rule, {lam: (sp.Rational(1, 100), 1)}, steps=20, params={L: 1}, metric=metric
    )
    expected = brute_force(lambda i: 1.0, lambda i: i / (i + 3), 0.01, 1.0, 20, metric)
    assert result.rate == pytest.approx(expected, rel=1e-8)
    assert result.rate >= expected * (1 - 1e-12)


@settings(max_examples=10)
@given(
    step=st.fractions(min_value=1 / 20, max_value=2).map(sp.Rational),
    momentum=st.fractions(min_value=0, max_value=19 / 20).map(sp.Rational),
    steps=st.integers(1, 12),
    metric=st.sampled_from(["ratio", "distance", "function_value", "gradient_norm"]),
)
def test_worst_case_rate_takes_every_metric_on_constant_rules(step, momentum, steps, metric):
    """worst_case_rate(steps=N, metric=...) on heavy ball with constant η, β on θᵀHθ/2 over
    λ ∈ [1/10, 1]: exact, never below brute force over 10^6 eigenvalues."""
    eta, beta = sp.symbols("eta beta", positive=True)
    rule = sd.optimizers.heavy_ball(Q.loss, [Q.theta], lr=eta, momentum=beta)
    result = sd.worst_case_rate(
        rule,
        (sp.Rational(1, 10), 1),
        steps=steps,
        params={eta: step, beta: momentum},
        metric=metric,
    )
    expected = brute_force(
        lambda i: float(step), lambda i: float(momentum), 0.1, 1.0, steps, metric
    )
    assert result.rate == pytest.approx(expected, rel=1e-8)
    assert result.rate >= expected * (1 - 1e-12)


def test_a_metric_needs_a_horizon_and_a_known_name():
    gd = sd.optimizers.gd(Q.loss, [Q.theta], lr=sp.Rational(1, 2))
    with pytest.raises(sd.ArgumentError, match="needs steps=N"):
        sd.worst_case_rate(gd, (1, 3), metric="function_value")
    with pytest.raises(sd.ArgumentError, match="gradient descent: metric must be one of") as e:
        sd.worst_case_rate(gd, (1, 3), steps=2, metric="bogus")
    assert e.value.symbol == "metric"


def test_symbols_without_values_are_undecided():
    rule = sd.UpdateRule([x], [(x, x - L * lam * x / (k + 1))], counter=k, params=[L])
    with pytest.raises(sd.UndecidedError, match="params"):
        sd.worst_case_rate(rule, {lam: (1, 2)}, steps=3)


def test_chebyshev_step_sizes():
    """Young (1953): GD with the steps 1/η_i = (L+μ)/2 + (L−μ)/2 cos((2i+1)π/(2N)) has
    θ_N(λ) = T_N((L+μ−2λ)/(L−μ)) / T_N((L+μ)/(L−μ)), worst case 1/T_N((κ+1)/(κ−1)); with
    the steps rounded to 1e-12 the exact worst case agrees to rounding."""
    mu, big, steps = 1, 10, 5

    def rational(value):
        return sp.nsimplify(value, rational=True, tolerance=1e-13)

    sizes = [
        rational(1 / ((big + mu) / 2 + (big - mu) / 2 * np.cos((2 * i + 1) * np.pi / (2 * steps))))
        for i in range(steps)
    ]
    eta_k = sp.Piecewise(*[(s, sp.Eq(k, i)) for i, s in enumerate(sizes)], (0, True))
    rule = sd.UpdateRule([x], [(x, x - eta_k * lam * x)], counter=k)
    result = sd.worst_case_rate(rule, {lam: (mu, big)}, steps=steps)
    kappa = big / mu
    assert result.rate == pytest.approx(
        1 / np.cosh(steps * np.arccosh((kappa + 1) / (kappa - 1))), rel=1e-9
    )


def test_periodic_schedule_through_the_monodromy_matrix():
    """Steps 3/2, 1/2, 3/2, ...: over one period a mode is multiplied by
    (1 − 3λ/2)(1 − λ/2), stable exactly when that has modulus below 1; the exact region
    agrees with the growth of 200 simulated periods at 2000 eigenvalues."""
    from symdyn.linear.time_varying import periodic_stability

    eta_k = 1 + sp.Rational(1, 2) * (-1) ** k
    rule = sd.UpdateRule([x], [(x, x - eta_k * lam * x)], counter=k)
    result = periodic_stability(rule, 2, spectrum={lam: (1, 2)})
    assert sp.expand(result.monodromy[0, 0] - (1 - 3 * lam / 2) * (1 - lam / 2)) == 0
    for value in np.linspace(0.01, 3, 2000):
        grown = abs((1 - 1.5 * value) * (1 - 0.5 * value)) ** 200
        if abs(grown - 1) > 1e-6:
            assert result.stability.is_stable({lam: value}) == (grown < 1)
    with pytest.raises(sd.SpectrumError, match="period"):
        periodic_stability(rule, 3, spectrum={lam: (1, 2)})
