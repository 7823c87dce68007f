"""Worst cases of a linear method over a spectrum interval [μ, L].

A linear method on a quadratic evolves each eigen-mode with its own k×k
Jacobian J(λ) (:mod:`symdyn.linear.modes`; for a rule written per mode, J is its
Jacobian and λ the curvature symbol). Over every quadratic whose Hessian
has its spectrum in [μ, L]:

* the asymptotic worst-case rate is max over λ ∈ [μ, L] of ρ(J(λ));
* the finite-horizon worst case after N steps is max over λ of |θ_N(λ)|/|θ₀|.

The per-mode system and the checked interval defined here are shared by
:mod:`symdyn.linear.tuning` (the hyperparameters minimising the asymptotic rate) and
:mod:`symdyn.linear.noise` (the stationary covariance under gradient noise).

References
----------
Polyak, "Some methods of speeding up the convergence of iteration methods" (1964);
Lessard, Recht & Packard, "Analysis and design of optimization algorithms via
integral quadratic constraints" (2016); Goh, "Why momentum really works" (2017).
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symdyn.budget import bounded
from symdyn.derivation import Derivation, TeX
from symdyn.errors import SpectrumError, UndecidedError
from symdyn.escaping import plain, safe_latex
from symdyn.linear.criteria import sign_of
from symdyn.linear.modes import modes
from symdyn.rules.factoring import factor
from symdyn.rules.rule import UpdateRule
from symdyn.rules.values import exact_value, exact_values

__all__ = ["FiniteHorizonRate", "SpectrumError", "WorstCaseRate", "worst_case_rate"]

Z = sp.Symbol("z")


@dataclass(frozen=True)
class WorstCaseRate:
    """The exact asymptotic worst case of a linear method over eigenvalues λ ∈ [μ, L].

    Attributes
    ----------
    rule : UpdateRule
    eigenvalue : sympy.Symbol
        λ.
    spectrum : tuple
        (μ, L).
    rate : sympy.Expr
        max over λ of the spectral radius, exact.
    argmax : tuple
        The candidates where the worst case is attained: the end points (μ, L).
    derivation : Derivation
    """

    rule: UpdateRule
    eigenvalue: sp.Symbol
    spectrum: tuple
    rate: sp.Expr
    argmax: tuple
    derivation: Derivation = field(repr=False)


@dataclass(frozen=True)
class FiniteHorizonRate:
    """The worst case of a linear method after N steps, over eigenvalues λ ∈ [μ, L].

    Attributes
    ----------
    rule : UpdateRule
    eigenvalue : sympy.Symbol
    spectrum : tuple
        (μ, L).
    rate : float
        max over λ of |θ_N|/|θ₀|, to about 1e-12 relative.
    argmax : float
        The λ where it is attained.
    steps : int
        N.
    derivation : Derivation
    """

    rule: UpdateRule
    eigenvalue: sp.Symbol
    spectrum: tuple
    rate: float
    argmax: float
    steps: int
    derivation: Derivation = field(repr=False)


# -- the per-mode system -------------------------------------------------------------------


@functools.lru_cache(maxsize=64)
def _per_mode(rule):
    """(J(λ), λ or None, per-mode state, scaling, derivation) for a linear rule."""
    if any(isinstance(s, sp.MatrixSymbol) for s in rule.state):
        reduction = modes(rule)
        if reduction.full:
            raise SpectrumError(
                f"{rule.name}: the modes do not decouple (the blocks are not functions of one "
                "matrix), so a spectrum interval does not describe the problem"
            )
        return (
            reduction.jacobian,
            reduction.eigenvalue,
            reduction.state,
            reduction.scaling,
            reduction.derivation,
        )
    if not rule.is_affine:
        raise SpectrumError(
            f"{rule.name}: the map is not linear in the state; worst cases over a spectrum "
            "are defined for linear rules (quadratic objectives)"
        )
    if rule.is_time_varying:
        raise UndecidedError(f"{rule.name}: the map depends on the step counter {rule.counter}")
    jac = rule.jacobian()
    derivation = Derivation(f"Modes of {plain(rule.name)}").then(
        "Per mode, the rule is linear with Jacobian", TeX("J = " + safe_latex(jac))
    )
    return jac, None, rule.state, (0,) * len(rule.state), derivation


def parameter_values(rule, params, where):
    """``params`` as ``{Symbol: exact value}``: keys resolved among the rule's symbols,
    values by the exact-number policy (:mod:`symdyn.rules.values`). The rule is analysed with
    the values substituted, as by ``rule.subs``, so a sign's boundary is allowed (β = 0)."""
    return exact_values(
        params, rule.symbols, where=f"{rule.name}: {where}", expressions=True, closure=True
    )


