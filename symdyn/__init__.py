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

# Every public name and the module it lives in: loaded on first use (PEP 562), so
# `import symdyn` and `symdyn list` do not pay for NumPy, SciPy, matplotlib, tqdm, ...
_SUBMODULES = ("budget", "function_classes", "games", "models", "optimizers")
_HOMES = {
    "PreconditionerError": "symdyn.catalogue.adaptive",
    "RateCertificate": "symdyn.classes.certificates",  # cvxpy is imported when called
    "best_certified_rate": "symdyn.classes.certificates",
    "certify_rate": "symdyn.classes.certificates",
    "PEPResult": "symdyn.classes.pep",  # PEPit is imported when called
    "pep": "symdyn.classes.pep",
    "gauss_newton": "symdyn.curvature.chain_rule",
    "response_jacobian": "symdyn.curvature.chain_rule",
    "critical_points": "symdyn.curvature.critical_points",
    "Derivation": "symdyn.derivation",
    "LatexError": "symdyn.derivation",
    "ArgumentError": "symdyn.errors",
    "AssignmentError": "symdyn.errors",
    "BudgetExceededError": "symdyn.errors",
    "ExpressionTypeError": "symdyn.errors",
    "NonDifferentiableError": "symdyn.errors",
    "ParseError": "symdyn.errors",
    "RuleError": "symdyn.errors",
    "ShapeError": "symdyn.errors",
    "SymdynError": "symdyn.errors",
    "UndecidedError": "symdyn.errors",
    "UnknownSymbolError": "symdyn.errors",
    "FunctionClassError": "symdyn.errors",
    "GradientOracleError": "symdyn.errors",
    "FrameworkError": "symdyn.errors",
    "FrameworkNotInstalledError": "symdyn.errors",
    "UnsupportedPrimitiveError": "symdyn.errors",
    "from_optax": "symdyn.frameworks.optax",  # jax and optax are imported when called
    "from_torch": "symdyn.frameworks.torch",  # torch is imported when called
    "ContinuousLimit": "symdyn.limits.continuous",
    "NoContinuousLimitError": "symdyn.limits.continuous",
    "continuous_limit": "symdyn.limits.continuous",
    "HamiltonianForm": "symdyn.limits.hamiltonian",
    "hamiltonian_form": "symdyn.limits.hamiltonian",
    "Convergence": "symdyn.limits.integration",
    "convergence": "symdyn.limits.integration",
    "integrate": "symdyn.limits.integration",
    "ModifiedEquation": "symdyn.limits.modified",
    "modified_equation": "symdyn.limits.modified",
    "LimitStability": "symdyn.limits.routh_hurwitz",
    "routh_hurwitz": "symdyn.limits.routh_hurwitz",
    "SdeLimit": "symdyn.limits.sde",
    "sde_limit": "symdyn.limits.sde",
    "hurwitz_conditions": "symdyn.linear.criteria",
    "schur_conditions": "symdyn.linear.criteria",
    "ModalReduction": "symdyn.linear.modes",
    "NonCommutingError": "symdyn.linear.modes",
    "modes": "symdyn.linear.modes",
    "NoStationaryStateError": "symdyn.linear.noise",
    "StationaryCovariance": "symdyn.linear.noise",
    "stationary_covariance": "symdyn.linear.noise",
    "Quadratic": "symdyn.linear.quadratics",
    "LargestRootModulus": "symdyn.linear.root_modulus",
    "quadratic": "symdyn.linear.quadratics",
    "FiniteHorizonRate": "symdyn.linear.spectrum",
    "SpectrumError": "symdyn.linear.spectrum",
    "WorstCaseRate": "symdyn.linear.spectrum",
    "worst_case_rate": "symdyn.linear.spectrum",
    "StabilityResult": "symdyn.linear.stability",
    "charpoly": "symdyn.linear.stability",
    "stability": "symdyn.linear.stability",
    "StepBound": "symdyn.linear.step_bounds",
    "step_bound": "symdyn.linear.step_bounds",
    "Tuning": "symdyn.linear.tuning",
    "tune": "symdyn.classes.design",  # dispatches: a spectrum, or a function class
    "ClassTuning": "symdyn.classes.design",
    "NumericFunction": "symdyn.numeric.codegen",
    "lambdify": "symdyn.numeric.codegen",
    "SimulationResult": "symdyn.numeric.simulation",
    "simulate": "symdyn.numeric.simulation",
    "StabilityMap": "symdyn.numeric.stability_maps",
    "stability_map": "symdyn.numeric.stability_maps",
    "Optimizer": "symdyn.numeric.training",
    "as_optimizer": "symdyn.numeric.training",
    "UpdateRule": "symdyn.rules.rule",
    "grad": "symdyn.rules.rule",
}

__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "AssignmentError",
    "BudgetExceededError",
    "ClassTuning",
    "ContinuousLimit",
    "Convergence",
    "Derivation",
    "ExpressionTypeError",
    "FiniteHorizonRate",
    "FrameworkError",
    "FrameworkNotInstalledError",
    "HamiltonianForm",
    "LargestRootModulus",
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
    "UnsupportedPrimitiveError",
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
    "from_optax",
    "from_torch",
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


def __getattr__(name):
    """Import the module that holds ``name`` the first time it is used."""
    import importlib

    if name in _SUBMODULES:
        value = importlib.import_module(f"symdyn.{name}")
    elif name in _HOMES:
        value = getattr(importlib.import_module(_HOMES[name]), name)
    else:
        raise AttributeError(f"module 'symdyn' has no attribute {name!r}")
    globals()[name] = value  # later look-ups do not come back here
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
