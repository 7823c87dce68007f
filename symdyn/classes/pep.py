"""Performance estimation (PEPit) built from a rule, with an exactly verified bound.

:func:`pep` runs N steps of the rule's linear system (:mod:`symdyn.classes.linear_system`)
on PEPit points: each state variable is a PEPit point, each ``grad(f(y))`` an oracle
call. PEPit solves the worst case; then the dual of the same problem with the metric
raised by ε(|x₀ − x*|² + Σ|gᵢ|²/L²) is solved (:mod:`symdyn.classes.pep_dual`), whose
duals, rounded, leave S ⪰ εE with room to spare, and are checked exactly
(:mod:`symdyn.classes.pep_certificate`).

References
----------
Drori & Teboulle, "Performance of first-order methods for smooth convex minimization: a
novel approach", Math. Program. 145 (2014). Taylor, Hendrickx & Glineur (2017). Goujaud
et al., "PEPit: computer-assisted worst-case analyses of first-order optimization methods
in Python", Math. Program. Comput. (2024).
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from sympy import QQ

from symdyn.budget import bounded, phase
from symdyn.classes.function_classes import FunctionClass
from symdyn.classes.linear_system import linear_system
from symdyn.classes.pep_certificate import DualCheck, Form, check_dual, interpolation
from symdyn.classes.pep_dual import certifying_duals, ordered_pairs
from symdyn.derivation import Derivation, Presented, TeX, latex
from symdyn.errors import ArgumentError, FunctionClassError, GradientOracleError
from symdyn.escaping import plain
from symdyn.rules.rule import UpdateRule
from symdyn.rules.values import exact_values

__all__ = ["METRICS", "PEPResult", "pep"]

METRICS = {
    "distance": "\\|x_N - x^\\star\\|^2",
    "function_value": "f(x_N) - f^\\star",
    "gradient_norm": "\\|\\nabla f(x_N)\\|^2",
}
INITIAL = {"distance": "\\|x_0 - x^\\star\\|^2", "function_value": "f(x_0) - f^\\star"}
THRESHOLD = 1e-10
"""Duals below it are taken as 0; the exact correction acts on the others."""
PERTURBATION = 1e-7
"""ε of the certifying solve: the bound exceeds the value by about ε(1 + Σ|gᵢ|²/L²)."""


@dataclass(frozen=True)
class PEPResult(Presented):
    """The worst case after N steps over a function class.

    Attributes
    ----------
    rule : UpdateRule
    function_class : FunctionClass
    steps : int
    metric, initial : str
    value : float
        PEPit's worst-case value (initial quantity ≤ 1).
    bound : sympy.Expr
        An exact rational upper bound proved by the verified dual; ``oo`` if none was.
    verified : bool
    derivation : Derivation
    """

    rule: UpdateRule
    function_class: FunctionClass
    steps: int
    metric: str
    initial: str
    value: float
    bound: sp.Expr
    verified: bool
    derivation: Derivation = field(repr=False)


class _Run:
    """The PEPit problem and its exact shadow, built together call by call."""

    def __init__(self, function_class, dimension, calls):
        from PEPit import PEP
        from PEPit.functions import SmoothConvexFunction, SmoothStronglyConvexFunction

        self.problem = PEP()
        mu, big = float(function_class.mu), float(function_class.L)
        if function_class.mu == 0:
            self.func = self.problem.declare_function(SmoothConvexFunction, L=big)
        else:
            self.func = self.problem.declare_function(SmoothStronglyConvexFunction, mu=mu, L=big)
        self.xs, self.gs, self.fs = self.func.stationary_point(
            return_gradient_and_function_value=True
        )
        self.x0 = self.problem.set_initial_point()
        self.dimension, self.values = dimension, calls + 1
        zero = np.full(dimension, QQ(0), dtype=object)
        self.points = [(zero, zero, 0)]  # exact (x − x*, g, index of f), PEPit's order
        self.gradients = []
        self.calls = {0: (self.gs, self.fs, 0)}

    def basis(self, index):
        vector = np.full(self.dimension, QQ(0), dtype=object)
        vector[index] = QQ(1)
        return vector

    def call(self, deviation, exact):
        """∇f and f at x* + ``deviation`` (a PEPit point), with ``exact`` its coordinates.

        A point met before (exactly) reuses its oracle call, as PEPit would."""
        for index, (seen, _, _) in enumerate(self.points):
            if all(seen == exact):
                return self.calls[index]
        gradient, value = self.func.oracle(self.xs + deviation)
        self.gradients.append(gradient)
        index = len(self.points)
        self.points.append((exact, self.basis(index), index))
        self.calls[index] = (gradient, value, index)
        return gradient, value, index


def _fraction(rational):
    return QQ(int(rational.p), int(rational.q))


def _combination(coefficients, points):
    total = None
    for coefficient, point in zip(coefficients, points, strict=True):
        if coefficient != 0:
            term = float(coefficient) * point
            total = term if total is None else total + term
    return total if total is not None else 0 * points[0]


def _calls_needed(system, steps, metric, initial):
    return steps * system.B.cols + (metric != "distance") + (initial == "function_value")


def _start(rule, system, init):
    """Initial deviations ξ₀ − ξ* as multiples of x₀ − x* (``init``, as worst_case_rate's)."""
    start = [QQ(1)] + [QQ(0)] * (len(rule.state) - 1)
    for key, value in exact_values(init, rule.state, where=f"{rule.name}: pep(init=...)").items():
        if key == rule.state[0]:
            raise ArgumentError(f"init: {key} starts at x_0 by definition", symbol=key)
        if not value.is_Rational:
            raise ArgumentError(f"init: {key} = {value} must be rational", symbol=key)
        start[rule.state.index(key)] = _fraction(value)
    return start


def _build(run, system, steps, metric, initial, start):
    """Run the method on PEPit points; return the exact metric and initial forms."""
    values = run.values
    w0 = run.basis(0)
    exact = [w0 * s for s in start]
    state = [float(s) * (run.x0 - run.xs) for s in start]
    if initial == "distance":
        run.problem.set_initial_condition((run.x0 - run.xs) ** 2 <= 1)
        initial_form = Form.inner(w0, w0, values)
    else:
        _, value, index = run.call(run.x0 - run.xs, w0)
        run.problem.set_initial_condition(value - run.fs <= 1)
        initial_form = Form.value(index, run.dimension, values) - Form.value(
            0, run.dimension, values
        )
    A, B, C = system.A, system.B, system.C
    for _ in range(steps):
        outputs = []
        for j in range(C.rows):
            point = _combination(C.row(j), state)
            coordinates = sum((exact[i] * _fraction(C[j, i]) for i in range(C.cols)), 0 * w0)
            gradient, _, index = run.call(point, coordinates)
            outputs.append((gradient, run.basis(index)))
        pep_inputs, exact_inputs = state + [g for g, _ in outputs], exact + [e for _, e in outputs]
        whole = A.row_join(B)
        state = [_combination(whole.row(i), pep_inputs) for i in range(A.rows)]
        exact = [
            sum((exact_inputs[c] * _fraction(whole[i, c]) for c in range(whole.cols)), 0 * w0)
            for i in range(A.rows)
        ]
    final, final_exact = state[0], exact[0]
    if metric == "distance":
        target, metric_form = final**2, Form.inner(final_exact, final_exact, values)
    else:
        gradient, value, index = run.call(final, final_exact)
        if metric == "function_value":
            target = value - run.fs
            metric_form = Form.value(index, run.dimension, values) - Form.value(
                0, run.dimension, values
            )
        else:
            target = gradient**2
            g = run.basis(index)
            metric_form = Form.inner(g, g, values)
    run.problem.set_performance_metric(target)
    return metric_form, initial_form


def _solve(system, function_class, steps, metric, initial, start):
    """Build the PEPit problem and solve it."""
    calls = _calls_needed(system, steps, metric, initial)
    run = _Run(function_class, calls + 1, calls)
    forms = _build(run, system, steps, metric, initial, start)
    # PEPit's default (SCS) is accurate to about 1e-5 here; Clarabel to 1e-8 and better
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        value = run.problem.solve(verbose=0, solver="CLARABEL")
    return run, forms, value


def _certificate(run, function_class, metric_form, initial_form):
    """Solve the ε-raised dual (:mod:`symdyn.classes.pep_dual`) and check it exactly."""
    mu, big = _fraction(function_class.mu), _fraction(function_class.L)
    found = certifying_duals(
        run.points,
        float(mu),
        float(big),
        metric_form,
        initial_form,
        len(run.gradients),
        PERTURBATION,
    )
    if found is None:
        return DualCheck(False, QQ(0), 0, (), "Clarabel did not solve the certifying dual")
    tau, duals = found
    constraints = [
        interpolation(run.points[i], run.points[j], mu, big, run.values)
        if dual > THRESHOLD
        else None
        for i, j, dual in zip(*ordered_pairs(len(run.points)), duals, strict=True)
    ]
    return check_dual(metric_form, initial_form, constraints, tau, duals, THRESHOLD)


def _checked(rule, function_class, steps, metric, initial):
    if not isinstance(rule, UpdateRule):
        raise GradientOracleError(f"pep: expected an UpdateRule, got {type(rule).__name__}")
    if not isinstance(function_class, FunctionClass) or function_class.quadratic_only:
        raise FunctionClassError(
            "pep: the class must be SmoothStronglyConvex(mu, L) or SmoothConvex(L); for "
            "quadratics use sd.worst_case_rate(rule, spectrum=..., steps=N)"
        )
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 1:
        raise ArgumentError(
            f"pep: steps must be a positive integer, got {steps!r}", symbol="steps"
        )
    if metric not in METRICS:
        raise ArgumentError(f"pep: metric must be one of {sorted(METRICS)}, got {metric!r}")
    if initial not in INITIAL:
        raise ArgumentError(f"pep: initial must be one of {sorted(INITIAL)}, got {initial!r}")


@bounded("pep")
def pep(
    rule,
    function_class,
    steps,
    metric="function_value",
    initial="distance",
    params=None,
    init=None,
    certify=True,
):
    """The worst case of ``metric`` after ``steps`` steps over ``function_class`` (PEPit).

    Parameters
    ----------
    rule : UpdateRule
        Gradient calls sd.grad(f(y), y) at points linear in the state; its first state
        variable is the iterate x.
    function_class : SmoothStronglyConvex or SmoothConvex
    steps : int
    metric : {"function_value", "distance", "gradient_norm"}
        f(x_N) − f*, ‖x_N − x*‖² or ‖∇f(x_N)‖².
    initial : {"distance", "function_value"}
        ‖x_0 − x*‖² ≤ 1 or f(x_0) − f* ≤ 1.
    params : mapping
        Exact values of the parameters.
    init : mapping, optional
        Other state variables' initial deviations from their fixed point, as multiples of
        x_0 − x* (default 0), as ``worst_case_rate``'s ``init=``.
    certify : bool
        Also solve the certifying problem and check its dual exactly (default); without
        it ``bound`` is ``oo`` and ``verified`` False.
    timeout : float, optional

    Returns
    -------
    PEPResult
    """
    _checked(rule, function_class, steps, metric, initial)
    system = linear_system(rule, params)
    if system.fixed_direction[0] != 1:
        raise GradientOracleError(
            f"{rule.name}: the first state variable {rule.state[0]} is not the iterate "
            "(its fixed point is not x*)"
        )
    start = _start(rule, system, init)
    phase("the PEP (PEPit)")
    run, (metric_form, initial_form), value = _solve(
        system, function_class, steps, metric, initial, start
    )
    check = None
    if certify:
        phase("the certifying dual and its exact check")
        check = _certificate(run, function_class, metric_form, initial_form)
    verified = check is not None and check.verified
    bound = sp.Rational(check.bound.numerator, check.bound.denominator) if verified else sp.oo
    derivation = _derivation(system, function_class, steps, metric, initial, value, check, bound)
    return PEPResult(
        rule=rule,
        function_class=function_class,
        steps=int(steps),
        metric=metric,
        initial=initial,
        value=float(value),
        bound=bound,
        verified=verified,
        derivation=derivation,
    )


def _derivation(system, function_class, steps, metric, initial, value, check, bound):
    derivation = Derivation(f"Performance estimation for {plain(system.rule.name)}")
    derivation = derivation + system.derivation
    derivation = derivation.then(
        f"Over every {function_class.describe()}, after $N = {steps}$ steps from "
        f"${INITIAL[initial]} \\le 1$, PEPit (Taylor, Hendrickx and Glineur 2017 interpolation "
        "conditions, one per ordered pair of the points where the gradient is asked) gives "
        "the worst case",
        TeX(f"\\max {METRICS[metric]} \\approx {value:.10g}"),
    )
    if check is None:
        return derivation.then("No certificate was asked for (certify=False).")
    if not check.verified:
        return derivation.then(
            f"The rounded dual fails the exact check ({check.reason}); no bound is claimed."
        )
    return derivation.then(
        f"The dual of the problem with the metric raised by $\\varepsilon = {PERTURBATION:g}$ "
        "times $\\|x_0 - x^\\star\\|^2 + \\sum_i \\|g_i\\|^2 / L^2$ gives "
        f"{check.used} interpolation multipliers "
        "$\\lambda_{ij} \\ge 0$ and $\\tau$; rounded to rationals, with the function values' "
        "coefficients restored exactly, they satisfy the identity "
        f"${METRICS[metric]} - \\tau\\, ({INITIAL[initial]}) - \\sum \\lambda_{{ij}} c_{{ij}} = "
        "-\\langle S, G \\rangle$, where exact LDL$^T$ elimination finds $S \\succeq 0$. "
        "Since every $c_{ij} \\le 0$, this proves",
        TeX(f"{METRICS[metric]} \\le {latex(bound)} \\, ({INITIAL[initial]})"),
    )
