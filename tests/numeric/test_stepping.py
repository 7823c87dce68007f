"""The blocked NumPy loop of simulate (issue 20) gives exactly what a plain step-by-step loop
gives: the same exit steps, final states, flags, rates and trajectories, bit for bit."""

import functools
from unittest import mock

import numpy as np
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn as sd
from symdyn.catalogue.named import CATALOGUE, eta, lam, x
from symdyn.numeric import _stepping

k = sp.Symbol("k", integer=True, positive=True)
y = sp.Symbol("y", real=True)


@functools.cache
def rules():
    """Rules whose points diverge, converge and run on within a few dozen steps."""
    return {
        "heavy ball": CATALOGUE["heavy-ball"].factory(),
        "nesterov-y (an output that is its input)": CATALOGUE["nesterov-y"].factory(),
        "time-varying nesterov": sd.optimizers.nesterov(
            lam * x**2 / 2, [x], lr=eta, momentum=(k - 1) / (k + 2), counter=k
        ),
        "nonlinear, a constant output": sd.UpdateRule(
            [x, y], [(x, x - eta * sp.sin(lam * x) + x**3 / 8), (y, sp.Integer(2))], [eta]
        ),
    }


def reference(rule, init, params, steps, threshold, tol):
    """The definition, step by step: every point is tested after every step and leaves the
    batch at once. Returns (final, exit_step, diverged, converged, first, last, path)."""
    step = sd.lambdify(rule)
    n = init[rule.state[0]].size
    work = [init[s].copy() for s in rule.state]
    values = dict(params)
    live = np.arange(n)
    final = np.full((len(work), n), np.nan)
    exit_step = np.full(n, steps)
    diverged, converged = np.zeros(n, bool), np.zeros(n, bool)
    first, last = np.full(n, np.nan), np.full(n, np.nan)
    path = np.full((steps + 1, len(work), n), np.nan)
    path[0] = work
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            if not live.size:
                break
            now = {**values, rule.counter: t} if rule.counter in step.keywords else values
            new = [np.broadcast_to(v, live.shape) for v in step.evaluate(*work, values=now)]
            change = np.max([np.abs(a - b) for a, b in zip(new, work, strict=True)], axis=0)
            size = np.max([np.abs(a) for a in new], axis=0)
            bad = ~(size <= threshold)
            done = ~bad & (change <= tol * (1 + size)) if tol > 0 else np.zeros_like(bad)
            if t == 1:
                first[live] = change
            last[live] = change
            path[t][:, live] = new
            gone = bad | done
            ids = live[gone]
            final[:, ids] = [a[gone] for a in new]
            exit_step[ids], diverged[ids], converged[ids] = t, bad[gone], done[gone]
            live, work = live[~gone], [a[~gone] for a in new]
            values = {s: v if np.ndim(v) == 0 else v[~gone] for s, v in values.items()}
    final[:, live] = work
    return final, exit_step, diverged, converged, first, last, path


@given(
    name=st.sampled_from(sorted(rules())),
    points=st.integers(1, 120),
    steps=st.integers(1, 70),
    block=st.integers(2, 20),
    slab=st.integers(1, 50),
    compact=st.integers(0, 4),
    tol=st.sampled_from([0.0, 1e-12, 1e-6]),
    threshold=st.sampled_from([1e8, 3.0]),
    record=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_blocked_loop_equals_the_step_by_step_definition(
    name, points, steps, block, slab, compact, tol, threshold, record, seed
):
    rule = rules()[name]
    rng = np.random.default_rng(seed)
    init = {s: rng.uniform(-2, 2, points) for s in rule.state}
    params = {
        s: rng.uniform(0.01, 3.0, points) if j % 2 == 0 else 1.0
        for j, s in enumerate((*rule.params, *rule.free))
        if s != rule.counter
    }
    with (
        mock.patch.object(_stepping, "BLOCK", block),
        mock.patch.object(_stepping, "SLAB", slab),
        mock.patch.object(_stepping, "COMPACT_STEPS", compact),
    ):
        run = sd.simulate(rule, init, params, steps, record=record, threshold=threshold, tol=tol)
    final, exit_step, diverged, converged, first, last, path = reference(
        rule, init, params, steps, threshold, tol
    )
    np.testing.assert_array_equal(run.exit_step, exit_step)
    np.testing.assert_array_equal(run.diverged, diverged)
    np.testing.assert_array_equal(run.converged, converged)
    for j, s in enumerate(rule.state):
        np.testing.assert_array_equal(run.final[s], final[j])  # NaN equals NaN here
    with np.errstate(all="ignore"):
        rate = np.where(exit_step > 1, (last / first) ** (1 / np.maximum(exit_step - 1, 1)), 0.0)
    np.testing.assert_array_equal(run.rate, np.where(diverged, np.inf, rate))
    if record:
        after = np.arange(steps + 1)[:, None] > exit_step[None, :]
        for j, s in enumerate(rule.state):
            held = np.where(after & converged, final[j], np.where(after, np.nan, path[:, j]))
            np.testing.assert_array_equal(run.trajectory[s], held)
