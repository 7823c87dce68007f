"""Safe parsing of expressions: our own whitelist over Python's :mod:`ast`.

Rule files hold expressions as text. They are read by :func:`parse_expression`,
which parses the text with ``ast.parse(text, mode="eval")`` (parsing never runs
code), walks the tree with a whitelist, and builds sympy objects directly.
Nothing is passed to ``eval``, ``exec``, ``sympify`` or ``parse_expr``.

The grammar
-----------
- numbers: integer literals, and decimal literals read *exactly* from their
  text (``0.1`` is ``Rational(1, 10)``, ``1e-3`` is ``Rational(1, 1000)``);
  no float ever enters an expression. Complex literals, ``nan`` and ``inf``
  (including ``1e999``) are refused;
- names declared by the caller in ``symbols``; ``pi`` and ``E`` are constants
  unless a declared symbol has that name. A declared name may be a Python
  keyword (``lambda`` is a common curvature symbol);
- binary ``+ - * / **``, ``@`` (matrix product, both operands matrices), unary
  ``-`` and ``+``, parentheses;
- calls ``f(a, b, ...)`` to the functions in ``functions``, by default
  ``grad(expr, x)`` (``sympy.diff``; ``x`` must be a declared name),
  ``sqrt exp log tanh sin cos Abs Max Min`` and ``T(X)`` (transpose).

Limits, checked before anything is built: the text's length, its bracket
nesting (before ``ast.parse``, which itself recurses), the tree's depth and
node count, ``grad`` nesting, exponents (every number in an exponent or in the argument of
``exp`` is at most ``MAX_EXPONENT`` in absolute value, and a numeric power
is refused if its result would exceed ``MAX_NUMBER_BITS`` bits, as is a numeric
``exp(a)``, ``E**a`` or ``b**a`` of that magnitude), the size of every number,
and upper bounds on the expanded form (:mod:`symdyn.rules.expansion`): at most
``MAX_EXPANDED_TERMS`` monomials, no atom to a power above ``MAX_EXPANDED_EXPONENT``
and no number above ``MAX_NUMBER_BITS`` bits once powers are multiplied out and the
symbols in ``sizes`` substituted. Division by zero and results that are infinite, NaN or
contain ``I`` are refused. Everything else raises :class:`ParseError` naming
the offending text, its line and column, and what was expected.

The grammar's tables and limits live in :mod:`symdyn.rules.grammar` (and are
re-exported here), the walk over the tree in :mod:`symdyn.rules.syntax_tree`, and
the way back, :func:`symdyn.rules.printing.print_expression`, in :mod:`symdyn.rules.printing`.
"""

from __future__ import annotations

import ast
import itertools
import keyword
import re
import unicodedata
import warnings
from collections.abc import Callable, Mapping

import sympy as sp

from symdyn.errors import ParseError
from symdyn.rules.expansion import Size
from symdyn.rules.grammar import (
    DEFAULT_CONSTANTS,
    DEFAULT_FUNCTIONS,
    MAX_ARGUMENTS,  # noqa: F401 (re-exported, as before the split)
    MAX_DEPTH,
    MAX_EXPANDED_EXPONENT,
    MAX_EXPANDED_TERMS,
    MAX_EXPONENT,
    MAX_GRAD_NESTING,
    MAX_LENGTH,
    MAX_NODES,
    MAX_NUMBER_BITS,
    _expected,
    _shorten,
)
from symdyn.rules.syntax_tree import _Builder

__all__ = [
    "DEFAULT_CONSTANTS",
    "DEFAULT_FUNCTIONS",
    "MAX_DEPTH",
    "MAX_EXPANDED_EXPONENT",
    "MAX_EXPANDED_TERMS",
    "MAX_EXPONENT",
    "MAX_GRAD_NESTING",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_NUMBER_BITS",
    "parse_expression",
]

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_IDENTIFIER = re.compile(r"\w+")


