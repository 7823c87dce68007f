"""What a rule file holds, read into sympy objects, and the limits on what it may hold.

:class:`RuleSpec` is the data an :class:`~symdyn.rules.rule.UpdateRule` is
built from; the constants bound a file's size and say which names it may not
take.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from symdyn.rules.parsing import DEFAULT_CONSTANTS, DEFAULT_FUNCTIONS

MAX_FILE_BYTES = 64 * 1024
"""Largest accepted rule file."""
MAX_UPDATES = 256
"""Most ``[[update]]`` entries in one file."""
MAX_NAMES = 256
"""Most declared names (state, parameters, free symbols, temporaries)."""

ASSUMPTIONS = ("positive", "nonnegative", "real", "integer")
RESERVED = frozenset(DEFAULT_FUNCTIONS) | frozenset(DEFAULT_CONSTANTS) | {"loss"}
SYMPY_CONSTANTS = frozenset({"I", "E", "oo", "zoo", "nan", "pi", "S", "N", "True", "False"})
"""Names sympy gives its constants (and ``S``, ``N``): a symbol of that name is refused."""
TOP_KEYS = ("name", "state", "counter", "simultaneous", "params", "free", "loss", "update")
TOP_KEYS += ("scaling", "limit")


@dataclass(frozen=True)
class RuleSpec:
    """A rule file, read into sympy objects (the data :class:`UpdateRule` is built from).

    Attributes
    ----------
    name : str
    state, params, free : tuple of sympy.Symbol
        State symbols are real; parameters and free symbols carry the
        assumptions declared in the file (``real`` when none is given).
    loss : sympy.Expr or None
    updates : tuple of (sympy.Symbol, sympy.Expr)
        In file order; targets outside ``state`` are temporaries (real).
    simultaneous : bool
    counter : sympy.Symbol or None
        An integer, nonnegative step counter.
    scaling : tuple of (sympy.Symbol, sympy.Expr)
        Parameter scalings for continuous limits, e.g. β = 1 − γ√η.
    source : str
        The file the spec was read from.
    intervals : tuple of (sympy.Symbol, (sympy.Rational, sympy.Rational))
        Declared ranges of parameters and free symbols (metadata).
    step, time_step : sympy.Expr or None
        From the optional ``[limit]`` table: the step-size parameter ``h``
        and the time step of the continuous limit.
    """

    name: str
    state: tuple
    params: tuple
    free: tuple
    loss: sp.Expr | None
    updates: tuple
    simultaneous: bool
    counter: sp.Symbol | None
    scaling: tuple
    source: str
    intervals: tuple = ()
    step: sp.Expr | None = None
    time_step: sp.Expr | None = None
    lines: tuple = field(default=(), compare=False, repr=False)
    """Line of each update in the file (for error messages)."""
