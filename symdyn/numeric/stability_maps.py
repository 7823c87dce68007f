"""Stability maps: linear stability on a grid of parameter values, exact or simulated.

Grids larger than memory run block by block on ``dask.array`` (optional extra).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import sympy as sp

from symdyn.errors import ArgumentError, ExpressionTypeError, ShapeError
from symdyn.linear.stability import stability
from symdyn.numeric._figures import axes_of, state_fixed, tex
from symdyn.numeric._keys import SymbolMapping, checked_inputs
from symdyn.numeric.codegen import _full, _split, lambdify
from symdyn.numeric.progress import BlockProgress, wanted
from symdyn.numeric.simulation import simulate

__all__ = ["StabilityMap", "stability_map", "stability_map_figure"]


@dataclass(frozen=True, eq=False)
class StabilityMap:
    """Linear stability evaluated on a grid of parameter values.

    Attributes
    ----------
    symbols : tuple of sympy.Symbol
        The swept symbols; axis ``i`` of the arrays runs over ``axes[i]``.
    axes : tuple of numpy.ndarray
    values : numpy.ndarray
        The spectral radius (``method="analytic"``) or the empirical
        contraction rate of a simulation (``method="simulate"``).
    stable : numpy.ndarray of bool
    method : str
    fixed : SymbolMapping
        Symbol → value of the symbols held fixed (read-only; also read by exact name).
    """

    symbols: tuple
    axes: tuple
    values: np.ndarray
    stable: np.ndarray
    method: str
    fixed: SymbolMapping

    def agreement(self, other):
        """Fraction of grid points on which two maps of the same grid agree."""
        same = self.symbols == other.symbols and all(
            a.shape == b.shape and np.allclose(a, b)
            for a, b in zip(self.axes, other.axes, strict=True)
        )
        if not same:
            raise ShapeError("agreement: the two maps are not on the same grid")
        return float(np.mean(self.stable == other.stable))

    def plot(self, ax=None):
        """Draw the map (see :func:`stability_map_figure`); returns the Figure."""
        return stability_map_figure(self, ax=ax)


def _parameters(rule, result):
    """The symbols a map may sweep or fix: the rule's parameters and free symbols, and
    the linearisation's other symbols."""
    pool = []
    if rule is not None:
        pool += [*rule.params, *rule.free]
    if result is not None:
        pool += sorted(result.jacobian.free_symbols - set(pool), key=sp.default_sort_key)
    return tuple(pool)


