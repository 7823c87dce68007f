"""Keys for symbols: a Symbol, or its exact name, resolved without parsing.

A key is a sympy ``Symbol`` (or ``MatrixSymbol``). A string key is resolved
by its *exact name* against the symbols of the object it is applied to; it is
never parsed. Two symbols that share a name but not their assumptions are
different symbols to sympy, and a key never silently stands for the other one.
"""

from __future__ import annotations

import sympy as sp

from symdyn.errors import ArgumentError


def _names_of(symbols):
    return ", ".join(sorted({str(s) for s in symbols})) or "none"


def resolve_symbol(key, symbols, *, where=""):
    """The symbol ``key`` stands for, among ``symbols``; strings by exact name, never parsed.

    Parameters
    ----------
    key : sympy.Symbol, sympy.MatrixSymbol or str
    symbols : iterable of sympy.Symbol
        The symbols of the object the key is applied to.
    where : str
        Named in error messages.

    Raises
    ------
    ArgumentError
        For a string that names none (or several) of ``symbols``, a Symbol
        that shares its name with one of them but not its assumptions, and
        any other kind of key.

    Examples
    --------
    >>> import sympy as sp
    >>> eta = sp.Symbol("eta", positive=True)
    >>> resolve_symbol("eta", [eta]) is eta
    True
    >>> resolve_symbol("__import__('os')", [eta])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    symdyn.errors.ArgumentError: no symbol is called "__import__('os')"; pass a sympy Symbol; ...
    """
    symbols = tuple(symbols)
    prefix = f"{where}: " if where else ""
    if isinstance(key, (sp.Symbol, sp.MatrixSymbol)):
        if key in symbols:
            return key
        same = [s for s in symbols if getattr(s, "name", None) == key.name]
        if same:
            raise ArgumentError(
                f"{prefix}{key} is not the symbol {key.name} of this rule: the two have "
                f"different assumptions ({_assumption_text(key)} vs {_assumption_text(same[0])}); "
                "sympy treats them as different symbols, so pass the rule's own",
                symbol=key,
            )
        return key
    if isinstance(key, str):
        named = [s for s in symbols if getattr(s, "name", None) == key]
        if len(named) == 1:
            return named[0]
        shown = key if len(key) <= 60 else key[:57] + "..."
        if not named:
            raise ArgumentError(
                f'{prefix}no symbol is called "{shown}"; pass a sympy Symbol; the symbols are '
                f"{_names_of(symbols)}",
                symbol=key,
            )
        each = " and ".join(f"{s} ({_assumption_text(s)})" for s in named)
        raise ArgumentError(
            f'{prefix}several symbols are called "{shown}": {each}; pass the sympy Symbol itself',
            symbol=key,
        )
    raise ArgumentError(
        f"{prefix}a key must be a sympy Symbol (or its exact name), got a "
        f"{type(key).__name__} ({key!r:.60}); the symbols are {_names_of(symbols)}",
        symbol=key,
    )


# The facts a reader declares, strongest first: one of sign, one of kind.
_SIGNS = ("zero", "positive", "negative", "nonnegative", "nonpositive", "nonzero")
_KINDS = ("integer", "rational", "real", "complex")


def _assumption_text(symbol):
    facts = symbol.assumptions0
    sign = next((f for f in _SIGNS if facts.get(f)), None)
    kind = next((f for f in _KINDS if facts.get(f)), None)
    return ", ".join(f for f in (sign, kind) if f) or "no assumptions"
