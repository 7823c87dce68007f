"""Matrix symbols with declared structure: symmetric, and positive diagonal (a preconditioner)."""

from __future__ import annotations

import sympy as sp

from symdyn.errors import ShapeError

__all__ = ["PositiveDiagonalMatrixSymbol", "SymmetricMatrixSymbol"]


def _index(i):
    """A matrix index as sympy sees it (sympy passes Python ints or sympy expressions)."""
    return sp.Integer(i) if isinstance(i, int) else i


class SymmetricMatrixSymbol(sp.MatrixSymbol):
    """A square ``MatrixSymbol`` known to be symmetric: its transpose is itself.

    Derivatives of θᵀHθ/2 then come out as Hθ instead of (H + Hᵀ)θ/2, and
    explicit entries are shared (``H[1, 0]`` is ``H[0, 1]``).

    Examples
    --------
    >>> H = SymmetricMatrixSymbol("H", 3)
    >>> H.T
    H
    >>> H.as_explicit()[1, 0]
    H[0, 1]
    """

    def __new__(cls, name, n, m=None):
        if m is not None and m != n:
            raise ShapeError(f"{name} is symmetric, so it must be square, not {n}×{m}")
        return super().__new__(cls, name, n, n)

    def _eval_transpose(self):
        return self

    def _entry(self, i, j, **kwargs):
        i, j = _index(i), _index(j)
        if i.is_Integer and j.is_Integer and i > j:
            i, j = j, i
        return super()._entry(i, j, **kwargs)


class PositiveDiagonalMatrixSymbol(SymmetricMatrixSymbol):
    """A diagonal matrix with positive diagonal (a frozen preconditioner P).

    Examples
    --------
    >>> P = PositiveDiagonalMatrixSymbol("P", 2)
    >>> P.as_explicit()
    Matrix([
    [P[0, 0],       0],
    [      0, P[1, 1]]])
    """

    def _entry(self, i, j, **kwargs):
        if i != j and _index(i).is_Integer and _index(j).is_Integer:
            return sp.S.Zero
        return super()._entry(i, j, **kwargs)
