"""The source of the numba ``simulate`` kernel, generated from this template (never user text).

The kernel runs blocks of ``BLOCK`` points to their exits, blocks in parallel. Same exits
as the NumPy path: diverged when a state value is non-finite or beyond ``threshold``,
converged (only when ``tol > 0``) when no value moved by more than ``tol * (1 + |value|)``.

Each block runs ``CHUNK`` steps at a time with no branch in the step
(:func:`_branch_free_chunk`), so the compiler vectorises across the points, and only
notes whether a point would have left. The points that would have run that chunk again
from its saved start, step by step, with the exact exit tests (:func:`_exact_chunk`);
the others keep their values, which are the same numbers. The last step of each chunk
keeps each point's change (the first step of the run, a chunk of its own, keeps it as
the first change too), so the empirical rate is measured from the same changes as in the
NumPy path. Scratch arrays are allocated once per parallel part of ``PARTS``, not per
block.

The kernel runs steps ``begin + 1`` to ``end`` (the counter's values), so a long run can
go in segments between which a progress bar moves.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BLOCK", "CHUNK", "PARTS", "simulation_source"]

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


@dataclass(frozen=True)
class _Names:
    """The source fragments every part of the kernel shares."""

    state: list  # the block's state arrays s0, s1, …
    params: list  # the parameter arrays p0, … (not the counter)
    new: list  # the scalars r0, … of one step's result
    call: str  # the scalar map called on point k
    unpack: list
    moved: str  # the largest change of a point in one step
    big: str  # the largest absolute value after it
    store: list


def _names(size, keywords, counter):
    state = [f"s{j}" for j in range(size)]
    params = [f"p{j}" for j, k in enumerate(keywords) if k != counter]
    now = [f"{s}[k]" for s in state]
    call = ", ".join(now + [f"q{j}[k]" if k != counter else "tt" for j, k in enumerate(keywords)])
    new = [f"r{j}" for j in range(size)]
    return _Names(
        state=state,
        params=params,
        new=new,
        call=call,
        unpack=[f"{r} = float(r[{j}])" for j, r in enumerate(new)],
        moved=_largest([f"abs({r} - {a})" for r, a in zip(new, now, strict=True)]),
        big=_largest([f"abs({r})" for r in new]),
        store=[f"{a} = {r}" for a, r in zip(now, new, strict=True)],
    )


def _branch_free_chunk(names, convergence):
    """``chunk`` steps of every point of the block, noting in ``bad`` who may have left."""
    step = [f"r = f({names.call})", *names.unpack, f"bad[k] |= not ({_within(names.new)})"]
    if convergence:
        step.append(f"bad[k] |= ({names.moved} <= tol * (1 + {names.big}))")
    # The chunk's last step also keeps each point's change, which the rate is measured
    # from, so no step of a run but the first needs the exact path.
    last = [*step, f"change[k] = {names.moved}"]
    return [
        "for j in range(chunk - 1):",
        "    tt = t + j + 1",
        f"    for k in range({BLOCK}):",
        *_indent(step + names.store, 2),
        "tt = t + chunk",
        "if tt == 1:",  # the first step of the run: its change is the rate's first
        f"    for k in range({BLOCK}):",
        *_indent([*last, "firsts[k] = change[k]", *names.store], 2),
        "else:",
        f"    for k in range({BLOCK}):",
        *_indent(last + names.store, 2),
    ]


def _leave(names, flag):
    """A point leaves at step ``tt``: its flag, exit step, final state and rate."""
    return [
        f"{flag}[start + k] = True",
        "exit_step[start + k] = tt",
        *(f"f{s}[start + k] = {r}" for s, r in zip(names.state, names.new, strict=True)),
        f"rate[start + k] = {'np.inf' if flag == 'diverged' else _rate('tt')}",
        "active[k] = redo[k] = False",
        "remaining -= 1",
    ]


def _exact_chunk(names):
    """The chunk again, step by step with the exact exit tests, for the points in ``redo``."""
    return [
        "for j in range(chunk):",
        "    tt = t + j + 1",
        f"    for k in range({BLOCK}):",
        "        if not redo[k]:",
        "            continue",
        f"        r = f({names.call})",
        *_indent(names.unpack, 2),
        f"        change[k] = {names.moved}",
        "        if tt == 1:",
        "            first[start + k] = change[k]",
        f"        if not ({_within(names.new)}):",
        *_indent(_leave(names, "diverged"), 3),
        f"        elif tol > 0 and change[k] <= tol * (1 + {names.big}):",
        *_indent(_leave(names, "converged"), 3),
        *_indent(names.store, 2),
    ]


def _head(names):
    """The signature, and the scratch arrays of each parallel part."""
    state, params = names.state, names.params
    arrays = [*state, *(f"q{p[1:]}" for p in params), *(f"b{s[1:]}" for s in state)]
    return [
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


def _block(names):
    """One block of points: load, run chunk by chunk to ``end``, store who is still running."""
    state, params = names.state, names.params
    return [
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
        *_indent(_branch_free_chunk(names, True), 2),
        "    else:",
        *_indent(_branch_free_chunk(names, False), 2),
        "    if t == 0:",
        "        for k in range(count):",
        "            first[start + k] = firsts[k]",
        f"    for k in range({BLOCK}):",
        "        redo[k] = active[k] and bad[k]",
        "        if redo[k]:",
        *(f"            {s}[k] = b{s[1:]}[k]" for s in state),
        *_indent(_exact_chunk(names), 1),
        "    t += chunk",
        "for k in range(count):",
        "    if active[k]:",
        *(f"        f{s}[start + k] = {s}[k]" for s in state),
        f"        rate[start + k] = {_rate('end')}",
    ]


def simulation_source(size, keywords, counter):
    """The kernel's source for a state of ``size`` values and the map's ``keywords``."""
    names = _names(size, keywords, counter)
    return "\n".join(_head(names) + _indent(_block(names), 3))
