"""Tests of symdyn.numeric.numba_backend: the compiled step and time loop equal the NumPy ones."""

import functools
import io

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn as sd
from symdyn.catalogue.named import CATALOGUE, beta, eta, lam
from symdyn.errors import ArgumentError
from tests.optional import require_module

x = sp.Symbol("x", real=True)


@functools.cache
def rule_of(name):
    return CATALOGUE[name].factory()


def test_numba_backend_matches_numpy_step_and_simulation():
    require_module("numba")
    rule = rule_of("heavy-ball")
    lr = np.linspace(0.01, 4.5, 9)
    values = {"eta": lr[:, None], "beta": np.array([0.05, 0.5, 0.95]), "lambda": 1.0}
    fast = sd.lambdify(rule, backend="numba")(1.0, 0.0, **values)
    slow = sd.lambdify(rule)(1.0, 0.0, **values)
    for a, b in zip(fast, slow, strict=True):
        assert a.shape == (9, 3)
        np.testing.assert_allclose(a, b, rtol=1e-12)
    init, params = {x: 1.0, "v_x": 0.0}, {eta: lr[:, None], beta: [0.05, 0.5, 0.95], lam: 1.0}
    fast = sd.simulate(rule, init, params, 400, backend="numba")
    slow = sd.simulate(rule, init, params, 400)
    for field in ("diverged", "converged", "exit_step"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(slow, field))
    np.testing.assert_allclose(fast.rate, slow.rate, rtol=1e-12)
    np.testing.assert_allclose(fast.final[x], slow.final[x], rtol=1e-12)
    assert fast.diverged.any() and fast.converged.any() and not fast.converged.all()
    with pytest.raises(ArgumentError, match="record"):
        sd.simulate(rule, init, params, 4, record=True, backend="numba")


@given(
    size=st.integers(1, 300),
    steps=st.integers(0, 70),
    tol=st.sampled_from([0.0, 1e-6]),
    threshold=st.sampled_from([1e8, 50.0, 1.5]),
    seed=st.integers(0, 2**32 - 1),
    progress=st.booleans(),
)
def test_numba_simulation_leaves_exactly_where_numpy_does(
    size, steps, tol, threshold, seed, progress
):
    """Points exit inside the fast chunks, at chunk edges, at the first and last step and
    between the segments a progress bar runs the compiled loop in."""
    require_module("numba")
    rng = np.random.default_rng(seed)
    rule = rule_of("heavy-ball")
    init = {x: rng.uniform(-1, 1, size), "v_x": 0.0}
    params = {eta: rng.uniform(0, 4.5, size), beta: rng.uniform(0, 1, size), lam: 1.0}
    kwargs = dict(tol=tol, threshold=threshold)
    bar = io.StringIO()
    fast = sd.simulate(
        rule, init, params, steps, backend="numba", progress=progress, progress_file=bar, **kwargs
    )
    if progress and steps:
        assert f"{steps}/{steps}" in bar.getvalue() or fast.exit_step.max() < steps
    assert progress or not bar.getvalue()
    slow = sd.simulate(rule, init, params, steps, **kwargs)
    for field in ("diverged", "converged", "exit_step"):
        np.testing.assert_array_equal(getattr(fast, field), getattr(slow, field))
    for ours, theirs in ((fast.final[x], slow.final[x]), (fast.rate, slow.rate)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-300)


def test_one_compilation_serves_scalars_arrays_and_progress_segments():
    """numba types an array by layout and read-only flag: a zero-stride view of a scalar,
    a read-only array and the compacted copies between progress segments all reach the
    kernel as the same type, so it is compiled once (each compilation takes seconds)."""
    require_module("numba")
    from symdyn.numeric.codegen import lambdify
    from symdyn.numeric.numba_backend import numba_simulation

    rule = rule_of("heavy-ball")
    frozen = np.linspace(-1, 1, 7)
    frozen.flags.writeable = False
    calls = [
        ({x: 1.0, "v_x": 0.0}, {eta: 0.5, beta: 0.5, lam: 1.0}, False),
        ({x: frozen, "v_x": 0.0}, {eta: np.linspace(0.1, 4, 7), beta: 0.9, lam: 1.0}, True),
        ({x: np.ones(3), "v_x": np.zeros(3)}, {eta: 4.4, beta: np.full(3, 0.2), lam: 2.0}, True),
    ]
    for init, params, progress in calls:
        sd.simulate(
            rule, init, params, 40, backend="numba", progress=progress, progress_file=io.StringIO()
        )
    kernel = numba_simulation(rule, lambdify(rule, "map").keywords, rule.counter)
    assert len(kernel.signatures) == 1


def test_numba_simulation_of_a_time_varying_rule():
    require_module("numba")
    k = sp.Symbol("k", integer=True, positive=True)
    rule = sd.optimizers.nesterov(
        lam * x**2 / 2, [x], lr=eta, momentum=(k - 1) / (k + 2), counter=k
    )
    params = {eta: np.array([0.1, 0.5, 1.5]), lam: 1.0}
    fast = sd.simulate(rule, {x: 1.0, "v_x": 0.0}, params, 50, tol=0, backend="numba")
    slow = sd.simulate(rule, {x: 1.0, "v_x": 0.0}, params, 50, tol=0)
    np.testing.assert_allclose(fast.final[x], slow.final[x], rtol=1e-12)


@pytest.mark.parametrize("tol", [0.0, 1e-12])
def test_numba_rate_of_points_that_start_at_the_fixed_point(tol):
    """No first change: 0/0 is nan as in NumPy (not ZeroDivisionError), or 0 after one step."""
    require_module("numba")
    rule = rule_of("heavy-ball")
    init = {x: np.array([0.0, 1.0, 0.0, 1.0]), "v_x": 0.0}
    params = {eta: np.array([0.5, 0.5, 5.0, 1.0]), beta: 0.5, lam: 1.0}
    fast = sd.simulate(rule, init, params, 30, tol=tol, backend="numba")
    slow = sd.simulate(rule, init, params, 30, tol=tol)
    np.testing.assert_array_equal(fast.exit_step, slow.exit_step)
    np.testing.assert_allclose(fast.rate, slow.rate, rtol=1e-12)
    assert np.isnan(fast.rate[0]) == (tol == 0)
