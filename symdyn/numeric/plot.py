"""Figures of rules: stability regions with their exact boundary, eigenvalue paths, trajectories.

Every function builds a :class:`matplotlib.figure.Figure` directly (no
``pyplot``, so nothing opens a window and any backend works, Agg included)
and returns it; save it with ``fig.savefig(path)``. Axes are labelled with
the symbols in LaTeX (``$\\eta$``).

Examples
--------
>>> import sympy as sp
>>> from symdyn import optimizers, step_bound
>>> x = sp.Symbol("x", real=True)
>>> eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
>>> rule = optimizers.heavy_ball(lam * x**2 / 2, [x], eta, beta)
>>> fig = stability_figure(rule, step_bound(rule, eta), resolution=32)
>>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
('$\\\\eta$', '$\\\\beta$')
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import sympy as sp
from matplotlib.figure import Figure

from symdyn.errors import ArgumentError
from symdyn.linear.stability import StabilityResult, stability
from symdyn.linear.step_bounds import StepBound
from symdyn.numeric._figures import axes_of as _axes
from symdyn.numeric._figures import count, state_fixed
from symdyn.numeric._figures import tex as _tex
from symdyn.numeric._keys import resolved
from symdyn.numeric.codegen import lambdify
from symdyn.numeric.stability_maps import stability_map, stability_map_figure
from symdyn.rules.rule import UpdateRule, as_expression
from symdyn.rules.values import exact_number, exact_values, resolve_symbol

__all__ = [
    "eigenvalue_figure",
    "landscape_figure",
    "stability_figure",
    "stability_map_figure",
    "trajectory_figure",
]


def _default_fixed(symbols):
    """Values for symbols not on an axis: 0 for those that may vanish (a dampening), else 1."""
    return {s: 0.0 if (s.is_nonnegative and not s.is_positive) else 1.0 for s in symbols}


def _range(symbol, bound, fixed):
    """A plotting range for a non-step axis: beyond any requirement ``symbol < c``."""
    if bound is not None:
        for relation in bound.requires:
            other = relation.rhs.subs(fixed)
            if relation.lhs == symbol and other.is_number and other > 0:
                return 0.0, 1.25 * float(other)
    return (0.0, 2.0) if symbol.is_nonnegative else (-2.0, 2.0)


def _samples(low, high, count):
    """``count`` points at the centres of equal cells of [low, high]: what a pixel shows,
    and never an end point such as 0 that a positive symbol may not take."""
    return low + (high - low) * (np.arange(count) + 0.5) / count


def _ranges(ranges, symbols, where):
    """``{Symbol: (low, high)}`` from a caller's mapping (keys by Symbol or exact name)."""
    if ranges is None:
        return {}
    if not isinstance(ranges, Mapping):
        raise ArgumentError(f"{where}: ranges must be a mapping {{symbol: (low, high)}}")
    out = {}
    for key, span in ranges.items():
        symbol = resolve_symbol(key, symbols, where=f"{where}(ranges=...)")
        if not isinstance(span, (tuple, list)) or len(span) != 2:
            raise ArgumentError(f"{where}: the range of {symbol} must be a pair (low, high)")
        out[symbol] = tuple(
            float(exact_number(v, where=f"{where}: the range of {symbol}")) for v in span
        )
    return out


def _curve(expr, symbol, values, fixed):
    """``expr`` evaluated along ``values`` of ``symbol``, other symbols fixed."""
    expr = expr.subs(fixed)
    with np.errstate(all="ignore"):
        out = sp.lambdify([symbol], expr, modules="numpy")(values)
    return np.broadcast_to(np.asarray(out, dtype=float), values.shape)


def _holds(requires, symbol, values, fixed):
    ok = np.ones(values.shape, bool)
    for relation in requires:
        relation = relation.subs(fixed)
        if relation in (sp.true, sp.false):
            ok &= bool(relation)
            continue
        ok &= np.broadcast_to(sp.lambdify([symbol], relation, modules="numpy")(values), ok.shape)
    return ok


