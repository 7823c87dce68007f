"""Symbols end to end in the numeric floor (issue 16): two symbols with one name and different
assumptions never collide; a string key is resolved once by exact name, and an ambiguous one is
refused naming both."""

import numpy as np
import pytest
import sympy as sp

import symdyn as sd
from symdyn.errors import ArgumentError

y = sp.Symbol("y", real=True)
x_real = sp.Symbol("x", real=True)
x_positive = sp.Symbol("x", positive=True)
# y <- y - x_positive * y + x_real: the two x's play different parts
RULE = sd.UpdateRule([y], [(y, y - x_positive * y + x_real)], [x_real, x_positive], name="two x")
VALUES = {x_real: 0.25, x_positive: 0.5}


def by_hand(steps, start=1.0):
    value = start
    for _ in range(steps):
        value = value - 0.5 * value + 0.25
    return value


def ambiguous():
    return pytest.raises(ArgumentError, match=r'"x": x \(real\) and x \(.*positive.*\)')


def test_lambdify_keeps_both_symbols_and_refuses_the_shared_name():
    step = sd.lambdify(RULE)
    assert step.keywords == (x_real, x_positive)
    (out,) = step.evaluate(1.0, values=VALUES)
    assert out == by_hand(1)
    with ambiguous():
        step(1.0, x=0.5)


def test_simulate_keeps_both_symbols_and_refuses_the_shared_name():
    run = sd.simulate(RULE, {"y": 1.0}, VALUES, steps=7, tol=0)
    assert float(run.final[y]) == by_hand(7)
    assert run.final["y"] is run.final[y]
    with pytest.raises(TypeError):
        run.final[y] = 0.0  # results are read-only
    with ambiguous():
        sd.simulate(RULE, {y: 1.0}, {"x": 0.5, x_real: 0.25}, steps=3)


def test_stability_map_keeps_both_symbols_and_refuses_the_shared_name():
    grid = {x_positive: np.array([0.5, 1.5, 2.5])}
    smap = sd.stability_map(RULE, grid, fixed={x_real: 3.0})
    # y <- (1 - x_positive) y + x_real is stable when |1 - x_positive| < 1
    assert smap.stable.tolist() == [True, True, False]
    np.testing.assert_allclose(smap.values, [0.5, 0.5, 1.5])
    assert smap.symbols == (x_positive,) and dict(smap.fixed) == {x_real: 3.0}
    with pytest.raises(TypeError):
        smap.fixed[x_real] = 1.0
    with ambiguous():
        sd.stability_map(RULE, {"x": np.array([0.5])}, fixed={x_real: 3.0})


def test_as_optimizer_keeps_both_symbols_and_refuses_the_shared_name():
    w, v = sp.Symbol("w", real=True), sp.Symbol("v_w", real=True)
    g = sp.Symbol("g_w", real=True)
    rule = sd.UpdateRule(
        [w, v],
        [(g, 2 * w), (v, x_real * v - x_positive * g), (w, w + v)],
        [x_real, x_positive],
        name="two-x momentum",
    )
    opt = sd.as_optimizer(rule, {x_real: 0.5, x_positive: 0.1})
    params = {"p": np.array([1.0, -1.0])}
    state = opt.init(params)
    velocity = np.zeros(2)
    for _ in range(5):
        grads = {"p": 2 * params["p"]}
        updates, state = opt.update(grads, state, params)
        velocity = 0.5 * velocity - 0.1 * grads["p"]
        np.testing.assert_allclose(updates["p"], velocity, rtol=1e-14)
        params = {"p": params["p"] + updates["p"]}
    np.testing.assert_array_equal(state.buffers[v]["p"], velocity)
    with ambiguous():
        sd.as_optimizer(rule, {"x": 0.5, x_positive: 0.1})
