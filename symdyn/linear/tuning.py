"""The hyperparameters that minimise the worst-case rate over a spectrum interval [μ, L].

Over every quadratic whose Hessian has its spectrum in [μ, L], the best
hyperparameters of a linear method minimise the asymptotic worst-case rate
max over λ ∈ [μ, L] of ρ(J(λ)) (:func:`symdyn.worst_case_rate`): exactly, with
a proof, for the gradient-descent and heavy-ball families, numerically with a
certificate otherwise.

References
----------
Polyak, "Some methods of speeding up the convergence of iteration methods" (1964);
Lessard, Recht & Packard, "Analysis and design of optimization algorithms via
integral quadratic constraints" (2016); Goh, "Why momentum really works" (2017).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symdyn.budget import bounded
from symdyn.derivation import Derivation, Presented
from symdyn.errors import UndecidedError
from symdyn.escaping import plain, safe_latex
from symdyn.frozen import freeze_fields
from symdyn.linear.criteria import sign_of
from symdyn.linear.spectrum import (
    _affine_in,
    _coefficients,
    _interval,
    _per_mode,
    _radius,
    parameter_values,
)
from symdyn.rules.factoring import factor
from symdyn.rules.rule import UpdateRule

__all__ = ["Tuning", "tune"]


@dataclass(frozen=True)
class Tuning(Presented):
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
    optimality : {"global", "local"}
        ``"global"`` when the derivation proves that no parameters do better (the closed
        forms); ``"local"`` for numeric tuning, a minimum found by Nelder–Mead from
        several starts with no proof that none is lower.
    """

    rule: UpdateRule
    spectrum: tuple
    params: dict
    rate: object
    exact: bool
    certificate: dict | None
    derivation: Derivation = field(repr=False)
    optimality: str = "global"

    def __post_init__(self):
        freeze_fields(self, "params", "certificate")


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
        values = {s: factor(sp.simplify(solution[s].xreplace(back))) for s in over}
        if all(sign_of(v) == 1 or sign_of(values[s]) == 1 for s, v in solution.items()):
            return values
    raise UndecidedError(
        f"{rule.name}: could not solve {equations} for {list(over)} with positive values"
    )


@bounded("tune")
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
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

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
    values = parameter_values(rule, params, "tune(params=...)")
    jac, eigenvalue, _, _, reduction = _per_mode(rule, values)
    eigenvalue, mu, big = _interval(rule, spectrum, eigenvalue)
    over = tuple(rule.params if over is None else over)
    if values:
        jac = sp.ImmutableMatrix(jac.subs(values))
    derivation = Derivation(f"Tuning {plain(rule.name)} over a spectrum") + reduction
    coefficients = _coefficients(jac, eigenvalue)
    if coefficients is not None and all(_affine_in(c, eigenvalue) for c in coefficients):
        exact = _tune_exact(rule, coefficients, eigenvalue, mu, big, over, derivation)
        if exact is None:
            exact = _tune_nesterov(rule, coefficients, eigenvalue, mu, big, over, derivation)
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
            f"$c = {safe_latex(c)}$. The worst rate $r = \\max(|1 - c\\mu|, |1 - cL|)$ satisfies "
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
            (sp.Eq(sp.Symbol("D"), rate**2), sp.Eq(sp.Symbol("c"), 4 / (root_big + root_mu) ** 2)),
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


def _nesterov_family(coefficients, eigenvalue):
    """(b, a) with T = (1 + b)(1 − aλ), D = b(1 − aλ), or None."""
    if len(coefficients) != 2:
        return None
    trace, det = coefficients
    t0, d0 = trace.subs(eigenvalue, 0), det.subs(eigenvalue, 0)
    t1, d1 = sp.diff(trace, eigenvalue), sp.diff(det, eigenvalue)
    if sp.simplify(t0 - d0 - 1) != 0 or sp.simplify(t1 * d0 - d1 * t0) != 0 or d0 == 0:
        return None
    return d0, sp.simplify(-t1 / t0)


def _attains(family, eigenvalue, mu, big, rate):
    """Whether the tuned family has spectral radius exactly ``rate`` at λ = μ and λ = L.

    Written in s = √(3κ + 1) = 2 + t (t > 0), every quantity is rational in t and the
    radius is decided exactly; by quasi-convexity the end points are the worst case."""
    t = sp.Dummy("t", positive=True)
    s = 2 + t
    scale = {} if big.is_number and mu.is_number else {big: mu * (s**2 - 1) / 3}
    b, a = (sp.simplify(v.subs(scale)) for v in family)
    target = sp.simplify(rate.subs(scale))
    for end in (mu, big):
        c = 1 - a * end.subs(scale)
        radius = _radius((sp.simplify((1 + b) * c), sp.simplify(b * c)))
        if sp.simplify(radius - target) != 0:
            return False
    return True


def _tune_nesterov(rule, coefficients, eigenvalue, mu, big, over, derivation):
    """Nesterov's family: α = 4/(3L + μ), β = (√(3κ+1) − 2)/(√(3κ+1) + 2)."""
    family = _nesterov_family(coefficients, eigenvalue)
    if family is None or len(over) != 2:
        return None
    root = sp.sqrt(3 * big / mu + 1)
    step, momentum = 4 / (3 * big + mu), (root - 2) / (root + 2)
    rate = 1 - 2 / root
    solution = _solve_for([(family[0], momentum), (family[1], step)], over, rule)
    if not _attains((momentum, step), eigenvalue, mu, big, rate):
        return None
    b, a = sp.Symbol("b"), sp.Symbol("a")
    derivation = derivation.then(
        "Per mode the characteristic polynomial is Nesterov's, "
        "$z^2 - (1 + b)(1 - a\\lambda) z + b(1 - a\\lambda)$, with",
        (sp.Eq(b, family[0]), sp.Eq(a, family[1])),
    ).then(
        "Its optimal tuning over $[\\mu, L]$ (Lessard, Recht and Packard 2016, Section 2.2) "
        "is the following; with $s = \\sqrt{3\\kappa + 1}$ the mode at $\\lambda = \\mu$ "
        "is critically damped with both roots at $(s - 2)/s$, and at $\\lambda = L$ the "
        "largest root is $-(s - 2)/s$ (checked here exactly), so by quasi-convexity the "
        "worst-case rate is $1 - 2/s$",
        (sp.Eq(a, step), sp.Eq(b, momentum)),
    )
    derivation = derivation.then(
        "Solving for the tuned parameters gives the choice and its rate",
        (*(sp.Eq(k, v) for k, v in solution.items()), sp.Eq(sp.Symbol(r"\rho^{*}"), rate)),
    )
    return Tuning(rule, (mu, big), solution, rate, True, None, derivation)


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
        f"grid of {len(fine)} eigenvalues in [{low:g}, {high:g}]. This is a local minimum "
        "of the worst rate: nothing here proves that no other values do better."
    )
    return Tuning(rule, (mu, big), solution, checked, False, certificate, derivation, "local")