def _requirement_edges(bound, other, fixed):
    """Edges ``other = c`` from requirements ``other < c``, between the step's bounds there."""
    if other is None:
        return []
    edges = []
    for relation in bound.requires:
        edge = relation.rhs.subs(fixed)
        if relation.lhs != other or not edge.is_number:
            continue
        at = {**fixed, other: edge}
        low, high = bound.lower.subs(at), bound.upper.subs(at)
        if low.is_number and high.is_number and high.is_finite:
            edges.append((float(edge), [float(low), float(high)]))
    return edges


def stability_figure(
    rule_or_result,
    bound=None,
    step=None,
    other=None,
    fixed=None,
    ranges=None,
    resolution=256,
    ax=None,
):
    """The stability region in the plane of the step and one other symbol, with its exact edge.

    The analytic stability map (:func:`~symdyn.numeric.stability_maps.stability_map`) is
    drawn underneath; the curves ``step = bound.lower`` and ``step =
    bound.upper`` of :func:`~symdyn.linear.step_bounds.step_bound` are drawn over it
    where ``bound.requires`` holds, labelled ``"exact boundary"``.

    Parameters
    ----------
    rule_or_result : UpdateRule or StabilityResult
    bound : StepBound, optional
        Anything else (``None``, the error of an undecided bound) draws no curve.
    step : sympy.Symbol, optional
        Horizontal axis; default ``bound.step``, else the first parameter.
    other : sympy.Symbol, optional
        Vertical axis; default the first other parameter or free symbol. With
        no other symbol the figure is one-dimensional.
    fixed : mapping, optional
        Values of the remaining symbols; default 1 (0 for symbols that may vanish).
    ranges : mapping, optional
        Symbol → (low, high); defaults from the bound and the assumptions.
    resolution : int
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    result = rule_or_result if isinstance(rule_or_result, StabilityResult) else None
    rule = rule_or_result if isinstance(rule_or_result, UpdateRule) else result.rule
    result = result if result is not None else stability(rule)
    bound = bound if isinstance(bound, StepBound) else None
    symbols = (
        [*rule.params, *rule.free]
        if rule is not None
        else sorted(result.jacobian.free_symbols, key=sp.default_sort_key)
    )
    step = step or (bound.step if bound is not None else symbols[0])
    rest = [s for s in symbols if s != step]
    other = other if other is not None else (rest[0] if rest else None)
    values = _default_fixed([s for s in rest if s != other])
    values.update(exact_values(fixed, symbols, where="stability_figure(fixed=...)"))
    ranges = _ranges(ranges, symbols, "stability_figure")
    low_o, high_o = ranges.get(other) or (_range(other, bound, values) if other else (0, 1))
    others = _samples(low_o, high_o, resolution)
    if step in ranges:
        low_s, high_s = ranges[step]
    else:
        top = np.nan
        if bound is not None and bound.upper.is_finite is not False:
            if other is None:
                top = float(bound.upper.subs(values))
            else:
                curve = _curve(bound.upper, other, others, values)
                held = _holds(bound.requires, other, others, values)
                top = np.nanmax(np.where(held, curve, np.nan), initial=-np.inf)
        low_s, high_s = 0.0, (1.25 * top if np.isfinite(top) and top > 0 else 4.0)
    steps = _samples(low_s, high_s, resolution)
    grid = {step: steps} if other is None else {step: steps, other: others}
    smap = stability_map(result, grid, fixed=values)
    fig, ax = _axes(ax, figsize=(5.5, 4.2))
    stability_map_figure(smap, ax=ax)  # draws on ax, not on the figure's first axes
    if bound is not None:
        for end in (bound.lower, bound.upper):
            if end.is_finite is False or end == 0:
                continue
            if other is None:
                ax.axvline(float(end.subs(values)), color="C3", lw=2, label="exact boundary")
                continue
            curve = _curve(end, other, others, values)
            curve = np.where(_holds(bound.requires, other, others, values), curve, np.nan)
            ax.plot(curve, others, color="C3", lw=2, label="exact boundary")
        for edge, span in _requirement_edges(bound, other, values):
            ax.plot(span, [edge, edge], color="C3", lw=2)
        ax.set_xlim(low_s, high_s)
        handles = dict(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
        if handles:
            ax.legend(handles.values(), handles.keys(), loc="upper right", fontsize="small")
    name = rule.name if rule is not None else "the linearisation"
    ax.set_title(f"Stability of {name}")
    return fig


def eigenvalue_figure(rule_or_result, sweep, fixed=None, ax=None):
    """Eigenvalues of the Jacobian in the complex plane as one symbol sweeps, with the unit circle.

    Parameters
    ----------
    rule_or_result : UpdateRule or StabilityResult
        The Jacobian at the linearisation point of :func:`~symdyn.linear.stability.stability`.
    sweep : (sympy.Symbol, array_like)
    fixed : mapping, optional
        Values of the other symbols.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import numpy as np
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> fig = eigenvalue_figure(UpdateRule([x], [(x, x - eta * x)], [eta]),
    ...                         (eta, np.linspace(0, 3, 7)))
    >>> fig.axes[0].get_xlabel()
    'Re $z$'
    """
    result = (
        rule_or_result
        if isinstance(rule_or_result, StabilityResult)
        else stability(rule_or_result)
    )
    symbol, values = sweep
    values = np.asarray(values, dtype=float)
    jacobian = lambdify(result, "jacobian")
    pool = (*jacobian.keywords, *jacobian.optional)
    named = resolved(fixed, pool, "eigenvalue_figure(fixed=...)")
    swept = resolve_symbol(symbol, pool, where="eigenvalue_figure(sweep=...)")
    held = {s: v for s, v in named.items() if s != swept}
    named[swept] = values
    jac = jacobian.evaluate(values=named)
    eig = np.linalg.eigvals(jac.reshape(values.size, *jac.shape[-2:]))
    fig, ax = _axes(ax, figsize=(5.0, 4.5))
    theta = np.linspace(0, 2 * np.pi, 400)
    ax.plot(np.cos(theta), np.sin(theta), color="0.3", lw=1, label="unit circle")
    colour = np.repeat(values, eig.shape[1])
    dots = ax.scatter(eig.real.ravel(), eig.imag.ravel(), c=colour, s=12, cmap="plasma")
    fig.colorbar(dots, ax=ax, label=_tex(symbol))
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel("Re $z$")
    ax.set_ylabel("Im $z$")
    ax.legend(loc="upper right", fontsize="small")
    state_fixed(ax, held)
    return fig


def trajectory_figure(run, limit=20):
    """Each state variable against the step, for up to ``limit`` points of a recorded run.

    Parameters
    ----------
    run : SimulationResult
        From :func:`~symdyn.numeric.simulation.simulate` with ``record=True``.
    limit : int

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import sympy as sp
    >>> from symdyn.numeric.simulation import simulate
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> run = simulate(UpdateRule([x], [(x, x - eta * x)], [eta]), {x: 1.0}, {eta: 0.5},
    ...                steps=10, record=True)
    >>> trajectory_figure(run).axes[0].get_ylabel()
    '$x$'
    """
    if run.trajectory is None:
        raise ArgumentError("trajectory_figure needs a run simulated with record=True")
    state = run.rule.state
    fig = Figure(figsize=(6.0, 2.2 * len(state)))
    axes = fig.subplots(len(state), 1, sharex=True, squeeze=False)[:, 0]
    for ax, symbol in zip(axes, state, strict=True):
        path = run.trajectory[symbol].reshape(run.steps + 1, -1)[:, :limit]
        ax.plot(np.arange(run.steps + 1), path, lw=1)
        ax.set_ylabel(_tex(symbol))
    axes[-1].set_xlabel("step $k$")
    axes[0].set_title(run.rule.name)
    points = int(np.prod(run.exit_step.shape))
    shown = count(points, "point") if points <= limit else f"{limit} of {points} points"
    state_fixed(axes[0], run.params, count(run.steps, "step"), shown)
    return fig


def landscape_figure(loss, variables, runs=(), ranges=None, fixed=None, limit=10, ax=None):
    """A loss over one or two variables, with optimizer paths drawn on it.

    Parameters
    ----------
    loss : sympy.Expr
    variables : sequence of one or two sympy.Symbol
        The horizontal axis (and the vertical one for two variables).
    runs : SimulationResult or sequence of them
        Recorded runs (``record=True``) whose rules carry the variables as
        state; up to ``limit`` points of each are drawn (paths labelled with
        the rule's name).
    ranges : mapping, optional
        Symbol → (low, high); default: the paths' extent with a margin, or (-2, 2).
    fixed : mapping, optional
        Values of the loss's other symbols.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> fig = landscape_figure(x**4 - x**2, [x])
    >>> fig.axes[0].get_xlabel(), fig.axes[0].get_ylabel()
    ('$x$', '$L$')
    """
    variables = list(variables)
    if len(variables) not in (1, 2):
        raise ArgumentError(f"landscape_figure draws one or two variables, got {len(variables)}")
    runs = [runs] if hasattr(runs, "trajectory") else list(runs)
    loss = as_expression(loss, "landscape_figure: the loss")
    symbols = sorted(loss.free_symbols, key=sp.default_sort_key)
    values = exact_values(fixed, symbols, where="landscape_figure(fixed=...)")
    surface = sp.lambdify(variables, loss.subs(values), modules="numpy")
    paths = []
    for run in runs:
        if run.trajectory is None:
            raise ArgumentError("landscape_figure needs runs simulated with record=True")
        coords = [run.trajectory[v].reshape(run.steps + 1, -1)[:, :limit] for v in variables]
        paths.append((run.rule.name, coords))
    ranges = _ranges(ranges, variables, "landscape_figure")
    spans = [ranges.get(v) or _extent([c[i] for _, c in paths]) for i, v in enumerate(variables)]
    fig, ax = _axes(ax, figsize=(5.5, 4.2))
    grids = [np.linspace(low, high, 200) for low, high in spans]
    if len(variables) == 1:
        ax.plot(grids[0], np.broadcast_to(surface(grids[0]), grids[0].shape), color="0.2")
        for number, (name, (xs,)) in enumerate(paths):
            ax.plot(xs, surface(xs), "o-", ms=3, lw=0.8, color=f"C{number}", label=name)
        ax.set_ylabel("$L$")
    else:
        mesh = np.meshgrid(*grids, indexing="xy")
        heights = np.broadcast_to(surface(*mesh), mesh[0].shape)
        ax.contour(*mesh, heights, levels=20, cmap="viridis", linewidths=0.8)
        for number, (name, (xs, ys)) in enumerate(paths):
            ax.plot(xs, ys, ".-", ms=3, lw=0.8, color=f"C{number}", label=name)
        ax.set_ylabel(_tex(variables[1]))
    ax.set_xlabel(_tex(variables[0]))
    state_fixed(ax, values)
    handles = dict(zip(*reversed(ax.get_legend_handles_labels()), strict=True))
    if handles:
        ax.legend(handles.values(), handles.keys(), loc="upper right", fontsize="small")
    return fig


def _extent(arrays):
    finite = [a[np.isfinite(a)] for a in arrays if np.isfinite(a).any()]
    if not finite:
        return -2.0, 2.0
    low = min(float(a.min()) for a in finite)
    high = max(float(a.max()) for a in finite)
    margin = 0.1 * (high - low) or 1.0
    return low - margin, high + margin
