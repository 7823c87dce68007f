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
is refused if its result would exceed ``MAX_NUMBER_BITS`` bits), and the size
of every number. Division by zero and results that are infinite, NaN or
contain ``I`` are refused. Everything else raises :class:`ParseError` naming
the offending text, its line and column, and what was expected.
"""

from __future__ import annotations

import ast
import itertools
import keyword
import re
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType

import sympy as sp
from sympy.matrices.expressions import MatrixExpr
from sympy.printing.str import StrPrinter

from symdyn.errors import ExpressionTypeError, ParseError

__all__ = [
    "DEFAULT_CONSTANTS",
    "DEFAULT_FUNCTIONS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_GRAD_NESTING",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_NUMBER_BITS",
    "parse_expression",
    "print_expression",
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
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_IDENTIFIER = re.compile(r"\w+")


def _expected(functions: Mapping[str, Callable]) -> str:
    calls = ", ".join(sorted(functions))
    return (
        "expected numbers, declared names, + - * / ** @, unary -, parentheses "
        f"and calls to {calls}"
    )


def _shorten(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


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


class _Builder:
    """Walks a whitelisted :mod:`ast` tree and builds the sympy expression."""

    def __init__(self, text, names, functions, renamed, where, max_depth, constants):
        self.constants = constants  # names of constants not shadowed by a declared symbol
        self.text = text
        self.names = names
        self.functions = functions
        self.renamed = renamed
        self.source, self.line, self.column, self.lines = where
        self.max_depth = max_depth
        self.grad_depth = 0

    # -- positions and errors ------------------------------------------------

    def segment(self, node) -> str:
        text = ast.get_source_segment(self.text, node) or ""
        for placeholder, word in self.renamed.items():
            text = text.replace(placeholder, word)
        return _shorten(text)

    def error(self, node, message: str) -> ParseError:
        lineno = getattr(node, "lineno", 1)
        offset = getattr(node, "col_offset", 0)
        raw = self.lines[lineno - 1].encode("utf-8")[:offset]
        column = len(raw.decode("utf-8", errors="replace")) + 1
        if lineno == 1:
            column += self.column
        return ParseError(message, self.source, self.line + lineno - 1, column)

    # -- the walk ------------------------------------------------------------

    def build(self, node, depth: int):
        if depth > self.max_depth:
            raise self.error(node, f"expression nested deeper than {self.max_depth} levels")
        kind = type(node)
        if kind is ast.Constant:
            return self.constant(node)
        if kind is ast.Name:
            return self.name(node)
        if kind is ast.BinOp:
            return self.binary(node, depth)
        if kind is ast.UnaryOp:
            return self.unary(node, depth)
        if kind is ast.Call:
            return self.call(node, depth)
        what = _REFUSED_NODES.get(kind, f"a {kind.__name__} node")
        text = self.segment(node)
        raise self.error(node, f"{what} `{text}` is not allowed; {_expected(self.functions)}")

    def constant(self, node):
        value = node.value
        text = self.segment(node)
        if isinstance(value, bool) or value is None or value is Ellipsis:
            raise self.error(node, f"`{text}` is not a number; {_expected(self.functions)}")
        if isinstance(value, (str, bytes)):
            raise self.error(node, f"strings such as `{text}` are not allowed; expected a number")
        if isinstance(value, complex):
            raise self.error(node, f"complex number `{text}`: only real numbers are allowed")
        if isinstance(value, int):
            return self.checked_number(sp.Integer(value), node)
        if isinstance(value, float):
            return self.decimal(node, value, text)
        raise self.error(node, f"`{text}` is not a number")  # pragma: no cover - ast has no other

    def decimal(self, node, value: float, text: str):
        if value != value or value in (float("inf"), float("-inf")):
            raise self.error(node, f"`{text}` is not a finite number")
        try:
            exact = Decimal(text.replace("_", ""))
        except InvalidOperation as exc:  # pragma: no cover - ast accepted it as a float
            raise self.error(node, f"cannot read the number `{text}`") from exc
        exponent = exact.as_tuple().exponent
        if not isinstance(exponent, int) or abs(exponent) > MAX_EXPONENT:
            raise self.error(node, f"`{text}`: decimal exponent beyond ±{MAX_EXPONENT}")
        return self.checked_number(sp.Rational(*exact.as_integer_ratio()), node)

    def checked_number(self, number, node):
        if _number_bits(number) > MAX_NUMBER_BITS:
            raise self.error(
                node,
                f"the number `{self.segment(node)}` is too large "
                f"(more than {MAX_NUMBER_BITS} bits)",
            )
        return number

    def name(self, node):
        name = self.renamed.get(node.id, node.id)
        if name in self.names:
            return self.names[name]
        if name in self.functions:
            raise self.error(node, f"`{name}` is a function; call it as {name}(...)")
        declared = sorted(n for n in self.names if n not in self.constants)
        shown = ", ".join(declared[:20]) + (", ..." if len(declared) > 20 else "")
        raise self.error(
            node, f"undeclared name `{name}`; expected one of the declared names: {shown}"
        )

    def unary(self, node, depth):
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            operand = self.build(node.operand, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        symbol = {ast.Not: "not", ast.Invert: "~"}.get(type(node.op), "?")
        raise self.error(
            node, f"operator `{symbol}` in `{self.segment(node)}` is not allowed; expected - or +"
        )

    def binary(self, node, depth):
        # Left-associative chains (a + b - c*d + ...) are walked iteratively and do not
        # count as nesting: a long sum is not a deep expression.
        spine = []
        while isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Pow):
            spine.append(node)
            node = node.left
        if isinstance(node, ast.BinOp):  # a power at the bottom of the chain
            spine.append(node)
            node = node.left
        result = self.build(node, depth + 1)
        for link in reversed(spine):
            result = self.operate(link, result, self.build(link.right, depth + 1))
        return result

    def operate(self, node, left, right):
        op = type(node.op)
        if op not in _OPERATORS:
            symbol = _REFUSED_OPERATORS.get(op, op.__name__)
            raise self.error(
                node,
                f"operator {symbol} in `{self.segment(node)}` is not allowed; "
                "expected one of + - * / ** @",
            )
        try:
            if op is ast.Add:
                result = left + right
            elif op is ast.Sub:
                result = left - right
            elif op is ast.Mult:
                result = left * right
            elif op is ast.Div:
                result = self.divide(left, right, node)
            elif op is ast.Pow:
                result = self.power(left, right, node)
            else:
                if not (isinstance(left, MatrixExpr) and isinstance(right, MatrixExpr)):
                    raise self.error(node, f"`{self.segment(node)}`: @ needs two matrices")
                result = left @ right
        except (TypeError, ValueError, ArithmeticError) as exc:
            if isinstance(exc, ParseError):
                raise
            raise self.error(node, f"cannot build `{self.segment(node)}`: {exc}") from exc
        return self.checked(result, node, strict=op in (ast.Div, ast.Pow))

    def divide(self, left, right, node):
        if isinstance(right, MatrixExpr):
            raise self.error(node, f"`{self.segment(node)}`: cannot divide by a matrix")
        if right == 0:
            raise self.error(node, f"division by zero in `{self.segment(node)}`")
        return left / right

    def power(self, base, exponent, node):
        if isinstance(exponent, MatrixExpr):
            raise self.error(node, f"`{self.segment(node)}`: an exponent cannot be a matrix")
        self.check_exponent(exponent, node.right)
        if isinstance(exponent, sp.Rational):
            bits = _coefficient_bits(base) * abs(exponent.p)
            if bits > MAX_NUMBER_BITS:
                raise self.error(
                    node,
                    f"`{self.segment(node)}` would be a number of about {bits} bits; "
                    f"at most {MAX_NUMBER_BITS} are allowed",
                )
            if base == 0 and exponent < 0:
                raise self.error(node, f"division by zero in `{self.segment(node)}`")
        if isinstance(base, MatrixExpr) and not exponent.is_Integer:
            raise self.error(node, f"`{self.segment(node)}`: a matrix power must be an integer")
        return base**exponent

    def check_exponent(self, exponent, node):
        # sympy evaluates exp(n*log(2)) to 2**n, so bound every number in an exponent.
        largest = _largest_number(exponent)
        if largest > MAX_EXPONENT:
            raise self.error(
                node,
                f"exponent `{self.segment(node)}` is too large: numbers in an exponent "
                f"must be at most {MAX_EXPONENT} in absolute value",
            )

    def call(self, node, depth):
        if not isinstance(node.func, ast.Name):
            raise self.error(
                node,
                f"`{self.segment(node)}` calls something that is not a function name; "
                f"{_expected(self.functions)}",
            )
        name = self.renamed.get(node.func.id, node.func.id)
        if name not in self.functions:
            kind = "a declared symbol, not a function" if name in self.names else "not allowed"
            allowed = ", ".join(sorted(self.functions))
            raise self.error(
                node, f"call to `{name}` is {kind}; the functions allowed are {allowed}"
            )
        if node.keywords:
            raise self.error(
                node.keywords[0], f"keyword arguments in `{self.segment(node)}` are not allowed"
            )
        low, high = self.arity(name)
        if not low <= len(node.args) <= high:
            count = str(low) if low == high else f"{low} to {high}"
            raise self.error(
                node,
                f"`{name}` takes {count} argument(s), `{self.segment(node)}` "
                f"gives {len(node.args)}",
            )
        # grad(x) (of a loss the caller knows), grad(expr, x), grad(expr, x, point)
        wrt = node.args[min(1, len(node.args) - 1)] if node.args else None
        if name == "grad" and wrt is not None and not isinstance(wrt, ast.Name):
            raise self.error(
                wrt,
                f"`{self.segment(node)}`: grad differentiates with respect to a declared "
                f"name, not `{self.segment(wrt)}`",
            )
        if name == "grad":
            self.grad_depth += 1
            if self.grad_depth > MAX_GRAD_NESTING:
                raise self.error(
                    node,
                    f"grad nested more than {MAX_GRAD_NESTING} deep in `{self.segment(node)}`",
                )
        args = [self.build(arg, depth + 1) for arg in node.args]
        if name == "grad":
            self.grad_depth -= 1
        if name == "exp":
            self.check_exponent(args[0], node.args[0])
        try:
            result = self.functions[name](*args)
        except (TypeError, ValueError, ArithmeticError) as exc:
            if isinstance(exc, ParseError):
                raise
            raise self.error(node, f"cannot evaluate `{self.segment(node)}`: {exc}") from exc
        if not isinstance(result, sp.Basic):
            raise self.error(node, f"`{self.segment(node)}` did not give a sympy expression")
        return self.checked(result, node, strict=True)

    def arity(self, name):
        if self.functions[name] is not DEFAULT_FUNCTIONS.get(name):
            return 0, MAX_ARGUMENTS
        if name in _ONE_ARGUMENT:
            return 1, 1
        return _ARITY.get(name, (0, MAX_ARGUMENTS))

    def checked(self, result, node, *, strict: bool):
        coefficient = result
        if isinstance(result, sp.Mul):
            coefficient = result.as_coeff_Mul()[0]
        if isinstance(coefficient, sp.Rational):
            self.checked_number(coefficient, node)
        if strict and result.has(*_NON_FINITE):
            raise self.error(
                node,
                f"`{self.segment(node)}` is not a finite real number "
                f"(gives {_shorten(sp.sstr(result))})",
            )
        return result


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
    depth, where = _bracket_depth(body)
    if depth > max_depth:
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
    declared = {unicodedata.normalize("NFKC", k): v for k, v in symbols.items()}
    names = {**constants, **declared}
    parsed_text, renamed = _placeholders(body, names)
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
    where_ = (source, line, column_offset, _LINE_BREAK.split(body))
    unshadowed = set(constants) - set(declared)
    builder = _Builder(body, names, functions, renamed, where_, max_depth, unshadowed)
    try:
        return builder.build(tree.body, 1)
    except RecursionError:
        raise ParseError(
            f"expression `{_shorten(body)}` is nested too deeply", source, line, column_offset + 1
        ) from None


_PRINTABLE = (
    sp.Symbol,
    sp.MatrixSymbol,
    sp.Rational,
    type(sp.pi),
    type(sp.E),
    sp.Add,
    sp.Mul,
    sp.Pow,
    sp.exp,
    sp.log,
    sp.tanh,
    sp.sin,
    sp.cos,
    sp.Abs,
    sp.Max,
    sp.Min,
    sp.MatAdd,
    sp.MatMul,
    sp.MatPow,
    sp.Transpose,
    sp.Inverse,
)


class _GrammarPrinter(StrPrinter):
    """``sstr`` with the rule grammar's spelling of the few operations that differ."""

    def _print_Transpose(self, expr):
        return f"T({self._print(expr.arg)})"


