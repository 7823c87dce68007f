"""The rule grammar as data: what an expression may call, and the limits on its size.

:func:`symdyn.rules.parsing.parse_expression` accepts numbers, declared names,
``+ - * / ** @``, unary ``-`` and ``+``, parentheses, and calls to the
functions in :data:`DEFAULT_FUNCTIONS` (or the caller's own). This module
holds those tables, the syntax and operators that are refused (with the words
an error message uses for them), and the limits checked before and while an
expression is built; :mod:`symdyn.rules.syntax_tree` enforces them.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from types import MappingProxyType

import sympy as sp

__all__ = [
    "DEFAULT_CONSTANTS",
    "DEFAULT_FUNCTIONS",
    "MAX_ARGUMENTS",
    "MAX_DEPTH",
    "MAX_EXPANDED_EXPONENT",
    "MAX_EXPANDED_TERMS",
    "MAX_EXPONENT",
    "MAX_GRAD_NESTING",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_NUMBER_BITS",
]

MAX_LENGTH = 4000
"""Longest accepted expression text, in characters."""
MAX_DEPTH = 50
"""Deepest accepted nesting: of brackets in the text, and of the syntax tree."""
MAX_NODES = 1000
"""Largest accepted syntax tree, in :mod:`ast` nodes."""
MAX_EXPONENT = 1000
"""Largest absolute value of a number in an exponent (numerator and denominator)."""
MAX_NUMBER_BITS = 4096
"""Largest accepted number, in bits of its numerator or denominator."""
MAX_EXPANDED_EXPONENT = MAX_EXPONENT
"""Largest power of one symbol (or call) once powers of powers, products and
temporaries are multiplied out: ``(eta**1000)**1000`` is ``eta**1000000``."""
MAX_EXPANDED_TERMS = 50_000
"""Most monomials an expression may expand to (an upper bound, estimated without
expanding): ``(x + eta + 1)**1000`` would have 501 501."""
MAX_ARGUMENTS = 32
"""Most arguments in one call."""
MAX_GRAD_NESTING = 3
"""Most ``grad`` calls nested inside one another (repeated derivatives grow fast)."""


def _diff_gradient(expr, wrt):
    """Default ``grad``: the derivative of ``expr`` with respect to one symbol."""
    return sp.diff(expr, wrt)


DEFAULT_FUNCTIONS: Mapping[str, Callable] = MappingProxyType(
    {
        "grad": _diff_gradient,
        "sqrt": sp.sqrt,
        "exp": sp.exp,
        "log": sp.log,
        "tanh": sp.tanh,
        "sin": sp.sin,
        "cos": sp.cos,
        "Abs": sp.Abs,
        "Max": sp.Max,
        "Min": sp.Min,
        "T": sp.transpose,
    }
)
"""The functions an expression may call: name → callable on sympy objects."""

DEFAULT_CONSTANTS: Mapping[str, sp.Expr] = MappingProxyType({"pi": sp.pi, "E": sp.E})
"""Names of constants; a declared symbol of the same name takes precedence."""

_ARITY = {"grad": (2, 2), "Max": (1, MAX_ARGUMENTS), "Min": (1, MAX_ARGUMENTS)}
_ONE_ARGUMENT = {"sqrt", "exp", "log", "tanh", "sin", "cos", "Abs", "T"}

_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_OPERATORS[ast.MatMult] = "@"
_REFUSED_OPERATORS = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitOr: "|",
    ast.BitAnd: "&",
    ast.BitXor: "^ (write ** for a power)",
}
_REFUSED_NODES = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing",
    ast.Slice: "a slice",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.Compare: "a comparison",
    ast.BoolOp: "a boolean operator",
    ast.IfExp: "a conditional expression",
    ast.Tuple: "a tuple",
    ast.List: "a list",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.NamedExpr: "an assignment",
    ast.Starred: "a starred expression",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}
_NON_FINITE = (sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I)


def _expected(functions: Mapping[str, Callable]) -> str:
    calls = ", ".join(sorted(functions))
    return (
        "expected numbers, declared names, + - * / ** @, unary -, parentheses "
        f"and calls to {calls}"
    )


def _shorten(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _number_bits(expr) -> int:
    """Bits of the largest numerator or denominator among the numbers in ``expr``."""
    if isinstance(expr, sp.Rational):
        return max(abs(expr.p).bit_length(), expr.q.bit_length())
    atoms = expr.atoms(sp.Rational) if isinstance(expr, sp.Basic) else ()
    return max((_number_bits(atom) for atom in atoms), default=0)


def _coefficient_bits(base) -> int:
    """Bits of the numbers sympy multiplies out when ``base`` is raised to a power.

    ``(2*sqrt(3)*x)**n`` becomes ``2**n * 3**(n/2) * x**n``; ``(x**999)**n`` and
    ``(x + 2)**n`` compute no number. Over-estimates, never under-estimates.
    """
    factors = base.args if isinstance(base, sp.Mul) else (base,)
    bits = 0
    for factor in factors:
        if isinstance(factor, sp.Rational):
            bits += _number_bits(factor)
        elif isinstance(factor, sp.Pow) and isinstance(factor.base, sp.Rational):
            bits += _number_bits(factor.base)
    return bits


def _largest_number(expr) -> int:
    """Largest absolute numerator or denominator among the numbers in ``expr``."""
    atoms = expr.atoms(sp.Rational) if isinstance(expr, sp.Basic) else ()
    return max((max(abs(a.p), a.q) for a in atoms), default=0)
