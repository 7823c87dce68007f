"""Exact dual certificates of a performance estimation problem.

The PEP's unknowns are the Gram matrix G of the basis vectors (x₀ − x*, then each
gradient the method asks for) and the function values (f*, then one per oracle call).
Every quantity is a quadratic form in the basis plus a linear form in the values, kept
here exactly (:class:`Form`, entries of sympy's ``QQ``: python-flint's ``fmpq`` or gmpy2's
``mpq`` where installed, much faster than :class:`fractions.Fraction`).

With interpolation inequalities c_ij ≤ 0 (Taylor, Hendrickx & Glineur 2017) and the
initial condition I ≤ 1, multipliers λ_ij ≥ 0 and τ ≥ 0 prove metric ≤ τ when

    metric − τ I − Σ λ_ij c_ij = −⟨S, G⟩,    S ⪰ 0,

as an identity: its linear part in the function values vanishes. The solver's duals are
rounded, the identity's linear part is restored exactly by the least-norm correction on
the multipliers in use, and S ⪰ 0 is decided by LDLᵀ pivots (:mod:`symdyn.classes.exact`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sympy import QQ
from sympy.polys.matrices import DomainMatrix

from symdyn.classes.exact import semidefinite

__all__ = ["DualCheck", "Form", "check_dual", "interpolation"]


@dataclass(frozen=True)
class Form:
    """⟨Q, G⟩ + lᵀf: ``quadratic`` a symmetric object array, ``linear`` an object vector."""

    quadratic: np.ndarray
    linear: np.ndarray

    @classmethod
    def zero(cls, dimension, values):
        return cls(
            np.full((dimension, dimension), QQ(0), dtype=object),
            np.full(values, QQ(0), dtype=object),
        )

    @classmethod
    def inner(cls, a, b, values):
        """The form a·b of two vectors given by their coordinates."""
        outer = np.outer(a, b)
        return cls((outer + outer.T) * QQ(1, 2), np.full(values, QQ(0), dtype=object))

    @classmethod
    def value(cls, index, dimension, values, sign=1):
        form = cls.zero(dimension, values)
        form.linear[index] = QQ(sign)
        return form

    def __add__(self, other):
        return Form(self.quadratic + other.quadratic, self.linear + other.linear)

    def __sub__(self, other):
        return Form(self.quadratic - other.quadratic, self.linear - other.linear)

    def scaled(self, factor):
        return Form(self.quadratic * factor, self.linear * factor)


def interpolation(point_i, point_j, mu, big, values):
    """c_ij ≤ 0 for f ∈ S(μ, L) (μ = 0: smooth convex), in PEPit's form.

    f_j − f_i + g_jᵀ(x_i − x_j) + |g_i − g_j|²/(2L) + μ/(2(1 − μ/L)) |x_i − x_j − (g_i − g_j)/L|².
    Each point is (x coordinates, g coordinates, index of f).
    """
    (x_i, g_i, f_i), (x_j, g_j, f_j) = point_i, point_j
    dimension = len(x_i)
    dx, dg = x_i - x_j, g_i - g_j
    form = Form.value(f_j, dimension, values) - Form.value(f_i, dimension, values)
    form = form + Form.inner(g_j, dx, values) + Form.inner(dg, dg, values).scaled(1 / (2 * big))
    if mu:
        shifted = dx - dg * (1 / big)
        form = form + Form.inner(shifted, shifted, values).scaled(mu / (2 * (1 - mu / big)))
    return form


@dataclass(frozen=True)
class DualCheck:
    """The outcome: ``bound`` (τ, an exact ``QQ`` element) and whether S ⪰ 0 held exactly."""

    verified: bool
    bound: object
    used: int
    pivots: tuple
    reason: str


DENOMINATOR = 2**40
"""The common denominator the duals are rounded to: an error of 1e-12 each, far inside the
room ε leaves, and entries of S that stay small (separate denominators of 10¹⁵ each made
its LDLᵀ pivots run to hundreds of digits)."""


def _rounded(value):
    return QQ(round(float(value) * DENOMINATOR), DENOMINATOR)


def _restore_linear_part(target, columns, weights):
    """weights + Δ, Δ of least norm, with Σ weights_k columns_k = target exactly.

    The rows of the system are the function values; those no column touches are dropped,
    and so are dependent ones (the values appear in differences), before the least-norm
    solve Δ = Mᵀ(MMᵀ)⁻¹r over ℚ (sympy's ``DomainMatrix``)."""
    rows = len(target)
    current = [
        sum((w * c[r] for w, c in zip(weights, columns, strict=True)), QQ(0)) for r in range(rows)
    ]
    residual = [QQ(target[r]) - current[r] for r in range(rows)]
    if not any(residual):
        return list(weights)
    touched = [r for r in range(rows) if any(c[r] for c in columns)]
    matrix = DomainMatrix(
        [[QQ(c[r]) for c in columns] for r in touched], (len(touched), len(columns)), QQ
    )
    _, independent = matrix.transpose().rref()
    matrix = matrix.extract(list(independent), list(range(len(columns))))
    right = DomainMatrix([[residual[touched[k]]] for k in independent], (len(independent), 1), QQ)
    correction = matrix.transpose() * (matrix * matrix.transpose()).lu_solve(right)
    return [w + c for w, c in zip(weights, correction.to_list_flat(), strict=True)]


def check_dual(metric, initial, constraints, tau, duals, threshold=1e-10):
    """Round (τ, λ) and decide exactly whether they prove metric ≤ τ.

    Parameters
    ----------
    metric, initial : Form
    constraints : list of Form or None
        The c_ij, in the order of ``duals`` (None where the dual is below ``threshold``).
    tau : float
    duals : list of float
    threshold : float
        Multipliers below it are taken as 0 (the correction acts on the others).
    """
    used = [k for k, value in enumerate(duals) if value > threshold]
    weights = [_rounded(tau)] + [_rounded(duals[k]) for k in used]
    forms = [initial] + [constraints[k] for k in used]
    weights = _restore_linear_part(metric.linear, [f.linear for f in forms], weights)
    if any(w < 0 for w in weights):
        return DualCheck(False, weights[0], len(used), (), "a multiplier is negative")
    total = metric
    for weight, form in zip(weights, forms, strict=True):
        total = total - form.scaled(weight)
    if any(total.linear):
        return DualCheck(False, weights[0], len(used), (), "the function values do not cancel")
    size = total.quadratic.shape[0]
    gram = DomainMatrix([[-QQ(v) for v in row] for row in total.quadratic], (size, size), QQ)
    check = semidefinite(gram)
    reason = "" if check.holds else f"S is not positive semidefinite ({check.reason})"
    return DualCheck(check.holds, weights[0], len(used), check.pivots, reason)