def _interval(rule, spectrum, eigenvalue):
    """(λ, μ, L) from ``(mu, L)`` or ``{lam: (mu, L)}``, checked."""
    if isinstance(spectrum, Mapping):
        if len(spectrum) != 1:
            raise SpectrumError(f"spectrum must name one curvature symbol, got {spectrum!r}")
        ((symbol, bounds),) = spectrum.items()
        if eigenvalue is not None and symbol != eigenvalue:
            raise SpectrumError(
                f"{rule.name}: the modes are written in {eigenvalue}, not {symbol}; "
                f"give spectrum=(mu, L) or {{{eigenvalue}: (mu, L)}}"
            )
        eigenvalue = symbol
    else:
        bounds = spectrum
        if eigenvalue is None:
            named = [s for s in rule.free if isinstance(s, sp.Symbol) and s.name == "lambda"]
            if len(named) != 1:
                raise SpectrumError(
                    f"{rule.name}: a per-mode rule needs its curvature symbol named, "
                    "spectrum={lam: (mu, L)}"
                )
            eigenvalue = named[0]
    try:
        mu, big = bounds
    except (TypeError, ValueError):
        raise SpectrumError(f"spectrum must be a pair (mu, L), got {bounds!r}") from None
    mu, big = (
        exact_value(mu, where="the spectrum's mu"),
        exact_value(big, where="the spectrum's L"),
    )
    if sign_of(mu) != 1:
        raise SpectrumError(
            f"the spectrum's lower end mu = {mu} must be positive (declare it positive=True); "
            "rates over a spectrum reaching 0 are 1"
        )
    if sign_of(big - mu) == -1:
        raise SpectrumError(f"the spectrum ({mu}, {big}) has mu > L")
    return eigenvalue, mu, big


def _coefficients(jac, eigenvalue):
    """(T, D) of det(zI − J) = z² − T z + D, or (a,) for k = 1."""
    poly = sp.Poly(sp.expand((Z * sp.eye(jac.rows) - jac).det(method="berkowitz")), Z)
    coeffs = [sp.cancel(c) for c in poly.all_coeffs()]
    if poly.degree() == 1:
        return (-coeffs[1],)
    if poly.degree() == 2:
        return (-coeffs[1], coeffs[2])
    return None


def _affine_in(expr, symbol):
    try:
        return sp.Poly(expr, symbol).degree() <= 1
    except sp.PolynomialError:
        return False


def _radius(coefficients):
    """Exact largest root modulus of z − a or z² − T z + D (real coefficients)."""
    if len(coefficients) == 1:
        return sp.Abs(coefficients[0])
    trace, det = coefficients
    discriminant = factor(trace**2 - 4 * det)
    sign = sign_of(discriminant)
    complex_pair = sp.sqrt(det)
    real = (sp.Abs(trace) + sp.sqrt(discriminant)) / 2
    if sign == -1:
        return complex_pair
    if sign in (0, 1):
        return real
    return sp.Piecewise((complex_pair, discriminant < 0), (real, True))


