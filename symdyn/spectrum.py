"""Worst cases over a spectrum interval [μ, L], and the tuning that minimises them.

A linear method on a quadratic evolves each eigen-mode with its own k×k
Jacobian J(λ) (:mod:`symdyn.modes`; for a rule written per mode, J is its
Jacobian and λ the curvature symbol). Over every quadratic whose Hessian
has its spectrum in [μ, L]:

* the asymptotic worst-case rate is max over λ ∈ [μ, L] of ρ(J(λ));
* the finite-horizon worst case after N steps is max over λ of |θ_N(λ)|/|θ₀|;
* the best hyperparameters minimise the former.

References
----------
Polyak, "Some methods of speeding up the convergence of iteration methods" (1964);
Lessard, Recht & Packard, "Analysis and design of optimization algorithms via
integral quadratic constraints" (2016); Goh, "Why momentum really works" (2017).
"""

from __future__ import annotations

import functools
import itertools
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symdyn.criteria import sign_of
from symdyn.derivation import Derivation, TeX
from symdyn.errors import SymdynError, UndecidedError
from symdyn.modes import modes
from symdyn.rule import UpdateRule

__all__ = [
    "NoStationaryStateError",
    "SpectrumError",
    "StationaryCovariance",
    "Tuning",
    "WorstCaseRate",
    "stationary_covariance",
    "tune",
    "worst_case_rate",
]

Z = sp.Symbol("z")


class SpectrumError(SymdynError, ValueError):
    """A spectrum interval is malformed (μ ≤ 0, μ > L) or cannot be matched to the rule."""


@dataclass(frozen=True)
class WorstCaseRate:
    """The worst case of a linear method over eigenvalues λ ∈ [μ, L].

    Attributes
    ----------
    rule : UpdateRule
    eigenvalue : sympy.Symbol
        λ.
    spectrum : tuple
        (μ, L).
    rate : sympy.Expr or float
        Asymptotic: max over λ of the spectral radius (exact). Finite horizon:
        max over λ of |θ_N|/|θ₀| (a float, to about 1e-12 relative).
    argmax : tuple or float
        The λ where the worst case is attained (the candidates, for the
        asymptotic rate: the end points).
    steps : int or None
        N, or ``None`` for the asymptotic rate.
    derivation : Derivation
    """

    rule: UpdateRule
    eigenvalue: sp.Symbol
    spectrum: tuple
    rate: object
    argmax: object
    steps: int | None
    derivation: Derivation = field(repr=False)


@dataclass(frozen=True)
class Tuning:
    """Hyperparameters minimising the asymptotic worst-case rate over [μ, L].

    Attributes
    ----------
    rule : UpdateRule
    spectrum : tuple
    params : dict
        Parameter → optimal value (exact expressions, or floats when numeric).
    rate : sympy.Expr or float
        The optimal worst-case rate.
    exact : bool
        Whether optimality is proved (closed form) rather than found numerically.
    certificate : dict or None
        For numeric tuning: the rate of the returned parameters checked on a
        fine λ grid (``grid``, ``max_on_grid``, ``rate``).
    derivation : Derivation
    """

    rule: UpdateRule
    spectrum: tuple
    params: dict
    rate: object
    exact: bool
    certificate: dict | None
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
    derivation = Derivation(f"Modes of {rule.name}").then(
        "Per mode, the rule is linear with Jacobian", TeX("J = " + sp.latex(jac))
    )
    return jac, None, rule.state, (0,) * len(rule.state), derivation


