"""The NumPy time loop of :func:`~symdyn.numeric.simulation.simulate`: blocked, cache-sized, exact.

A point *leaves* at the first step ``t`` at which its new state ``s⁺`` is

- diverged: some ``|s⁺ᵢ|`` is non-finite or above ``threshold``;
- converged (``tol > 0``): not diverged, and ``maxᵢ |s⁺ᵢ − sᵢ| ≤ tol (1 + maxᵢ |s⁺ᵢ|)``.

Testing that at every step, and compacting the batch each time a point
leaves, costs more than the step itself. So the points run in slabs small
enough for the cache, ``BLOCK`` steps at a time with no test but two running
bounds per point: ``peak``, at least the largest ``|s⁺ᵢ|`` seen in the block
(that largest value itself when ``tol = 0``; with ``tol > 0``, whose test needs
every step's change ``Δ`` anyway, ``maxᵢ |sᵢ|`` at the block's start plus the
sum of the changes, widened by 10⁻⁶ for its rounding; NaN propagates), and
``least``, the smallest change.
A point that left during the block has ``peak`` beyond the threshold (or
NaN), or ``least ≤ tol (1 + peak)``, since its change at the exit step was at
most ``tol (1 + |s⁺|) ≤ tol (1 + peak)``. Only those points run the block
again from its saved start, step by step, with the exact tests; elementwise
arithmetic gives them the same numbers, so every exit step, final state and
flag is the one a step-by-step loop finds. Points that left stay in the
arrays (as NaN) until compacting them pays: when the work spent on them in
a block would exceed about ``COMPACT_STEPS`` steps of the batch.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BLOCK", "Outcome", "run_blocked"]

# Steps between exact tests, and points per slab: a slab's states and temporaries
# (a few dozen arrays of SLAB doubles) stay in a core's L2 cache across the block.
BLOCK = 16
SLAB = 2**14
COMPACT_STEPS = 2
# A slab settles its points that may have left at once when they are more than 1/FEW of it.
FEW = 32


class Outcome:
    """Per-point results, indexed by the point's position in the flattened batch."""

    def __init__(self, size, variables, steps, record):
        self.final = np.full((variables, size), np.nan)
        self.exit_step = np.full(size, steps)
        self.diverged = np.zeros(size, bool)
        self.converged = np.zeros(size, bool)
        self.first = np.full(size, np.nan)
        self.last = np.full(size, np.nan)
        self.path = np.full((steps + 1, variables, size), np.nan) if record else None


class _Batch:
    """The points still in the arrays: columns of ``work`` and of the per-point arguments."""

    def __init__(self, work, arguments, size):
        self.work = work
        self.arguments = arguments  # per keyword: an array over the columns, or a scalar
        self.index = np.arange(size)
        self.active = np.ones(size, bool)
        self.first = np.full(size, np.nan)
        self.last = np.full(size, np.nan)

    def columns(self, where):
        return [a[where] if np.ndim(a) else a for a in self.arguments]

    def compact(self):
        keep = np.flatnonzero(self.active)
        self.work = [w[keep] for w in self.work]
        self.arguments = self.columns(keep)
        self.index, self.first, self.last = self.index[keep], self.first[keep], self.last[keep]
        self.active = np.ones(self.index.size, bool)


def _fresh(values, size):
    """The generated step's outputs as arrays of ``size`` (a constant output is broadcast)."""
    return [v if np.shape(v) == (size,) else np.full(size, v, dtype=float) for v in values]


def run_blocked(step, work, arguments, counter, steps, threshold, tol, outcome, bar):
    """Run ``steps`` steps of ``step`` (generated code) on every point; fill ``outcome``.

    ``arguments`` are the keyword values in ``step``'s order, arrays over the
    points or scalars; the one at position ``counter`` (or None) is the step
    number, set to 1, 2, ... ``work`` holds the starting states, one array per
    state variable; it is updated in place.
    """
    batch = _Batch(work, list(arguments), work[0].size)
    if outcome.path is not None:
        outcome.path[0] = work
    t = 0
    with np.errstate(all="ignore"):
        while t < steps and batch.active.any():
            end = t + (1 if t == 0 else min(BLOCK, steps - t))
            deferred = []
            for a in range(0, batch.index.size, SLAB):
                cols = slice(a, a + SLAB)
                if end == t + 1:
                    every = np.arange(a, min(a + SLAB, batch.index.size))
                    every = every[batch.active[every]]
                    starts = [w[every] for w in batch.work]
                    _settle(step, batch, every, starts, t, end, counter, threshold, tol, outcome)
                    continue
                flagged = _block(step, batch, cols, t, end, counter, threshold, tol, outcome)
                if flagged[0].size * FEW > SLAB:  # many: settle them now, while in cache
                    _settle(step, batch, *flagged, t, end, counter, threshold, tol, outcome)
                elif flagged[0].size:
                    deferred.append(flagged)
            if deferred:  # few in each slab: one settling pass for all of them
                cols = np.concatenate([c for c, _ in deferred])
                starts = [np.concatenate(p) for p in zip(*(s for _, s in deferred), strict=True)]
                _settle(step, batch, cols, starts, t, end, counter, threshold, tol, outcome)
            bar.update(end - t)
            t = end
            wasted = batch.index.size - np.count_nonzero(batch.active)
            if wasted and wasted * BLOCK >= COMPACT_STEPS * batch.index.size:
                batch.compact()
    running = batch.index[batch.active]
    for j, w in enumerate(batch.work):
        outcome.final[j, running] = w[batch.active]
    outcome.first[running] = batch.first[batch.active]
    outcome.last[running] = batch.last[batch.active]