def _check_printable(expr) -> None:
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, (sp.Dummy, sp.Wild)) or not isinstance(node, _PRINTABLE):
            raise ExpressionTypeError(
                f"`{_shorten(sp.sstr(node))}` ({type(node).__name__}) cannot be written "
                "in the rule grammar"
            )
        if isinstance(node, (sp.Symbol, sp.MatrixSymbol)):
            if not node.name.isidentifier():
                raise ExpressionTypeError(
                    f"symbol name {node.name!r} is not an identifier; "
                    "it cannot be written in the rule grammar"
                )
            continue
        stack.extend(node.args)


def print_expression(expr: sp.Basic) -> str:
    """Write ``expr`` in the grammar that :func:`parse_expression` reads.

    ``parse_expression(print_expression(e), {s.name: s for s in e.free_symbols})``
    gives back ``e`` (within the parser's size limits).

    Raises
    ------
    ExpressionTypeError
        If ``expr`` holds something the grammar cannot spell (a Float, ``I``,
        an undefined function, a Dummy, a symbol whose name is no identifier).

    Examples
    --------
    >>> import sympy as sp
    >>> x, beta = sp.symbols("x beta")
    >>> print_expression(beta * x**2 / 2 + sp.sqrt(x))
    'beta*x**2/2 + sqrt(x)'
    """
    if isinstance(expr, int) and not isinstance(expr, bool):
        expr = sp.Integer(expr)
    _check_printable(expr)
    return _GrammarPrinter().doprint(expr)