@bounded("worst_case_rate")
def worst_case_rate(rule, spectrum, steps=None, init=None, params=None):
    """Worst case of ``rule`` over every eigenvalue λ in [μ, L].

    Asymptotic (``steps=None``): max over λ ∈ [μ, L] of ρ(J(λ)), exact when
    the per-mode characteristic polynomial has degree ≤ 2 and coefficients
    affine in λ: the monic quadratics with both roots in the closed disc of
    radius r form a convex set (|D| ≤ r², |T| ≤ r + D/r), so ρ(λ) is
    quasi-convex and the maximum sits at an end point.

    Finite horizon (``steps=N``): max over λ of |θ_N(λ)|/|θ₀|, θ_N the first
    per-mode coordinate after N steps of the recurrence from
    (θ₀, init·θ₀). θ_N(λ) is a polynomial in λ; it is interpolated exactly at
    Chebyshev points and maximised over the roots of its derivative and the
    end points. Every symbol but λ needs a numeric value.

    Parameters
    ----------
    rule : UpdateRule
        A linear rule: on :func:`symdyn.quadratic` (matrix state), or per mode.
    spectrum : (mu, L) or {lam: (mu, L)}
        ``0 < mu <= L``. A per-mode rule needs its curvature symbol, unless it
        is called ``lambda``.
    steps : int, optional
    init : mapping, optional
        Other state variable → its initial value as a multiple of θ₀ (default 0).
    params : mapping, optional
        Values for the rule's parameters (floats become exact rationals).
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

    Returns
    -------
    WorstCaseRate or FiniteHorizonRate
        The exact asymptotic rate, or (with ``steps``) the rate after N steps: two
        types, so that each field has one type.

    Raises
    ------
    SpectrumError
        For μ ≤ 0, μ > L, or a rule whose modes do not decouple.

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> eta, mu, L = sp.symbols("eta mu L", positive=True)
    >>> q = sd.quadratic("theta", n=sp.Symbol("n"))
    >>> worst_case_rate(sd.optimizers.gd(q.loss, [q.theta], lr=eta), (mu, L)).rate
    Max(Abs(L*eta - 1), Abs(eta*mu - 1))
    >>> gd = sd.optimizers.gd(q.loss, [q.theta], lr=sp.Rational(1, 2))
    >>> round(worst_case_rate(gd, (1, 3), steps=2).rate, 12)
    0.25
    """
    if steps is not None and rule.is_time_varying:  # a step counter: exact, in quadratics.py
        from symdyn.linear.quadratics import time_varying_worst_case

        return time_varying_worst_case(rule, spectrum, steps, init=init, params=params)
    jac, eigenvalue, state, scaling, derivation = _per_mode(rule)
    eigenvalue, mu, big = _interval(rule, spectrum, eigenvalue)
    values = parameter_values(rule, params, "worst_case_rate(params=...)")
    if values and steps is None:
        jac = sp.ImmutableMatrix(jac.subs(values))
    derivation = Derivation(f"Worst case of {plain(rule.name)} over a spectrum") + derivation
    derivation = derivation.then(
        f"Every eigenvalue ${safe_latex(eigenvalue)}$ lies in the interval",
        TeX(f"{safe_latex(mu)} \\le {safe_latex(eigenvalue)} \\le {safe_latex(big)}"),
    )
    if steps is None:
        return _asymptotic(rule, jac, eigenvalue, mu, big, derivation)
    return _finite(
        rule, jac, eigenvalue, state, scaling, (mu, big), values, steps, init, derivation
    )


