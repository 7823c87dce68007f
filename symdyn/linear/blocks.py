"""The blocks of a matrix-state rule's Jacobian, read off its matrix expressions.

A linear rule on a quadratic maps its state (θ and its buffers, n×1 matrix
symbols) by matrix products; the coefficient of state variable j in the update
of i is a block C_ij, a non-commutative expression in the matrices (H, a
preconditioner P, ...). :mod:`symdyn.linear.modes` reduces the blocks to one
eigenvalue per mode when they commute, and :func:`full_jacobian` writes the
explicit kn×kn Jacobian of a concrete size when they do not.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from symdyn.errors import NonCommutingError, RuleError, ShapeError
from symdyn.linear.quadratics import PositiveDiagonalMatrixSymbol
from symdyn.rules.values import as_basic

__all__ = ["blocks_of", "full_jacobian", "matrices_in", "matrix_state", "to_noncommutative"]


def matrix_state(rule):
    """The state variables, all MatrixSymbols of one shape, or a ShapeError."""
    state = rule.state
    if not all(isinstance(s, sp.MatrixSymbol) for s in state):
        raise ShapeError(
            f"{rule.name}: modal reduction needs every state variable to be a MatrixSymbol, "
            f"got {state}"
        )
    shapes = {tuple(s.shape) for s in state}
    if len(shapes) != 1:
        raise ShapeError(f"{rule.name}: the state variables have different shapes {shapes}")
    return state


def to_noncommutative(expr, table, where):
    """A matrix expression as a non-commutative scalar expression (matrices → nc symbols)."""

    def walk(e):
        if isinstance(e, sp.MatrixSymbol):
            if e not in table:
                table[e] = sp.Symbol(e.name, commutative=False)
            return table[e]
        if isinstance(e, sp.Identity):
            return sp.S.One
        if isinstance(e, sp.ZeroMatrix):
            return sp.S.Zero
        if isinstance(e, sp.MatAdd):
            return sp.Add(*map(walk, e.args))
        if isinstance(e, sp.MatMul):
            return sp.Mul(*map(walk, e.args))
        if isinstance(e, sp.MatPow):
            return walk(e.base) ** e.exp
        if isinstance(e, sp.Inverse):
            return walk(e.arg) ** -1
        if isinstance(e, sp.Transpose):
            inner = e.arg
            if isinstance(inner, sp.MatrixSymbol):
                key = sp.Transpose(inner)
                if key not in table:
                    table[key] = sp.Symbol(inner.name + "^T", commutative=False)
                return table[key]
            return _refuse(e)
        if isinstance(e, (sp.MatrixExpr, sp.MatrixBase)):
            return _refuse(e)
        if isinstance(e, sp.Basic) and not e.atoms(sp.MatrixSymbol):
            return e
        return _refuse(e)

    def _refuse(e):
        raise RuleError(
            f"{where}: modal reduction cannot use {e} ({type(e).__name__}); write the update "
            "with matrix products, sums, scalar factors and inverses only"
        )

    return walk(expr)


def blocks_of(rule, state, table, columns=None):
    """Coefficient of each state variable (or of each of ``columns``) in each next state,
    as non-commutative expressions."""
    columns = state if columns is None else columns
    marks = [table.setdefault(s, sp.Symbol(s.name, commutative=False)) for s in columns]
    blocks = []
    for target, value in zip(state, rule.next_state, strict=True):
        where = f"{rule.name}: the update of {target}"
        expr = sp.expand(to_noncommutative(value, table, where))
        row = [sp.S.Zero] * len(columns)
        for term in sp.Add.make_args(expr):
            commuting, ordered = term.args_cnc()
            found = [i for i, f in enumerate(ordered) if f in marks or f.free_symbols & set(marks)]
            if not found:
                continue  # a constant (b, ...) does not enter the Jacobian
            if found != [len(ordered) - 1] or ordered[-1] not in marks:
                raise RuleError(
                    f"{where} is not linear in the state ({term}); modal reduction applies "
                    "to linear rules on quadratics"
                )
            j = marks.index(ordered[-1])
            row[j] += sp.Mul(*commuting) * sp.Mul(*ordered[:-1])
        blocks.append(row)
    return blocks


def matrices_in(blocks):
    """The non-commutative symbols (matrices) the blocks hold."""
    found = set()
    for row in blocks:
        for block in row:
            found |= {s for s in block.free_symbols if not s.is_commutative}
    return found


def full_jacobian(rule, state, matrices, by_symbol):
    """The explicit kn×kn Jacobian of a concrete-size rule, entry by entry, with the
    per-entry state symbols; a NonCommutingError when n is symbolic."""
    names = ", ".join(sorted(str(by_symbol[m]) for m in matrices))
    n, cols = state[0].shape
    if not (as_basic(n).is_Integer and as_basic(cols).is_Integer):
        raise NonCommutingError(
            f"{rule.name}: the Jacobian's blocks involve {names}, which are not functions of "
            "one symmetric matrix (H, or P⁻¹H with P a PositiveDiagonalMatrixSymbol), so the "
            f"modes do not decouple, and n = {n} is symbolic so the full Jacobian cannot be "
            "formed; give n a value, or build the rule from sd.quadratic and a frozen "
            "preconditioner"
        )
    elements = {}

    def scalar(entry):
        if entry not in elements:
            parent = entry.parent
            positive = isinstance(parent, PositiveDiagonalMatrixSymbol)
            label = f"{parent.name}_{entry.i}{entry.j}" if parent.shape[1] != 1 else None
            label = label or f"{parent.name}_{entry.i}"
            elements[entry] = (
                sp.Symbol(label, positive=True) if positive else sp.Symbol(label, real=True)
            )
        return elements[entry]

    def explicit(value):
        matrix = sp.Matrix(as_basic(value).as_explicit())
        return matrix.xreplace({e: scalar(e) for e in matrix.atoms(MatrixElement)})

    variables = [scalar(e) for s in state for e in sp.Matrix(s.as_explicit())]
    images = [v for value in rule.next_state for v in explicit(value)]
    jac = sp.ImmutableMatrix(sp.Matrix(images).jacobian(sp.Matrix(variables)))
    return jac, variables, names, n
