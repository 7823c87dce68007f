"""Values for symbols: one exact-number policy, and keys resolved without parsing.

Every public entry point that takes values for symbols (``is_stable``,
``UpdateRule.subs``, ``params=`` of the spectrum analyses, stability-map
grids, ``simulate``, the command line's ``--param``) goes through this module,
so they all agree on what a value means.

The exact-number policy
-----------------------
- ``int`` (and NumPy integers) become sympy ``Integer``.
- ``float`` (and NumPy floats) become the decimal they print as:
  ``0.1`` is ``1/10``, ``1e-3`` is ``1/1000``, ``2.5e-7`` is ``1/4000000``
  (the shortest decimal that reads back as the same float, ``repr``).
  This is what the user wrote, where the binary expansion
  (3602879701896397/36028797018963968 for 0.1) is an artefact of storage.
- ``fractions.Fraction`` and finite ``decimal.Decimal`` are read exactly;
  a sympy ``Float`` becomes the decimal it prints as.
- Exact sympy numbers (``Rational``, ``sqrt(2)``, ``pi``) are kept.
- Refused, with :class:`~symdyn.errors.ArgumentError` naming the symbol:
  ``bool``, ``None``, strings (nothing is ever parsed from a value), complex
  numbers, NaN, ±∞ (``nan``, ``zoo``, ``oo``), and anything that is not a
  number.
- A value must respect the symbol's declared assumptions: ``-5`` for a
  ``positive=True`` step is refused, as is ``1/2`` for an ``integer=True``
  counter.

Keys
----
A key is a sympy ``Symbol`` (or ``MatrixSymbol``). A string key is resolved
by its *exact name* against the symbols of the object it is applied to; it
is never parsed. Anything else is refused.

Examples
--------
>>> import sympy as sp
>>> eta = sp.Symbol("eta", positive=True)
>>> exact_number(0.1, eta)
1/10
>>> exact_number(-5, eta)
Traceback (most recent call last):
...
symdyn.errors.ArgumentError: eta = -5 breaks its declared assumption (eta is positive)
>>> exact_values({"eta": 0.25}, [eta])
{eta: 1/4}
"""

from __future__ import annotations

import decimal
import fractions
import math
import numbers
from collections.abc import Mapping

import numpy as np
import sympy as sp
from sympy.logic.boolalg import BooleanAtom, BooleanFunction

from symdyn.errors import ArgumentError

__all__ = [
    "MAX_DIGITS",
    "as_basic",
    "checked_array",
    "exact_number",
    "exact_value",
    "exact_values",
    "resolve_symbol",
]

MAX_DIGITS = 4000
"""Most decimal digits in an exact value (numerator or denominator, or a decimal exponent)."""

# The declared facts checked against a value, with how each reads in a message.
_FACTS = (
    ("positive", "positive"),
    ("negative", "negative"),
    ("nonnegative", "nonnegative"),
    ("nonpositive", "nonpositive"),
    ("zero", "zero"),
    ("nonzero", "nonzero"),
    ("integer", "an integer"),
    ("rational", "rational"),
    ("real", "real"),
    ("even", "even"),
    ("odd", "odd"),
    ("prime", "prime"),
)


def _label(symbol, where):
    name = "the value" if symbol is None else str(symbol)
    return f"{where}: {name}" if where else name


