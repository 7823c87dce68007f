"""The numba backend (optional extra): generated loops compiled per point, in parallel.

``sympy.lambdify`` on ``math`` gives the map on scalars; a short loop over
the broadcast points, generated from our own template (never user text),
calls it and is compiled with ``numba.njit(parallel=True)``. Used by
``lambdify(..., backend="numba")`` and ``simulate(..., backend="numba")``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from symdyn.errors import ArgumentError

__all__ = ["flat", "numba_map", "numba_simulation"]


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


def flat(values, shape, size):
    """Each value as a 1-D float array of ``size`` (scalars as a zero-stride view, no copy)."""
    return [np.broadcast_to(np.asarray(v, dtype=float), shape).reshape(size) for v in values]


def numba_map(args, expressions):
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
        kernel(size, *flat(values, shape, size), *out)
        return tuple(o.reshape(shape) for o in out)

    return evaluate


def _largest(terms):
    return "max(" + ", ".join(terms) + ")" if len(terms) > 1 else terms[0]


@functools.lru_cache(maxsize=16)
def numba_simulation(rule, keywords, counter):
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
