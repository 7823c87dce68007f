"""Numeric proposals for the IQC LMI (cvxpy), and their rounding to rationals.

The solver only *proposes* P and the multipliers; :mod:`symdyn.classes.exact` decides.
The SDP maximises the margin t in P ⪰ tI, M ⪯ −tI under trace(P) = 1 (the LMI is
homogeneous), so that a proposal sits inside the feasible set and survives rounding.
cvxpy is imported here, when a certificate is asked for, never by ``import symdyn``.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

__all__ = ["DENOMINATORS", "propose", "rationalised"]

DENOMINATORS = (10**2, 10**4, 10**6, 10**9, None)
"""Largest denominators tried when rounding a proposal, smallest first (None: the float)."""


def _numeric(matrix):
    return np.array(matrix.tolist(), dtype=float)


def propose(lmi):
    """(P, multipliers, margin) as floats, or None when the solver finds no margin ≥ 0."""
    import cvxpy as cp

    size = lmi.size
    successor, current = _numeric(lmi.successor), _numeric(lmi.current)
    rate = float(lmi.rate)
    lyapunov = cp.Variable((size, size), symmetric=True)
    multipliers = cp.Variable(len(lmi.forms), nonneg=True)
    margin = cp.Variable()
    total = successor.T @ lyapunov @ successor - rate**2 * (current.T @ lyapunov @ current)
    for index, (_, form) in enumerate(lmi.forms):
        total = total + multipliers[index] * _numeric(form)
    total = (total + total.T) / 2
    width = successor.shape[1]
    constraints = [
        cp.trace(lyapunov) == 1,
        lyapunov >> margin * np.eye(size),
        total << -margin * np.eye(width),
        margin <= 1,
    ]
    problem = cp.Problem(cp.Maximize(margin), constraints)
    try:
        problem.solve(solver=cp.CLARABEL)
    except cp.error.SolverError:
        problem.solve(solver=cp.SCS)
    if problem.status not in ("optimal", "optimal_inaccurate") or margin.value is None:
        return None
    if margin.value < 0:
        return None
    names = [name for name, _ in lmi.forms]
    values = dict(zip(names, np.maximum(multipliers.value, 0.0), strict=True))
    return lyapunov.value, values, float(margin.value)


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
    rounded = {name: max(_rational(v, denominator), sp.Integer(0)) for name, v in multipliers.items()}
    return exact, rounded
