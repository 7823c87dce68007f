"""Symbol keys for the numeric floor: strings resolved by exact name once, at the boundary.

Inside :mod:`symdyn.numeric` every value is keyed by its sympy Symbol, so two
symbols that share a name but not their assumptions (``x`` real and ``x``
positive) never collide. A caller's string key is resolved once, by
:func:`symdyn.rules.values.resolve_symbol` (exact name, never parsed; a name
that several symbols share is refused, naming them). Result mappings are
:class:`SymbolMapping`: read-only, keyed by Symbol, and readable by exact name.
"""

from __future__ import annotations

from collections.abc import Mapping

from symdyn.errors import ArgumentError
from symdyn.frozen import FrozenMapping
from symdyn.rules.values import checked_array, resolve_symbol

__all__ = ["SymbolMapping", "checked_inputs", "resolved"]


def resolved(values, symbols, where):
    """``{Symbol: value}`` from a caller's mapping: each key resolved once among ``symbols``."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ArgumentError(f"{where}: expected a mapping {{symbol: values}}")
    symbols = tuple(symbols)
    out = {}
    for key, value in values.items():
        symbol = resolve_symbol(key, symbols, where=where)
        if symbol not in symbols:
            raise ArgumentError(
                f"{where}: no symbol called {symbol}; expected "
                f"{', '.join(map(str, symbols)) or 'none'}",
                symbol=symbol,
            )
        if symbol in out:
            raise ArgumentError(f"{where}: {symbol} is given twice", symbol=symbol)
        out[symbol] = value
    return out


def checked_inputs(values, symbols, where):
    """``{Symbol: float array}``: keys resolved as :func:`resolved` does, values finite real
    arrays within each symbol's assumptions."""
    return {
        symbol: checked_array(value, symbol, where=where)
        for symbol, value in resolved(values, symbols, where).items()
    }


class SymbolMapping(FrozenMapping):
    """A read-only mapping keyed by sympy Symbols that also answers to each symbol's exact name.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> final = SymbolMapping({x: 1.0})
    >>> final[x], final["x"], "x" in final, "y" in final
    (1.0, 1.0, True, False)
    """

    __slots__ = ()

    def __getitem__(self, key):
        if isinstance(key, str):
            key = resolve_symbol(key, self._items, where="result")
        return self._items[key]

    def __contains__(self, key):
        if isinstance(key, str):
            return any(getattr(s, "name", None) == key for s in self._items)
        return key in self._items

    def __hash__(self):  # values are arrays: a mapping of them is not hashable
        raise TypeError(f"unhashable type: '{type(self).__name__}'")

    def __reduce__(self):
        return (SymbolMapping, (self._items,))
