"""The IQC linear matrix inequality of Lessard, Recht & Packard (2016) for f ∈ S(μ, L).

Shift so that the minimiser is y* = 0 with ∇f(y*) = 0 and f* = 0, and write, at each
gradient call, p = u − μy and q = Ly − u. With g = f − μ|·|²/2 (convex, (L−μ)-smooth,
∇g = p) the interpolation inequality of g between two points i, j reads

    G_i − G_j ≥ p_jᵀ(q_i − q_j),    G = (L−μ) g − |p|²/2,

(Taylor, Hendrickx & Glineur 2017, Thm. 4). Between y_k and y* in both directions it
gives 0 ≤ G_k ≤ p_kᵀq_k, whence the **sector IQC** p_kᵀq_k ≥ 0 (LRP Lemma 6); between
y_k and y_{k−1}, weighted by ρ², plus 1 − ρ² times the one with y*, it gives the
**weighted off-by-one IQC** (LRP Lemma 10)

    p_kᵀ(q_k − ρ² q_{k−1}) ≥ G_k − ρ² G_{k−1}    (0 < ρ ≤ 1).

The filter state ζ_k = q_{k−1}/L joins the state, ξ̂ = (ξ, ζ), and with multipliers
λ, ν ≥ 0 per call the LMI in P is

    [Â B̂]ᵀ P [Â B̂] − ρ² [I 0]ᵀ P [I 0] + Σ λ Sector + Σ ν OffByOne ⪯ 0,

a quadratic form in (ξ̂ − ξ̂*, u). Multiplied out, W_k = V(ξ̂_k) + Σ ν G_{k−1} obeys
W_{k+1} ≤ ρ² W_k, and W ≥ V ≥ λ_min(P)|ξ − ξ*|².

**The states reached.** After one step ξ̂ lies in the column space of [Â B̂], which can be
smaller than the whole augmented space: for triple momentum, and for gradient descent at
η = 1/L, the filter state is a fixed combination of ξ from step 1 on. V is then asked to
be positive and to contract only there, in coordinates z made of the entries of ξ̂ that
stay free (ξ̂ − ξ̂* = T(z − z*)). On the whole space such an LMI is not strictly feasible
at the best rate (P must vanish on a direction no trajectory visits, and a double-
precision solver cannot round its margin); on the reached subspace its margin grows like
ρ − ρ*, not (ρ − ρ*)².
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

__all__ = ["Lmi", "lmi_of", "reached_basis"]


@dataclass(frozen=True)
class Lmi:
    """The data of the LMI, exact: M(P, λ, ν) = Φᵀ P Φ − ρ² Πᵀ P Π + Σ λ_j S_j + Σ ν_j O_j.

    Each form is kept as F⁰ + ρ² F¹ so that a solver can vary ρ without rebuilding.

    Attributes
    ----------
    rate : sympy.Rational
    successor : sympy.ImmutableMatrix
        Φ = [Â B̂], the next augmented state from (ξ̂, u).
    current : sympy.ImmutableMatrix
        Π = [I 0], the augmented state from (ξ̂, u).
    forms : tuple of (str, sympy.ImmutableMatrix, sympy.ImmutableMatrix)
        The named quadratic forms S_j, O_j of the IQCs in (z, u), as (name, F⁰, F¹).
    size : int
        The size of P.
    smoothness : sympy.Rational
        L of the class (the scale of the gradients).
    basis : sympy.ImmutableMatrix
        T, with ξ̂ − ξ̂* = T(z − z*) on the states reached after one step; the identity when
        every augmented state is reached (then z = ξ̂).
    kept : tuple of int
        The entries of ξ̂ that make up z (T has the identity in those rows).
    """

    rate: sp.Rational
    successor: sp.ImmutableMatrix
    current: sp.ImmutableMatrix
    forms: tuple
    size: int
    smoothness: sp.Rational
    basis: sp.ImmutableMatrix
    kept: tuple

    @property
    def reduced(self):
        """Whether V lives on a proper subspace (the states reached after one step)."""
        return self.basis.cols < self.basis.rows

    def matrix(self, lyapunov, multipliers):
        """M for an exact P and multipliers (a mapping from the forms' names)."""
        total = (
            self.successor.T * lyapunov * self.successor
            - self.rate**2 * self.current.T * lyapunov * self.current
        )
        for name, constant, scaled in self.forms:
            total += multipliers[name] * (constant + self.rate**2 * scaled)
        return sp.ImmutableMatrix(total)


def _symmetric_product(left, right):
    """The symmetric matrix of the form (left·z)(right·z), left and right rows."""
    outer = left.T * right
    return sp.ImmutableMatrix((outer + outer.T) / 2)


def reached_basis(successor, size):
    """T and the kept entries of ξ̂ with ξ̂ = T z spanning the column space of ``successor``.

    The constraints wᵀξ̂ = 0 (w in the left null space of [Â B̂]) are solved for the
    entries furthest right, so the free coordinates z are the leftmost entries: ξ before
    the filter states ζ.

    Examples
    --------
    >>> import sympy as sp
    >>> T, kept = reached_basis(sp.Matrix([[1, 0, -1], [1, 0, -1]]), 2)
    >>> T, kept
    (Matrix([
    [1],
    [1]]), (0,))
    """
    constraints = successor.T.nullspace()
    if not constraints:
        return sp.ImmutableMatrix(sp.eye(size)), tuple(range(size))
    reversed_rows = sp.Matrix.hstack(*constraints).T[:, ::-1]
    _, pivots = reversed_rows.rref()
    solved = {size - 1 - pivot for pivot in pivots}
    kept = tuple(j for j in range(size) if j not in solved)
    basis = sp.Matrix.hstack(*sp.Matrix.vstack(*[c.T for c in constraints]).nullspace())
    basis = basis * basis.extract(list(kept), list(range(basis.cols))).inv()
    return sp.ImmutableMatrix(basis), kept


def _on_reached(successor, current, forms, size):
    """The LMI data in (z, u): z⁺ is the kept rows of Φ(Tz, u), and each form is EᵀFE."""
    basis, kept = reached_basis(successor, size)
    if len(kept) == size:
        return successor, current, forms, basis, kept
    calls = successor.cols - size
    embedding = sp.diag(basis, sp.eye(calls))
    successor = (successor * embedding).extract(list(kept), list(range(embedding.cols)))
    current = sp.Matrix.hstack(sp.eye(len(kept)), sp.zeros(len(kept), calls))
    forms = [
        (
            name,
            sp.ImmutableMatrix(embedding.T * a * embedding),
            sp.ImmutableMatrix(embedding.T * b * embedding),
        )
        for name, a, b in forms
    ]
    return successor, current, forms, basis, kept


def lmi_of(system, function_class, rate, off_by_one=True):
    """The LMI of ``system`` in feedback with ∇f, f in ``function_class``, at ``rate``.

    Parameters
    ----------
    system : LinearSystem
    function_class : FunctionClass
    rate : sympy.Rational
        ρ, with 0 < ρ ≤ 1 when ``off_by_one``.
    off_by_one : bool
        Include the weighted off-by-one IQC (and its filter state).

    Returns
    -------
    Lmi
    """
    mu, big = function_class.mu, function_class.L
    A, B, C = system.A, system.B, system.C
    n, calls = A.rows, B.cols
    filters = calls if off_by_one else 0
    # (ξ, ζ, u) coordinates
    xi = sp.Matrix.hstack(sp.eye(n), sp.zeros(n, filters + calls))
    zeta = sp.Matrix.hstack(sp.zeros(filters, n), sp.eye(filters), sp.zeros(filters, calls))
    u = sp.Matrix.hstack(sp.zeros(calls, n + filters), sp.eye(calls))
    y = C * xi
    p = u - mu * y
    q = big * y - u
    next_state = A * xi + B * u
    # ζ_k = q_{k−1}/L: the filter state on the scale of y, which keeps the SDP well scaled
    successor = sp.Matrix.vstack(next_state, q / big) if off_by_one else next_state
    current = sp.Matrix.vstack(xi, zeta) if off_by_one else xi
    forms = []
    none = sp.ImmutableMatrix.zeros(successor.cols, successor.cols)
    for j in range(calls):
        tag = "" if calls == 1 else f"_{j + 1}"
        forms.append((f"sector{tag}", _symmetric_product(p[j, :], q[j, :]), none))
    if off_by_one:
        for j in range(calls):
            tag = "" if calls == 1 else f"_{j + 1}"
            pq = _symmetric_product(p[j, :], q[j, :])
            forms.append((f"off_by_one{tag}", pq, -big * _symmetric_product(p[j, :], zeta[j, :])))
    successor, current, forms, basis, kept = _on_reached(successor, current, forms, n + filters)
    return Lmi(
        rate=rate,
        successor=sp.ImmutableMatrix(successor),
        current=sp.ImmutableMatrix(current),
        forms=tuple(forms),
        size=len(kept),
        smoothness=big,
        basis=basis,
        kept=kept,
    )