def _exact(value, what):
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Number):
        raise SpectrumError(f"{what} must be a number or a sympy expression, got {value!r}")
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    return sp.Rational(str(float(value))) if isinstance(value, float) else sp.sympify(value)


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
    mu, big = _exact(mu, "mu"), _exact(big, "L")
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
    discriminant = sp.factor(trace**2 - 4 * det)
    sign = sign_of(discriminant)
    complex_pair = sp.sqrt(det)
    real = (sp.Abs(trace) + sp.sqrt(discriminant)) / 2
    if sign == -1:
        return complex_pair
    if sign in (0, 1):
        return real
    return sp.Piecewise((complex_pair, discriminant < 0), (real, True))


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

    Returns
    -------
    WorstCaseRate

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
    jac, eigenvalue, state, scaling, derivation = _per_mode(rule)
    eigenvalue, mu, big = _interval(rule, spectrum, eigenvalue)
    values = {sp.sympify(k): _exact(v, str(k)) for k, v in dict(params or {}).items()}
    if values and steps is None:
        jac = sp.ImmutableMatrix(jac.subs(values))
    derivation = Derivation(f"Worst case of {rule.name} over a spectrum") + derivation
    derivation = derivation.then(
        f"Every eigenvalue ${sp.latex(eigenvalue)}$ lies in the interval",
        TeX(f"{sp.latex(mu)} \\le {sp.latex(eigenvalue)} \\le {sp.latex(big)}"),
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
        f"${sp.latex(eigenvalue)}$",
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
    return WorstCaseRate(rule, eigenvalue, (mu, big), rate, (mu, big), None, derivation)


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
    names = {str(s): i for i, s in enumerate(rule.state)}
    for key, value in dict(init or {}).items():
        if str(key) not in names or names[str(key)] == 0:
            raise SpectrumError(
                f"init: {key} is not one of the other state variables "
                f"{[str(s) for s in rule.state[1:]]}"
            )
        i = names[str(key)]
        if scaling[i] and value != 0:
            raise SpectrumError(f"init: {key} is rescaled per mode, only 0 is supported")
        start[i] = float(_exact(value, str(key)))
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
            f"${sp.latex(eigenvalue)}$; interpolated at {order + 1} Chebyshev points (exact "
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
    initial = ", ".join(f"{sp.latex(s)}_0 = {v:g}" for s, v in zip(state, start, strict=True))
    derivation = derivation.then(
        f"From ${initial}$ (in units of $\\theta_0$), $N = {steps}$ steps of the per-mode "
        "recurrence give $\\theta_N(\\lambda)$. " + method,
        TeX(
            f"\\max_{{{sp.latex(eigenvalue)}}} |\\theta_N| / |\\theta_0| = {rate:.12g}"
            f"\\quad\\text{{at}}\\quad {sp.latex(eigenvalue)} = {where:.12g}"
        ),
    )
    return WorstCaseRate(rule, eigenvalue, (mu, big), rate, where, int(steps), derivation)


# -- tuning ---------------------------------------------------------------------------------


def _solve_for(targets, over, rule):
    """Solve expr_i = value_i (each value positive) for ``over``, every result positive.

    The values are stood in for by positive symbols while solving, so that
    signs are decided on the simple form and the result stays readable.
    """
    stand_ins = [sp.Dummy(f"t{i}", positive=True) for i in range(len(targets))]
    equations = [sp.Eq(e, t) for (e, _), t in zip(targets, stand_ins, strict=True)]
    back = {t: v for (_, v), t in zip(targets, stand_ins, strict=True)}
    for solution in sp.solve(equations, list(over), dict=True):
        if len(solution) != len(over):
            continue
        values = {s: sp.factor(sp.simplify(solution[s].xreplace(back))) for s in over}
        if all(sign_of(v) == 1 or sign_of(values[s]) == 1 for s, v in solution.items()):
            return values
    raise UndecidedError(
        f"{rule.name}: could not solve {equations} for {list(over)} with positive values"
    )


def tune(rule, spectrum, over=None, params=None):
    """Hyperparameters minimising the asymptotic worst-case rate over λ ∈ [μ, L].

    Exact for the two classical families, recognised from the per-mode
    characteristic polynomial:

    * gradient-descent type, z − (1 − cλ) with c a function of one tuned
      parameter: c = 2/(μ + L), rate (κ − 1)/(κ + 1), κ = L/μ;
    * heavy-ball type, z² − (1 + D − cλ) z + D with c and D functions of two
      tuned parameters (Polyak, EMA and torch momentum alike):
      D = r², c = (1 + r)²/L, rate r = (√κ − 1)/(√κ + 1).

    The derivation proves the lower bound and that the returned parameters
    attain it. Any other rule is tuned numerically (Nelder–Mead on the
    exact end-point rate, or on a λ grid), with a certificate: the rate of
    the returned parameters checked on a fine λ grid.

    Parameters
    ----------
    rule : UpdateRule
    spectrum : (mu, L) or {lam: (mu, L)}
    over : sequence of sympy.Symbol, optional
        The parameters to tune (default: all of ``rule.params``).
    params : mapping, optional
        Values of the other parameters (needed for numeric tuning).

    Returns
    -------
    Tuning

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> eta, beta, mu, L = sp.symbols("eta beta mu L", positive=True)
    >>> q = sd.quadratic("theta", n=sp.Symbol("n"))
    >>> hb = sd.optimizers.heavy_ball(q.loss, [q.theta], lr=eta, momentum=beta)
    >>> result = tune(hb, (mu, L))
    >>> result.params[eta]
    4/(sqrt(L) + sqrt(mu))**2
    >>> result.rate
    (sqrt(L) - sqrt(mu))/(sqrt(L) + sqrt(mu))

    References
    ----------
    Polyak (1964), Theorem 9; Lessard, Recht & Packard (2016), §2.
    """
    jac, eigenvalue, _, _, reduction = _per_mode(rule)
    eigenvalue, mu, big = _interval(rule, spectrum, eigenvalue)
    over = tuple(rule.params if over is None else over)
    values = {sp.sympify(k): _exact(v, str(k)) for k, v in dict(params or {}).items()}
    if values:
        jac = sp.ImmutableMatrix(jac.subs(values))
    derivation = Derivation(f"Tuning {rule.name} over a spectrum") + reduction
    coefficients = _coefficients(jac, eigenvalue)
    if coefficients is not None and all(_affine_in(c, eigenvalue) for c in coefficients):
        exact = _tune_exact(rule, coefficients, eigenvalue, mu, big, over, derivation)
        if exact is not None:
            return exact
    return _tune_numeric(rule, jac, eigenvalue, mu, big, over, values, derivation)


def _slope(expr, eigenvalue):
    """c with expr = expr(0) − c λ."""
    return sp.expand(-sp.diff(expr, eigenvalue))


def _tune_exact(rule, coefficients, eigenvalue, mu, big, over, derivation):
    root_mu, root_big = sp.sqrt(mu), sp.sqrt(big)
    if len(coefficients) == 1 and len(over) == 1:
        (a,) = coefficients
        c = _slope(a, eigenvalue)
        if sp.simplify(a.subs(eigenvalue, 0) - 1) != 0 or not c.free_symbols & set(over):
            return None
        rate = (big - mu) / (big + mu)
        derivation = derivation.then(
            f"Per mode the iteration multiplies by $a(\\lambda) = 1 - c\\lambda$ with "
            f"$c = {sp.latex(c)}$. The worst rate $r = \\max(|1 - c\\mu|, |1 - cL|)$ satisfies "
            "$Lr \\ge L(1 - c\\mu)$ and $\\mu r \\ge \\mu(cL - 1)$; adding, "
            "$r \\ge (L - \\mu)/(L + \\mu)$, with equality exactly when "
            "$1 - c\\mu = cL - 1$",
            sp.Eq(sp.Symbol("c"), 2 / (mu + big)),
        )
        solution = _solve_for([(c, 2 / (mu + big))], over, rule)
    elif len(coefficients) == 2 and len(over) == 2:
        trace, det = coefficients
        c = _slope(trace, eigenvalue)
        if (
            eigenvalue in det.free_symbols
            or sp.simplify(trace.subs(eigenvalue, 0) - 1 - det) != 0
            or not c.free_symbols & set(over)
        ):
            return None
        rate = (root_big - root_mu) / (root_big + root_mu)
        r = sp.Symbol("r", positive=True)
        derivation = derivation.then(
            "Per mode the characteristic polynomial is $z^2 - (1 + D - c\\lambda) z + D$ with",
            (sp.Eq(sp.Symbol("c"), c), sp.Eq(sp.Symbol("D"), det)),
        )
        derivation = derivation.then(
            "If every root has modulus at most $r < 1$ for $\\lambda = \\mu$ and $\\lambda = L$ "
            "then $|D| \\le r^2$ and $|1 + D - c\\lambda| \\le r + D/r$ at both ends; "
            "multiplying the bound at $\\mu$ by $L$, the one at $L$ by $\\mu$ and adding gives "
            "$(1 + D)(L - \\mu) \\le (L + \\mu)(r + D/r)$. As $(r^2 + D)/(r(1 + D))$ increases "
            "with $D$, it is at most $2r/(1 + r^2)$, so "
            "$(\\kappa - 1)/(\\kappa + 1) \\le 2r/(1 + r^2)$ with $\\kappa = L/\\mu$, that is",
            sp.Ge(r, rate),
        )
        derivation = derivation.then(
            "Equality needs both end modes critically damped, $D = r^2$ and "
            "$1 + D - c\\mu = 2r$, $1 + D - cL = -2r$, which give",
            (sp.Eq(sp.Symbol("D"), rate**2), sp.Eq(sp.Symbol("c"), (1 + rate) ** 2 / big)),
        )
        solution = _solve_for([(det, rate**2), (c, 4 / (root_big + root_mu) ** 2)], over, rule)
        # Independent check: both end points critically damped, so ρ = √D = r at each.
        tuned = [x.subs(solution) for x in coefficients]
        for end in (mu, big):
            gap = sp.simplify((tuned[0] ** 2 - 4 * tuned[1]).subs(eigenvalue, end))
            if gap != 0:
                return None
    else:
        return None
    derivation = derivation.then(
        "Solving for the tuned parameters gives the optimal choice and the optimal rate",
        (*(sp.Eq(k, v) for k, v in solution.items()), sp.Eq(sp.Symbol(r"\rho^{*}"), rate)),
    )
    return Tuning(rule, (mu, big), solution, sp.simplify(rate), True, None, derivation)


def _tune_numeric(rule, jac, eigenvalue, mu, big, over, values, derivation):
    from scipy.optimize import minimize

    try:
        low, high = float(mu), float(big)
    except TypeError:
        raise UndecidedError(
            f"{rule.name}: no closed-form tuning is known for this rule, and numeric tuning "
            f"needs a numeric spectrum, got ({mu}, {big})"
        ) from None
    others = jac.free_symbols - {eigenvalue} - set(over)
    if others:
        names = ", ".join(sorted(map(str, others)))
        raise UndecidedError(
            f"{rule.name}: numeric tuning needs values for {names}; pass params={{...}}"
        )
    radius = sp.lambdify([eigenvalue, *over], list(jac), "numpy")
    k = jac.rows
    grid = np.linspace(low, high, 401)

    def worst(point, lams=grid):
        entries = np.array(
            [np.broadcast_to(e, lams.shape) for e in radius(lams, *point)], dtype=float
        )
        matrices = entries.T.reshape(len(lams), k, k)
        return float(np.max(np.abs(np.linalg.eigvals(matrices))))

    positive = [bool(s.is_positive) for s in over]

    def unpack(u):
        return [np.exp(v) if p else v for v, p in zip(u, positive, strict=True)]

    # Quasi-convex per-mode radius (see worst_case_rate): the end points decide exactly.
    coefficients = _coefficients(jac, eigenvalue)
    if coefficients is not None and all(_affine_in(c, eigenvalue) for c in coefficients):
        grid = np.array([low, high])
    seeds = [1 / high, 1 / np.sqrt(low * high), 1 / low, 0.3, 0.9]
    starts = [
        [np.log(v) if p else v for v, p in zip(combo, positive, strict=True)]
        for combo in itertools.product(seeds, repeat=len(over))
    ]
    starts = sorted(starts, key=lambda u: worst(unpack(u)))[:3]
    best = None
    for start in starts:
        found = minimize(
            lambda u: worst(unpack(u)),
            start,
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000},
        )
        if best is None or found.fun < best.fun:
            best = found
    point = unpack(best.x)
    fine = np.linspace(low, high, 20001)
    checked = worst(point, fine)
    solution = dict(zip(over, (float(v) for v in point), strict=True))
    certificate = {"grid": len(fine), "max_on_grid": checked, "rate": float(best.fun)}
    derivation = derivation.then(
        "No closed form is known for this family; minimising the worst spectral radius over "
        f"{'the two end points' if len(grid) == 2 else f'a grid of {len(grid)} eigenvalues'} "
        "numerically (Nelder–Mead from the best of a grid of starting points) gives",
        tuple(sp.Eq(k, sp.Float(v, 10)) for k, v in solution.items()),
    ).then(
        f"Certificate: at these values the spectral radius is at most {checked:.10g} on a "
        f"grid of {len(fine)} eigenvalues in [{low:g}, {high:g}]."
    )
    return Tuning(rule, (mu, big), solution, checked, False, certificate, derivation)