def stability_map(
    rule_or_result,
    grid,
    fixed=None,
    method="analytic",
    steps=500,
    init=None,
    tol=1e-12,
    chunks=None,
    progress=None,
    progress_file=None,
):
    """Stability on a grid of parameter values, from the exact analysis or by simulation.

    Parameters
    ----------
    rule_or_result : UpdateRule or StabilityResult
    grid : mapping
        Symbol (or name) → 1-D array; the map's axes, in order.
    fixed : mapping, optional
        Values of the remaining symbols.
    method : {"analytic", "simulate"}
        ``"analytic"`` evaluates the lambdified exact region and the
        spectral radius (batched ``numpy.linalg.eigvals`` of the Jacobian
        when the radius has no closed form). ``"simulate"`` runs the rule
        from ``init`` (default: every state value 1) for ``steps`` steps: a
        point is stable when it converged, or did not diverge and contracted
        (empirical rate below 1).
    steps, init, tol
        For ``method="simulate"``, passed to :func:`simulate`.
    chunks : int or tuple of int, optional
        Points per block along each axis. The map's ``values`` and ``stable``
        are then lazy ``dask.array`` objects (optional extra) evaluated block
        by block on whichever dask scheduler is active, so memory stays
        bounded by a few blocks; reduce them (``smap.stable.mean().compute()``)
        or compute them.
    progress : bool, optional
        A tqdm bar: over the steps of ``method="simulate"``, or over the
        blocks of a chunked map as they finish when it is computed (on a
        local dask scheduler; blocks run by a dask.distributed cluster are
        not counted). An analytic map in memory is one vectorised
        evaluation and shows none. Default: shown only when
        ``progress_file`` (default ``sys.stderr``) is a terminal.
    progress_file : text stream, optional
        Where the bar goes (tqdm's ``file=``).

    Returns
    -------
    StabilityMap

    Examples
    --------
    >>> import numpy as np
    >>> import sympy as sp
    >>> from symdyn import UpdateRule
    >>> x = sp.Symbol("x", real=True)
    >>> eta, lam = sp.symbols("eta lambda", positive=True)
    >>> rule = UpdateRule([x], [(x, x - eta * lam * x)], [eta])
    >>> smap = stability_map(rule, {eta: [0.5, 1.5, 2.5]}, fixed={lam: 1.0})
    >>> smap.stable
    array([ True,  True, False])
    """
    rule, result = _split(rule_or_result)
    pool = _parameters(rule, result)
    name = rule.name if rule is not None else "the linearisation"
    grid = checked_inputs(grid, pool, f"{name}: stability_map(grid=...)")
    symbols = tuple(grid)
    axes = tuple(v.ravel() for v in grid.values())
    fixed = checked_inputs(fixed, pool, f"{name}: stability_map(fixed=...)")
    if method == "analytic":
        result = result if result is not None else stability(rule)
    elif method == "simulate":
        if rule is None:
            raise ExpressionTypeError("method='simulate' needs a rule, not a matrix's result")
        init = init if init is not None else {s: 1.0 for s in rule.state}
    else:
        raise ArgumentError(f"method={method!r}; use 'analytic' or 'simulate'")

    show = wanted(progress, progress_file)
    simulation = (steps, init, tol, show and chunks is None, progress_file)

    def evaluate(*pieces):
        return _evaluate(rule, result, symbols, pieces, fixed, method, simulation)

    if chunks is None:
        radius, stable = evaluate(*axes)
    else:
        desc = f"stability map of {name}" if show else None
        radius, stable = _blockwise(evaluate, axes, chunks, desc, progress_file)
    return StabilityMap(
        symbols=symbols,
        axes=axes,
        values=radius,
        stable=stable,
        method=method,
        fixed=SymbolMapping(fixed),
    )


# Points per slab of an analytic map: the temporaries of one slab stay in the cache, which
# makes the whole map about twice as fast as one pass over it.
SLAB = 2**17


