"""Fast numeric evaluation of rules: lambdify, batched simulation, stability maps.

Every symbolic object becomes vectorised NumPy code through
``sympy.lambdify`` (common subexpressions eliminated); nothing numeric here
decides a symbolic claim, it only checks and explores.

Examples
--------
>>> import numpy as np
>>> import sympy as sp
>>> import symdyn as sd
>>> x = sp.Symbol("x", real=True)
>>> eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
>>> rule = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
>>> step = sd.lambdify(rule)
>>> step(1.0, 0.0, eta=0.1, beta=0.9, **{"lambda": 1.0})
(array(0.9), array(-0.1))
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import sympy as sp
from sympy.printing.numpy import NumPyPrinter

from symdyn.errors import ExpressionTypeError, RuleError, ShapeError, SymdynError, UndecidedError
from symdyn.rule import UpdateRule
from symdyn.stability import StabilityResult, stability

__all__ = [
    "ArgumentError",
    "NumericFunction",
    "Optimizer",
    "SimulationResult",
    "StabilityMap",
    "as_optimizer",
    "lambdify",
    "simulate",
    "stability_map",
]

_WHAT = ("map", "jacobian", "region", "spectral_radius")
_BACKENDS = ("numpy", "autodiff", "numba")


class ArgumentError(SymdynError, TypeError):
    """A numeric function got a missing, unknown or misplaced argument."""


def _names(symbols):
    return tuple(str(s) for s in symbols)


@dataclass(frozen=True, eq=False)
class NumericFunction:
    """A lambdified rule quantity: ``f(*state_arrays, **values)``.

    Attributes
    ----------
    what : str
        ``"map"``, ``"jacobian"``, ``"region"`` or ``"spectral_radius"``.
    backend : str
    state : tuple of sympy.Symbol
        The positional arguments, in order (empty for quantities of a
        :class:`~symdyn.stability.StabilityResult`).
    keywords : tuple of sympy.Symbol
        The symbols whose values must be passed by name (``str(symbol)``).
    optional : frozenset of str
        Names of other symbols of the rule, accepted and ignored, so one
        dictionary of values serves every quantity of a rule.
    expressions : tuple of sympy.Expr
    """

    what: str
    backend: str
    state: tuple
    keywords: tuple
    optional: frozenset
    expressions: tuple = field(repr=False)
    function: Callable = field(repr=False)

    def __call__(self, *state, **values):
        if len(state) != len(self.state):
            raise ArgumentError(
                f"{self.what}: expected {len(self.state)} positional state arrays "
                f"({', '.join(_names(self.state)) or 'none'}), got {len(state)}"
            )
        names = _names(self.keywords)
        missing = [n for n in names if n not in values]
        unknown = [n for n in values if n not in names and n not in self.optional]
        if missing or unknown:
            raise ArgumentError(
                f"{self.what}: "
                + (f"missing values for {', '.join(missing)}; " if missing else "")
                + (f"no symbol called {', '.join(unknown)}; " if unknown else "")
                + f"pass {', '.join(names) or 'no keywords'} by name "
                "(lambda as **{'lambda': value})"
            )
        args = (*state, *(values[n] for n in names))
        if self.backend != "numpy":
            return self.function(*args)
        args = tuple(np.asarray(a) if isinstance(a, (list, tuple)) else a for a in args)
        shape = np.broadcast_shapes(*(np.shape(a) for a in (*state, *values.values())))
        if self.what == "region":  # sympy prints And as logical_and.reduce((a, b)): same shapes
            args = tuple(np.broadcast_to(a, shape) for a in args)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            out = self.function(*args)
        if self.what == "map":
            return tuple(_full(o, shape) for o in out)
        if self.what == "jacobian":
            n = math.isqrt(len(self.expressions))
            return np.stack([_full(o, shape) for o in out], axis=-1).reshape(*shape, n, n)
        out = _full(out, shape)
        if self.what == "spectral_radius":
            out = self._complex_where_nan(out, args, shape)
        return out

    def _complex_where_nan(self, out, args, shape):
        """Re-evaluate in complex arithmetic where real arithmetic gave nan.

        Closed-form roots may pass through complex intermediates (the square
        root of a negative discriminant) whose modulus is real again.
        """
        lost = np.isnan(out)
        for a in args:
            lost &= np.isfinite(a)
        if not lost.any():
            return out
        subset = [np.broadcast_to(a, shape)[lost].astype(complex) for a in args]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            value = np.asarray(self.function(*subset))
        out = out.astype(float, copy=True)
        out[lost] = np.abs(value) if np.iscomplexobj(value) else value
        return out


def _full(value, shape):
    value = np.asarray(value)
    if value.shape != shape:
        value = np.broadcast_to(value, shape).copy()
    return value


def _split(rule_or_result):
    if isinstance(rule_or_result, StabilityResult):
        return rule_or_result.rule, rule_or_result
    if isinstance(rule_or_result, UpdateRule):
        return rule_or_result, None
    raise ExpressionTypeError(
        f"expected an UpdateRule or a StabilityResult, got {type(rule_or_result).__name__}"
    )


def _target(rule, result, what):
    """Positional symbols and expressions of one quantity."""
    if what == "map" or (what == "jacobian" and result is None):
        if rule is not None and any(isinstance(s, sp.MatrixSymbol) for s in rule.state):
            raise ShapeError(
                f"{rule.name}: the state holds matrix symbols; lambdify a scalar rule "
                "(one mode of a quadratic, or the rule on one coordinate)"
            )
        if rule is None:
            raise ExpressionTypeError(f"{what}: the StabilityResult has no rule (it was a matrix)")
        if what == "map":
            return rule.state, tuple(rule.next_state)
        return rule.state, tuple(rule.jacobian())
    result = result if result is not None else stability(rule)
    if what == "jacobian":
        return (), tuple(result.jacobian)
    if what == "region":
        return (), (result.region,)
    if result.spectral_radius is None:
        raise UndecidedError(
            "spectral_radius: no closed form (a factor of degree ≥ 3 has no explicit "
            "roots); use what='jacobian' and numpy.linalg.eigvals"
        )
    return (), (result.spectral_radius,)


def lambdify(rule_or_result, what="map", backend="numpy"):
    """Vectorised numeric code for a rule's map, Jacobian, region or spectral radius.

    Parameters
    ----------
    rule_or_result : UpdateRule or StabilityResult
    what : {"map", "jacobian", "region", "spectral_radius"}
        ``"map"`` returns a tuple of arrays in state order; ``"jacobian"``
        an array shaped ``batch + (n, n)`` (the rule's Jacobian takes the
        state; a result's, taken at its linearisation point, does not);
        ``"region"`` a boolean array; ``"spectral_radius"`` a float array.
        The last two are computed with :func:`~symdyn.stability.stability`
        when a rule is given.
    backend : {"numpy", "autodiff", "numba"}
        ``"autodiff"`` emits code on :data:`symdyn.autodiff.namespace`, so
        the function runs on traced values (outputs are returned as
        generated, without broadcasting). ``"numba"`` (optional extra,
        ``what="map"`` only) compiles a scalar step and a parallel loop over
        the broadcast points.

    Returns
    -------
    NumericFunction
        Called as ``f(*state_arrays, **values)`` with a value for each
        name in ``f.keywords`` (parameters, free symbols and the counter of
        a time-varying rule); every argument broadcasts.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> eta, lam = sp.symbols("eta lambda", positive=True)
    >>> step = lambdify(UpdateRule([x], [(x, x - eta * lam * x)], [eta]))
    >>> step.keywords
    (eta, lambda)
    >>> step([1.0, 2.0], eta=0.5, **{"lambda": 1.0})
    (array([0.5, 1. ]),)
    """
    if what not in _WHAT:
        raise ArgumentError(f"what={what!r}; use one of {', '.join(_WHAT)}")
    if backend not in _BACKENDS:
        raise ArgumentError(f"backend={backend!r}; use one of {', '.join(_BACKENDS)}")
    if backend == "autodiff" and what not in ("map", "spectral_radius"):
        raise ArgumentError("backend='autodiff' lambdifies what='map' or 'spectral_radius'")
    if backend == "numba" and what != "map":
        raise ArgumentError("backend='numba' lambdifies what='map'")
    rule, result = _split(rule_or_result)
    positional, expressions = _target(rule, result, what)
    used = set()
    for expr in expressions:
        used |= sp.sympify(expr).free_symbols
    used -= set(positional)
    order = []
    if rule is not None:
        order = [*rule.params, *rule.free] + ([rule.counter] if rule.counter is not None else [])
    order += sorted(used - set(order), key=sp.default_sort_key)
    keywords = tuple(s for s in order if s in used)
    optional = frozenset(_names(order)) - frozenset(_names(keywords))
    single = what in ("region", "spectral_radius")
    function = _generate((*positional, *keywords), tuple(expressions), single, backend)
    return NumericFunction(
        what, backend, tuple(positional), keywords, optional, tuple(expressions), function
    )


@functools.lru_cache(maxsize=64)
def _generate(args, expressions, single, backend):
    """Generated code for ``expressions`` (one, or a tuple) of ``args`` (pure, so cached)."""
    if backend == "numba":
        return _numba_map(list(args), expressions)
    body = expressions[0] if single else expressions
    if backend == "autodiff":
        from symdyn.autodiff import namespace

        return sp.lambdify(list(args), body, modules=[dict(namespace)], cse=True, dummify=True)
    printer = _PositiveFirst(
        {"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True}
    )
    return sp.lambdify(list(args), body, "numpy", printer=printer, cse=True, dummify=True)


class _PositiveFirst(NumPyPrinter):
    """NumPy printer that writes ``b*v - e*x`` rather than ``-e*x + b*v``.

    Python reads a leading ``-e*x`` as ``(-e)*x``: one more pass over an array.
    """

    def _print_Add(self, expr, order=None):
        terms = sorted(expr.args, key=lambda term: term.could_extract_minus_sign())
        return super()._print_Add(sp.Add(*terms, evaluate=False), order="none")


# -- numba ------------------------------------------------------------------------


def _numba():
    try:
        import numba
    except ImportError:
        raise ArgumentError("backend='numba' needs numba: pip install 'symdyn[numba]'") from None
    return numba


def _numba_scalar(args, expressions):
    """The map on scalars, compiled: ``sympy.lambdify`` on ``math``, then ``numba.njit``."""
    scalar = sp.lambdify(args, tuple(expressions), modules="math", cse=True, dummify=True)
    return _numba().njit(inline="always")(scalar)


def _compile(source, scalar):
    """Compile a generated loop (our own template, never user text) with numba."""
    numba = _numba()
    space = {"f": scalar, "prange": numba.prange, "np": np}
    exec(compile(source, "<symdyn numba loop>", "exec"), space)
    return numba.njit(parallel=True)(space["kernel"])


def _at(name):
    return f"{name}[i]"


def _flat(values, shape, size):
    """Each value as a 1-D float array of ``size`` (scalars as a zero-stride view, no copy)."""
    return [np.broadcast_to(np.asarray(v, dtype=float), shape).reshape(size) for v in values]


def _numba_map(args, expressions):
    """A broadcasting map evaluated point by point in a compiled parallel loop."""
    scalar = _numba_scalar(args, expressions)
    ins = [f"a{j}" for j in range(len(args))]
    outs = [f"o{j}" for j in range(len(expressions))]
    source = "\n".join(
        [
            f"def kernel(size, {', '.join(ins + outs)}):",
            "    for i in prange(size):",
            f"        r = f({', '.join(_at(a) for a in ins)})",
            *(f"        {o}[i] = r[{j}]" for j, o in enumerate(outs)),
        ]
    )
    kernel = _compile(source, scalar)

    def evaluate(*values):
        shape = np.broadcast_shapes(*(np.shape(v) for v in values))
        size = math.prod(shape)
        out = [np.empty(size) for _ in expressions]
        kernel(size, *_flat(values, shape, size), *out)
        return tuple(o.reshape(shape) for o in out)

    return evaluate


def _largest(terms):
    return "max(" + ", ".join(terms) + ")" if len(terms) > 1 else terms[0]


@functools.lru_cache(maxsize=16)
def _numba_simulation(rule, keywords, counter):
    """A compiled loop that runs each point to its exit in registers, points in parallel.

    Same exits as the NumPy path: diverged when a state value is non-finite
    or beyond ``threshold``, converged (only when ``tol > 0``) when no value
    moved by more than ``tol * (1 + |value|)``.
    """
    scalar = _numba_scalar([*rule.state, *keywords], rule.next_state)
    state = [f"s{j}" for j in range(len(rule.state))]
    old = [f"o{j}" for j in range(len(rule.state))]
    params = [f"p{j}" for j, k in enumerate(keywords) if str(k) != counter]
    call = [f"q{j}" if str(k) != counter else "t" for j, k in enumerate(keywords)]
    change = _largest([f"abs({s} - {o})" for s, o in zip(state, old, strict=True)])
    lines = [
        f"def kernel(size, steps, threshold, tol, {', '.join('a' + s for s in state)}, "
        + "".join(p + ", " for p in params)
        + f"{', '.join('f' + s for s in state)}, exit_step, diverged, converged, first, last):",
        "    for i in prange(size):",
        *(f"        {s} = a{s}[i]" for s in state),
        *(f"        {o} = {s}" for o, s in zip(old, state, strict=True)),
        *(f"        q{p[1:]} = {p}[i]" for p in params),
        "        for t in range(1, steps + 1):",
        *(f"            {o} = {s}" for o, s in zip(old, state, strict=True)),
        f"            r = f({', '.join(state + call)})",
        *(f"            {s} = float(r[{j}])" for j, s in enumerate(state)),
        "            if t == 1:",
        f"                first[i] = {change}",
        "            if not (" + " and ".join(f"abs({s}) <= threshold" for s in state) + "):",
        "                diverged[i] = True",
        "                exit_step[i] = t",
        "                break",
        f"            if tol > 0 and {change} <= tol * (1 + "
        f"{_largest([f'abs({s})' for s in state])}):",
        "                converged[i] = True",
        "                exit_step[i] = t",
        "                break",
        *(f"        f{s}[i] = {s}" for s in state),
        f"        last[i] = {change}",
    ]
    return _compile("\n".join(lines), scalar)


# -- simulation -----------------------------------------------------------------


def _by_name(values, allowed, role):
    """``values`` keyed by name; keys may be symbols or names."""
    named = {}
    for key, value in dict(values or {}).items():
        name = str(key)
        if name not in allowed:
            raise ArgumentError(
                f"{role}: no symbol called {name}; expected {', '.join(allowed) or 'none'}"
            )
        named[name] = value
    return named


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """A batch of runs of a rule.

    Attributes
    ----------
    rule : UpdateRule
    steps : int
        The number of steps asked for.
    final : dict
        State symbol → array shaped like the batch: the state when the
        point left (diverged or converged) or after the last step.
    diverged, converged : numpy.ndarray of bool
        Left because a state value became non-finite or exceeded the
        threshold; left because no state value moved by more than
        ``tol * (1 + |value|)`` in one step.
    exit_step : numpy.ndarray of int
        The step at which the point left (``steps`` when it never did).
    rate : numpy.ndarray of float
        Empirical contraction per step, ``(|Δ_last| / |Δ_1|) ** (1 / (exit_step - 1))``
        with ``Δ`` the largest change of a state value in one step (``inf`` when diverged);
        for an affine rule it tends to the spectral radius.
    trajectory : dict or None
        State symbol → array shaped ``(steps + 1,) + batch`` when recorded:
        converged points hold their final value after leaving, diverged ones ``nan``.
    """

    rule: UpdateRule
    steps: int
    final: dict
    diverged: np.ndarray
    converged: np.ndarray
    exit_step: np.ndarray
    rate: np.ndarray
    trajectory: dict | None = None


def simulate(rule, init, params, steps, record=False, threshold=1e8, tol=1e-12, backend="numpy"):
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
        compiled code, points in parallel; it does not record trajectories.

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
    step = lambdify(rule, "map")
    state_names = _names(rule.state)
    starts = _by_name(init, state_names, "init")
    missing = [n for n in state_names if n not in starts]
    if missing:
        raise ArgumentError(f"init: missing values for {', '.join(missing)}")
    counter = str(rule.counter) if rule.counter is not None else None
    known = tuple(n for n in _names(step.keywords) + tuple(step.optional) if n != counter)
    values = _by_name(params, known, "params")
    needed = [n for n in _names(step.keywords) if n != counter and n not in values]
    if needed:
        raise ArgumentError(f"params: missing values for {', '.join(needed)}")
    batch = np.broadcast_shapes(*(np.shape(v) for v in (*starts.values(), *values.values())))
    if backend == "numba":
        if record:
            raise ArgumentError("backend='numba' does not record trajectories; use 'numpy'")
        kernel = _numba_simulation(rule, step.keywords, counter)
        size = max(math.prod(batch), 1)
        final = [np.empty(size) for _ in state_names]
        exits = np.full(size, steps, dtype=np.int64)
        diverged, converged = np.zeros(size, bool), np.zeros(size, bool)
        first, last = np.empty(size), np.empty(size)
        kernel(
            size, steps, float(threshold), float(tol),
            *_flat([starts[n] for n in state_names], batch, size),
            *_flat([values[str(k)] for k in step.keywords if str(k) != counter], batch, size),
            *final, exits, diverged, converged, first, last,
        )  # fmt: skip
        return _result(rule, steps, batch, final, diverged, converged, exits, first, last)
    if backend != "numpy":
        raise ArgumentError(f"backend={backend!r}; use 'numpy' or 'numba'")
    size = math.prod(batch)
    work = [np.array(np.broadcast_to(starts[n], batch), dtype=float).ravel() for n in state_names]
    if size == 1:
        work = [w.reshape(1) for w in work]
    pars = {
        n: v if np.ndim(v) == 0 else np.array(np.broadcast_to(v, batch), dtype=float).ravel()
        for n, v in values.items()
    }
    final = [w.copy() for w in work]
    index = np.arange(max(size, 1))
    exit_step = np.full(index.size, steps)
    diverged = np.zeros(index.size, bool)
    converged = np.zeros(index.size, bool)
    first, last = np.full(index.size, np.nan), np.full(index.size, np.nan)
    first_c, last_c = first.copy(), last.copy()
    path = np.full((steps + 1, len(work), index.size), np.nan) if record else None
    if record:
        path[0] = work
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            if not index.size:
                break
            now = dict(pars, **({counter: t} if counter in _names(step.keywords) else {}))
            new = step(*work, **now)
            change = np.maximum.reduce([np.abs(a - b) for a, b in zip(new, work, strict=True)])
            size_now = np.maximum.reduce([np.abs(a) for a in new])
            bad = ~np.isfinite(size_now) | (size_now > threshold)
            done = ~bad & (change <= tol * (1 + size_now)) if tol > 0 else bad & False
            if t == 1:
                first_c = change
            last_c = change
            if record:
                path[t][:, index] = new
            work = list(new)
            leaving = bad | done
            if leaving.any():
                gone = index[leaving]
                for j, value in enumerate(work):
                    final[j][gone] = value[leaving]
                exit_step[gone], diverged[gone], converged[gone] = t, bad[leaving], done[leaving]
                first[gone], last[gone] = first_c[leaving], last_c[leaving]
                keep = ~leaving
                work, index = [w[keep] for w in work], index[keep]
                first_c, last_c = first_c[keep], last_c[keep]
                pars = {n: v if np.ndim(v) == 0 else v[keep] for n, v in pars.items()}
    for j, value in enumerate(work):
        final[j][index] = value
    first[index], last[index] = first_c, last_c
    return _result(rule, steps, batch, final, diverged, converged, exit_step, first, last, path)


def _result(rule, steps, batch, final, diverged, converged, exit_step, first, last, path=None):
    with np.errstate(all="ignore"):
        rate = np.where(exit_step > 1, (last / first) ** (1 / np.maximum(exit_step - 1, 1)), 0.0)
    rate = np.where(diverged, np.inf, rate)
    trajectory = None
    if path is not None:
        after = np.arange(steps + 1)[:, None] > exit_step[None, :]
        hold = after & converged[None, :]
        trajectory = {
            s: np.where(hold, final[j][None, :], path[:, j, :]).reshape(steps + 1, *batch)
            for j, s in enumerate(rule.state)
        }
    return SimulationResult(
        rule=rule,
        steps=steps,
        final={s: final[j].reshape(batch) for j, s in enumerate(rule.state)},
        diverged=diverged.reshape(batch),
        converged=converged.reshape(batch),
        exit_step=exit_step.reshape(batch),
        rate=rate.reshape(batch),
        trajectory=trajectory,
    )


# -- stability maps ---------------------------------------------------------------


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
    fixed : dict
        Name → value of the symbols held fixed.
    """

    symbols: tuple
    axes: tuple
    values: np.ndarray
    stable: np.ndarray
    method: str
    fixed: dict

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
        """Draw the map (see :func:`symdyn.plot.stability_map_figure`); returns the Figure."""
        from symdyn import plot  # matplotlib only when drawing

        return plot.stability_map_figure(self, ax=ax)


def _grid_symbols(rule, result, keys):
    pool = []
    if rule is not None:
        pool += [*rule.params, *rule.free]
    if result is not None:
        pool += sorted(result.jacobian.free_symbols - set(pool), key=sp.default_sort_key)
    by_name = {str(s): s for s in pool}
    chosen = []
    for key in keys:
        if str(key) not in by_name:
            raise ArgumentError(
                f"grid: no parameter called {key}; expected one of {', '.join(by_name)}"
            )
        chosen.append(by_name[str(key)])
    return tuple(chosen)


def stability_map(
    rule_or_result,
    grid,
    fixed=None,
    method="analytic",
    steps=500,
    init=None,
    tol=1e-12,
    chunks=None,
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

    Returns
    -------
    StabilityMap

    Examples
    --------
    >>> import numpy as np
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> eta, lam = sp.symbols("eta lambda", positive=True)
    >>> rule = UpdateRule([x], [(x, x - eta * lam * x)], [eta])
    >>> smap = stability_map(rule, {eta: [0.5, 1.5, 2.5]}, fixed={lam: 1.0})
    >>> smap.stable
    array([ True,  True, False])
    """
    rule, result = _split(rule_or_result)
    grid = dict(grid)
    symbols = _grid_symbols(rule, result, grid)
    axes = tuple(np.asarray(v, dtype=float).ravel() for v in grid.values())
    fixed = {str(k): v for k, v in dict(fixed or {}).items()}
    if method == "analytic":
        result = result if result is not None else stability(rule)
    elif method == "simulate":
        if rule is None:
            raise ExpressionTypeError("method='simulate' needs a rule, not a matrix's result")
        init = init if init is not None else {s: 1.0 for s in rule.state}
    else:
        raise ArgumentError(f"method={method!r}; use 'analytic' or 'simulate'")

    def evaluate(*pieces):
        return _evaluate(rule, result, symbols, pieces, fixed, method, (steps, init, tol))

    if chunks is None:
        radius, stable = evaluate(*axes)
    else:
        radius, stable = _blockwise(evaluate, axes, chunks)
    return StabilityMap(symbols, axes, radius, stable, method, fixed)


def _evaluate(rule, result, symbols, axes, fixed, method, simulation):
    """Radius (or empirical rate) and stable mask on the grid spanned by ``axes``."""
    shape = tuple(a.size for a in axes)
    values = {
        str(s): a.reshape([-1 if i == j else 1 for j in range(len(axes))])
        for i, (s, a) in enumerate(zip(symbols, axes, strict=True))
    }
    values.update(fixed)
    if method == "analytic":
        stable = _full(lambdify(result, "region")(**values), shape)
        if result.spectral_radius is not None:
            radius = lambdify(result, "spectral_radius")(**values)
        else:
            jac = lambdify(result, "jacobian")(**values)
            radius = np.abs(np.linalg.eigvals(jac)).max(axis=-1)
        return _full(radius, shape), stable.astype(bool)
    steps, init, tol = simulation
    run = simulate(rule, init, values, steps, tol=tol)
    stable = run.converged | (~run.diverged & (run.rate < 1))
    return _full(run.rate, shape), _full(stable, shape)


def _blockwise(evaluate, axes, chunks):
    """``evaluate`` over dask blocks of the grid; returns lazy (radius, stable)."""
    try:
        import dask.array as da
    except ImportError:
        raise ArgumentError("chunks= needs dask: pip install 'symdyn[dask]'") from None
    sizes = tuple(chunks) if isinstance(chunks, (tuple, list)) else (chunks,) * len(axes)
    if len(sizes) != len(axes):
        raise ArgumentError(f"chunks: {len(sizes)} sizes for {len(axes)} axes")
    letters = "abcdefghijklmnopqrstuvwxy"[: len(axes)]

    def block(*pieces):
        radius, stable = evaluate(*pieces)
        return np.stack([radius, stable.astype(radius.dtype)])

    pairs = []
    for axis, size, letter in zip(axes, sizes, letters, strict=True):
        pairs += [da.from_array(axis, chunks=size), letter]
    with warnings.catch_warnings():  # one output block per pair of input blocks is the intent
        warnings.simplefilter("ignore", da.PerformanceWarning)
        both = da.blockwise(block, "z" + letters, *pairs, new_axes={"z": 2}, dtype=float)
    return both[0], both[1] > 0.5


# -- optimizers ---------------------------------------------------------------------


class Optimizer(NamedTuple):
    """An optax-style pair of pure functions.

    ``init(params) -> state`` and ``update(grads, state, params) -> (updates, state)``;
    apply with ``params[k] + updates[k]``.
    """

    init: Callable
    update: Callable


class OptimizerState(NamedTuple):
    """Buffers (buffer name → container shaped like the parameters) and the step count."""

    buffers: dict
    count: int


def _gradient_temporary(rule, gradient):
    if gradient is not None:
        return gradient
    names = {f"g_{s}": s for s in rule.state}
    found = [t for t in rule.temporaries if str(t) in names]
    if len(found) != 1:
        raise RuleError(
            f"{rule.name}: as_optimizer needs exactly one gradient temporary g_<variable> "
            f"(found {', '.join(map(str, found)) or 'none'}); pass gradient= and variable="
        )
    return found[0]


def _keys(container):
    return list(container) if isinstance(container, Mapping) else list(range(len(container)))


def _like(container, values):
    if isinstance(container, Mapping):
        return dict(values)
    return [values[i] for i in range(len(container))]


def as_optimizer(rule, hyperparams, gradient=None, variable=None):
    """An optax-style optimizer that applies ``rule`` element-wise to arrays.

    The assignment to the gradient temporary (``g_x`` in the catalogue) is
    dropped and the temporary is bound to each array's gradient, so what
    runs is exactly the analysed rule. Buffers start at zero; the counter of
    a time-varying rule takes the values 1, 2, ...

    Parameters
    ----------
    rule : UpdateRule
        One variable and its buffers, with the gradient taken at the variable
        itself (rules that take it at a shifted point, such as Sutskever's
        Nesterov or the y-form, are refused).
    hyperparams : mapping
        Symbol (or name) → value for the remaining parameters.
    gradient, variable : sympy.Symbol, optional
        Default: the temporary called ``g_<v>`` and the state variable ``v``.

    Returns
    -------
    Optimizer

    Examples
    --------
    >>> import numpy as np
    >>> import sympy as sp
    >>> from symdyn import optimizers
    >>> x = sp.Symbol("x", real=True)
    >>> eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
    >>> opt = as_optimizer(optimizers.heavy_ball(lam * x**2 / 2, [x], eta, beta),
    ...                    {eta: 0.1, beta: 0.9})
    >>> params = {"w": np.array([1.0, -2.0])}
    >>> state = opt.init(params)
    >>> updates, state = opt.update({"w": params["w"]}, state, params)
    >>> updates["w"]
    array([-0.1,  0.2])
    """
    gradient = _gradient_temporary(rule, gradient)
    if variable is None:
        variable = next(s for s in rule.state if f"g_{s}" == str(gradient))
    current, reads = {}, None
    for target, value in rule.updates:
        resolved = value.xreplace({k: v for k, v in current.items() if k not in rule.state})
        if target == gradient:
            reads = sp.sympify(resolved).free_symbols & (set(rule.state) - {variable})
        current[target] = resolved
    if reads:
        raise RuleError(
            f"{rule.name}: the gradient {gradient} is taken at a point that depends on "
            f"{', '.join(map(str, sorted(reads, key=str)))}, not at {variable} alone; "
            "as_optimizer only receives gradients at the parameters"
        )
    reduced = UpdateRule(
        rule.state,
        [(t, v) for t, v in rule.updates if t != gradient],
        rule.params,
        name=rule.name,
        simultaneous=rule.simultaneous,
        counter=rule.counter,
        free=None if rule.free is None else (*rule.free, gradient),
    )
    step = lambdify(reduced)
    position = reduced.state.index(variable)
    buffers = [s for s in reduced.state if s != variable]
    counter = str(rule.counter) if rule.counter is not None else None
    fixed = _by_name(hyperparams, tuple(step.optional | set(_names(step.keywords))), "hyperparams")

    def init(params):
        zeros = {
            str(b): _like(params, {k: np.zeros_like(params[k]) for k in _keys(params)})
            for b in buffers
        }
        return OptimizerState(zeros, 0)

    def update(grads, state, params):
        count = state.count + 1
        extra = {counter: count} if counter in _names(step.keywords) else {}
        updates, new = {}, {str(b): {} for b in buffers}
        for key in _keys(params):
            old = [
                params[key] if s == variable else state.buffers[str(s)][key] for s in reduced.state
            ]
            out = step(*old, **fixed, **extra, **{str(gradient): grads[key]})
            updates[key] = out[position] - params[key]
            for b in buffers:
                new[str(b)][key] = out[reduced.state.index(b)]
        return _like(params, updates), OptimizerState(
            {b: _like(params, v) for b, v in new.items()}, count
        )

    return Optimizer(init, update)
