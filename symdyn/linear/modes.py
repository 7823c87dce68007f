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

from symdyn.budget import bounded
from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import ArgumentError, NonCommutingError
from symdyn.escaping import plain, safe_latex
from symdyn.linear.blocks import blocks_of, full_jacobian, matrices_in, matrix_state
from symdyn.linear.counter_limit import counter_limit
from symdyn.linear.quadratics import (
    EIGENVALUE,
    PositiveDiagonalMatrixSymbol,
    Quadratic,
    SymmetricMatrixSymbol,
    quadratic,
)
from symdyn.rules.printing import opening
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
    requires : tuple of sympy.Relational
        Where the limit exists, when the assumptions do not decide it (β < 1 for Adam's
        bias correction with β only positive); the region holds under these.
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
    requires: tuple = ()


M = sp.Symbol("M", commutative=False)
"""The matrix P⁻¹H as a non-commutative symbol, while the blocks are rescaled."""


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
    """J_∞ as the counter grows (:mod:`symdyn.linear.counter_limit`), and say so."""
    found = counter_limit(jac, counter)
    if found is None:
        return None, (), derivation
    bases = ", ".join(f"${safe_latex(b)}$" for b in found.bases) or "constants"
    where = (
        " The powers vanish where "
        + " and ".join(f"${safe_latex(r)}$" for r in found.requires)
        + ", which the limit is taken under, so the region holds under it too."
        if found.requires
        else ""
    )
    derivation = derivation.then(
        f"The rule is time-varying: its Jacobian depends on the step counter "
        f"${safe_latex(counter)}$ through powers ${safe_latex(counter)}$ of {bases}, which "
        "tend to zero, so the Jacobian converges; when the limit contracts, the "
        "time-varying rule eventually contracts too (a small perturbation of a contraction "
        f"is a contraction).{where} The region below is therefore the asymptotic region, "
        "that of the limit",
        TeX("J_\\infty = " + safe_latex(found.jacobian)),
    )
    return found.jacobian, found.requires, derivation


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
    read = _read(rule)
    derivation = opening(rule, f"Modes of {plain(rule.name)}")
    found = _commuting(read)
    if found is None:
        return _full(rule, read, derivation)
    jac, eigenvalue, derivation = _per_mode(read, found, eigenvalue, derivation)
    asymptotic, requires = False, ()
    if rule.counter is not None and rule.counter in jac.free_symbols:
        limit, requires, derivation = _time_limit(jac, rule.counter, derivation)
        if limit is not None:
            jac, asymptotic = limit, True
    if found.matrix is not None:
        n = as_basic(read.state[0].shape[0])
        derivation = derivation.then(
            f"Every conclusion below holds for every eigenvalue $\\lambda$ of "
            f"${safe_latex(found.matrix)}$, "
            + (
                f"for each of the {n} modes."
                if n.is_Integer
                else f"for any dimension ${safe_latex(n)}$."
            )
        )
    return ModalReduction(
        rule=rule,
        matrix=found.matrix,
        eigenvalue=eigenvalue,
        state=found.state,
        scaling=found.powers,
        jacobian=jac,
        full=False,
        asymptotic=asymptotic,
        requires=requires,
        derivation=derivation,
    )


@dataclass(frozen=True)
class _Read:
    """Phase 1: the rule's blocks, as non-commutative expressions, and their matrices."""

    rule: UpdateRule
    state: tuple
    blocks: list
    matrices: frozenset
    by_symbol: dict


@dataclass(frozen=True)
class _Commuting:
    """Phase 2: the blocks as functions of one matrix M (after rescaling buffers by
    P**powers), with the per-mode state and why they commute."""

    blocks: list
    matrix: sp.Basic | None
    powers: tuple
    state: tuple
    why: str


def _read(rule):
    state = matrix_state(rule)
    table = {}
    blocks = blocks_of(rule, state, table)
    by_symbol = {v: k for k, v in table.items()}
    return _Read(rule, tuple(state), blocks, frozenset(matrices_in(blocks)), by_symbol)