# -- stochastic gradients: the stationary covariance ----------------------------------------


class NoStationaryStateError(SymdynError, ValueError):
    """The rule is not stable at the given values, so no stationary covariance exists."""


@dataclass(frozen=True)
class StationaryCovariance:
    """Stationary covariance of a linear rule driven by additive gradient noise.

    Attributes
    ----------
    rule : UpdateRule
    state : tuple
        The (per-mode) state the covariance refers to.
    covariance : sympy.ImmutableMatrix or numpy.ndarray
        C with C = J C Jᵀ + B Σ Bᵀ (exact when symbolic, from SciPy when numeric).
    region : sympy.Boolean
        Where it exists: the stability region of the rule.
    derivation : Derivation
    """

    rule: UpdateRule
    state: tuple
    covariance: object
    region: sp.Basic
    derivation: Derivation = field(repr=False)


def _noise_sources(rule, noise):
    """{gradient temporary: variance} from a variance or a mapping."""
    if isinstance(noise, Mapping):
        sources = {
            sp.sympify(k) if not isinstance(k, sp.Basic) else k: v for k, v in noise.items()
        }
        unknown = [k for k in sources if k not in rule.temporaries]
        if unknown:
            raise SpectrumError(
                f"{rule.name}: noise is added to temporaries; {unknown} are not among "
                f"{list(rule.temporaries)}"
            )
        return sources
    gradients = [t for t in rule.temporaries if t.name.startswith("g_")]
    if not gradients:
        raise SpectrumError(
            f"{rule.name}: no gradient temporaries (named g_...) to add noise to; "
            "pass noise={temporary: variance}"
        )
    return dict.fromkeys(gradients, noise)


