"""The numba backend (optional extra): generated loops compiled per point, in parallel.

``sympy.lambdify`` on ``math`` gives the map on scalars; a short loop over
the broadcast points, generated from our own template (never user text),
calls it and is compiled with ``numba.njit(parallel=True)`` under NumPy's
error model (x/0 gives inf or nan, as with NumPy). Used by
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
    # NumPy's error model: x/0 is inf or nan, as in the NumPy backend, not ZeroDivisionError.
    return numba.njit(parallel=True, error_model="numpy")(space["kernel"])


def _at(name):
    return f"{name}[i]"


def flat(values, shape, size):
    """Each value as a contiguous, writeable 1-D float array of ``size`` (copied if need be).

    numba compiles a kernel once per type of its arguments, and an array's layout and
    read-only flag are part of its type: a zero-stride read-only view of a scalar, then
    the compacted copies after a segment, would each cost a compilation of seconds,
    where a copy costs 8 bytes a point.
    """
    return [
        np.require(
            np.broadcast_to(np.asarray(v, dtype=float), shape).reshape(size),
            requirements=["C_CONTIGUOUS", "WRITEABLE"],
        )
        for v in values
    ]


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


BLOCK = 128
CHUNK = 16
# Parallel parts, each running its share of the blocks one after another.
PARTS = 256


def _largest(terms):
    return "max(" + ", ".join(terms) + ")" if len(terms) > 1 else terms[0]


def _within(values):
    """Source of the test that every value is within the threshold (false for NaN).

    ``&`` rather than ``and``: no short circuit, so no branch in the step.
    """
    return " & ".join(f"(abs({v}) <= threshold)" for v in values)


def _rate(steps):
    """Source of the empirical rate after ``steps`` steps, as ``simulation._result`` has it."""
    return f"(change[k] / first[start + k]) ** (1.0 / ({steps} - 1)) if {steps} > 1 else 0.0"


def _indent(lines, depth):
    return ["    " * depth + line for line in lines]


@functools.lru_cache(maxsize=16)
def numba_simulation(rule, keywords, counter):
    """A compiled loop that runs blocks of points to their exits, blocks in parallel.

    Same exits as the NumPy path: diverged when a state value is non-finite
    or beyond ``threshold``, converged (only when ``tol > 0``) when no value
    moved by more than ``tol * (1 + |value|)``.

    Each block of ``BLOCK`` points runs ``CHUNK`` steps at a time with no
    branch in the step, so the compiler vectorises across the points, and
    only notes whether a point would have left. The points that would have
    run that chunk again from its saved start, step by step, with the exact
    exit tests; the others keep their values, which are the same numbers.
    The last step of each chunk keeps each point's change (the first step of
    the run, a chunk of its own, keeps it as the first change too), so the
    empirical rate is measured from the same changes as in the NumPy path. Scratch arrays
    are allocated once per parallel part of ``PARTS``, not per block.

    The kernel runs steps ``begin + 1`` to ``end`` (the counter's values),
    so a long run can go in segments between which a progress bar moves.
    """
    scalar = _numba_scalar([*rule.state, *keywords], rule.next_state)
    state = [f"s{j}" for j in range(len(rule.state))]
    params = [f"p{j}" for j, k in enumerate(keywords) if k != counter]
    now = [f"{s}[k]" for s in state]
    call = ", ".join(now + [f"q{j}[k]" if k != counter else "tt" for j, k in enumerate(keywords)])
    new = [f"r{j}" for j in range(len(state))]
    unpack = [f"{r} = float(r[{j}])" for j, r in enumerate(new)]
    moved = _largest([f"abs({r} - {a})" for r, a in zip(new, now, strict=True)])
    big = _largest([f"abs({r})" for r in new])
    store = [f"{a} = {r}" for a, r in zip(now, new, strict=True)]

    def fast(convergence):
        step = [f"r = f({call})", *unpack, f"bad[k] |= not ({_within(new)})"]
        if convergence:
            step.append(f"bad[k] |= ({moved} <= tol * (1 + {big}))")
        # The chunk's last step also keeps each point's change, which the rate is measured
        # from, so no step of a run but the first needs the exact path.
        last = [*step, f"change[k] = {moved}"]
        return [
            "for j in range(chunk - 1):",
            "    tt = t + j + 1",
            f"    for k in range({BLOCK}):",
            *_indent(step + store, 2),
            "tt = t + chunk",
            "if tt == 1:",  # the first step of the run: its change is the rate's first
            f"    for k in range({BLOCK}):",
            *_indent([*last, "firsts[k] = change[k]", *store], 2),
            "else:",
            f"    for k in range({BLOCK}):",
            *_indent(last + store, 2),
        ]

    def leave(flag):
        return [
            f"{flag}[start + k] = True",
            "exit_step[start + k] = tt",
            *(f"f{s}[start + k] = {r}" for s, r in zip(state, new, strict=True)),
            f"rate[start + k] = {'np.inf' if flag == 'diverged' else _rate('tt')}",
            "active[k] = redo[k] = False",
            "remaining -= 1",
        ]

    exact = [
        "for j in range(chunk):",
        "    tt = t + j + 1",
        f"    for k in range({BLOCK}):",
        "        if not redo[k]:",
        "            continue",
        f"        r = f({call})",
        *_indent(unpack, 2),
        f"        change[k] = {moved}",
        "        if tt == 1:",
        "            first[start + k] = change[k]",
        f"        if not ({_within(new)}):",
        *_indent(leave("diverged"), 3),
        f"        elif tol > 0 and change[k] <= tol * (1 + {big}):",
        *_indent(leave("converged"), 3),
        *_indent(store, 2),
    ]
    arrays = [*state, *(f"q{p[1:]}" for p in params), *(f"b{s[1:]}" for s in state)]
    head = [
        f"def kernel(size, begin, end, threshold, tol, {', '.join('a' + s for s in state)}, "
        + "".join(p + ", " for p in params)
        + f"{', '.join('f' + s for s in state)}, "
        + "exit_step, diverged, converged, first, rate):",
        f"    blocks = (size + {BLOCK - 1}) // {BLOCK}",
        f"    parts = min(blocks, {PARTS})",
        # Scratch arrays once per part, not per block: allocating in the parallel loop
        # cost more than a few steps of the points.
        "    for part in prange(parts):",
        *(f"        {a} = np.empty({BLOCK})" for a in arrays),
        f"        change = np.zeros({BLOCK})",
        f"        firsts = np.zeros({BLOCK})",
        f"        bad = np.zeros({BLOCK}, np.bool_)",
        f"        active = np.zeros({BLOCK}, np.bool_)",
        f"        redo = np.zeros({BLOCK}, np.bool_)",
        "        for block in range(part * blocks // parts, (part + 1) * blocks // parts):",
    ]
    block = [
        f"start = block * {BLOCK}",
        f"count = min({BLOCK}, size - start)",
        f"for k in range({BLOCK}):",
        "    i = start + min(k, count - 1)",
        *(f"    {s}[k] = a{s}[i]" for s in state),
        *(f"    q{p[1:]}[k] = {p}[i]" for p in params),
        "    active[k] = k < count",
        "    redo[k] = bad[k] = False",
        "    change[k] = 0.0",
        "remaining = count",
        "t = begin",
        "while t < end and remaining > 0:",
        f"    chunk = 1 if t == 0 else min({CHUNK}, end - t)",
        f"    for k in range({BLOCK}):",
        *(f"        b{s[1:]}[k] = {s}[k]" for s in state),
        "        bad[k] = False",
        "    if tol > 0:",
        *_indent(fast(True), 2),
        "    else:",
        *_indent(fast(False), 2),
        "    if t == 0:",
        "        for k in range(count):",
        "            first[start + k] = firsts[k]",
        f"    for k in range({BLOCK}):",
        "        redo[k] = active[k] and bad[k]",
        "        if redo[k]:",
        *(f"            {s}[k] = b{s[1:]}[k]" for s in state),
        *_indent(exact, 1),
        "    t += chunk",
        "for k in range(count):",
        "    if active[k]:",
        *(f"        f{s}[start + k] = {s}[k]" for s in state),
        f"        rate[start + k] = {_rate('end')}",
    ]
    lines = head + _indent(block, 3)
    return _compile("\n".join(lines), scalar)
