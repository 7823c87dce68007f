"""Writing sympy expressions back in the rule grammar.

:func:`print_expression` is the inverse of :func:`symdyn.rules.parsing.parse_expression`
on everything the grammar can spell: ``sstr`` output, with ``T(X)`` for a
transpose, after checking that every node is one the parser accepts.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.str import StrPrinter

from symdyn.derivation import Derivation, TeX
from symdyn.errors import ExpressionTypeError
from symdyn.escaping import plain, safe_latex
from symdyn.rules.grammar import _shorten

__all__ = ["print_expression"]

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
    """Write ``expr`` in the grammar that :func:`symdyn.rules.parsing.parse_expression` reads.

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


def opening(rule, title):
    """A derivation titled ``title`` whose first step states ``rule``: its state, its
    assignments in order (or all reading the old state), and any free symbols that
    were inferred rather than declared (so a typo such as ``etaa`` shows where it is
    used). Every analysis of a rule starts with it.

    Examples
    --------
    >>> import sympy as sp, symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> d = opening(sd.optimizers.gd(x**2 / 2, [x], eta), "GD")
    >>> d.to_markdown().splitlines()[2].endswith("performs, in order, the assignments")
    True
    """
    derivation = Derivation(title).then(
        f"The rule \u201c{plain(rule.name)}\u201d carries the state "
        f"${safe_latex(sp.Matrix(rule.state).T)}$ and performs, "
        + ("all reading the old state," if rule.simultaneous else "in order,")
        + " the assignments",
        TeX(rule.to_latex()),
    )
    if rule.free_inferred:
        derivation = derivation.then(
            "Its free symbols were inferred from the expressions, not declared with "
            "free=: " + ", ".join(f"${safe_latex(s)}$" for s in rule.free) + "."
        )
    return derivation
