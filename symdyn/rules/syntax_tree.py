"""From a whitelisted syntax tree to sympy.

The walk behind :func:`symdyn.rules.parsing.parse_expression`. The tree comes from
``ast.parse(text, mode="eval")``. Each node kind the grammar allows
(:mod:`symdyn.rules.grammar`) is built into a sympy object directly;
any other node, operator, name or call is refused with a :class:`ParseError`
pointing at its line and column. Numbers are checked as they are built
(decimal literals read exactly from their text, bounded exponents and sizes),
and nothing is passed to ``eval``, ``exec`` or ``sympify``.
"""

from __future__ import annotations

import ast
import math
from decimal import Decimal, InvalidOperation

import sympy as sp
from sympy.matrices.expressions import MatrixExpr

from symdyn.errors import ParseError
from symdyn.rules.expansion import size_of
from symdyn.rules.grammar import (
    _ARITY,
    _NON_FINITE,
    _ONE_ARGUMENT,
    _OPERATORS,
    _REFUSED_NODES,
    _REFUSED_OPERATORS,
    DEFAULT_FUNCTIONS,
    MAX_ARGUMENTS,
    MAX_EXPANDED_EXPONENT,
    MAX_EXPANDED_TERMS,
    MAX_EXPONENT,
    MAX_GRAD_NESTING,
    MAX_NUMBER_BITS,
    _coefficient_bits,
    _expected,
    _largest_number,
    _number_bits,
    _shorten,
)

__all__: list[str] = []


class _Builder:
    """Walks a whitelisted :mod:`ast` tree and builds the sympy expression."""

    def __init__(self, text, names, functions, renamed, where, max_depth, constants, sizes):
        self.sizes = sizes  # Size of each symbol that stands for an earlier expression
        self.numbers = {s: z.number for s, z in sizes.items() if z.number is not None}
        self.cache: dict = {}
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
        self.check_magnitude(base, exponent, node)
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

    def numeric(self, expr):
        """The number ``expr`` stands for (temporaries substituted), or None."""
        if not isinstance(expr, sp.Expr) or isinstance(expr, MatrixExpr):
            return None
        free = expr.free_symbols
        if not free <= self.numbers.keys():
            return None
        return expr.xreplace(self.numbers) if free else expr

    def check_magnitude(self, base, exponent, node):
        """Refuse a numeric power (``exp(a)``, ``E**a``, ``b**a``) beyond the number size.

        Its pieces were accepted, so each is at most ``2**MAX_NUMBER_BITS`` and
        evaluating them is cheap; a tower such as ``exp(exp(exp(1000)))`` is cut
        at its first level too large.
        """
        base, exponent = self.numeric(base), self.numeric(exponent)
        if base is None or exponent is None or base.is_zero or abs(base) == 1:
            return
        bits = (sp.Abs(exponent) * sp.Abs(sp.log(sp.Abs(base), 2))).evalf(15)
        if bits.is_finite and bits <= MAX_NUMBER_BITS:
            return
        shown = f"about 2**{int(bits)}" if bits < 10**6 else "above 2**1000000"
        raise self.error(
            node,
            f"`{self.segment(node)}` is a number of magnitude {shown}: numbers are limited "
            f"to MAX_NUMBER_BITS = {MAX_NUMBER_BITS} bits (a numeric argument of exp must "
            f"be at most {MAX_NUMBER_BITS * math.log(2):.0f} in absolute value)",
        )

    def check_size(self, result, node):
        """Refuse ``result`` if its expanded form would be too large."""
        size = size_of(result, self.sizes, self.cache)
        text = self.segment(node)
        if size.exponent > MAX_EXPANDED_EXPONENT:
            atom = max(size.powers, key=size.powers.get)
            raise self.error(
                node,
                f"`{text}` raises `{_shorten(sp.sstr(atom))}` to the power {size.exponent} "
                "once powers, products and temporaries are multiplied out; "
                f"MAX_EXPANDED_EXPONENT is {MAX_EXPANDED_EXPONENT}",
            )
        if size.terms > MAX_EXPANDED_TERMS:
            shown = size.terms if size.terms < 10**12 else f"more than {10**12}"
            raise self.error(
                node,
                f"`{text}` could expand to {shown} terms; "
                f"MAX_EXPANDED_TERMS is {MAX_EXPANDED_TERMS}",
            )
        if size.bits > MAX_NUMBER_BITS:
            raise self.error(
                node,
                f"`{text}` would compute numbers of about {size.bits} bits once expanded "
                f"and its temporaries substituted; MAX_NUMBER_BITS is {MAX_NUMBER_BITS}",
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
            self.check_magnitude(sp.E, args[0], node)
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
        self.check_size(result, node)
        return result
