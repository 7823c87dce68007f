"""Tests of symdyn.limits.routh_hurwitz: Routh–Hurwitz of limit ODEs against known regions and
against the discrete region of the rule as the step shrinks."""

import functools
import math

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn as sd

x, y = sp.symbols("x y", real=True)
eta, beta, gamma, lam = sp.symbols("eta beta gamma lambda", positive=True)
k = sp.Symbol("k", integer=True, positive=True)


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


def test_routh_hurwitz_derivation_ends_with_math_when_every_condition_holds():
    """At the minimum x = 1 of x⁴/4 − x²/2 the linearisation is s + 2: every condition holds,
    and the derivation says so with an equation (True), not a dangling "if and only if"."""
    limit = sd.continuous_limit(sd.optimizers.gd(x**4 / 4 - x**2 / 2, [x], lr=eta), h=eta)
    result = sd.routh_hurwitz(limit, at={x: 1})
    assert result.region == sp.true
    assert result.charpoly.as_expr() == result.charpoly.gen + 2
    last = result.derivation.steps[-1]
    assert last.math_items() == (sp.true,)
    assert "every admissible value" in last.text
    assert "if and only if" not in last.text
    # The writers say a displayed True in words (symdyn.derivation), not as a lone "True".
    assert (
        result.derivation.to_markdown()
        .rstrip()
        .endswith(r"$$\text{holds for every admissible value}$$")
    )


@pytest.mark.latex
def test_derivations_compile(tmp_path, pdflatex):
    hb = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
    limit = sd.continuous_limit(
        hb, h=eta, scaling={beta: 1 - gamma * sp.sqrt(eta)}, time_step=sp.sqrt(eta)
    )
    stable = sd.continuous_limit(sd.optimizers.gd(x**4 / 4 - x**2 / 2, [x], lr=eta), h=eta)
    derivations = [
        sd.routh_hurwitz(limit).derivation,
        sd.routh_hurwitz(stable, at={x: 1}).derivation,
    ]
    for number, derivation in enumerate(derivations):
        pdf = derivation.save(tmp_path / f"d{number}.pdf")
        assert pdf.stat().st_size > 0


def test_derivation_continues_the_limit_and_states_its_ode_once():
    """The stability derivation carries on from the limit's own steps, so the ODE appears
    once: a reader of limit + stability is not shown the same equations twice."""
    a, b = sp.symbols("a b", positive=True)
    spiral = sd.models.resnet_block([-a * x - b * y, b * x - a * y], [x, y], eta)
    limit = sd.continuous_limit(spiral, h=eta)
    derivation = sd.routh_hurwitz(limit).derivation
    assert derivation.steps[: len(limit.derivation.steps)] == limit.derivation.steps
    shown = [step for step in derivation.steps if step.math_items() == tuple(limit.ode)]
    assert len(shown) == 1