def _bracket_depth(text: str) -> tuple[int, int]:
    """Deepest bracket nesting in ``text`` and the index where it is first reached."""
    depth = deepest = where = 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
            if depth > deepest:
                deepest, where = depth, index
        elif char in ")]}":
            depth -= 1
    return deepest, where


def _placeholders(text: str, names: Mapping[str, object]) -> tuple[str, dict[str, str]]:
    """Rename declared names that are Python keywords (``lambda``) so ``ast`` can parse them.

    Each keyword is replaced by an identifier of the same length that occurs
    nowhere else, so columns (and source segments) are unchanged.
    """
    keywords = [name for name in names if keyword.iskeyword(name)]
    if not keywords:
        return text, {}
    taken = set(_IDENTIFIER.findall(text)) | set(names)
    renamed: dict[str, str] = {}
    for word in keywords:
        tails = itertools.product("abcdefghijklmnopqrstuvwxyz0123456789", repeat=len(word) - 1)
        free = ("_" + "".join(tail) for tail in tails)
        candidate = next((name for name in free if name not in taken), None)
        if candidate is None:  # every same-length name is used; cannot happen for long words
            return text, renamed
        taken.add(candidate)
        renamed[candidate] = word
        text = re.sub(rf"(?<![\w.]){word}(?!\w)", candidate, text)
    return text, renamed


