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
from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from symdyn.budget import bounded
from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import ArgumentError, SpectrumError, UndecidedError
from symdyn.escaping import plain, safe_latex
from symdyn.linear.criteria import sign_of
from symdyn.linear.finite_horizon import FiniteHorizonRate, finite_horizon_rate
from symdyn.linear.kernel import characteristic_polynomial, per_mode_jacobian, quadratic_radius
from symdyn.rules.rule import UpdateRule
from symdyn.rules.values import exact_value, exact_values

__all__ = ["FiniteHorizonRate", "SpectrumError", "WorstCaseRate", "worst_case_rate"]


@dataclass(frozen=True)
class WorstCaseRate(Presented):
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


# -- the per-mode system -------------------------------------------------------------------


def _per_mode(rule, values):
    """(J(λ), λ or None, per-mode state, scaling, derivation) for a linear rule.

    A time-varying rule's J(λ) is its limit as the counter grows, which is refused at
    ``values`` outside the conditions that limit was taken under (β < 1 for βᵏ → 0 in
    Adam's 1/(1 − βᵏ); at β = 3/2 the correction tends to 0 instead).
    """
    *reduction, requires = _reduction(rule)
    for condition in requires:
        if condition.subs(values) == sp.false:
            raise UndecidedError(
                f"{rule.name}: at these values {condition} fails, and the Jacobian's limit "
                f"as {rule.counter} grows was taken under it; substitute the values into "
                "the rule first (rule.subs) to take the limit there"
            )
    return tuple(reduction)


@functools.lru_cache(maxsize=64)
def _reduction(rule):
    """:func:`_per_mode`'s five items and the conditions of a time-varying rule's limit."""
    if any(isinstance(s, sp.MatrixSymbol) for s in rule.state):
        reduction = per_mode_jacobian(rule)
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
            reduction.requires,
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
    return jac, None, rule.state, (0,) * len(rule.state), derivation, ()


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
    poly = characteristic_polynomial(jac)
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
    return quadratic_radius(*coefficients)


@bounded("worst_case_rate")
def worst_case_rate(rule, spectrum, steps=None, init=None, params=None, metric=None):
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
    metric : {"ratio", "distance", "function_value", "gradient_norm"}, optional
        With ``steps``: what is maximised after N steps per unit ‖x₀ − x*‖², as for
        :func:`symdyn.linear.time_varying.time_varying_worst_case` (exact, by real-root
        isolation; every parameter needs a value). Default: |θ_N|/|θ₀|.
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
    >>> float(worst_case_rate(gd, (1, 3), steps=2, metric="function_value").rate)
    0.09375
    """
    if metric is not None and steps is None:
        raise ArgumentError(
            f"{rule.name}: metric={metric!r} needs steps=N (the asymptotic rate is the same "
            "for every metric)",
            symbol="metric",
        )
    if steps is not None and (rule.is_time_varying or metric is not None):
        from symdyn.linear.time_varying import time_varying_worst_case

        return time_varying_worst_case(
            rule, spectrum, steps, init=init, params=params, metric=metric or "ratio"
        )
    values = parameter_values(rule, params, "worst_case_rate(params=...)")
    jac, eigenvalue, state, scaling, derivation = _per_mode(rule, values)
    eigenvalue, mu, big = _interval(rule, spectrum, eigenvalue)
    if values and steps is None:
        jac = sp.ImmutableMatrix(jac.subs(values))
    derivation = Derivation(f"Worst case of {plain(rule.name)} over a spectrum") + derivation
    derivation = derivation.then(
        f"Every eigenvalue ${safe_latex(eigenvalue)}$ lies in the interval",
        TeX(f"{safe_latex(mu)} \\le {safe_latex(eigenvalue)} \\le {safe_latex(big)}"),
    )
    if steps is None:
        return _asymptotic(rule, jac, eigenvalue, mu, big, derivation)
    return finite_horizon_rate(
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
