"""The assignments of a rule, checked and resolved.

An :class:`~symdyn.rules.rule.UpdateRule` is built from caller data: the
lists of symbols, the ``(target, value)`` pairs in order. This module checks
each of them (errors name the update by its number) and resolves the pairs,
substituting each assignment into those after it, into the next state.
"""

from __future__ import annotations

import sympy as sp

from symdyn.errors import AssignmentError, RuleError, ShapeError, UnknownSymbolError
from symdyn.rules.expressions import as_expression, substitute, symbols_of


def symbol_tuple(items, role):
    """A list of distinct Symbols or MatrixSymbols as a tuple; anything else is a RuleError."""
    if isinstance(items, (sp.Basic, str)):
        raise RuleError(
            f"every {role} must be given in a list, e.g. [{items}], not as a bare "
            f"{type(items).__name__}"
        )
    try:
        items = tuple(items or ())
    except TypeError:
        raise RuleError(
            f"a {role} list must be a sequence of sympy Symbols, got {items!r:.60}"
        ) from None
    for item in items:
        if not isinstance(item, (sp.Symbol, sp.MatrixSymbol)):
            raise RuleError(
                f"every {role} must be a sympy Symbol or MatrixSymbol, got {item!r:.60}",
                symbol=item,
            )
    if len(set(items)) != len(items):
        raise RuleError(f"{role} lists a symbol twice: {items}")
    return items


def checked_updates(name, updates, params, counter):
    """The rule's (target, value) pairs, each checked; errors carry the update's number."""
    if isinstance(updates, (sp.Basic, str)):
        raise RuleError(f"{name}: updates must be a list of (target, value) pairs")
    try:
        pairs = list(updates)
    except TypeError:
        raise RuleError(f"{name}: updates must be a sequence of (target, value)") from None
    checked = []
    for number, pair in enumerate(pairs, start=1):
        try:
            checked.append(_checked_update(name, number, pair, params, counter))
        except RuleError as error:
            error.update_index = error.update_index or number
            raise
    if not checked:
        raise RuleError(f"{name}: no updates")
    return tuple(checked)


def _checked_update(name, number, pair, params, counter):
    """One (target, value) pair, checked; errors name the update by its number."""
    try:
        target, value = pair
    except (TypeError, ValueError):
        raise RuleError(
            f"{name}: update {number} must be a (target, value) pair, got {pair!r:.60}"
        ) from None
    where = f"{name}: update {number} ({target} ← ...)"
    if not isinstance(target, (sp.Symbol, sp.MatrixSymbol)):
        raise AssignmentError(f"{where}: the target must be a sympy Symbol, got {target!r}")
    if target in params:
        raise AssignmentError(
            f"{where}: {target} is a parameter and cannot be assigned; "
            "make it state if it changes from step to step",
            symbol=target,
        )
    if target == counter:
        raise AssignmentError(
            f"{where}: the step counter {target} advances by itself", symbol=target
        )
    value = as_expression(value, f"{where}: the right side")
    if isinstance(target, sp.Symbol) and getattr(value, "is_Matrix", False):
        if value.shape != (1, 1):
            raise ShapeError(f"{where}: a scalar target gets a matrix of shape {value.shape}")
        value = value[0, 0]
    if isinstance(target, sp.MatrixSymbol):
        shape = getattr(value, "shape", None)
        if shape is not None and tuple(shape) != tuple(target.shape):
            raise ShapeError(f"{where}: {target} has shape {target.shape}, the right side {shape}")
    return target, value


def resolve(state, updates, simultaneous):
    """Substitute assignments in order; return the next state and the temporaries."""
    current = {}  # symbol -> its value in terms of the old state
    temporaries = []
    for target, value in updates:
        reads = {s: v for s, v in current.items() if s not in state} if simultaneous else current
        current[target] = substitute(value, reads) if reads else value
        if target not in state and target not in temporaries:
            temporaries.append(target)
    next_state = tuple(current.get(s, s) for s in state)
    return next_state, tuple(temporaries)


def check_symbols(name, updates, known, state, temporaries):
    """Refuse reads of undeclared symbols (when ``known`` is given) and of temporaries
    before their first assignment (always)."""
    assigned = set(state)
    for number, (target, value) in enumerate(updates, start=1):
        reads = symbols_of(value)
        unknown = (reads & set(temporaries)) - assigned
        if known is not None:
            unknown |= reads - known
        if unknown:
            names = ", ".join(sorted(map(str, unknown)))
            raise UnknownSymbolError(
                f"{name}: update {number} ({target} ← {value}) reads {names}, "
                "which is neither state, parameter, an earlier temporary nor declared free; "
                "declare it in free=[...] or params=[...]",
                update_index=number,
                symbol=sorted(unknown, key=str)[0],
            )
        assigned.add(target)