def _syntax_error(text: str, exc: SyntaxError, functions) -> str:
    """A clear message for text that ``ast.parse`` refused in eval mode."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            module = ast.parse(text, mode="exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        module = None
    if module is not None and module.body and not isinstance(module.body[0], ast.Expr):
        statement = module.body[0]
        if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            return "an assignment is not an expression; write only the right-hand side"
        kind = type(statement).__name__.lower()
        return f"`{_shorten(text)}` is a statement ({kind}); only one expression is accepted"
    detail = exc.msg if isinstance(exc.msg, str) else "invalid syntax"
    return f"invalid syntax ({detail}) in `{_shorten(text)}`; {_expected(functions)}"


def parse_expression(
    text: str,
    symbols: Mapping[str, sp.Basic],
    functions: Mapping[str, Callable] = DEFAULT_FUNCTIONS,
    *,
    source: str = "<string>",
    line: int = 1,
    column_offset: int = 0,
    max_length: int = MAX_LENGTH,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
    constants: Mapping[str, sp.Expr] = DEFAULT_CONSTANTS,
    sizes: Mapping[sp.Symbol, Size] | None = None,
) -> sp.Basic:
    """Parse ``text`` into a sympy expression, accepting only the rule grammar.

    Parameters
    ----------
    text : str
        The expression, e.g. ``"beta*v - eta*grad(loss, x)"``.
    symbols : mapping of str to sympy object
        The declared names (usually ``Symbol`` or ``MatrixSymbol``; any sympy
        expression is substituted as it is). No other name is accepted.
    functions : mapping of str to callable, optional
        The callable functions; replace ``"grad"`` to change how gradients are
        taken (``symdyn.grad``). Defaults to :data:`DEFAULT_FUNCTIONS`.
    source, line, column_offset : optional
        Where ``text`` sits, for error messages: the file name, the line of
        its first character and the number of characters before it on that line.
    max_length, max_depth, max_nodes : int, optional
        Limits on the text's length, its nesting depth and its syntax tree size.
    constants : mapping of str to sympy number, optional
        Named constants (``pi``, ``E``); a declared symbol of that name wins.
    sizes : mapping of sympy.Symbol to symdyn.rules.expansion.Size, optional
        For symbols that stand for earlier expressions (a rule file's
        temporaries): the bounds on what they expand to, so that the limits on
        the expanded form hold once they are substituted.

    Returns
    -------
    sympy.Basic
        A sympy expression (a matrix expression if matrices are involved).

    Raises
    ------
    ParseError
        For anything outside the grammar, with the offending text, its line
        and column, and what was expected. Nothing in ``text`` is executed.

    Examples
    --------
    >>> import sympy as sp
    >>> x, eta = sp.symbols("x eta")
    >>> parse_expression("x - 0.1*eta*grad(x**2/2, x)", {"x": x, "eta": eta})
    -eta*x/10 + x
    >>> parse_expression("().__class__", {"x": x})
    Traceback (most recent call last):
    ...
    symdyn.errors.ParseError: <string>:1:1: attribute access `().__class__` is not allowed; ...
    """
    body, line, column_offset = _stripped(text, source, line, column_offset, max_length)
    _check_nesting(body, source, line, column_offset, max_depth)
    declared = {unicodedata.normalize("NFKC", k): v for k, v in symbols.items()}
    names = {**constants, **declared}
    parsed_text, renamed = _placeholders(body, names)
    tree = _syntax_tree(parsed_text, body, functions, (source, line, column_offset), max_nodes)
    where_ = (source, line, column_offset, _LINE_BREAK.split(body))
    unshadowed = set(constants) - set(declared)
    known = {} if sizes is None else sizes
    builder = _Builder(body, names, functions, renamed, where_, max_depth, unshadowed, known)
    try:
        return builder.build(tree.body, 1)
    except RecursionError:
        raise ParseError(
            f"expression `{_shorten(body)}` is nested too deeply", source, line, column_offset + 1
        ) from None


def _stripped(text, source, line, column_offset, max_length):
    """The text without leading space, and the line and column offset where it starts."""
    if not isinstance(text, str):
        raise ParseError(
            f"expected the expression as text, got {type(text).__name__}", source, line
        )
    if len(text) > max_length:
        raise ParseError(
            f"expression of {len(text)} characters is longer than the limit of {max_length}",
            source,
            line,
            column_offset + 1,
        )
    body = text.lstrip()
    lead = text[: len(text) - len(body)]
    lead_lines = len(_LINE_BREAK.findall(lead))
    lead_columns = len(_LINE_BREAK.split(lead)[-1])
    line += lead_lines
    column_offset = (column_offset if lead_lines == 0 else 0) + lead_columns
    if not body:
        raise ParseError("empty expression; expected an expression", source, line, column_offset)
    return body, line, column_offset


def _check_nesting(body, source, line, column_offset, max_depth):
    """Refuse brackets nested deeper than ``max_depth``, before Python's parser recurses."""
    depth, where = _bracket_depth(body)
    if depth <= max_depth:
        return
    before = body[:where]
    column = len(_LINE_BREAK.split(before)[-1]) + 1
    at_line = line + len(_LINE_BREAK.findall(before))
    if at_line == line:
        column += column_offset
    raise ParseError(
        f"brackets nested {depth} deep; at most {max_depth} levels are allowed",
        source,
        at_line,
        column,
    )


def _syntax_tree(parsed_text, body, functions, position, max_nodes):
    """Python's syntax tree of the text (never compiled, never run), bounded in size."""
    source, line, column_offset = position
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal" for `1if`: refused anyway
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(parsed_text, mode="eval")
    except SyntaxError as exc:
        lines = _LINE_BREAK.split(body)
        lineno = min(max(exc.lineno or 1, 1), len(lines))
        offset = exc.offset or len(lines[lineno - 1]) + 1  # 0: at the end of the input
        column = offset + (column_offset if lineno == 1 else 0)
        message = _syntax_error(body, exc, functions)
        raise ParseError(message, source, line + lineno - 1, column) from None
    except (ValueError, RecursionError, MemoryError, OverflowError) as exc:
        reason = _shorten(str(exc) or type(exc).__name__, 80)
        raise ParseError(
            f"cannot parse `{_shorten(body)}`: {reason}", source, line, column_offset + 1
        ) from None
    count = sum(1 for _ in ast.walk(tree))
    if count > max_nodes:
        raise ParseError(
            f"expression has {count} syntax nodes; at most {max_nodes} are allowed",
            source,
            line,
            column_offset + 1,
        )
    return tree
