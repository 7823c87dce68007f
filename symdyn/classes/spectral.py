"""The class of quadratics, decided by the spectrum.

On f(x) = xᵀHx/2 − bᵀx the gradient is u = H(y − x*), so each eigenvalue λ of H gives
the per-mode system ξ⁺ = (A + λBC)ξ and the worst case over [μ, L] is that of
:func:`symdyn.worst_case_rate`, exact.
"""

from __future__ import annotations

import sympy as sp

from symdyn.linear.spectrum import worst_case_rate
from symdyn.rules.rule import UpdateRule

__all__ = ["EIGENVALUE", "per_mode_rule", "spectral_rate"]

EIGENVALUE = sp.Symbol("lambda", positive=True)


def per_mode_rule(system):
    """The rule ξ⁺ = (A + λBC)ξ of one eigen-mode, λ = :data:`EIGENVALUE`."""
    jacobian = system.A + EIGENVALUE * system.B * system.C
    state = sp.Matrix(system.state)
    updates = list(zip(system.state, jacobian * state, strict=True))
    return UpdateRule(
        state=system.state,
        updates=updates,
        simultaneous=True,
        name=f"{system.rule.name} on a quadratic",
        free=[EIGENVALUE],
    )


def spectral_rate(system, function_class):
    """:func:`symdyn.worst_case_rate` of the per-mode rule over [μ, L] of the class."""
    return worst_case_rate(
        per_mode_rule(system), {EIGENVALUE: (function_class.mu, function_class.L)}
    )
