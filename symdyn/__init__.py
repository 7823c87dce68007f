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

from symdyn import budget, function_classes, games, models, optimizers
from symdyn.catalogue.adaptive import PreconditionerError
from symdyn.classes.certificates import RateCertificate, best_certified_rate, certify_rate
from symdyn.classes.pep import PEPResult, pep
from symdyn.curvature.chain_rule import gauss_newton, response_jacobian
from symdyn.curvature.critical_points import critical_points
from symdyn.derivation import Derivation, LatexError
from symdyn.errors import (
    ArgumentError,
    AssignmentError,
    BudgetExceededError,
    ExpressionTypeError,
    FunctionClassError,
    GradientOracleError,
    NonDifferentiableError,
    ParseError,
    RuleError,
    ShapeError,
    SymdynError,
    UndecidedError,
    UnknownSymbolError,
)
from symdyn.limits.continuous import ContinuousLimit, NoContinuousLimitError, continuous_limit
from symdyn.limits.hamiltonian import HamiltonianForm, hamiltonian_form
from symdyn.limits.integration import Convergence, convergence, integrate
from symdyn.limits.modified import ModifiedEquation, modified_equation
from symdyn.limits.routh_hurwitz import LimitStability, routh_hurwitz
from symdyn.limits.sde import SdeLimit, sde_limit
from symdyn.linear.criteria import hurwitz_conditions, schur_conditions
from symdyn.linear.modes import ModalReduction, NonCommutingError, modes
from symdyn.linear.noise import NoStationaryStateError, StationaryCovariance, stationary_covariance
from symdyn.linear.quadratics import Quadratic, quadratic
from symdyn.linear.spectrum import FiniteHorizonRate, SpectrumError, WorstCaseRate, worst_case_rate
from symdyn.linear.stability import StabilityResult, charpoly, stability
from symdyn.linear.step_bounds import StepBound, step_bound
from symdyn.linear.tuning import Tuning, tune
from symdyn.numeric.codegen import NumericFunction, lambdify
from symdyn.numeric.simulation import SimulationResult, simulate
from symdyn.numeric.stability_maps import StabilityMap, stability_map
from symdyn.numeric.training import Optimizer, as_optimizer
from symdyn.rules.rule import UpdateRule, grad

__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "AssignmentError",
    "BudgetExceededError",
    "ContinuousLimit",
    "Convergence",
    "Derivation",
    "ExpressionTypeError",
    "FiniteHorizonRate",
    "FunctionClassError",
    "GradientOracleError",
    "HamiltonianForm",
    "LatexError",
    "LimitStability",
    "ModalReduction",
    "ModifiedEquation",
    "NoContinuousLimitError",
    "NoStationaryStateError",
    "NonCommutingError",
    "NonDifferentiableError",
    "NumericFunction",
    "Optimizer",
    "PEPResult",
    "ParseError",
    "PreconditionerError",
    "Quadratic",
    "RateCertificate",
    "RuleError",
    "SdeLimit",
    "ShapeError",
    "SimulationResult",
    "SpectrumError",
    "StabilityMap",
    "StabilityResult",
    "StationaryCovariance",
    "StepBound",
    "SymdynError",
    "Tuning",
    "UndecidedError",
    "UnknownSymbolError",
    "UpdateRule",
    "WorstCaseRate",
    "as_optimizer",
    "best_certified_rate",
    "budget",
    "certify_rate",
    "charpoly",
    "continuous_limit",
    "convergence",
    "critical_points",
    "function_classes",
    "games",
    "gauss_newton",
    "grad",
    "hamiltonian_form",
    "hurwitz_conditions",
    "integrate",
    "lambdify",
    "models",
    "modes",
    "modified_equation",
    "optimizers",
    "pep",
    "quadratic",
    "response_jacobian",
    "routh_hurwitz",
    "schur_conditions",
    "sde_limit",
    "simulate",
    "stability",
    "stability_map",
    "stationary_covariance",
    "step_bound",
    "tune",
    "worst_case_rate",
]
