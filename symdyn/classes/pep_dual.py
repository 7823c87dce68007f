"""The certifying dual of a performance estimation problem, solved by Clarabel directly.

With the metric raised by ε E (E = |x₀ − x*|² + Σ|gᵢ|²/L², every basis vector on the
scale of x₀ − x*), the dual of PEPit's problem is

    min τ   s.t.   τ I_lin + Σ λ_ij c_ij,lin = metric_lin,
                   S = τ I_Q + Σ λ_ij c_ij,Q − metric_Q − ε E ⪰ 0,    τ, λ ≥ 0,

over every ordered pair (i, j) of the points where f is asked. Its duals, rounded, leave
S ⪰ εE − rounding with room to spare, which the exact check
(:mod:`symdyn.classes.pep_certificate`) then decides. The problem is built here from the
exact shadow of the points (float copies) and handed to Clarabel without a modelling
layer: it is the same problem PEPit would write, and a second PEPit solve cost more than
the first's worst case itself (cvxpy's canonicalisation).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from symdyn.classes.sdp import solve_clarabel, svec

__all__ = ["certifying_duals", "interpolation_matrices", "ordered_pairs"]


def ordered_pairs(count):
    """Every ordered pair (i, j), i ≠ j, in PEPit's table order (row-major)."""
    first, second = np.meshgrid(np.arange(count), np.arange(count), indexing="ij")
    keep = first != second
    return first[keep], second[keep]


def _symmetric_outer(a, b):
    outer = a[:, :, None] * b[:, None, :]
    return (outer + np.transpose(outer, (0, 2, 1))) / 2


def interpolation_matrices(points, mu, big, values):
    """Float (quadratic, linear) parts of every c_ij, in :func:`ordered_pairs` order."""
    x = np.array([p[0] for p in points], dtype=float)
    g = np.array([p[1] for p in points], dtype=float)
    f = np.array([p[2] for p in points])
    i, j = ordered_pairs(len(points))
    dx, dg = x[i] - x[j], g[i] - g[j]
    quadratic = _symmetric_outer(g[j], dx) + _symmetric_outer(dg, dg) / (2 * big)
    if mu:
        shifted = dx - dg / big
        quadratic = quadratic + _symmetric_outer(shifted, shifted) * (mu / (2 * (1 - mu / big)))
    linear = np.zeros((len(i), values))
    np.add.at(linear, (np.arange(len(i)), f[j]), 1.0)
    np.add.at(linear, (np.arange(len(i)), f[i]), -1.0)
    return quadratic, linear


def certifying_duals(points, mu, big, metric, initial, gradients, epsilon):
    """(τ, λ per ordered pair) of the ε-raised dual, or None if Clarabel fails.

    Parameters
    ----------
    points : list of (x, g, f index)
        The exact points, x* first (PEPit's order).
    mu, big : float
        The class's constants.
    metric, initial : Form
    gradients : int
        How many basis vectors after x₀ − x* are gradients (E's support).
    epsilon : float
    """
    quadratic, linear = interpolation_matrices(points, mu, big, len(metric.linear))
    metric_q, metric_l = metric.quadratic.astype(float), metric.linear.astype(float)
    initial_q, initial_l = initial.quadratic.astype(float), initial.linear.astype(float)
    dimension = metric_q.shape[0]
    raised = np.zeros(dimension)
    raised[0], raised[1 : 1 + gradients] = 1.0, 1.0 / big**2
    count = len(quadratic) + 1  # τ, then λ
    cone_rows = np.vstack([svec(initial_q[None])[0], svec(quadratic)]).T
    equality = np.column_stack([initial_l, linear.T])
    A = sparse.vstack(
        [sparse.csc_matrix(equality), -sparse.identity(count), -sparse.csc_matrix(cone_rows)]
    ).tocsc()
    b = np.concatenate(
        [metric_l, np.zeros(count), svec((-metric_q - epsilon * np.diag(raised))[None])[0]]
    )
    cost = np.zeros(count)
    cost[0] = 1.0
    cones = [("zero", len(metric_l)), ("nonnegative", count), ("psd", dimension)]
    duals = solve_clarabel(cost, A, b, cones)
    if duals is None:
        return None
    return float(duals[0]), list(duals[1:])