def _asymptotic(rule, jac, eigenvalue, mu, big, derivation):
    coefficients = _coefficients(jac, eigenvalue)
    if coefficients is None or not all(_affine_in(c, eigenvalue) for c in coefficients):
        raise UndecidedError(
            f"{rule.name}: the per-mode characteristic polynomial is not of degree ≤ 2 with "
            "coefficients affine in the eigenvalue, so symdyn has no exact worst case; "
            "use steps=N for a finite-horizon worst case"
        )
    radius = _radius(coefficients)
    names = "z - a(\\lambda)" if len(coefficients) == 1 else "z^2 - T(\\lambda) z + D(\\lambda)"
    derivation = derivation.then(
        f"The per-mode characteristic polynomial ${names}$ has coefficients affine in "
        f"${safe_latex(eigenvalue)}$",
        tuple(
            sp.Eq(sp.Symbol(n), c)
            for n, c in zip("TD" if len(coefficients) == 2 else "a", coefficients, strict=False)
        ),
    )
    derivation = derivation.then(
        "A monic real polynomial of degree at most two has its roots in the closed disc of "
        "radius $r$ exactly when $|a| \\le r$ (degree one), or $|D| \\le r^2$ and "
        "$|T| \\le r + D/r$ (degree two): a convex set of coefficients. Its preimage under the "
        "affine map $\\lambda \\mapsto$ (coefficients) is an interval, so the spectral radius "
        "is quasi-convex in $\\lambda$ and its maximum over the interval is at an end point",
        sp.Eq(sp.Symbol(r"\rho"), radius),
    )
    rate = sp.Max(radius.subs(eigenvalue, mu), radius.subs(eigenvalue, big))
    derivation = derivation.then(
        "The asymptotic worst-case rate is", sp.Eq(sp.Symbol(r"\rho_{\max}"), rate)
    )
    return WorstCaseRate(
        rule=rule,
        eigenvalue=eigenvalue,
        spectrum=(mu, big),
        rate=rate,
        argmax=(mu, big),
        derivation=derivation,
    )


@functools.lru_cache(maxsize=64)
def _numeric_jacobian(jac, eigenvalue):
    """A NumPy J(λ, others...) and the degree of J in λ (None if not polynomial)."""
    others = tuple(sorted(jac.free_symbols - {eigenvalue}, key=str))
    entries = sp.lambdify([eigenvalue, *others], list(jac), "numpy")
    degrees = [_polynomial_degree(e, eigenvalue) for e in jac]
    degree = None if None in degrees else max(degrees)
    k = jac.rows

    def evaluate(lams, values):
        lams = np.asarray(lams, dtype=float)
        out = np.empty((*lams.shape, k * k))
        for i, value in enumerate(entries(lams, *values)):
            out[..., i] = value
        return out.reshape(*lams.shape, k, k)

    return evaluate, degree, others


def _polynomial_degree(expr, symbol):
    try:
        return sp.Poly(expr, symbol).degree()
    except sp.PolynomialError:
        return None


def _first_coordinate(evaluate, values, start, steps, lams):
    """θ_N(λ) for each λ by the per-mode recurrence."""
    matrices = evaluate(lams, values)
    state = np.broadcast_to(start, (*np.shape(lams), len(start))).copy()
    for _ in range(steps):
        state = np.einsum("...ij,...j->...i", matrices, state)
    return state[..., 0]


def _polynomial_maxima(series, low, high):
    """Points where |series| has its local maxima on [low, high], to rounding.

    A grid uniform in the Chebyshev angle, 16 points per degree, brackets each
    extremum; the derivative's sign change is then bisected (vectorised).
    """
    count = 16 * (series.degree() + 1) + 1
    grid = np.sort(low + (high - low) * (1 - np.cos(np.linspace(0, np.pi, count))) / 2)
    modulus = np.abs(series(grid))
    inner = np.flatnonzero((modulus[1:-1] >= modulus[:-2]) & (modulus[1:-1] >= modulus[2:])) + 1
    left, right = grid[inner - 1], grid[inner + 1]
    slope = series.deriv()
    sign = np.sign(series(grid[inner]))  # |series| peaks away from its zeros
    rising = slope(left) * sign > 0
    for _ in range(36):
        middle = (left + right) / 2
        same = (slope(middle) * sign > 0) == rising
        left, right = np.where(same, middle, left), np.where(same, right, middle)
    return np.concatenate([[low, high], (left + right) / 2, grid[inner]])


