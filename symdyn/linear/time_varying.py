"""The exact finite-horizon worst case of rules with a step counter, on quadratics.

A rule whose coefficients change with the step k (a step-size schedule, Nesterov's
(k − 1)/(k + 2)) has, on each eigen-direction of a quadratic, θ_N = Π_k J(λ, k) θ_0: a
polynomial in λ with exact coefficients. Its worst case over λ ∈ [μ, L] is attained at an
end point or at a real root of its derivative, isolated exactly
(:func:`time_varying_worst_case`). A periodic schedule is stable when the product over one
period, the monodromy matrix, is (:func:`periodic_stability`).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import sympy as sp
from sympy import QQ

from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import ArgumentError, SpectrumError, UndecidedError
from symdyn.escaping import plain, safe_latex

__all__ = [
    "QUADRATIC_METRICS",
    "PeriodicStability",
    "periodic_stability",
    "time_varying_worst_case",
]

QUADRATIC_METRICS = {
    "ratio": "|\\theta_N| / |\\theta_0|",
    "distance": "\\|x_N - x^\\star\\|^2 / \\|x_0 - x^\\star\\|^2",
    "function_value": "(f(x_N) - f^\\star) / \\|x_0 - x^\\star\\|^2",
    "gradient_norm": "\\|\\nabla f(x_N)\\|^2 / \\|x_0 - x^\\star\\|^2",
}


def _mode_jacobian(rule, spectrum):
    """(J(λ, k), λ, per-mode state, scaling) of a rule on a quadratic or written per mode."""
    from symdyn.linear.modes import modes
    from symdyn.linear.spectrum import _interval

    if any(isinstance(s, sp.MatrixSymbol) for s in rule.state):
        reduction = modes(_counter_as_parameter(rule) if rule.counter is not None else rule)
        eigenvalue, mu, big = _interval(rule, spectrum, reduction.eigenvalue)
        return reduction.jacobian, eigenvalue, reduction.state, reduction.scaling, (mu, big)
    eigenvalue, mu, big = _interval(rule, spectrum, None)
    return rule.jacobian(), eigenvalue, rule.state, (0,) * len(rule.state), (mu, big)


def _counter_as_parameter(rule):
    """The rule with its counter k an ordinary parameter of the same name, so that the modal
    reduction keeps J(λ, k) (it would otherwise replace a time-varying J by its limit)."""
    from symdyn.rules.rule import UpdateRule

    return UpdateRule(
        state=rule.state,
        updates=rule.updates,
        params=(*rule.params, rule.counter),
        name=rule.name,
        simultaneous=rule.simultaneous,
    )


def _coefficients_in(jacobian, eigenvalue, rule):
    """Each entry of J as its coefficients in λ (highest first), expressions in k."""
    table = []
    for entry in jacobian:
        try:
            poly = sp.Poly(sp.cancel(entry), eigenvalue)
        except sp.PolynomialError:
            raise UndecidedError(
                f"{rule.name}: the per-mode entry {entry} is not a polynomial in {eigenvalue}"
            ) from None
        table.append(poly.all_coeffs())
    return table


def _mode_polynomial(rule, jacobian, eigenvalue, start, steps, first):
    """θ_N(λ) = e₁ᵀ J(λ, first + N − 1) ⋯ J(λ, first) s, exactly, as a Poly over ℚ."""
    size = jacobian.rows
    table = _coefficients_in(jacobian, eigenvalue, rule)
    state = [sp.Poly(value, eigenvalue, domain="QQ") for value in start]
    for step in range(first, first + steps):
        entries = []
        for coefficients in table:
            values = [
                c.xreplace({rule.counter: step}) if rule.counter else c for c in coefficients
            ]
            if not all(getattr(v, "is_Rational", False) for v in values):
                raise UndecidedError(
                    f"{rule.name}: at step {step} the per-mode matrix has the coefficients "
                    f"{values}, not all rational numbers; give params={{...}}"
                )
            entries.append(sp.Poly(values, eigenvalue, domain="QQ"))
        state = [
            sum(
                (entries[i * size + j] * state[j] for j in range(size)),
                sp.Poly(0, eigenvalue, domain="QQ"),
            )
            for i in range(size)
        ]
    return state[0]


def _objective(theta, eigenvalue, metric):
    """(metric(λ), the factor of its derivative whose roots are the critical points).

    With θ = θ_N(λ): (θ²)' = 2θθ', (λθ²/2)' = θ(θ + 2λθ')/2, (λ²θ²)' = 2λθ(θ + λθ');
    the zeros of θ are minima of these nonnegative metrics, so θ is divided out."""
    lam = sp.Poly(eigenvalue, eigenvalue, domain="QQ")
    slope = theta.diff()
    return {
        "ratio": (theta * theta, slope),
        "distance": (theta * theta, slope),
        "function_value": (lam * theta * theta * sp.Rational(1, 2), theta + 2 * lam * slope),
        "gradient_norm": (lam * lam * theta * theta, theta + lam * slope),
    }[metric]


WIDTH = sp.Rational(1, 2**60)
"""Width to which each critical point is bisected."""


def _horner(coefficients, point):
    """The polynomial with ``coefficients`` (QQ, highest first) at ``point``, exactly."""
    value = QQ(0)
    for c in coefficients:
        value = value * point + c
    return value


def _critical_points(factor, low, high, width=WIDTH):
    """Real roots of ``factor`` in [low, high]: isolated exactly (``Poly.intervals``), then
    bisected on exact signs to ``width`` (the metric is flat there to second order)."""
    if factor.is_zero or factor.degree() < 1:
        return []
    squarefree = sp.Poly(sp.quo(factor, sp.gcd(factor, factor.diff())), factor.gen)
    coefficients = [QQ.convert(c) for c in squarefree.all_coeffs()]

    def sign(point):  # exactly in QQ (python-flint or gmpy2 where present)
        value = _horner(coefficients, point)
        return (value > 0) - (value < 0)

    points = []
    for (a, b), _ in squarefree.intervals(inf=low, sup=high):
        a, b = QQ.convert(sp.Rational(a)), QQ.convert(sp.Rational(b))
        sign_a, limit = sign(a), QQ.convert(width)
        while b - a > limit:
            middle = (a + b) / 2
            here = sign(middle)
            if here == 0:
                a = b = middle
            elif here == sign_a:
                a = middle
            else:
                b = middle
        middle = (a + b) / 2
        points.append(sp.Rational(int(middle.numerator), int(middle.denominator)))
    return points


def time_varying_worst_case(
    rule, spectrum, steps, init=None, params=None, metric="ratio", first_step=0
):
    """Worst case over λ ∈ [μ, L] after N steps of a rule with a step counter k.

    Per mode, θ_N(λ) = e₁ᵀ J(λ, k₀ + N − 1) ⋯ J(λ, k₀) s is a polynomial in λ with
    rational coefficients (every parameter given a value); the metric is maximised
    exactly over the end points and the real roots of its derivative, isolated by
    sympy's real-root isolation (``Poly.intervals``) and bisected on exact signs to width
    2⁻⁶⁰ (the metric is flat there to second order, so its value is exact to rounding).

    Parameters
    ----------
    rule : UpdateRule
        With ``counter=k``; on :func:`quadratic` (matrix state) or per mode.
    spectrum : (mu, L) or {lam: (mu, L)}
    steps : int
    init : mapping, optional
        Other state variables as multiples of θ₀ (default 0).
    params : mapping, optional
    metric : {"ratio", "distance", "function_value", "gradient_norm"}
        |θ_N|/|θ₀| (as ``worst_case_rate``), or ‖x_N − x*‖², f(x_N) − f*, ‖∇f(x_N)‖²
        per unit ‖x_0 − x*‖².
    first_step : int
        The counter's value at the first step.

    Returns
    -------
    FiniteHorizonRate

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> k = sp.Symbol("k", integer=True, nonnegative=True)
    >>> x, lam = sp.Symbol("x", real=True), sp.Symbol("lambda", positive=True)
    >>> rule = sd.UpdateRule([x], [(x, x - lam * x / (k + 2))], counter=k)
    >>> round(time_varying_worst_case(rule, {lam: (1, 2)}, steps=2).rate, 12)
    0.333333333333
    """
    from symdyn.linear.spectrum import FiniteHorizonRate, parameter_values

    if metric not in QUADRATIC_METRICS:
        raise ArgumentError(
            f"{rule.name}: metric must be one of {sorted(QUADRATIC_METRICS)}, got {metric!r}",
            symbol="metric",
        )
    if not isinstance(steps, numbers.Integral) or isinstance(steps, bool) or steps < 1:
        raise ArgumentError(f"steps must be a positive integer, got {steps!r}", symbol="steps")
    jacobian, eigenvalue, state, scaling, (mu, big) = _mode_jacobian(rule, spectrum)
    values = parameter_values(rule, params, "worst_case_rate(params=...)")
    jacobian = sp.ImmutableMatrix(jacobian.xreplace(values))
    start = _initial_vector(rule, state, scaling, init)
    theta = _mode_polynomial(rule, jacobian, eigenvalue, start, steps, first_step)
    objective, factor = _objective(theta, eigenvalue, metric)
    candidates = [mu, big, *_critical_points(factor, mu, big)]
    coefficients = [QQ.convert(c) for c in objective.all_coeffs()]
    scores = [_horner(coefficients, QQ.convert(c)) for c in candidates]
    scores = [sp.Rational(int(q.numerator), int(q.denominator)) for q in scores]
    best = max(range(len(scores)), key=lambda i: scores[i])
    value = sp.sqrt(scores[best]) if metric == "ratio" else scores[best]
    derivation = _time_varying_derivation(
        rule, eigenvalue, (mu, big), steps, first_step, theta, metric, candidates, best, value
    )
    return FiniteHorizonRate(
        rule=rule,
        eigenvalue=eigenvalue,
        spectrum=(mu, big),
        rate=float(value),
        argmax=float(candidates[best]),
        steps=int(steps),
        derivation=derivation,
    )


def _initial_vector(rule, state, scaling, init):
    from symdyn.rules.values import exact_values

    start = [sp.Integer(1)] + [sp.Integer(0)] * (len(state) - 1)
    where = f"{rule.name}: worst_case_rate(init=...)"
    for key, value in exact_values(init, rule.state, where=where).items():
        if key not in rule.state[1:]:
            raise SpectrumError(f"init: {key} is not one of the other state variables", symbol=key)
        index = rule.state.index(key)
        if scaling[index] and value != 0:
            raise SpectrumError(f"init: {key} is rescaled per mode, only 0 is supported")
        start[index] = value
    return start


def _time_varying_derivation(
    rule, eigenvalue, spectrum, steps, first, theta, metric, candidates, best, value
):
    lam = safe_latex(eigenvalue)
    counter = safe_latex(rule.counter)
    derivation = Derivation(f"Worst case of {plain(rule.name)} over a spectrum, {steps} steps")
    derivation = derivation.then(
        f"Per mode, with ${counter} = {first}, \\dots, {first + steps - 1}$, the product of "
        f"the per-step matrices applied to the start gives a polynomial of degree "
        f"{theta.degree()} in ${lam}$",
        TeX(f"\\theta_N({lam}) = {safe_latex(theta.as_expr())}")
        if theta.degree() <= 6
        else TeX(f"\\deg \\theta_N = {theta.degree()}"),
    )
    low, high = spectrum
    return derivation.then(
        f"The metric ${QUADRATIC_METRICS[metric]}$ is a polynomial in ${lam}$; its maximum "
        f"over $[{safe_latex(low)}, {safe_latex(high)}]$ is at an end point or at one of the "
        f"{len(candidates) - 2} real roots of its derivative there (isolated exactly, refined "
        "to width $2^{-60}$), giving",
        TeX(
            f"\\max = {float(value):.12g} \\quad\\text{{at}}\\quad {lam} = "
            f"{float(candidates[best]):.12g}"
        ),
    )


@dataclass(frozen=True)
class PeriodicStability(Presented):
    """Stability of a periodic schedule through the monodromy matrix of one period.

    Attributes
    ----------
    rule : UpdateRule
    period : int
    eigenvalue : sympy.Symbol
        λ (the curvature of the mode).
    monodromy : sympy.ImmutableMatrix
        M(λ) = J(λ, k₀ + p − 1) ⋯ J(λ, k₀), exact.
    region : sympy.Boolean
        Where ρ(M(λ)) < 1 (Schur–Cohn–Jury on its characteristic polynomial).
    stability : StabilityResult
        The analysis of M, whose ``is_stable`` decides a value of λ exactly.
    derivation : Derivation
    """

    rule: object
    period: int
    eigenvalue: sp.Symbol
    monodromy: sp.ImmutableMatrix
    region: sp.Basic
    stability: object
    derivation: Derivation = field(repr=False)


def periodic_stability(rule, period, spectrum=None, params=None, first_step=0):
    """Stability of a rule whose counter-dependence repeats every ``period`` steps.

    After one period the per-mode state is multiplied by the monodromy matrix
    M(λ) = J(λ, k₀ + p − 1) ⋯ J(λ, k₀); the schedule is stable (geometrically, for that
    mode) exactly when ρ(M(λ)) < 1, decided by the Schur–Cohn–Jury conditions on the
    characteristic polynomial of M (:func:`symdyn.stability` of the matrix).

    Parameters
    ----------
    rule : UpdateRule
        With ``counter=k``, and J(λ, k + p) = J(λ, k) (checked).
    period : int
    spectrum : (mu, L) or {lam: (mu, L)}, optional
        Only used to name the curvature symbol of a per-mode rule.
    params : mapping, optional
    first_step : int

    Returns
    -------
    PeriodicStability

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> k = sp.Symbol("k", integer=True, nonnegative=True)
    >>> x, lam = sp.Symbol("x", real=True), sp.Symbol("lambda", positive=True)
    >>> steps = 1 + sp.Rational(1, 2) * (-1) ** k          # 3/2, 1/2, 3/2, ...
    >>> rule = sd.UpdateRule([x], [(x, x - steps * lam * x)], counter=k)
    >>> periodic_stability(rule, 2, spectrum={lam: (1, 2)}).monodromy
    Matrix([[3*lambda**2/4 - 2*lambda + 1]])
    """
    from symdyn.linear.spectrum import parameter_values
    from symdyn.linear.stability import stability

    if not isinstance(period, numbers.Integral) or isinstance(period, bool) or period < 1:
        raise ArgumentError(f"period must be a positive integer, got {period!r}", symbol="period")
    spectrum = spectrum if spectrum is not None else (1, 1)
    jacobian, eigenvalue, _, _, _ = _mode_jacobian(rule, spectrum)
    values = parameter_values(rule, params, "periodic_stability(params=...)")
    jacobian = sp.ImmutableMatrix(jacobian.xreplace(values))
    counter = rule.counter
    shifted = jacobian.xreplace({counter: counter + period}) - jacobian
    if shifted.applyfunc(lambda e: sp.simplify(sp.expand_power_base(e))) != sp.zeros(
        *jacobian.shape
    ):
        raise SpectrumError(
            f"{rule.name}: J(lambda, k + {period}) differs from J(lambda, k), so the schedule "
            f"does not have period {period}"
        )
    monodromy = sp.eye(jacobian.rows)
    for step in range(first_step, first_step + period):
        monodromy = jacobian.xreplace({counter: step}) * monodromy
    monodromy = sp.ImmutableMatrix(monodromy.applyfunc(sp.expand))
    result = stability(monodromy)
    lam = safe_latex(eigenvalue)
    derivation = Derivation(f"Periodic stability of {plain(rule.name)}").then(
        f"Over one period of {period} steps the per-mode state is multiplied by the "
        "monodromy matrix",
        TeX(f"M({lam}) = " + safe_latex(monodromy)),
    )
    derivation = derivation + result.derivation
    return PeriodicStability(
        rule=rule,
        period=int(period),
        eigenvalue=eigenvalue,
        monodromy=monodromy,
        region=result.region,
        stability=result,
        derivation=derivation,
    )