def _refuse(symbol, value, why, where):
    shown = repr(value) if not isinstance(value, sp.Basic) else str(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return ArgumentError(f"{_label(symbol, where)} = {shown} {why}", symbol=symbol)


def _from_float(value, symbol, where):
    if not math.isfinite(value):
        raise _refuse(symbol, value, "is not a finite number", where)
    return sp.Rational(repr(float(value)))


def _from_decimal_text(text, symbol, value, where):
    """An exact Rational from decimal text that is known to be finite (no parsing of names)."""
    exponent = decimal.Decimal(text).as_tuple().exponent
    digits = len(decimal.Decimal(text).as_tuple().digits)
    if not isinstance(exponent, int):
        raise _refuse(symbol, value, "is not a finite number", where)
    if abs(exponent) > MAX_DIGITS or digits > MAX_DIGITS:
        raise _refuse(symbol, value, f"has more than {MAX_DIGITS} digits", where)
    return sp.Rational(fractions.Fraction(decimal.Decimal(text)))


def exact_number(value, symbol=None, *, where="", closure=False):
    """The exact sympy number for ``value``, checked against ``symbol``'s assumptions.

    Parameters
    ----------
    value : int, float, Fraction, Decimal, NumPy scalar or sympy number
    symbol : sympy.Symbol, optional
        The symbol the value is for; its declared assumptions must hold.
    where : str, optional
        Named in error messages (the call the value was passed to).
    closure : bool, optional
        Accept the boundary of a declared sign (0 for a ``positive`` symbol).
        ``UpdateRule.subs`` uses this: β = 0 in heavy ball is gradient descent,
        a new rule analysed afresh. Evaluating a derived claim (``is_stable``)
        never does: a region derived for β > 0 says nothing at β = 0.

    Returns
    -------
    sympy.Expr
        An exact, finite, real number.

    Raises
    ------
    ArgumentError
        For anything the policy refuses (see the module docstring), naming ``symbol``.

    Examples
    --------
    >>> import sympy as sp
    >>> exact_number(0.1)
    1/10
    >>> exact_number(float("nan"), sp.Symbol("eta"))
    Traceback (most recent call last):
    ...
    symdyn.errors.ArgumentError: eta = nan is not a finite number
    """
    number = _as_number(value, symbol, where)
    _check_assumptions(symbol, number, value, where, closure)
    return number


def _as_number(value, symbol, where):
    if isinstance(value, (str, bytes)):
        raise _refuse(symbol, value, "is text, not a number (text is never parsed)", where)
    if value is None or isinstance(value, (bool, np.bool_)):
        raise _refuse(symbol, value, "is not a number", where)
    if isinstance(value, sp.Basic):
        return _from_sympy(value, symbol, where)
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    if isinstance(value, fractions.Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise _refuse(symbol, value, "is not a finite number", where)
        return _from_decimal_text(str(value), symbol, value, where)
    if isinstance(value, numbers.Real):
        return _from_float(float(value), symbol, where)
    if isinstance(value, numbers.Complex):
        raise _refuse(symbol, value, "is complex; symdyn's parameters take real values", where)
    raise _refuse(symbol, value, f"is a {type(value).__name__}, not a number", where)


def _from_sympy(value, symbol, where):
    if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        raise _refuse(symbol, value, "is not a finite number", where)
    if not value.is_number or isinstance(value, (sp.MatrixBase, sp.MatrixExpr)):
        raise _refuse(symbol, value, "is not a number", where)
    if isinstance(value, sp.Float):
        return _from_decimal_text(str(value), symbol, value, where)
    if isinstance(value, sp.Rational):
        if max(abs(value.p), value.q).bit_length() > MAX_DIGITS * 10 // 3:
            raise _refuse(symbol, value, f"has more than {MAX_DIGITS} digits", where)
        return value
    if value.is_extended_real is False:
        raise _refuse(symbol, value, "is complex; symdyn's parameters take real values", where)
    if value.is_extended_real is None or value.is_finite is not True:
        raise _refuse(symbol, value, "is not known to be a finite real number", where)
    return value


_SIGNS = {"positive", "negative", "nonnegative", "nonpositive", "zero", "nonzero"}
_CLOSED = {"positive": "nonnegative", "negative": "nonpositive"}


def _declared_facts(symbol, closure):
    """The (fact, value) pairs a value for ``symbol`` must agree with."""
    declared = symbol.assumptions0
    if not closure:
        return [(fact, declared[fact]) for fact, _ in _FACTS if fact in declared]
    facts = [
        (fact, declared[fact]) for fact, _ in _FACTS if fact in declared and fact not in _SIGNS
    ]
    facts += [
        (_CLOSED.get(f, f), True)
        for f in ("positive", "negative", "nonnegative", "nonpositive")
        if declared.get(f)
    ]
    return facts


def _check_assumptions(symbol, value, original, where, closure=False):
    """Refuse a value that contradicts one of ``symbol``'s declared facts."""
    if symbol is None or not isinstance(symbol, sp.Symbol):
        return
    words = dict(_FACTS)
    for fact, declared in _declared_facts(symbol, closure):
        holds = getattr(value, f"is_{fact}")
        if holds is None and value.is_number:
            raise _refuse(
                symbol,
                original,
                f"cannot be checked against its declared assumptions ({fact})",
                where,
            )
        if holds is not None and holds != declared:
            verb = "is" if declared else "is not"
            raise _refuse(
                symbol,
                original,
                f"breaks its declared assumption ({symbol} {verb} {words[fact]})",
                where,
            )


def exact_value(value, symbol=None, *, where="", closure=False):
    """Like :func:`exact_number`, but a sympy expression in other symbols is accepted too.

    For ``UpdateRule.subs`` and scalings such as ``{beta: 1 - gamma*sqrt(eta)}``:
    an expression is kept as it is, and refused only when it *contradicts*
    the symbol's assumptions (``-eta`` for a positive symbol, with ``eta``
    positive); numbers follow the exact-number policy.

    Examples
    --------
    >>> import sympy as sp
    >>> beta, gamma, eta = sp.symbols("beta gamma eta", positive=True)
    >>> exact_value(1 - gamma * sp.sqrt(eta), beta)
    -sqrt(eta)*gamma + 1
    """
    if isinstance(value, sp.Basic) and not value.is_number:
        if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise _refuse(symbol, value, "is not finite", where)
        if value.is_Relational or isinstance(value, (BooleanAtom, BooleanFunction)):
            raise _refuse(symbol, value, "is a condition, not a value", where)
        # only a decided contradiction refuses an expression
        _check_assumptions(symbol, value, value, where, closure)
        return value
    return exact_number(value, symbol, where=where, closure=closure)


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


def exact_values(values, symbols, *, where="", expressions=False, closure=False):
    """A ``{Symbol: exact value}`` dict from a caller's mapping, every key and value checked.

    Parameters
    ----------
    values : mapping
        Keys are Symbols or their exact names; values follow the exact-number
        policy (and may be sympy expressions when ``expressions``).
    symbols : iterable of sympy.Symbol
        What string keys are resolved against.
    where : str
        Named in error messages.
    expressions : bool
        Accept sympy expressions as values (:func:`exact_value`).
    closure : bool
        Accept the boundary of a declared sign (see :func:`exact_number`).

    Raises
    ------
    ArgumentError
        When ``values`` is not a mapping, or for any refused key or value.
    """
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise ArgumentError(
            f"{where}: values must be a mapping {{symbol: value}}, got a {type(values).__name__}"
        )
    symbols = tuple(symbols)
    convert = exact_value if expressions else exact_number
    out = {}
    for key, value in values.items():
        symbol = resolve_symbol(key, symbols, where=where)
        if symbol in out:
            raise ArgumentError(f"{where}: {symbol} is given twice", symbol=symbol)
        out[symbol] = convert(value, symbol, where=where, closure=closure)
    return out


def checked_array(value, symbol, *, where=""):
    """A float64 array of ``value``: finite, real, and within ``symbol``'s assumptions.

    For numeric grids (stability maps) and simulation inputs, where values
    are arrays rather than exact numbers.

    Examples
    --------
    >>> import sympy as sp
    >>> checked_array([0.1, 0.2], sp.Symbol("eta", positive=True))
    array([0.1, 0.2])
    """
    if isinstance(value, (str, bytes)) or value is None or isinstance(value, (bool, np.bool_)):
        raise _refuse(symbol, value, "is not a number or an array of numbers", where)
    if isinstance(value, sp.Basic):
        value = float(exact_number(value, symbol, where=where))
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise _refuse(symbol, value, "is not an array of numbers", where) from None
    if array.dtype.kind == "O":  # sympy numbers, Fractions, ...: each by the exact policy
        exact = [float(exact_number(v, symbol, where=where)) for v in array.ravel()]
        array = np.array(exact, dtype=float).reshape(array.shape)
    elif array.dtype.kind == "c":
        raise _refuse(symbol, value, "is complex; symdyn's parameters take real values", where)
    elif array.dtype.kind not in "iuf":
        raise _refuse(symbol, value, "is not an array of real numbers", where)
    array = array.astype(float)  # a copy: results keep it, so the caller cannot change them
    if not np.isfinite(array).all():
        raise _refuse(symbol, value, "holds values that are not finite (NaN or inf)", where)
    _check_array_assumptions(symbol, array, value, where)
    return array


def _check_array_assumptions(symbol, array, original, where):
    if not isinstance(symbol, sp.Symbol) or array.size == 0:
        return
    tests = {  # each computed only for a fact the symbol declares (arrays may be large)
        "positive": lambda: array > 0,
        "negative": lambda: array < 0,
        "nonnegative": lambda: array >= 0,
        "nonpositive": lambda: array <= 0,
        "nonzero": lambda: array != 0,
        "integer": lambda: array == np.round(array),
    }
    for fact, test in tests.items():
        if not symbol.assumptions0.get(fact):
            continue
        holds = test()
        if not np.all(holds):
            bad = array[~holds].flat[0]
            raise _refuse(
                symbol,
                original,
                f"holds {bad:g}, which breaks its declared assumption ({symbol} is {fact}); "
                "give only values where it holds (a grid from 0 for a positive symbol can "
                "start at its first positive point)",
                where,
            )


def as_basic(value):
    """A sympy object for ``value``: sympy objects pass, Python numbers follow the
    exact-number policy, and anything else (text above all) is refused.

    For values symdyn itself produced that may be plain ``int`` (a shape, a
    zero block); a caller's expression goes through ``UpdateRule``'s checks.

    Examples
    --------
    >>> as_basic(3)
    3
    """
    if isinstance(value, sp.Basic):
        return value
    return exact_number(value)
