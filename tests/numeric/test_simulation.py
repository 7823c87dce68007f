"""Tests of symdyn.numeric.simulation: batched runs against hand-written loops."""

import functools

import numpy as np
import sympy as sp

import symdyn as sd
from symdyn.catalogue.named import CATALOGUE, beta, eta, lam

x = sp.Symbol("x", real=True)


@functools.cache
def rule_of(name):
    return CATALOGUE[name].factory()


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