def _block(step, batch, cols, t0, t1, counter, threshold, tol, outcome):
    """Steps ``t0 + 1 .. t1`` on the columns ``cols`` (a slice) with running bounds.

    Returns the columns that may have left and their states at ``t0``.
    """
    # Copies: the loop only rebinds arrays, so ``saved`` keeps the block's start, and no
    # output of the generated code (which may return an input as it is) aliases ``work``.
    current = [w[cols].copy() for w in batch.work]
    size = current[0].size
    saved = list(current)
    arguments = batch.columns(cols)
    ids = batch.index[cols]
    change = np.empty(size)
    moved = np.empty(size)
    # peak bounds every |s| of the block. Testing convergence needs each step's change anyway,
    # and |s_k| <= max|s_t0| + the sum of the changes so far, so that sum is the bound;
    # without that test, the largest |s| is kept instead (two passes a variable, not three).
    peak = np.maximum.reduce([np.abs(s) for s in saved]) if tol > 0 else np.zeros(size)
    least = np.full(size, np.inf)
    for t in range(t0 + 1, t1 + 1):
        if counter is not None:
            arguments[counter] = t
        new = _fresh(step(*current, *arguments), size)
        if tol > 0 or t == t1:
            for j, (after, before) in enumerate(zip(new, current, strict=True)):
                target = change if j == 0 else moved
                np.abs(np.subtract(after, before, out=target), out=target)
                if j:
                    np.maximum(change, moved, out=change)
        if tol > 0:
            np.minimum(least, change, out=least)
            np.add(peak, change, out=peak)
        else:
            for after in new:
                np.maximum(peak, np.abs(after, out=moved), out=peak)
        if outcome.path is not None:
            outcome.path[t][:, ids] = new
        current = new
    for w, c in zip(batch.work, current, strict=True):
        w[cols] = c
    batch.last[cols] = change
    if tol > 0:  # the sum is rounded: widen it by far more than its rounding error
        peak *= 1 + 1e-6
    maybe = ~(peak <= threshold)
    if tol > 0:
        maybe |= least <= tol * (1 + peak)
    maybe &= batch.active[cols]
    which = np.flatnonzero(maybe)
    return which + (cols.start or 0), [s[which] for s in saved]


def _settle(step, batch, cols, starts, t0, t1, counter, threshold, tol, outcome):
    """Steps ``t0 + 1 .. t1`` of the columns ``cols`` (an index array) from ``starts``, with
    the exact tests after every step.

    All the columns run every step (a point's numbers do not depend on the
    others'), then each point's first failed test is its exit: it is recorded in
    ``outcome`` and becomes NaN in the batch. The others are written back.
    """
    arguments = batch.columns(cols)
    current, states, changes, leaving, diverging = starts, [], [], [], []
    for t in range(t0 + 1, t1 + 1):
        if counter is not None:
            arguments[counter] = t
        new = _fresh(step(*current, *arguments), cols.size)
        change = np.maximum.reduce([np.abs(a - b) for a, b in zip(new, current, strict=True)])
        size = np.maximum.reduce([np.abs(a) for a in new])
        bad = ~np.isfinite(size) | (size > threshold)
        done = ~bad & (change <= tol * (1 + size)) if tol > 0 else np.zeros_like(bad)
        if outcome.path is not None:  # entries after a point's exit are replaced by the result
            outcome.path[t][:, batch.index[cols]] = new
        states.append(new)
        changes.append(change)
        leaving.append(bad | done)
        diverging.append(bad)
        current = new
    if t0 == 0:
        batch.first[cols] = changes[0]
    leaving = np.array(leaving)
    left = leaving.any(axis=0)
    stay = ~left
    for w, c in zip(batch.work, current, strict=True):
        w[cols[stay]] = c[stay]
    batch.last[cols[stay]] = changes[-1][stay]
    if not left.any():
        return
    which = np.flatnonzero(left)
    exit_at = leaving[:, which].argmax(axis=0)  # the first failed test
    gone = cols[which]
    ids = batch.index[gone]
    at = (exit_at, np.arange(which.size))
    states = np.array([[state[which] for state in new] for new in states])  # step, variable, point
    outcome.final[:, ids] = states[exit_at, :, at[1]].T
    outcome.exit_step[ids] = t0 + 1 + exit_at
    outcome.diverged[ids] = np.array([d[which] for d in diverging])[at]
    outcome.converged[ids] = ~outcome.diverged[ids]
    outcome.first[ids] = batch.first[gone]
    outcome.last[ids] = np.array([c[which] for c in changes])[at]
    batch.active[gone] = False
    for w in batch.work:
        w[gone] = np.nan
