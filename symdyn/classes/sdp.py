"""Numeric proposals for the IQC LMI (cvxpy), and their rounding to rationals.

The solver only *proposes* P and the multipliers; :mod:`symdyn.classes.exact` decides.
The SDP maximises the margin t in P ⪰ tI, M ⪯ −tI under trace(P) = 1 (the LMI is
homogeneous), so that a proposal sits inside the feasible set and survives rounding.
cvxpy is imported here, when a certificate is asked for, never by ``import symdyn``.
"""

from __future__ import annotations

import functools
import warnings
from fractions import Fraction

import numpy as np
import sympy as sp

__all__ = [
    "DENOMINATORS",
    "POSITIVITY",
    "Proposer",
    "rationalised",
    "solve_clarabel",
    "svec",
    "triangle",
]

POSITIVITY = 1e-7
"""The least eigenvalue asked of P (with trace 1): a tight Lyapunov matrix can be close to
singular (triple momentum's is), so the margin is sought in the LMI, not in P."""

CLARABEL_SETTINGS = {
    "tol_gap_abs": 1e-12,
    "tol_gap_rel": 1e-12,
    "tol_feas": 1e-12,
    "tol_ktratio": 1e-10,
    "max_iter": 400,
}
"""Tight tolerances: near the best rate the margin shrinks like (ρ − ρ*)², and a proposal
survives the exact check only when the solver resolves it."""

DENOMINATORS = (10**2, 10**4, 10**6, 10**9, None)
"""Largest denominators tried when rounding a proposal, smallest first (None: the float)."""


@functools.cache
def triangle(size):
    """Rows, columns and scales (1 on the diagonal, √2 off it) of Clarabel's svec order:
    the upper triangle, column by column."""
    rows, columns = np.triu_indices(size)
    order = np.lexsort((rows, columns))  # by column, then row
    rows, columns = rows[order], columns[order]
    return rows, columns, np.where(rows == columns, 1.0, np.sqrt(2.0))


def svec(matrices):
    """Clarabel's scaled upper triangle, column by column, of each symmetric matrix."""
    rows, columns, scale = triangle(matrices.shape[-1])
    return matrices[..., rows, columns] * scale


def solve_clarabel(cost, constraints, bounds, cones):
    """x minimising costᵀx with constraints·x + s = bounds, s in ``cones``, or None.

    ``cones`` lists (kind, size) with kind "zero", "nonnegative" or "psd" (an svec
    triangle of that order), in the order of the rows; the settings are
    :data:`CLARABEL_SETTINGS`. None unless Clarabel reports the problem (almost) solved.
    """
    import clarabel
    from scipy import sparse

    kinds = {
        "zero": clarabel.ZeroConeT,
        "nonnegative": clarabel.NonnegativeConeT,
        "psd": clarabel.PSDTriangleConeT,
    }
    settings = clarabel.DefaultSettings()
    settings.verbose = False
    for name, value in CLARABEL_SETTINGS.items():
        setattr(settings, name, value)
    count = len(cost)
    solution = clarabel.DefaultSolver(
        sparse.csc_matrix((count, count)),
        cost,
        sparse.csc_matrix(constraints),
        bounds,
        [kinds[kind](size) for kind, size in cones],
        settings,
    ).solve()
    if str(solution.status) not in ("Solved", "AlmostSolved"):
        return None
    return np.asarray(solution.x)


def _numeric(matrix):
    return np.array(matrix.tolist(), dtype=float)


class Proposer:
    """The SDP of an LMI family with ρ² a cvxpy Parameter: compiled once, solved per rate.

    cvxpy caches the canonicalisation of a parametrised (DPP) problem, so a bisection
    pays for it once.
    """

    def __init__(self, lmi):
        import cvxpy as cp

        self._cp = cp
        size = lmi.size
        successor, current = _numeric(lmi.successor), _numeric(lmi.current)
        self.names = [name for name, _, _ in lmi.forms]
        self.rate_squared = cp.Parameter(nonneg=True)
        self.lyapunov = cp.Variable((size, size), symmetric=True)
        self.multipliers = cp.Variable(len(lmi.forms), nonneg=True)
        self.margin = cp.Variable()
        total = successor.T @ self.lyapunov @ successor
        total = total - self.rate_squared * (current.T @ self.lyapunov @ current)
        for index, (_, constant, scaled) in enumerate(lmi.forms):
            total = total + self.multipliers[index] * _numeric(constant)
            if any(scaled):
                total = total + self.rate_squared * (self.multipliers[index] * _numeric(scaled))
        total = (total + total.T) / 2
        # the margin is measured with u on the scale of L·y (a congruence, which the exact
        # check does not see): a gradient direction is not asked L² times the slack of y
        weights = np.ones(successor.shape[1])
        weights[size:] = 1.0 / float(lmi.smoothness) ** 2
        constraints = [
            cp.trace(self.lyapunov) == 1,
            self.lyapunov >> POSITIVITY * np.eye(size),
            total << -self.margin * np.diag(weights),
            self.margin <= 1,
        ]
        self.problem = cp.Problem(cp.Maximize(self.margin), constraints)

    def __call__(self, rate):
        """(P, multipliers, margin) as floats at ``rate``, or None without a margin >= 0."""
        cp = self._cp
        self.rate_squared.value = float(rate) ** 2
        with warnings.catch_warnings():
            # "solution may be inaccurate": it is only a proposal, the exact check decides
            warnings.simplefilter("ignore", UserWarning)
            try:
                self.problem.solve(solver=cp.CLARABEL, **CLARABEL_SETTINGS)
            except cp.error.SolverError:
                self.problem.solve(solver=cp.SCS)
        margin = self.margin.value
        if self.problem.status not in ("optimal", "optimal_inaccurate") or margin is None:
            return None
        if margin < 0:
            return None
        values = np.maximum(self.multipliers.value, 0.0)
        return self.lyapunov.value, dict(zip(self.names, values, strict=True)), float(margin)


def _rational(value, denominator):
    fraction = Fraction(float(value))
    if denominator is not None:
        fraction = fraction.limit_denominator(denominator)
    return sp.Rational(fraction.numerator, fraction.denominator)


def rationalised(lyapunov, multipliers, denominator):
    """P (symmetric) and multipliers (≥ 0) as exact rationals, rounded to ``denominator``."""
    size = lyapunov.shape[0]
    exact = sp.ImmutableMatrix(
        size,
        size,
        lambda i, j: _rational((lyapunov[i, j] + lyapunov[j, i]) / 2, denominator),
    )
    rounded = {
        name: max(_rational(v, denominator), sp.Integer(0)) for name, v in multipliers.items()
    }
    return exact, rounded