def _commuting(read):
    """The blocks as functions of H alone, or of P⁻¹H after rescaling; None otherwise."""
    by_symbol = read.by_symbol
    symmetric = {m for m in read.matrices if isinstance(by_symbol[m], SymmetricMatrixSymbol)}
    diagonal = {m for m in symmetric if isinstance(by_symbol[m], PositiveDiagonalMatrixSymbol)}
    undiagonal = symmetric - diagonal
    plain_state = tuple(_mode_symbol(s) for s in read.state)
    unscaled = (0,) * len(read.state)
    if read.matrices == symmetric and len(read.matrices) <= 1:
        if not read.matrices:
            return _Commuting(read.blocks, None, unscaled, plain_state, "")
        (m,) = read.matrices
        matrix = by_symbol[m]
        why = (
            f"Every block is a polynomial or rational function of ${safe_latex(matrix)}$, so "
            f"the blocks commute. As ${safe_latex(matrix)}$ is symmetric, "
            f"${safe_latex(matrix)} = S \\Lambda S^T$ with $S$ orthogonal and $\\Lambda$ real "
            "diagonal; in the coordinates $S^T$ of every state variable the system splits "
            "into one independent system per eigenvalue"
        )
        return _Commuting(read.blocks, matrix, unscaled, plain_state, why)
    if not (len(undiagonal) == 1 and len(diagonal) == 1):
        return None
    (h,), (p,) = undiagonal, diagonal
    found = _similar_to_function_of(read.blocks, h, p, M)
    if found is None:
        return None
    powers, reduced = found
    H, P = by_symbol[h], by_symbol[p]
    matrix = sp.MatMul(sp.Inverse(P), H)
    state = tuple(
        _mode_symbol(s, rescaled=bool(a)) for s, a in zip(read.state, powers, strict=True)
    )
    scaled = ", ".join(
        f"${safe_latex(s)} \\mapsto {safe_latex(P)}^{{{a}}} {safe_latex(s)}$"
        for s, a in zip(read.state, powers, strict=True)
        if a
    )
    why = (
        f"Rescaling the buffers ({scaled}) turns every block into a polynomial or "
        f"rational function of $M = {safe_latex(matrix)}$, so the blocks commute. "
        f"$M$ is similar to the symmetric ${safe_latex(P)}^{{-1/2}} "
        f"{safe_latex(H)} {safe_latex(P)}^{{-1/2}}$ (the "
        "preconditioner is a positive diagonal), so its eigenvalues are real (positive "
        "when the Hessian is positive definite) and it is diagonalisable; in its "
        "eigenbasis the system splits into one independent system per eigenvalue"
    )
    return _Commuting(reduced, matrix, powers, state, why)


def _per_mode(read, found, eigenvalue, derivation):
    """Phase 3: the matrix replaced by its eigenvalue, the k×k per-mode Jacobian."""
    replace = {s: eigenvalue for s in read.matrices if s != M}
    replace[M] = eigenvalue
    jac = sp.ImmutableMatrix(
        [[sp.cancel(as_basic(c).xreplace(replace)) for c in row] for row in found.blocks]
    )
    if any(not s.is_commutative for s in jac.free_symbols):
        raise NonCommutingError(f"{read.rule.name}: a block still holds a matrix after reduction")
    if found.matrix is None:
        derivation = derivation.then(
            "Every block is a multiple of the identity, so each coordinate evolves on its own"
        )
        eigenvalue = None
    else:
        derivation = derivation.then(found.why + ".")
    derivation = derivation.then(
        "Replacing the matrix by one of its eigenvalues $\\lambda$ gives the per-mode "
        "Jacobian, for the per-mode state " + ", ".join(f"${safe_latex(s)}$" for s in found.state),
        TeX("J(\\lambda) = " + safe_latex(jac)),
    )
    return jac, eigenvalue, derivation


def _full(rule, read, derivation):
    """When the blocks do not commute: the explicit Jacobian of a concrete-size rule."""
    jac, variables, names, n = full_jacobian(rule, read.state, read.matrices, read.by_symbol)
    derivation = derivation.then(
        f"The blocks involve {names}, which are not functions of one symmetric matrix, so the "
        f"modes do not decouple. As $n = {n}$ is concrete, the Jacobian is formed entry by "
        "entry",
        TeX("J = " + safe_latex(jac)),
    )
    return ModalReduction(
        rule=rule,
        matrix=None,
        eigenvalue=None,
        state=tuple(variables),
        scaling=(0,) * len(read.state),
        jacobian=jac,
        full=True,
        asymptotic=False,
        derivation=derivation,
    )


def _mode_inputs(rule, inputs, eigenvalue=EIGENVALUE):
    """Per-mode coefficients of additive inputs (noise) in the next state, k×m.

    Only for rules whose blocks are functions of one symmetric matrix H: then
    the orthogonal change of basis that splits the modes keeps isotropic
    inputs isotropic.
    """
    state = matrix_state(rule)
    table = {}
    blocks = blocks_of(rule, state, table, columns=list(inputs))
    matrices = matrices_in(blocks) | matrices_in(blocks_of(rule, state, table))
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
