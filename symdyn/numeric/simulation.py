"""Batched simulation of a rule: every point of a broadcast batch runs until it leaves.

Examples
--------
>>> import numpy as np
>>> import sympy as sp
>>> import symdyn as sd
>>> x = sp.Symbol("x", real=True)
>>> eta = sp.Symbol("eta", positive=True)
>>> run = sd.simulate(sd.UpdateRule([x], [(x, x - eta * x)], [eta]), {x: 1.0},
...                   {eta: np.array([0.5, 1.0])}, steps=50)
>>> run.exit_step
array([40,  2])
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from symdyn.errors import ArgumentError
from symdyn.numeric._keys import SymbolMapping, checked_inputs
from symdyn.numeric._stepping import Outcome, run_blocked
from symdyn.numeric.codegen import lambdify
from symdyn.numeric.numba_backend import flat, numba_simulation
from symdyn.numeric.progress import progress_bar, wanted
from symdyn.rules.rule import UpdateRule

__all__ = ["SimulationResult", "simulate"]


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """A batch of runs of a rule.

    Attributes
    ----------
    rule : UpdateRule
    steps : int
        The number of steps asked for.
    final : SymbolMapping
        State symbol (read-only; also read by exact name) → array shaped like
        the batch: the state when the point left (diverged or converged) or
        after the last step.
    diverged, converged : numpy.ndarray of bool
        Left because a state value became non-finite or exceeded the
        threshold; left because no state value moved by more than
        ``tol * (1 + |value|)`` in one step.
    exit_step : numpy.ndarray of int
        The step at which the point left (``steps`` when it never did).
    params : SymbolMapping
        Parameter and free symbol → the value (or array) the batch ran with.
    rate : numpy.ndarray of float
        Empirical contraction per step, ``(|Δ_last| / |Δ_1|) ** (1 / (exit_step - 1))``
        with ``Δ`` the largest change of a state value in one step (``inf`` when diverged);
        for an affine rule it tends to the spectral radius.
    trajectory : SymbolMapping or None
        State symbol → array shaped ``(steps + 1,) + batch`` when recorded:
        converged points hold their final value after leaving, diverged ones ``nan``.
    """

    rule: UpdateRule
    steps: int
    final: SymbolMapping
    diverged: np.ndarray
    converged: np.ndarray
    exit_step: np.ndarray
    rate: np.ndarray
    params: SymbolMapping
    trajectory: SymbolMapping | None = None


def simulate(
    rule,
    init,
    params,
    steps,
    record=False,
    threshold=1e8,
    tol=1e-12,
    backend="numpy",
    progress=None,
    progress_file=None,
):
    """Run ``rule`` for ``steps`` steps on a broadcast batch of starts and parameters.

    Points leave the batch early when they diverge (a state value is
    non-finite or larger than ``threshold`` in absolute value) or converge
    (no state value changed by more than ``tol * (1 + |value|)``); the rest
    of the batch runs on. A time-varying rule sees its counter take the
    values 1, 2, ..., ``steps``.

    Parameters
    ----------
    rule : UpdateRule
    init : mapping
        State symbol (or its name) → initial value or array.
    params : mapping
        Parameter and free symbol (or name) → value or array.
    steps : int
    record : bool
        Keep the whole trajectory.
    threshold : float
    tol : float
        ``0`` disables the convergence test.
    backend : {"numpy", "numba"}
        ``"numba"`` (optional extra) fuses the whole time loop per point in
        compiled code, points in parallel; it does not record trajectories,
        and its bar moves between segments of at least one step (at most
        50 of them).
    progress : bool, optional
        A tqdm bar over the steps. Default: shown only when
        ``progress_file`` (default ``sys.stderr``) is a terminal.
    progress_file : text stream, optional
        Where the bar goes (tqdm's ``file=``).

    Returns
    -------
    SimulationResult

    Examples
    --------
    >>> import numpy as np
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> run = simulate(UpdateRule([x], [(x, x - eta * x)], [eta]), {x: 1.0},
    ...                {eta: np.array([0.5, 2.5])}, steps=100)
    >>> run.converged, run.diverged
    (array([ True, False]), array([False,  True]))
    """
    show = wanted(progress, progress_file)
    step = lambdify(rule, "map")
    starts, values = _inputs(rule, step, init, params)
    batch = np.broadcast_shapes(*(np.shape(v) for v in (*starts.values(), *values.values())))
    size = math.prod(batch)
    held = ", ".join(f"{s} = {np.ravel(v)[0]:.4g}" for s, v in values.items() if np.size(v) == 1)
    desc = f"simulate {rule.name}" + (f" ({held})" if held else "")
    bar = progress_bar(show, steps, desc, "step", progress_file)
    if backend == "numba":
        if record:
            raise ArgumentError("backend='numba' does not record trajectories; use 'numpy'")
        out = _numba_run(
            rule, step, starts, values, batch, max(size, 1), steps, threshold, tol, show, bar
        )
        return _result(rule, steps, batch, values, *out)
    if backend != "numpy":
        raise ArgumentError(f"backend={backend!r}; use 'numpy' or 'numba'")
    outcome = _numpy_run(
        rule, step, starts, values, batch, size, steps, threshold, tol, record, bar
    )
    rate = _rate(outcome.first, outcome.last, outcome.exit_step, outcome.diverged)
    return _result(
        rule,
        steps,
        batch,
        values,
        list(outcome.final),
        outcome.diverged,
        outcome.converged,
        outcome.exit_step,
        rate,
        outcome.path,
    )


def _inputs(rule, step, init, params):
    """The boundary: starts and parameter values keyed by Symbol, each checked once."""
    starts = checked_inputs(init, rule.state, f"{rule.name}: simulate(init=...)")
    missing = [str(s) for s in rule.state if s not in starts]
    if missing:
        raise ArgumentError(f"init: missing values for {', '.join(missing)}")
    known = (*rule.params, *rule.free)
    values = checked_inputs(params, known, f"{rule.name}: simulate(params=...)")
    needed = [str(k) for k in step.keywords if k != rule.counter and k not in values]
    if needed:
        raise ArgumentError(f"params: missing values for {', '.join(needed)}")
    return starts, values


def _numpy_run(rule, step, starts, values, batch, size, steps, threshold, tol, record, bar):
    """The blocked NumPy loop (:mod:`symdyn.numeric._stepping`) on the flattened batch."""
    work = [
        np.array(np.broadcast_to(starts[s], batch), dtype=float).reshape(size) for s in rule.state
    ]
    arguments = [
        None
        if k == rule.counter
        else values[k]
        if np.ndim(values[k]) == 0
        else np.array(np.broadcast_to(values[k], batch), dtype=float).reshape(size)
        for k in step.keywords
    ]
    counter = step.keywords.index(rule.counter) if rule.counter in step.keywords else None
    outcome = Outcome(size, len(rule.state), steps, record)
    with bar:
        run_blocked(step.function, work, arguments, counter, steps, threshold, tol, outcome, bar)
    return outcome


# A shown bar moves after each of at most this many segments of the compiled loop.
_SEGMENTS = 50


def _numba_run(rule, step, starts, values, batch, size, steps, threshold, tol, show, bar):
    """The compiled loop over all steps, or in segments between which the bar moves.

    After a segment only the points still running go on, compacted, as in
    the NumPy path; the first segment writes straight into the results.
    """
    kernel = numba_simulation(rule, step.keywords, rule.counter)
    states = flat([starts[s] for s in rule.state], batch, size)
    pars = flat([values[k] for k in step.keywords if k != rule.counter], batch, size)
    final = [np.empty(size) for _ in states]
    exits = np.full(size, steps, dtype=np.int64)
    diverged, converged = np.zeros(size, bool), np.zeros(size, bool)
    first, rate = np.full(size, np.nan), np.zeros(size)
    results = [*final, exits, diverged, converged, first, rate]
    cuts = [0, steps]
    if show and steps > 1:
        cuts = np.unique(np.linspace(0, steps, min(steps, _SEGMENTS) + 1).astype(int))
    index = None  # None: every point, in place
    with bar:
        for begin, end in itertools.pairwise(int(c) for c in cuts):
            if index is None:
                parts = results
            elif index.size:
                parts = [r[index] for r in results]
            else:
                break
            kernel(
                parts[-1].size, begin, end, float(threshold), float(tol), *states, *pars, *parts
            )
            if index is not None:
                for whole, part in zip(results, parts, strict=True):
                    whole[index] = part
            bar.update(end - begin)
            if end < steps:
                *now, _, gone_bad, gone_done, _, _ = parts
                running = ~(gone_bad | gone_done)
                index = np.flatnonzero(running) if index is None else index[running]
                states = [part[running] for part in now]
                pars = [p[running] for p in pars]
    return final, diverged, converged, exits, rate


def _rate(first, last, exit_step, diverged):
    """The empirical contraction per step (the compiled loop computes the same in place)."""
    with np.errstate(all="ignore"):
        rate = np.where(exit_step > 1, (last / first) ** (1 / np.maximum(exit_step - 1, 1)), 0.0)
    return np.where(diverged, np.inf, rate)


def _result(rule, steps, batch, values, final, diverged, converged, exit_step, rate, path=None):
    trajectory = None
    if path is not None:
        after = np.arange(steps + 1)[:, None] > exit_step[None, :]
        trajectory = SymbolMapping(
            {
                s: np.where(
                    after, np.where(converged, final[j], np.nan)[None, :], path[:, j, :]
                ).reshape(steps + 1, *batch)
                for j, s in enumerate(rule.state)
            }
        )
    return SimulationResult(
        rule=rule,
        steps=steps,
        final=SymbolMapping({s: final[j].reshape(batch) for j, s in enumerate(rule.state)}),
        diverged=diverged.reshape(batch),
        converged=converged.reshape(batch),
        exit_step=exit_step.reshape(batch),
        rate=rate.reshape(batch),
        params=SymbolMapping(values),
        trajectory=trajectory,
    )
