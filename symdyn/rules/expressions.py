"""What a caller hands to a rule, as sympy: expressions, matrices, gradients.

Every value that enters symdyn from outside passes :func:`as_expression` or
:func:`as_matrix`: sympy objects and Python numbers only, floats made exact,
strings refused. :func:`grad` is the gradient a rule writes, and
:func:`substitute` the replacement that keeps derivatives of undefined
functions valid.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import sympy as sp

from symdyn.errors import ArgumentError, ExpressionTypeError, ShapeError
from symdyn.rules.values import exact_number

__all__ = ["as_expression", "as_matrix", "grad", "substitute", "symbols_of"]


def substitute(expr, mapping):
    """Replace symbols simultaneously, keeping derivatives of undefined functions valid.

    ``xreplace`` is exact and works for matrix expressions, but it would turn
    ``Derivative(L(x), x)`` with ``x -> x + v`` into a derivative with respect
    to an expression; there ``subs`` is used, which gives ``Subs(...)``.

    Examples
    --------
    >>> import sympy as sp
    >>> x, v = sp.symbols("x v")
    >>> L = sp.Function("L")
    >>> substitute(sp.Derivative(L(x), x), {x: x + v})
    Subs(Derivative(L(x), x), x, v + x)
    """
    if not mapping:
        return expr
    variables = set()
    for derivative in expr.atoms(sp.Derivative):
        variables.update(derivative.variables)
    if variables & set(mapping):
        return expr.subs(mapping, simultaneous=True)
    return expr.xreplace(mapping)


def grad(loss, wrt):
    """Gradient of a scalar ``loss`` with respect to ``wrt``.

    Parameters
    ----------
    loss : sympy.Expr
        A scalar expression; undefined functions (``sp.Function("L")(x)``)
        are fine and give unevaluated derivatives.
    wrt : sympy.Symbol, sequence of sympy.Symbol, or sympy.MatrixSymbol
        A symbol gives a scalar, a sequence gives a column ``ImmutableMatrix``,
        a ``MatrixSymbol`` gives a matrix expression of its shape.

    Returns
    -------
    sympy.Expr or sympy.ImmutableMatrix or sympy.MatrixExpr

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> grad(x**2 * y, x)
    2*x*y
    >>> grad(x**2 * y, [x, y]).T
    Matrix([[2*x*y, x**2]])
    >>> L = sp.Function("L")
    >>> grad(L(x), x)
    Derivative(L(x), x)
    """
    loss = as_expression(loss, "the loss passed to grad")
    if getattr(loss, "is_Matrix", False) and loss.shape != (1, 1):
        raise ShapeError(f"grad needs a scalar loss, got a matrix of shape {loss.shape}")
    if isinstance(wrt, sp.MatrixSymbol):
        if isinstance(loss, sp.MatrixExpr):
            return sp.diff(loss, wrt)
        if isinstance(loss, sp.MatrixBase):
            loss = loss[0, 0]
        rows, cols = wrt.shape
        # A scalar written with entries theta[i, 0] differentiates entry by entry.
        return sp.ImmutableMatrix(rows, cols, lambda i, j: sp.diff(loss, wrt[i, j]))
    if isinstance(loss, sp.MatrixBase):
        loss = loss[0, 0]
    if isinstance(wrt, sp.Symbol):
        return sp.diff(loss, wrt)
    if isinstance(wrt, Iterable) and not isinstance(wrt, (str, sp.Basic)):
        variables = list(wrt)
        bad = [v for v in variables if not isinstance(v, sp.Symbol)]
        if bad or not variables:
            raise ExpressionTypeError(f"grad: variables must be sympy Symbols, got {wrt!r}")
        return sp.ImmutableMatrix([sp.diff(loss, v) for v in variables])
    raise ExpressionTypeError(
        f"grad: cannot differentiate with respect to {wrt!r}; "
        "give a Symbol, a list of Symbols or a MatrixSymbol"
    )


def as_expression(value, where):
    """A caller's value as a sympy expression: sympy objects and Python numbers only.

    Everything else is refused, strings above all (they are never parsed), and
    so are NaN and infinities. Floats, also inside an expression, become exact
    rationals by the exact-number policy (:mod:`symdyn.rules.values`), so that no
    rounded number ever decides a claim.

    Parameters
    ----------
    value : sympy.Basic, sympy Matrix or number
    where : str
        What the value is, named in the error (``"gd: the learning rate"``).

    Raises
    ------
    ExpressionTypeError

    Examples
    --------
    >>> import sympy as sp
    >>> as_expression(0.1 * sp.Symbol("eta"), "lr")
    eta/10
    >>> as_expression("eta", "lr")
    Traceback (most recent call last):
    ...
    symdyn.errors.ExpressionTypeError: lr is a str ('eta'), not a sympy expression; ...
    """
    if isinstance(value, sp.MatrixBase):
        return _exact_floats(sp.ImmutableMatrix(value), where)
    if isinstance(value, sp.Basic):
        if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise ExpressionTypeError(f"{where} holds {_non_finite(value)}, not a finite value")
        return _exact_floats(value, where)
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        try:
            return exact_number(value)
        except ArgumentError as error:
            raise ExpressionTypeError(f"{where}: {error}") from None
    raise ExpressionTypeError(
        f"{where} is a {type(value).__name__} ({value!r:.60}), not a sympy expression; "
        "build it from sympy symbols (strings are never evaluated)"
    )


def as_matrix(value, where):
    """A caller's matrix (sympy Matrix or nested lists) with every entry checked by
    :func:`as_expression`; nothing is parsed.

    Examples
    --------
    >>> as_matrix([[1, 0.5], [0, 1]], "W")
    Matrix([
    [1, 1/2],
    [0,   1]])
    """
    if isinstance(value, sp.MatrixBase):
        rows = value.tolist()
    elif isinstance(value, (list, tuple)) and all(isinstance(r, (list, tuple)) for r in value):
        rows = [list(r) for r in value]
    elif isinstance(value, (list, tuple)):
        rows = [[v] for v in value]
    else:
        raise ExpressionTypeError(
            f"{where} must be a sympy Matrix or a list of rows, got a {type(value).__name__}"
        )
    if len({len(r) for r in rows}) > 1:
        raise ShapeError(f"{where}: the rows have different lengths")
    entries = [
        [as_expression(v, f"{where}[{i}, {j}]") for j, v in enumerate(r)]
        for i, r in enumerate(rows)
    ]
    return sp.ImmutableMatrix(entries) if entries else sp.ImmutableMatrix(0, 0, [])


def _non_finite(value):
    return next(str(c) for c in (sp.nan, sp.zoo, sp.oo, -sp.oo) if value.has(c))


def _exact_floats(expr, where):
    """``expr`` with every sympy Float replaced by the exact decimal it stands for."""
    floats = expr.atoms(sp.Float)
    if not floats:
        return expr
    return expr.xreplace({f: exact_number(f, where=where) for f in floats})


def symbols_of(value):
    """Free symbols, including MatrixSymbols, of an expression.

    Examples
    --------
    >>> import sympy as sp
    >>> sorted(map(str, symbols_of(sp.MatrixSymbol("A", 2, 2) * sp.Symbol("t"))))
    ['A', 't']
    """
    symbols = set(value.free_symbols)
    if isinstance(value, sp.Basic):
        symbols |= set(value.atoms(sp.MatrixSymbol))
    return {s for s in symbols if isinstance(s, (sp.Symbol, sp.MatrixSymbol))}
