"""Quadratic objectives θᵀHθ/2 − bᵀθ of any, even symbolic, dimension n.

The Hessian is a :class:`SymmetricMatrixSymbol`, so sympy differentiates
θᵀHθ/2 to Hθ; a frozen diagonal preconditioner is a
:class:`PositiveDiagonalMatrixSymbol`. :mod:`symdyn.linear.modes` reduces a linear
rule on such an objective to one k×k system per eigenvalue λ of H (the
symbol :data:`EIGENVALUE`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symdyn.errors import ShapeError
from symdyn.rules.matrix_symbols import PositiveDiagonalMatrixSymbol, SymmetricMatrixSymbol
from symdyn.rules.rule import as_expression

__all__ = ["PositiveDiagonalMatrixSymbol", "Quadratic", "SymmetricMatrixSymbol", "quadratic"]

EIGENVALUE = sp.Symbol("lambda", positive=True)


@dataclass(frozen=True)
class Quadratic:
    """The objective θᵀHθ/2 − bᵀθ on θ ∈ ℝⁿ.

    Attributes
    ----------
    theta : sympy.MatrixSymbol
        The n×1 variable.
    H : SymmetricMatrixSymbol
        The n×n Hessian, symmetric; its eigenvalues are called λ.
    b : sympy.MatrixSymbol
        The n×1 linear term.
    loss : sympy.MatrixExpr
        θᵀHθ/2 − bᵀθ as a 1×1 matrix expression; ``sd.grad(loss, theta)`` is
        Hθ − b because ``H`` transposes to itself.
    eigenvalue : sympy.Symbol
        λ (positive), the symbol per-mode results are written in.
    n : int or sympy.Symbol
    """

    theta: sp.MatrixSymbol
    H: sp.MatrixSymbol
    b: sp.MatrixSymbol
    loss: sp.Basic
    eigenvalue: sp.Symbol
    n: object

    @property
    def gradient(self):
        """Hθ − b."""
        return self.H * self.theta - self.b


def quadratic(name="theta", n=None, hessian="H", linear="b"):
    """The quadratic θᵀHθ/2 − bᵀθ with θ a ``MatrixSymbol`` of size n.

    Parameters
    ----------
    name : str
        Name of the variable θ.
    n : int or sympy.Symbol
        The dimension; a symbol keeps it general (``sp.Symbol("n")``).
    hessian, linear : str
        Names of H and b.

    Returns
    -------
    Quadratic

    Examples
    --------
    >>> import sympy as sp
    >>> from symdyn.rules.rule import grad
    >>> q = quadratic("theta", n=sp.Symbol("n"))
    >>> grad(q.loss, q.theta)
    -b + H*theta
    """
    if n is None:
        raise ShapeError("quadratic needs a dimension n (an integer or a sympy Symbol)")
    if isinstance(n, str):
        raise ShapeError(f"quadratic: n must be an integer or a sympy Symbol, not {n!r}")
    n = as_expression(n, "quadratic: n")
    if (n.is_Integer and n < 1) or not (n.is_Integer or n.is_Symbol):
        raise ShapeError(f"quadratic: n must be a positive integer or a Symbol, got {n}")
    if n.is_Symbol and not (n.is_integer and n.is_positive):
        n = sp.Symbol(n.name, integer=True, positive=True)
    theta = sp.MatrixSymbol(name, n, 1)
    H = SymmetricMatrixSymbol(hessian, n)
    b = sp.MatrixSymbol(linear, n, 1)
    loss = sp.MatMul(sp.Rational(1, 2), theta.T, H, theta) - b.T * theta
    return Quadratic(theta, H, b, loss, EIGENVALUE, int(n) if n.is_Integer else n)


# -- time-varying rules on quadratics ----------------------------------------------------
