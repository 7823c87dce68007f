"""Routh–Hurwitz stability of a continuous limit's linearisation at an equilibrium.

As h → 0 the region found here is the limit of the discrete stability region
of the rule under the same scaling (heavy ball with β = 1 − γ√η: γ > 0).

References
----------
Liénard & Chipart (1914) for the form of the criterion used
(:func:`symdyn.linear.criteria.hurwitz_conditions`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from symdyn.budget import bounded
from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import UndecidedError
from symdyn.escaping import safe_latex
from symdyn.frozen import freeze_fields
from symdyn.limits.continuous import T
from symdyn.linear.criteria import hurwitz_conditions
from symdyn.linear.kernel import characteristic_polynomial

__all__ = ["LimitStability", "routh_hurwitz"]


@dataclass(frozen=True)
class LimitStability(Presented):
    """Routh–Hurwitz stability of a limit ODE linearised at an equilibrium.

    Attributes
    ----------
    point : dict
        Function → value at the equilibrium.
    matrix : sympy.ImmutableMatrix
        The linearisation as a first-order system.
    charpoly : sympy.Poly
        ``det(s I − A)`` in ``s``.
    conditions : tuple of sympy relations
    region : sympy.Boolean
    derivation : Derivation
        The limit's derivation (so the ODE is stated once), then the linearisation
        and the criterion.
    """

    point: dict
    matrix: sp.ImmutableMatrix
    charpoly: sp.Poly
    conditions: tuple
    region: sp.Basic
    derivation: Derivation = field(repr=False)

    def __post_init__(self):
        freeze_fields(self, "point")


@bounded("routh_hurwitz")
def routh_hurwitz(limit, at=None):
    """Routh–Hurwitz stability of the linearisation of ``limit.ode`` at an equilibrium.

    Parameters
    ----------
    limit : ContinuousLimit
    at : mapping, optional
        Position symbol (or function of t) → value; by default the unique
        equilibrium.
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta, lam, gamma = sp.symbols("eta lambda gamma", positive=True)
    >>> beta = sp.Symbol("beta", positive=True)
    >>> hb = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
    >>> lim = sd.continuous_limit(hb, h=eta, scaling={beta: 1 - gamma * sp.sqrt(eta)},
    ...                           time_step=sp.sqrt(eta))
    >>> routh_hurwitz(lim).charpoly.as_expr()
    gamma*s + lambda + s**2
    """
    s = sp.Symbol("s")
    phase, dummies, fields = limit.first_order_system()
    if any(T in f.free_symbols for f in fields):
        raise UndecidedError(
            "the limit ODE depends on t explicitly; Routh–Hurwitz needs an "
            "autonomous linearisation"
        )
    positions = [
        d for d, p in zip(dummies, phase, strict=True) if not isinstance(p, sp.Derivative)
    ]
    rates = [d for d, p in zip(dummies, phase, strict=True) if isinstance(p, sp.Derivative)]
    if at is None:
        at_rest = [f.subs({r: 0 for r in rates}) for f in fields]
        solutions = sp.solve([f for f in at_rest if f != 0], positions, dict=True)
        if len(solutions) != 1:
            raise UndecidedError(
                f"the limit ODE has {len(solutions)} equilibria found; give one with at={{...}}"
            )
        point = {
            positions[i]: solutions[0].get(positions[i], positions[i])
            for i in range(len(positions))
        }
    else:
        given = limit.values(at, f"{limit.rule.name}: routh_hurwitz(at=...)", functions=True)
        point = {d: given[p] for d, p in zip(dummies, phase, strict=True) if p in given}
    point.update({r: 0 for r in rates})
    matrix = sp.ImmutableMatrix(sp.Matrix(fields).jacobian(dummies).subs(point).doit())
    poly = characteristic_polynomial(matrix, s)
    conditions = hurwitz_conditions(poly)
    region = sp.And(*conditions)
    shown_point = {p: point[d] for d, p in zip(dummies, phase, strict=True)}
    criterion = "By the Liénard–Chipart form of the Routh–Hurwitz criterion"
    if region == sp.true:  # every condition was decided true: say so, with the math
        verdict = (f"{criterion} every condition holds for every admissible value:", sp.true)
    else:
        verdict = (f"{criterion} this holds if and only if", conditions)
    derivation = (
        Derivation("Routh–Hurwitz stability of the limit ODE", limit.derivation.steps)
        .then(
            "Written as a first-order system and linearised at the equilibrium",
            tuple(sp.Eq(k, v) for k, v in shown_point.items()),
        )
        .then("the system matrix is", TeX("A = " + safe_latex(matrix)))
        .then(
            "Solutions decay exactly when every root of the characteristic polynomial "
            "lies in the open left half-plane:",
            sp.Eq(sp.Symbol("p(s)"), poly.as_expr()),
        )
        .then(*verdict)
    )
    return LimitStability(shown_point, matrix, poly, conditions, region, derivation)
