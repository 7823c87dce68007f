"""Tests of symdyn.numeric.training: as_optimizer runs exactly what simulate runs."""

import functools

import numpy as np
import pytest
import sympy as sp

import symdyn as sd
from symdyn.catalogue.named import CATALOGUE, beta, eta, lam

x = sp.Symbol("x", real=True)


@functools.cache
def rule_of(name):
    return CATALOGUE[name].factory()


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
