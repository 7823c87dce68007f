"""Property-based validation of symdyn's claims, for your test suite and ours.

Strategies (:mod:`symdyn.testing.strategies`) draw parameters inside or
outside a derived region, SPD matrices, states and random rules; the
``check_*`` functions compare a claim (derived, or handed in) with an
independent numeric computation and raise :class:`CheckFailure`, an
``AssertionError`` with the shrunk counterexample, when they disagree.

Examples
--------
>>> import sympy as sp, symdyn as sd
>>> from symdyn import testing
>>> x = sp.Symbol("x", real=True)
>>> eta, lam = sp.symbols("eta lambda", positive=True)
>>> rule = sd.optimizers.gd(lam * x**2 / 2, [x], eta)
>>> testing.check_jacobian(rule).passed
True
"""

from symdyn.testing import strategies
from symdyn.testing.checks import (
    CheckFailure,
    CheckReport,
    check_against_torch,
    check_derivation,
    check_fixed_points,
    check_jacobian,
    check_stability,
    check_step_bound,
)
from symdyn.testing.continuous_checks import check_continuous_limit, check_hamiltonian
from symdyn.testing.framework_checks import check_against_optax
from symdyn.testing.profiles import register_profiles

__all__ = [
    "CheckFailure",
    "CheckReport",
    "check_against_optax",
    "check_against_torch",
    "check_continuous_limit",
    "check_derivation",
    "check_fixed_points",
    "check_hamiltonian",
    "check_jacobian",
    "check_stability",
    "check_step_bound",
    "register_profiles",
    "strategies",
]