def _noisy(rule, sources):
    shocks = {
        g: sp.MatrixSymbol(f"xi_{g.name}", *g.shape)
        if isinstance(g, sp.MatrixSymbol)
        else sp.Symbol(f"xi_{g.name}", real=True)
        for g in sources
    }
    updates = [(t, v + shocks[t]) if t in shocks else (t, v) for t, v in rule.updates]
    noisy = UpdateRule(
        rule.state, updates, rule.params, name=rule.name, simultaneous=rule.simultaneous
    )
    return noisy, shocks


def _lyapunov_symbolic(jac, forcing):
    k = jac.rows
    entries = {(i, j): sp.Symbol(f"c_{i}{j}") for i in range(k) for j in range(i, k)}
    C = sp.Matrix(k, k, lambda i, j: entries[(min(i, j), max(i, j))])
    equations = list((jac * C * jac.T + forcing - C)[i, j] for (i, j) in entries)
    solution = sp.solve(equations, list(entries.values()), dict=True)
    if len(solution) != 1:
        raise UndecidedError("the discrete Lyapunov equation has no unique solution")
    return sp.ImmutableMatrix(C.xreplace(solution[0]).applyfunc(sp.factor))


def stationary_covariance(rule, noise, params=None):
    """Stationary covariance of a linear rule whose gradients carry additive noise.

    Each gradient temporary g becomes g + ξ with E ξ = 0 and E ξξᵀ = σ² I,
    independent across steps. The state s⁺ = J s + B ξ then has the
    stationary covariance C solving the discrete Lyapunov equation
    C = J C Jᵀ + σ² B Bᵀ, which exists (and is unique, positive
    semi-definite) exactly when ρ(J) < 1.

    On :func:`symdyn.quadratic` rules the answer is per mode (J(λ), B(λ);
    isotropic noise stays isotropic in the orthogonal eigenbasis of H) and
    symbolic; for a rule with scalar state it is symbolic, or computed with
    SciPy when every symbol has a numeric value in ``params``.

    Parameters
    ----------
    rule : UpdateRule
        Linear in its state, with gradient temporaries named ``g_...`` (the
        catalogue's convention), or give ``noise`` as a mapping.
    noise : sympy.Expr or number or mapping
        σ², or {temporary: variance}.
    params : mapping, optional
        Numeric values; outside the stability region they raise.

    Returns
    -------
    StationaryCovariance

    Raises
    ------
    NoStationaryStateError
        If the rule is unstable at ``params``, or nowhere stable.

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> eta, sigma = sp.symbols("eta sigma", positive=True)
    >>> q = sd.quadratic("theta", n=sp.Symbol("n"))
    >>> gd = sd.optimizers.gd(q.loss, [q.theta], lr=eta)
    >>> stationary_covariance(gd, noise=sigma**2).covariance
    Matrix([[-eta*sigma**2/(lambda*(eta*lambda - 2))]])
    """
    from symdyn.modes import _mode_inputs
    from symdyn.stability import stability

    sources = _noise_sources(rule, noise)
    noisy, shocks = _noisy(rule, sources)
    variances = sp.diag(*[_exact(sources[g], f"the variance of {g}") for g in sources])
    values = {sp.sympify(k): _exact(v, str(k)) for k, v in dict(params or {}).items()}
    derivation = Derivation(f"Stationary covariance of {rule.name}")
    if any(isinstance(s, sp.MatrixSymbol) for s in rule.state):
        jac, _, state, _, reduction = _per_mode(rule)
        inputs = _mode_inputs(noisy, list(shocks.values()))
        derivation = derivation + reduction
        what = "per mode"
    else:
        if not rule.is_affine:
            raise SpectrumError(f"{rule.name}: the map is not linear in the state")
        jac, state = rule.jacobian(), rule.state
        inputs = sp.ImmutableMatrix(noisy.map.jacobian(list(shocks.values())))
        what = "for the state"
    derivation = derivation.then(
        "Adding independent noise $\\xi$ with covariance $\\Sigma$ to the gradient gives, "
        f"{what}, $s^+ = J s + B \\xi$ with",
        (
            TeX("J = " + sp.latex(jac)),
            TeX("B = " + sp.latex(inputs)),
            TeX("\\Sigma = " + sp.latex(variances)),
        ),
    )
    result = stability(jac)  # the per-mode (or whole) linearisation decides existence
    if result.region is sp.false:
        raise NoStationaryStateError(f"{rule.name} is stable for no parameter values")
    if values:
        if not result.is_stable(values):
            raise NoStationaryStateError(
                f"{rule.name} is not stable at {values}, so the noise accumulates without "
                "bound: no stationary covariance exists"
            )
        jac, inputs, variances = (
            sp.ImmutableMatrix(m.subs(values)) for m in (jac, inputs, variances)
        )
    forcing = inputs * variances * inputs.T
    numeric = not (jac.free_symbols | forcing.free_symbols)
    if numeric:
        from scipy.linalg import solve_discrete_lyapunov

        covariance = solve_discrete_lyapunov(
            np.array(jac, dtype=float), np.array(forcing, dtype=float)
        )
        shown = sp.Matrix(covariance.round(12))
    else:
        covariance = _lyapunov_symbolic(jac, forcing)
        shown = covariance
    derivation = derivation.then(
        "The stationary covariance solves the discrete Lyapunov equation "
        "$C = J C J^T + B \\Sigma B^T$, which has a unique positive semi-definite solution "
        "exactly when the spectral radius of $J$ is below one, that is in the region",
        result.region if result.region is sp.true else tuple(result.conditions),
    ).then(
        "Solving it " + ("numerically (SciPy)" if numeric else "exactly") + " gives",
        TeX("C = " + sp.latex(shown)),
    )
    return StationaryCovariance(rule, tuple(state), covariance, result.region, derivation)