def _finite(rule, jac, eigenvalue, state, scaling, spectrum, params, steps, init, derivation):
    if not isinstance(steps, numbers.Integral) or steps < 1:
        raise SpectrumError(f"steps must be a positive integer, got {steps!r}")
    mu, big = spectrum
    try:
        low, high = float(mu), float(big)
    except TypeError:
        raise SpectrumError(
            f"a finite-horizon worst case needs a numeric spectrum, got ({mu}, {big})"
        ) from None
    start = [1.0] + [0.0] * (len(state) - 1)
    where = f"{rule.name}: worst_case_rate(init=...)"
    for key, value in exact_values(init, rule.state, where=where).items():
        if key not in rule.state[1:]:
            raise SpectrumError(
                f"init: {key} is not one of the other state variables "
                f"{[str(s) for s in rule.state[1:]]}",
                symbol=key,
            )
        i = rule.state.index(key)
        if scaling[i] and value != 0:
            raise SpectrumError(f"init: {key} is rescaled per mode, only 0 is supported")
        start[i] = float(value)
    evaluate, degree, others = _numeric_jacobian(jac, eigenvalue)
    try:
        values = [float(params.get(s, s)) for s in others]
    except TypeError:
        names = ", ".join(map(str, others))
        raise UndecidedError(
            f"{rule.name}: a finite-horizon worst case needs numeric values for {names}; "
            "pass params={...}"
        ) from None
    start = np.array(start)

    def theta(lams):
        return _first_coordinate(evaluate, values, start, steps, lams)

    if degree is not None and high > low:
        order = max(degree * steps, 1)
        series = np.polynomial.Chebyshev.interpolate(theta, order, domain=[low, high])
        candidates = _polynomial_maxima(series, low, high)
        method = (
            f"$\\theta_N$ is a polynomial of degree at most {order} in "
            f"${safe_latex(eigenvalue)}$; interpolated at {order + 1} Chebyshev points (exact "
            "for a polynomial), its modulus is maximised over the end points and the roots of "
            "its derivative (bracketed on a fine grid, then bisected), giving"
        )
    else:
        from scipy.optimize import minimize_scalar

        candidates = np.linspace(low, high, 20001)
        best = int(np.argmax(np.abs(theta(candidates))))
        a, b = candidates[max(best - 1, 0)], candidates[min(best + 1, len(candidates) - 1)]
        if b > a:
            refined = minimize_scalar(
                lambda t: -abs(theta(np.array([t]))[0]),
                bounds=(a, b),
                method="bounded",
                options={"xatol": 1e-13},
            )
            candidates = np.append(candidates, refined.x)
        method = (
            "$\\theta_N$ is not a polynomial in the eigenvalue; its modulus is maximised on a "
            "grid of 20001 points and refined by a bounded scalar search, giving"
        )
    moduli = np.abs(theta(candidates))
    best = int(np.argmax(moduli))
    rate, where = float(moduli[best]), float(candidates[best])
    initial = ", ".join(f"{safe_latex(s)}_0 = {v:g}" for s, v in zip(state, start, strict=True))
    derivation = derivation.then(
        f"From ${initial}$ (in units of $\\theta_0$), $N = {steps}$ steps of the per-mode "
        "recurrence give $\\theta_N(\\lambda)$. " + method,
        TeX(
            f"\\max_{{{safe_latex(eigenvalue)}}} |\\theta_N| / |\\theta_0| = {rate:.12g}"
            f"\\quad\\text{{at}}\\quad {safe_latex(eigenvalue)} = {where:.12g}"
        ),
    )
    return FiniteHorizonRate(
        rule=rule,
        eigenvalue=eigenvalue,
        spectrum=(mu, big),
        rate=float(rate),
        argmax=float(where),
        steps=int(steps),
        derivation=derivation,
    )
