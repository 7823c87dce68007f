"""The finite-horizon worst case of a linear method over a spectrum interval [μ, L].

After N steps of the per-mode recurrence from (θ₀, init·θ₀), the first coordinate
θ_N(λ) is maximised in modulus over λ ∈ [μ, L]: exactly interpolated and then
maximised when it is a polynomial in λ, on a fine grid and refined otherwise.
:func:`symdyn.linear.spectrum.worst_case_rate` with ``steps=N`` calls it.
"""

from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import SpectrumError, UndecidedError
from symdyn.escaping import safe_latex
from symdyn.rules.rule import UpdateRule
from symdyn.rules.values import exact_values

__all__ = ["FiniteHorizonRate", "finite_horizon_rate"]


@dataclass(frozen=True)
class FiniteHorizonRate(Presented):
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


def finite_horizon_rate(
    rule, jac, eigenvalue, state, scaling, spectrum, params, steps, init, derivation
):
    """max over λ ∈ spectrum of |θ_N(λ)|/|θ₀|, as a :class:`FiniteHorizonRate`."""
    if not isinstance(steps, numbers.Integral) or steps < 1:
        raise SpectrumError(f"steps must be a positive integer, got {steps!r}")
    mu, big = spectrum
    try:
        low, high = float(mu), float(big)
    except TypeError:
        raise SpectrumError(
            f"a finite-horizon worst case needs a numeric spectrum, got ({mu}, {big})"
        ) from None
    start = _start(rule, state, scaling, init)
    evaluate, degree, others = _numeric_jacobian(jac, eigenvalue)
    values = _numeric_values(rule, others, params)

    def theta(lams):
        return _first_coordinate(evaluate, values, start, steps, lams)

    candidates, method = _candidates(theta, degree, steps, low, high, eigenvalue)
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


def _start(rule, state, scaling, init):
    """The initial per-mode state in units of θ₀: θ₀ = 1, the others from ``init``."""
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
    return np.array(start)


def _numeric_values(rule, others, params):
    """The float value of every symbol of J but λ, or an UndecidedError naming them."""
    try:
        return [float(params.get(s, s)) for s in others]
    except TypeError:
        names = ", ".join(map(str, others))
        raise UndecidedError(
            f"{rule.name}: a finite-horizon worst case needs numeric values for {names}; "
            "pass params={...}"
        ) from None


def _candidates(theta, degree, steps, low, high, eigenvalue):
    """Where |θ_N| may peak on [low, high], and how they were found (for the derivation)."""
    if degree is not None and high > low:
        order = max(degree * steps, 1)
        series = np.polynomial.Chebyshev.interpolate(theta, order, domain=[low, high])
        method = (
            f"$\\theta_N$ is a polynomial of degree at most {order} in "
            f"${safe_latex(eigenvalue)}$; interpolated at {order + 1} Chebyshev points (exact "
            "for a polynomial), its modulus is maximised over the end points and the roots of "
            "its derivative (bracketed on a fine grid, then bisected), giving"
        )
        return _polynomial_maxima(series, low, high), method
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
    return candidates, method
