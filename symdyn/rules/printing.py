"""Writing sympy expressions back in the rule grammar.

:func:`print_expression` is the inverse of :func:`symdyn.rules.parsing.parse_expression`
on everything the grammar can spell: ``sstr`` output, with ``T(X)`` for a
transpose, after checking that every node is one the parser accepts.
"""

from __future__ import annotations

import math

import sympy as sp
from sympy.printing.pretty.pretty import PrettyPrinter
from sympy.printing.str import StrPrinter

from symdyn.derivation import Derivation, TeX
from symdyn.errors import ExpressionTypeError
from symdyn.escaping import plain, safe_latex
from symdyn.rules.grammar import _shorten

__all__ = [
    "STYLES",
    "beside",
    "block",
    "descending",
    "essential",
    "print_expression",
    "show",
    "simplest",
    "without_double_minus",
]

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


# ---------------------------------------------------------------------------------------
# Mathematics as a person reads it: the terminal's printing of results.

STYLES = ("unicode", "plain", "latex")
"""The styles of :func:`show`: sympy's 2-D pretty printing in Unicode, one-line ``str``
(the text sympy reads back), and LaTeX."""


class _ReadingPretty(PrettyPrinter):
    """Unicode pretty printing that keeps the order of a sum's terms as built."""

    def __init__(self):
        super().__init__({"order": "none", "use_unicode": True, "wrap_line": False})

    def _print_Max(self, expr):
        return self._print_Function(expr, func_name="max")

    def _print_Min(self, expr):
        return self._print_Function(expr, func_name="min")

    def block(self, expr):
        form = self._print(expr)
        return form.render(**self._settings).split("\n"), form.baseline


def show(expr, style: str = "unicode") -> str:
    """``expr`` written for a reader in ``style`` (see :data:`STYLES`).

    Every expression the command line prints goes through here (or :func:`block`, its
    2-D form), so a new kind of result object needs one printing rule, in one place.

    Examples
    --------
    >>> import sympy as sp
    >>> z, beta = sp.Symbol("z"), sp.Symbol("beta", positive=True)
    >>> show(descending(sp.Poly(z**2 - (1 + beta) * z + beta, z)), "plain")
    'z**2 - (1 + beta)*z + beta'
    >>> show(sp.sqrt(beta) < 1, "latex")
    '\\\\sqrt{\\\\beta} < 1'
    """
    if style == "plain":
        return sp.sstr(expr, order="none")
    if style == "latex":
        return safe_latex(expr, order="none")
    return "\n".join(block(expr)[0])


def block(expr, style: str = "unicode") -> tuple[list[str], int]:
    """``expr`` as printed lines and the index of the line the text sits on (its baseline).

    Plain and LaTeX output is one line; Unicode output may take several (fractions, roots).
    """
    if style != "unicode":
        return [show(expr, style)], 0
    if isinstance(expr, str):
        return [expr], 0
    return _ReadingPretty().block(expr)


def beside(*pieces, style: str = "unicode") -> tuple[list[str], int]:
    """Expressions and strings set side by side on one baseline, as :func:`block` returns.

    Examples
    --------
    >>> import sympy as sp
    >>> lam = sp.Symbol("lambda")
    >>> lines, base = beside("0 < ", sp.Symbol("eta"), " < ", 2 / lam)
    >>> print("\\n".join(lines))
            2
    0 < η < ─
            λ
    """
    blocks = [block(p, style) if not isinstance(p, str) else ([p], 0) for p in pieces]
    above = max(base for _, base in blocks)
    below = max(len(lines) - base for lines, base in blocks)
    rows = [""] * (above + below)
    for lines, base in blocks:
        width = max(map(len, lines))
        top = above - base
        for i in range(len(rows)):
            inside = 0 <= i - top < len(lines)
            rows[i] += (lines[i - top] if inside else "").ljust(width)
    return [row.rstrip() for row in rows], above


def descending(poly: sp.Poly) -> sp.Expr:
    """``poly`` as a sum in descending powers of its variable, each coefficient factored.

    The sum is unevaluated, so :func:`show` prints it in that order:
    ``z² − (1 + β − ηλ)z + β`` rather than sympy's ``β + z² + z(−β + ηλ − 1)``.
    """
    z = poly.gen
    terms = []
    for (k,), coefficient in poly.terms():
        coefficient = sp.factor(coefficient)
        power = z**k if k else sp.Integer(1)
        if k == 0:
            terms.append(coefficient)
        elif coefficient == 1:
            terms.append(power)
        elif coefficient.could_extract_minus_sign():
            terms.append(sp.Mul(-1, sp.Mul(-coefficient, power, evaluate=False), evaluate=False))
        else:
            terms.append(sp.Mul(coefficient, power, evaluate=False))
    return sp.Add(*terms, evaluate=False) if len(terms) > 1 else terms[0]


