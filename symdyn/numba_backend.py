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


BLOCK = 8


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

    # Points run in blocks of BLOCK lanes, interleaved step by step: one point's update is
    # a chain of dependent flops, so independent chains in registers keep the pipeline busy.
    def lane(name, k):
        return f"{name}_{k}"

    lines = [
        f"def kernel(size, steps, threshold, tol, {', '.join('a' + s for s in state)}, "
        + "".join(p + ", " for p in params)
        + f"{', '.join('f' + s for s in state)}, exit_step, diverged, converged, first, last):",
        f"    for block in prange((size + {BLOCK - 1}) // {BLOCK}):",
        f"        start = block * {BLOCK}",
        "        remaining = 0",
    ]
    for k in range(BLOCK):
        lines += [
            *(f"        {lane(s, k)} = a{s}[min(start + {k}, size - 1)]" for s in state),
            *(f"        {lane(o, k)} = {lane(s, k)}" for o, s in zip(old, state, strict=True)),
            *(f"        {lane('q' + p[1:], k)} = {p}[min(start + {k}, size - 1)]" for p in params),
            f"        {lane('active', k)} = start + {k} < size",
            f"        remaining += {lane('active', k)}",
        ]

    def step_lanes(indent, record_first):
        body = []
        for k in range(BLOCK):
            here = [lane(s, k) for s in state]
            was = [lane(o, k) for o in old]
            args = here + [c if c == "t" else lane(c, k) for c in call]
            moved = _largest([f"abs({a} - {b})" for a, b in zip(here, was, strict=True)])
            first_line = [f"    first[start + {k}] = {moved}"] if record_first else []
            body += [
                f"if {lane('active', k)}:",
                *(f"    {b} = {a}" for a, b in zip(here, was, strict=True)),
                f"    r = f({', '.join(args)})",
                *(f"    {a} = float(r[{j}])" for j, a in enumerate(here)),
                *first_line,
                "    if not (" + " and ".join(f"abs({a}) <= threshold" for a in here) + "):",
                f"        diverged[start + {k}] = True",
                f"        exit_step[start + {k}] = t",
                f"        {lane('active', k)} = False",
                "        remaining -= 1",
                f"    elif tol > 0 and {moved} <= tol * (1 + "
                f"{_largest([f'abs({a})' for a in here])}):",
                f"        converged[start + {k}] = True",
                f"        exit_step[start + {k}] = t",
                f"        {lane('active', k)} = False",
                "        remaining -= 1",
            ]
        return [indent + line for line in body]

    lines += [
        "        for t in range(1, steps + 1):",
        "            if t == 1:",
        *step_lanes(" " * 16, record_first=True),
        "            else:",
        *step_lanes(" " * 16, record_first=False),
    ]
    lines += ["            if remaining == 0:", "                break"]
    for k in range(BLOCK):
        here = [lane(s, k) for s in state]
        was = [lane(o, k) for o in old]
        lines += [
            f"        if start + {k} < size:",
            *(f"            f{s}[start + {k}] = {a}" for s, a in zip(state, here, strict=True)),
            f"            last[start + {k}] = "
            + _largest([f"abs({a} - {b})" for a, b in zip(here, was, strict=True)]),
        ]
    return _compile("\n".join(lines), scalar)
