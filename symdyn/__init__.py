"""symdyn: the dynamics of learning algorithms, derived exactly.

Examples
--------
>>> import sympy as sp
>>> import symdyn as sd
>>> x = sp.Symbol("x", real=True)
>>> eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
>>> rule = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
>>> sd.step_bound(rule, step=eta).upper
2*(beta + 1)/lambda
"""

from symdyn import games, models, optimizers
from symdyn.continuous import (
    ContinuousLimit,
    LimitStability,
    ModifiedEquation,
    NoContinuousLimitError,
    continuous_limit,
    modified_equation,
    routh_hurwitz,
)
from symdyn.criteria import hurwitz_conditions, schur_conditions
from symdyn.curvature import critical_points, gauss_newton, response_jacobian
from symdyn.derivation import Derivation, LatexError
from symdyn.errors import (
    AssignmentError,
    ExpressionTypeError,
    ParseError,
    RuleError,
    ShapeError,
    SymdynError,
    UndecidedError,
    UnknownSymbolError,
)
from symdyn.hamiltonian import HamiltonianForm, hamiltonian_form
from symdyn.numeric import (
    NumericFunction,
    Optimizer,
    SimulationResult,
    StabilityMap,
    as_optimizer,
    lambdify,
    simulate,
    stability_map,
)
from symdyn.rule import UpdateRule, grad
from symdyn.stability import StabilityResult, StepBound, charpoly, stability, step_bound

__version__ = "0.1.0"

__all__ = [
    "AssignmentError",
    "ContinuousLimit",
    "Derivation",
    "ExpressionTypeError",
    "HamiltonianForm",
    "LatexError",
    "LimitStability",
    "ModifiedEquation",
    "NoContinuousLimitError",
    "NumericFunction",
    "Optimizer",
    "ParseError",
    "RuleError",
    "ShapeError",
    "SimulationResult",
    "StabilityMap",
    "StabilityResult",
    "StepBound",
    "SymdynError",
    "UndecidedError",
    "UnknownSymbolError",
    "UpdateRule",
    "as_optimizer",
    "charpoly",
    "continuous_limit",
    "critical_points",
    "games",
    "gauss_newton",
    "grad",
    "hamiltonian_form",
    "hurwitz_conditions",
    "lambdify",
    "models",
    "modified_equation",
    "optimizers",
    "response_jacobian",
    "routh_hurwitz",
    "schur_conditions",
    "simulate",
    "stability",
    "stability_map",
    "step_bound",
]