def simplest(boolean):
    """``boolean`` with each inequality in its simplest equivalent form for the symbols'
    declared assumptions.

    A power of a monomial in positive symbols against a positive number is replaced by
    its root (``a²η² < 1/3`` is ``aη < √3/3``), an exact equivalence since both sides are
    positive; anything else is kept as it is.

    Examples
    --------
    >>> import sympy as sp
    >>> a, eta = sp.symbols("a eta", positive=True)
    >>> simplest(a**2 * eta**2 < sp.Rational(1, 3))
    a*eta < sqrt(3)/3
    """
    if isinstance(boolean, sp.core.relational.Relational):
        return _root_of_power(boolean)
    if not isinstance(boolean, sp.Basic):
        return boolean
    atoms = boolean.atoms(sp.core.relational.Relational)
    return boolean.xreplace({atom: _root_of_power(atom) for atom in atoms})


def _root_of_power(relation):
    lhs, rhs = relation.lhs, relation.rhs
    if lhs.is_number and not rhs.is_number:
        return _root_of_power(relation.reversed)
    if not (rhs.is_number and rhs.is_positive) or (not lhs.is_Mul and not lhs.is_Pow):
        return relation
    coefficient, monomial = lhs.as_coeff_Mul()
    powers = sp.Mul.make_args(monomial)
    if not coefficient.is_positive or not all(
        p.as_base_exp()[0].is_Symbol and p.as_base_exp()[0].is_positive for p in powers
    ):
        return relation
    exponents = [p.as_base_exp()[1] for p in powers]
    if not all(e.is_Integer for e in exponents):
        return relation
    n = math.gcd(*map(int, exponents))
    if n < 2:
        return relation
    root = sp.Rational(1, n)
    return relation.func(sp.Mul(*(p**root for p in powers)), (rhs / coefficient) ** root)


def essential(requirements) -> tuple:
    """The requirements without those that say nothing: ``True``, repeats, and a
    disjunction one of whose terms is itself required (``β < 1`` makes
    ``(1 < ν) ∨ (β < 1) ∨ (ν < 1)`` hold).

    Examples
    --------
    >>> import sympy as sp
    >>> beta, nu = sp.symbols("beta nu", positive=True)
    >>> essential((beta < 1, (1 < nu) | (beta < 1) | (nu < 1), sp.true))
    (beta < 1,)
    """
    kept = []
    for requirement in requirements:
        requirement = simplest(requirement)
        if requirement is sp.true or requirement in kept:
            continue
        kept.append(requirement)
    return tuple(
        r
        for r in kept
        if not (isinstance(r, sp.Or) and any(other in r.args for other in kept if other != r))
    )


def without_double_minus(expr):
    """``expr`` with a minus sign in both its numerator and denominator cancelled, each
    moved into a factor that then reads with a leading positive term:
    ``-2(β + 1)/(λ(2βν − β − 1))`` is ``2(β + 1)/(λ(1 + β − 2βν))``. The value is unchanged
    (the result is built unevaluated, for printing); every fraction inside it (the pieces of
    a ``Piecewise``, the arguments of a max) is treated alike.

    Examples
    --------
    >>> import sympy as sp
    >>> beta, lam, nu = sp.symbols("beta lambda nu", positive=True)
    >>> show(without_double_minus(-2 * (beta + 1) / (lam * (2 * beta * nu - beta - 1))), "plain")
    '(2*(1 + beta))/(lambda*(1 + beta - 2*beta*nu))'
    """
    if not isinstance(expr, sp.Basic):
        return expr
    return expr.replace(
        lambda e: isinstance(e, sp.Mul) and sp.fraction(e)[1] != 1, _fraction_without_minus
    )


def _fraction_without_minus(expr):
    numerator, denominator = sp.fraction(sp.factor_terms(expr))
    top, bottom = _negated(numerator), _negated(denominator)
    if top is None or bottom is None:
        return expr
    inverses = (sp.Pow(f, -1, evaluate=False) for f in bottom)
    return sp.Mul(*top, *inverses, evaluate=False)


def _negated(product):
    """The factors of ``-product``, the sign taken by its number or by one sum that reads
    better negated (more negative terms, or a negative constant: ``-5 + 2β``), or None."""
    factors = [f for f in sp.Mul.make_args(product) if f != 1]
    for i, factor in enumerate(factors):
        if factor.is_Number and factor.is_negative:
            factors[i] = -factor
        elif factor.is_Add and (
            factor.could_extract_minus_sign() or factor.as_coeff_Add()[0].is_negative
        ):
            factors[i] = sp.factor_terms(sp.Add(*(-term for term in factor.args)))
        else:
            continue
        return [f for f in factors if f != 1]
    return None