def _evaluate(rule, result, symbols, axes, fixed, method, simulation):
    """Radius (or empirical rate) and stable mask on the grid spanned by ``axes``."""
    shape = tuple(a.size for a in axes)
    if method == "analytic":
        rows = max(1, SLAB // math.prod(shape[1:]))
        radius, stable = np.empty(shape), np.empty(shape, bool)
        for start in range(0, shape[0], rows):
            part = (axes[0][start : start + rows], *axes[1:])
            radius[start : start + rows], stable[start : start + rows] = _analytic(
                result, symbols, part, fixed
            )
        return radius, stable
    values = _grid_values(symbols, axes, fixed)
    steps, init, tol, progress, progress_file = simulation
    run = simulate(
        rule, init, values, steps, tol=tol, progress=progress, progress_file=progress_file
    )
    stable = run.converged | (~run.diverged & (run.rate < 1))
    return _full(run.rate, shape), _full(stable, shape)


def _grid_values(symbols, axes, fixed):
    """Values by Symbol: each axis shaped to broadcast along its own dimension."""
    values = {
        s: a.reshape([-1 if i == j else 1 for j in range(len(axes))])
        for i, (s, a) in enumerate(zip(symbols, axes, strict=True))
    }
    values.update(fixed)
    return values


def _analytic(result, symbols, axes, fixed):
    """The exact region and spectral radius on the grid spanned by ``axes``."""
    shape = tuple(a.size for a in axes)
    values = _grid_values(symbols, axes, fixed)
    stable = _full(lambdify(result, "region").evaluate(values=values), shape)
    if result.spectral_radius is not None:
        radius = lambdify(result, "spectral_radius").evaluate(values=values)
    else:
        jac = lambdify(result, "jacobian").evaluate(values=values)
        radius = np.abs(np.linalg.eigvals(jac)).max(axis=-1)
    return _full(radius, shape), stable.astype(bool)


def _blockwise(evaluate, axes, chunks, desc=None, progress_file=None):
    """``evaluate`` over dask blocks of the grid; returns lazy (radius, stable).

    With a ``desc``, a bar counts the blocks as they finish.
    """
    try:
        import dask.array as da
    except ImportError:
        raise ArgumentError("chunks= needs dask: pip install 'symdyn[dask]'") from None
    sizes = tuple(chunks) if isinstance(chunks, (tuple, list)) else (chunks,) * len(axes)
    if len(sizes) != len(axes):
        raise ArgumentError(f"chunks: {len(sizes)} sizes for {len(axes)} axes")
    letters = "abcdefghijklmnopqrstuvwxy"[: len(axes)]
    total = math.prod(-(-axis.size // size) for axis, size in zip(axes, sizes, strict=True))
    finished = BlockProgress(total, desc, progress_file) if desc is not None else None

    def block(*pieces):
        radius, stable = evaluate(*pieces)
        if finished is not None and all(p.size for p in pieces):  # not dask's empty probe
            finished()
        return np.stack([radius, stable.astype(radius.dtype)])

    pairs = []
    for axis, size, letter in zip(axes, sizes, letters, strict=True):
        pairs += [da.from_array(axis, chunks=size), letter]
    with warnings.catch_warnings():  # one output block per pair of input blocks is the intent
        warnings.simplefilter("ignore", da.PerformanceWarning)
        both = da.blockwise(block, "z" + letters, *pairs, new_axes={"z": 2}, dtype=float)
    return both[0], both[1] > 0.5


def stability_map_figure(smap, ax=None):
    """Draw a :class:`~symdyn.numeric.stability_maps.StabilityMap` (one or two swept symbols).

    Two axes: the spectral radius (or empirical rate) as a colour map, clipped
    to [0, 2], with the edge of the stable set drawn as a contour. One axis:
    the radius as a line, the stable set shaded. A box in the upper-left corner
    states the values held fixed (``λ = 1``).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, ax = axes_of(ax, figsize=(5.5, 4.2))
    values = np.clip(np.nan_to_num(smap.values, nan=2.0, posinf=2.0), 0.0, 2.0)
    label = "spectral radius" if smap.method == "analytic" else "empirical rate"
    state_fixed(ax, smap.fixed)
    if len(smap.axes) == 1:
        (axis,) = smap.axes
        ax.plot(axis, values, color="C0", label=label)
        ax.fill_between(axis, 0, 1, where=smap.stable, color="C2", alpha=0.2, label="stable")
        ax.axhline(1.0, color="0.4", lw=0.8, ls="--")
        ax.set_xlabel(tex(smap.symbols[0]))
        ax.set_ylabel(r"$\rho$")
        return fig
    if len(smap.axes) != 2:
        raise ArgumentError(
            f"a map over {len(smap.axes)} symbols cannot be drawn; fix all but two"
        )
    first, second = smap.axes
    mesh = ax.pcolormesh(first, second, values.T, shading="auto", cmap="RdYlBu_r", vmin=0, vmax=2)
    fig.colorbar(mesh, ax=ax, label=label)
    if smap.stable.any() and not smap.stable.all():
        ax.contour(
            first,
            second,
            smap.stable.T.astype(float),
            levels=[0.5],
            colors="white",
            linewidths=1.0,
        )
    ax.set_xlabel(tex(smap.symbols[0]))
    ax.set_ylabel(tex(smap.symbols[1]))
    return fig
