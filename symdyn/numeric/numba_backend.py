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
from symdyn.numeric.numba_kernel import simulation_source

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


@functools.lru_cache(maxsize=16)
def numba_simulation(rule, keywords, counter):
    """The compiled ``simulate`` loop for ``rule`` (:mod:`symdyn.numeric.numba_kernel`),
    once per rule, map keywords and counter."""
    scalar = _numba_scalar([*rule.state, *keywords], rule.next_state)
    return _compile(simulation_source(len(rule.state), keywords, counter), scalar)
