"""Quadratic objectives of any dimension, reduced to one eigenvalue per mode.

On θᵀHθ/2 − bᵀθ a linear method's Jacobian is a k×k array of n×n blocks.
When every block is a polynomial or rational function of one matrix M (H
itself, or P⁻¹H for a fixed positive diagonal preconditioner P, after the
buffers are rescaled by P), the blocks commute and are diagonalised together:
M = P^{-1/2} S Λ Sᵀ P^{1/2} with S orthogonal, because P^{-1/2} H P^{-1/2} is
symmetric. The kn×kn linearisation then splits into n independent k×k systems
in which M is replaced by its eigenvalue λ, and the stability region of the
k×k system, holding for every eigenvalue λ of M, is the region of the whole
method, whatever n is. The objectives themselves, and the symmetric and
diagonal matrix symbols they are built from, are in :mod:`symdyn.linear.quadratics`.

References
----------
Polyak, *Introduction to Optimization* (1987), §3.2; Goh, "Why momentum really
works", Distill (2017).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from symdyn.budget import bounded
from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import ArgumentError, NonCommutingError, RuleError, ShapeError
from symdyn.escaping import plain, safe_latex
from symdyn.linear.quadratics import (
    EIGENVALUE,
    PositiveDiagonalMatrixSymbol,
    Quadratic,
    SymmetricMatrixSymbol,
    quadratic,
)
from symdyn.rules.rule import UpdateRule
from symdyn.rules.values import as_basic

__all__ = [
    "ModalReduction",
    "NonCommutingError",
    "PositiveDiagonalMatrixSymbol",
    "Quadratic",
    "SymmetricMatrixSymbol",
    "modes",
    "quadratic",
]


@dataclass(frozen=True)
class ModalReduction(Presented):
    """A matrix-state rule's linearisation, reduced to one k×k system per mode.

    Attributes
    ----------
    rule : UpdateRule
    matrix : sympy.MatrixExpr or None
        M, the matrix every block is a function of (``None`` if no block
        involves a matrix, or for the full Jacobian).
    eigenvalue : sympy.Symbol or None
        λ, standing for each eigenvalue of M.
    state : tuple of sympy.Symbol
        The per-mode state (one scalar per state variable, rescaled buffers
        marked with a tilde).
    scaling : tuple of int
        Buffer j is multiplied by P**scaling[j] before the reduction.
    jacobian : sympy.ImmutableMatrix
        The k×k per-mode Jacobian (or, when ``full``, the explicit kn×kn one).
    full : bool
        True when the blocks did not commute and the explicit Jacobian of a
        concrete-size rule is returned instead.
    asymptotic : bool
        True when the rule is time-varying and ``jacobian`` is its limit as
        the step counter grows.
    derivation : Derivation
    """

    rule: UpdateRule
    matrix: sp.Basic | None
    eigenvalue: sp.Symbol | None
    state: tuple
    scaling: tuple
    jacobian: sp.ImmutableMatrix
    full: bool
    asymptotic: bool
    derivation: Derivation = field(repr=False)


def _matrix_state(rule):
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


def _to_noncommutative(expr, table, where):
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


def _blocks(rule, state, table, columns=None):
    """Coefficient of each state variable (or of each of ``columns``) in each next state,
    as non-commutative expressions."""
    columns = state if columns is None else columns
    marks = [table.setdefault(s, sp.Symbol(s.name, commutative=False)) for s in columns]
    blocks = []
    for target, value in zip(state, rule.next_state, strict=True):
        where = f"{rule.name}: the update of {target}"
        expr = sp.expand(_to_noncommutative(value, table, where))
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


def _matrices(blocks):
    found = set()
    for row in blocks:
        for block in row:
            found |= {s for s in block.free_symbols if not s.is_commutative}
    return found


def _similar_to_function_of(blocks, H, P, M):
    """Exponents a (a[0] = 0) with P^a_i C_ij P^-a_j a function of M = P⁻¹H, or None."""
    k = len(blocks)
    substituted = [[b.xreplace({H: P * M}) for b in row] for row in blocks]
    for tail in itertools.product((0, -1, 1), repeat=k - 1):
        powers = (0, *tail)
        conjugated = [
            [sp.expand(P ** powers[i] * substituted[i][j] * P ** -powers[j]) for j in range(k)]
            for i in range(k)
        ]
        if not any(P in c.free_symbols for row in conjugated for c in row):
            return powers, conjugated
    return None


def _time_limit(jac, counter, derivation):
    """Replace b**k by 0 (for 0 < b < 1) and say so."""
    powers = {p for p in jac.atoms(sp.Pow) if p.exp == counter or counter in p.exp.free_symbols}
    limit = sp.ImmutableMatrix(jac.xreplace({p: 0 for p in powers}))
    if counter in limit.free_symbols:
        return None, derivation
    bases = ", ".join(f"${safe_latex(p.base)}$" for p in sorted(powers, key=str))
    derivation = derivation.then(
        f"The rule is time-varying: its Jacobian depends on the step counter "
        f"${safe_latex(counter)}$ through powers of {bases}. For bases in $(0, 1)$ these tend "
        "to zero, so the Jacobian converges; when the limit contracts, the time-varying rule "
        "eventually contracts too (a small perturbation of a contraction is a contraction). "
        "The region below is therefore the asymptotic region, that of the limit",
        TeX("J_\\infty = " + safe_latex(limit)),
    )
    return limit, derivation


def _mode_symbol(state, rescaled=False):
    """The per-mode coordinate of a state variable: ``m_theta`` → ``m_theta_i`` (or
    ``mtilde_theta_i``, printed as a tilde over m, when the mode was rescaled)."""
    base, _, subscript = state.name.partition("_")
    name = base + ("tilde" if rescaled else "") + (f"_{subscript}" if subscript else "") + "_i"
    return sp.Symbol(name, real=True)


@bounded("modes")
def modes(rule, eigenvalue=EIGENVALUE):
    """Reduce a linear rule on a quadratic to one k×k system per eigenvalue.

    The blocks ∂(next state i)/∂(state j) are read off the matrix expressions.
    If they involve one matrix H only, M = H. If they involve H and a
    :class:`PositiveDiagonalMatrixSymbol` P, buffers are rescaled by powers
    of P until every block is a function of M = P⁻¹H. Then M is replaced by
    its eigenvalue λ.

    Parameters
    ----------
    rule : UpdateRule
        Its state holds ``MatrixSymbol``s of one shape (θ and its buffers).
    eigenvalue : sympy.Symbol
        The symbol standing for an eigenvalue of M (default λ, positive).
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

    Returns
    -------
    ModalReduction

    Raises
    ------
    NonCommutingError
        If the blocks are not functions of one matrix and n is symbolic
        (for a concrete n the explicit kn×kn Jacobian is returned instead,
        with ``full=True``).
    RuleError
        If the rule is not linear in its state.

    Examples
    --------
    >>> import sympy as sp
    >>> from symdyn import optimizers
    >>> eta, beta = sp.symbols("eta beta", positive=True)
    >>> q = quadratic("theta", n=sp.Symbol("n"))
    >>> rule = optimizers.heavy_ball(q.loss, [q.theta], lr=eta, momentum=beta)
    >>> modes(rule).jacobian
    Matrix([
    [-eta*lambda + 1, beta],
    [    -eta*lambda, beta]])
    """
    if not isinstance(eigenvalue, sp.Symbol):
        raise ArgumentError(
            f"modes: the eigenvalue must be a sympy Symbol, got {eigenvalue!r:.60}"
        )
    state = _matrix_state(rule)
    table = {}
    blocks = _blocks(rule, state, table)
    matrices = _matrices(blocks)
    by_symbol = {v: k for k, v in table.items()}
    derivation = Derivation(f"Modes of {plain(rule.name)}").then(
        f"The rule \u201c{plain(rule.name)}\u201d updates the state "
        + ", ".join(f"${safe_latex(s)}$" for s in state)
        + " by",
        TeX(rule.to_latex()),
    )
    symmetric = {m for m in matrices if isinstance(by_symbol[m], SymmetricMatrixSymbol)}
    diagonal = {m for m in symmetric if isinstance(by_symbol[m], PositiveDiagonalMatrixSymbol)}
    undiagonal = symmetric - diagonal
    tilde = [_mode_symbol(s) for s in state]
    powers = (0,) * len(state)
    reduced = None
    matrix = None
    why = ""
    if matrices == symmetric and len(matrices) <= 1:
        reduced = blocks
        if matrices:
            (m,) = matrices
            matrix = by_symbol[m]
            why = (
                f"Every block is a polynomial or rational function of ${safe_latex(matrix)}$, so "
                f"the blocks commute. As ${safe_latex(matrix)}$ is symmetric, "
                f"${safe_latex(matrix)} = S \\Lambda S^T$ with $S$ orthogonal and $\\Lambda$ real "
                "diagonal; in the coordinates $S^T$ of every state variable the system splits "
                "into one independent system per eigenvalue"
            )
    elif len(undiagonal) == 1 and len(diagonal) == 1:
        (h,), (p,) = undiagonal, diagonal
        m = sp.Symbol("M", commutative=False)
        found = _similar_to_function_of(blocks, h, p, m)
        if found is not None:
            powers, reduced = found
            matrix = sp.MatMul(sp.Inverse(by_symbol[p]), by_symbol[h])
            tilde = [_mode_symbol(s, rescaled=bool(a)) for s, a in zip(state, powers, strict=True)]
            scaled = ", ".join(
                f"${safe_latex(s)} \\mapsto {safe_latex(by_symbol[p])}^{{{a}}} {safe_latex(s)}$"
                for s, a in zip(state, powers, strict=True)
                if a
            )
            why = (
                f"Rescaling the buffers ({scaled}) turns every block into a polynomial or "
                f"rational function of $M = {safe_latex(matrix)}$, so the blocks commute. "
                f"$M$ is similar to the symmetric ${safe_latex(by_symbol[p])}^{{-1/2}} "
                f"{safe_latex(by_symbol[h])} {safe_latex(by_symbol[p])}^{{-1/2}}$ (the "
                "preconditioner is a positive diagonal), so its eigenvalues are real (positive "
                "when the Hessian is positive definite) and it is diagonalisable; in its "
                "eigenbasis the system splits into one independent system per eigenvalue"
            )
    if reduced is None:
        return _full(rule, state, blocks, matrices, by_symbol, derivation)
    replace = {s: eigenvalue for s in matrices if s != sp.Symbol("M", commutative=False)}
    replace[sp.Symbol("M", commutative=False)] = eigenvalue
    jac = sp.ImmutableMatrix(
        [[sp.cancel(as_basic(c).xreplace(replace)) for c in row] for row in reduced]
    )
    if any(not s.is_commutative for s in jac.free_symbols):
        raise NonCommutingError(f"{rule.name}: a block still holds a matrix after reduction")
    if matrix is None:
        derivation = derivation.then(
            "Every block is a multiple of the identity, so each coordinate evolves on its own"
        )
        eigenvalue = None
    else:
        derivation = derivation.then(why + ".")
    derivation = derivation.then(
        "Replacing the matrix by one of its eigenvalues $\\lambda$ gives the per-mode "
        "Jacobian, for the per-mode state " + ", ".join(f"${safe_latex(s)}$" for s in tilde),
        TeX("J(\\lambda) = " + safe_latex(jac)),
    )
    asymptotic = False
    if rule.counter is not None and rule.counter in jac.free_symbols:
        limit, derivation = _time_limit(jac, rule.counter, derivation)
        if limit is not None:
            jac, asymptotic = limit, True
    if matrix is not None:
        n = as_basic(state[0].shape[0])
        derivation = derivation.then(
            f"Every conclusion below holds for every eigenvalue $\\lambda$ of "
            f"${safe_latex(matrix)}$, "
            + (
                f"for each of the {n} modes."
                if n.is_Integer
                else f"for any dimension ${safe_latex(n)}$."
            )
        )
    return ModalReduction(
        rule, matrix, eigenvalue, tuple(tilde), powers, jac, False, asymptotic, derivation
    )


def _full(rule, state, blocks, matrices, by_symbol, derivation):
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
    derivation = derivation.then(
        f"The blocks involve {names}, which are not functions of one symmetric matrix, so the "
        f"modes do not decouple. As $n = {n}$ is concrete, the Jacobian is formed entry by "
        "entry",
        TeX("J = " + safe_latex(jac)),
    )
    return ModalReduction(
        rule, None, None, tuple(variables), (0,) * len(state), jac, True, False, derivation
    )


def _mode_inputs(rule, inputs, eigenvalue=EIGENVALUE):
    """Per-mode coefficients of additive inputs (noise) in the next state, k×m.

    Only for rules whose blocks are functions of one symmetric matrix H: then
    the orthogonal change of basis that splits the modes keeps isotropic
    inputs isotropic.
    """
    state = _matrix_state(rule)
    table = {}
    blocks = _blocks(rule, state, table, columns=list(inputs))
    matrices = _matrices(blocks) | _matrices(_blocks(rule, state, table))
    by_symbol = {v: k for k, v in table.items()}
    if len(matrices) > 1 or not all(type(by_symbol[m]) is SymmetricMatrixSymbol for m in matrices):
        raise NonCommutingError(
            f"{rule.name}: per-mode noise needs every block to be a function of one symmetric "
            "matrix H (a frozen preconditioner makes the modes' basis non-orthogonal, so "
            "isotropic noise does not stay isotropic per mode)"
        )
    replace = {m: eigenvalue for m in matrices}
    return sp.ImmutableMatrix(
        [[sp.cancel(as_basic(c).xreplace(replace)) for c in row] for row in blocks]
    )
