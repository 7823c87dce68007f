"""Numerical solution of a continuous limit, and how fast the iterates approach it.

:func:`integrate` solves the limit ODE with scipy's ``solve_ivp``;
:func:`convergence` runs the rule for several step sizes and fits the order at
which its iterates approach that solution, to compare with ``error_order``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import sympy as sp

from symdyn.errors import RuleError, UndecidedError
from symdyn.limits.continuous import T
from symdyn.rules.state_roles import state_roles

__all__ = ["Convergence", "convergence", "integrate"]


def integrate(limit, init, t_span, values=None, rtol=1e-10, atol=1e-12):
    """Solve ``limit.ode`` numerically with scipy's ``solve_ivp`` (dense output).

    Parameters
    ----------
    limit : ContinuousLimit
    init : mapping
        Initial values: position symbols (or X(t)) and, for second-order
        limits, ``sp.Derivative(X(t), t)``; missing derivatives start at 0.
    t_span : (float, float)
    values : mapping
        Numbers for the remaining symbols.

    Returns
    -------
    scipy.integrate.OdeResult
        ``.y`` rows follow ``X, X', …`` for each position in turn.

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> lim = sd.continuous_limit(sd.optimizers.gd(x**2 / 2, [x], lr=eta), h=eta)
    >>> round(float(sd.integrate(lim, {x: 1.0}, (0, 1)).y[0, -1]), 6)
    0.367879
    """
    values = limit.values(values, f"{limit.rule.name}: integrate(values=...)")
    init = limit.values(init, f"{limit.rule.name}: integrate(init=...)", functions=True)
    return _solver(limit, values)(init, t_span, rtol, atol)


@functools.lru_cache(maxsize=32)
def _compiled_rates(limit, keys):
    """(phase variables, symbols still free, rates(t, y, key values)) of ``limit.ode``:
    the symbolic set-up, once per limit and set of value symbols (a check solves the
    same limit at many drawn values)."""
    phase, dummies, fields = limit.first_order_system()
    fields = [f.doit() for f in fields]
    loose = set().union(*(f.free_symbols for f in fields)) - set(dummies) - {T} - set(keys)
    return phase, loose, sp.lambdify([T, dummies, list(keys)], fields, "numpy")


@functools.lru_cache(maxsize=32)
def _compiled_step(limit, keys):
    """(the rule's state roles, its map in its scaling lambdified in (state, h, key
    values)), once per limit and set of value symbols."""
    rule = limit.rule
    next_state = [e.subs(limit.scaling) for e in rule.next_state]
    step = sp.lambdify([list(rule.state), limit.h, list(keys)], next_state, "math")
    return state_roles(rule), step


def _keys(values):
    return tuple(sorted(values, key=sp.default_sort_key))


def _solver(limit, values):
    """``solve(init, t_span, rtol, atol)`` for ``limit.ode`` at ``values``."""
    import numpy as np
    from scipy.integrate import solve_ivp

    keys = _keys(values)
    phase, loose, compiled = _compiled_rates(limit, keys)
    if loose:
        raise UndecidedError(f"integrate needs values for {sorted(map(str, loose))}")
    numbers = [float(values[k]) for k in keys]

    def rates(time, y):
        return compiled(time, y, numbers)

    def solve(init, t_span, rtol=1e-10, atol=1e-12):
        start = [float(init.get(variable, 0.0)) for variable in phase]
        return solve_ivp(
            lambda time, y: np.asarray(rates(time, y), dtype=float),
            t_span,
            start,
            rtol=rtol,
            atol=atol,
            dense_output=True,
        )

    return solve


@dataclass(frozen=True)
class Convergence:
    """Distance between iterates and the limit ODE at a fixed time, for several steps.

    Attributes
    ----------
    steps : tuple of float
        Values of h.
    time_steps : tuple of float
        The matching τ.
    errors : tuple of float
        max |x_k − X(kτ)| over the positions and the iterates up to ``t_end``.
    order : float
        Least-squares slope of log(error) against log(τ).
    predicted : int or None
        ``limit.error_order``.
    """

    steps: tuple
    time_steps: tuple
    errors: tuple
    order: float
    predicted: int | None


def convergence(limit, init, t_end, steps, values=None):
    """Measure how fast the rule's iterates approach the limit ODE as h shrinks.

    The rule starts from the positions in ``init``; its lagged copies and
    buffers take the values the limit gives them, X(−jτ) found by solving the
    ODE backwards from X(0) and X'(0), so the start is consistent with the
    limit to the solver's tolerance at every order; variables the limit
    slaved to the positions start on their manifold. Its positions over
    round(t_end/τ) steps are compared with :func:`integrate`, the error being
    the largest difference on the way (at one time alone it may pass
    through zero). Autonomous rules only.

    Returns
    -------
    Convergence

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> lim = sd.continuous_limit(sd.optimizers.gd(x**4 / 4, [x], lr=eta), h=eta)
    >>> result = sd.convergence(lim, {x: 1.0}, 1.0, [0.02, 0.01, 0.005])
    >>> round(result.order, 1), result.predicted
    (1.0, 1)
    """
    import numpy as np

    rule = limit.rule
    if rule.is_time_varying:
        raise RuleError(f"{rule.name}: convergence supports autonomous rules only")
    values = limit.values(values, f"{rule.name}: convergence(values=...)")
    keys = _keys(values)
    roles, compiled_step = _compiled_step(limit, keys)
    phase = _compiled_rates(limit, keys)[0]
    # Positions the ODE moves; the others were slaved to them (fast variables on their manifold).
    functions = {x: limit.functions[x] for x in roles.positions if limit.functions[x] in phase}
    slaved = {x: limit.functions[x] for x in roles.positions if x not in functions}
    init = limit.values(init, f"{rule.name}: convergence(init=...)", functions=True)
    numbers = [float(values[k]) for k in keys]

    def step_map(state, h):
        return compiled_step(state, h, numbers)

    solve = _solver(limit, values)
    row = {f: phase.index(f) for f in functions.values()}
    depth = max([j for _, j in roles.lags.values()] + [1])
    errors, taus = [], []
    for h in steps:
        tau = float(limit.time_step.subs(values).subs(limit.h, h))
        count = round(t_end / tau)
        # The limit's own past (X(−jτ), backwards from X(0), X'(0)) starts lagged copies
        # and buffers consistently; a first-order guess X(0) − τX'(0) would cost an O(τ)
        # error that hides a higher error_order.
        past = solve(init, (0.0, -depth * tau)).sol
        position = {
            (x, j): float(past(-j * tau)[row[f]])
            for x, f in functions.items()
            for j in range(depth + 1)
        }
        now = {f: position[x, 0] for x, f in functions.items()}
        state = []
        for s in rule.state:
            if s in slaved:
                state.append(float(slaved[s].subs(now).subs(values).subs(limit.h, h)))
            elif s in roles.positions:
                state.append(position[s, 0])
            elif s in roles.lags:
                state.append(position[roles.lags[s]])
            else:
                x, ratio = roles.buffers[s]
                gain = float(ratio.subs(limit.scaling).subs(values).subs(limit.h, h))
                state.append((position[x, 0] - position[x, 1]) / gain)
        track = [rule.state.index(x) for x in functions]
        iterates = [[state[i] for i in track]]
        for _ in range(count):
            state = [float(v) for v in step_map(state, h)]
            iterates.append([state[i] for i in track])
        solution = solve(init, (0.0, count * tau))
        exact = solution.sol(np.arange(count + 1) * tau)[[row[f] for f in functions.values()]]
        # The largest error over the run: at one time alone it may pass through zero.
        errors.append(float(np.max(np.abs(np.asarray(iterates).T - exact))))
        taus.append(tau)
    slope = float(np.polyfit(np.log(taus), np.log(errors), 1)[0])
    return Convergence(tuple(steps), tuple(taus), tuple(errors), slope, limit.error_order)
