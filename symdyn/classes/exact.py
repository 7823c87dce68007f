"""Exact definiteness of rational symmetric matrices by LDLᵀ pivots.

Symmetric Gaussian elimination without row exchanges, over ℚ (sympy's ``QQ``, exact):

* M ≻ 0 exactly when every pivot is positive;
* M ⪰ 0 exactly when every pivot is nonnegative and, where a pivot is zero, the rest
  of its row is zero too (a positive semidefinite matrix with a zero diagonal entry
  has that whole row zero; the row is then dropped).

Nothing is rounded, so the answer is a proof: the pivots are the diagonal of D in
M = L D Lᵀ (after dropping zero rows), and any failure comes with the step at which
it was seen.

Examples
--------
>>> import sympy as sp
>>> check = semidefinite(sp.Matrix([[2, 1], [1, 1]]), strict=True)
>>> check.holds, check.pivots
(True, (2, 1/2))
>>> semidefinite(sp.Matrix([[1, 2], [2, 1]])).reason
'pivot 2 is -3 < 0'
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy import QQ
from sympy.polys.matrices import DomainMatrix

__all__ = ["Definiteness", "semidefinite"]


@dataclass(frozen=True)
class Definiteness:
    """The outcome of an exact LDLᵀ check.

    Attributes
    ----------
    holds : bool
        Whether the matrix is positive definite (``strict``) or semidefinite.
    pivots : tuple of sympy.Rational
        The pivots found, in order, up to the failure if any.
    reason : str
        Empty when it holds; otherwise the step that fails.
    """

    holds: bool
    pivots: tuple
    reason: str


def _rational_rows(matrix):
    """The entries as lists of ``QQ`` elements, after checking the matrix is symmetric."""
    if isinstance(matrix, DomainMatrix):
        rows = matrix.convert_to(QQ).to_list()
    else:
        rows = [[QQ.convert(sp.Rational(v)) for v in matrix.row(i)] for i in range(matrix.rows)]
    size = len(rows)
    if any(len(row) != size for row in rows) or any(
        rows[i][j] != rows[j][i] for i in range(size) for j in range(i)
    ):
        raise ValueError("an LDL^T check needs a square symmetric matrix")
    return rows


def semidefinite(matrix, *, strict=False):
    """Decide exactly whether the rational symmetric ``matrix`` is ⪰ 0 (``strict``: ≻ 0).

    Parameters
    ----------
    matrix : sympy.Matrix or DomainMatrix over QQ
        Square, symmetric, with rational entries.
    strict : bool

    Returns
    -------
    Definiteness
    """
    rows = _rational_rows(matrix)
    size = len(rows)
    pivots = []
    for k in range(size):
        pivot = rows[k][k]
        if pivot < 0 or (strict and pivot == 0):
            pivots.append(sp.Rational(pivot.numerator, pivot.denominator))
            sign = " < 0" if pivot < 0 else ", not positive"
            return Definiteness(False, tuple(pivots), f"pivot {k + 1} is {pivots[-1]}{sign}")
        pivots.append(sp.Rational(pivot.numerator, pivot.denominator))
        if pivot == 0:
            if any(rows[k][j] != 0 for j in range(k + 1, size)):
                return Definiteness(
                    False,
                    tuple(pivots),
                    f"pivot {k + 1} is 0 but its row is not zero (a 2x2 minor is negative)",
                )
            continue
        for i in range(k + 1, size):
            factor = rows[i][k] / pivot
            if factor:
                for j in range(k + 1, size):
                    rows[i][j] -= factor * rows[k][j]
    return Definiteness(True, tuple(pivots), "")
