"""Stochastic modified equations: the leading-order SDE of a rule with gradient noise.

References
----------
Li, Tai & E, *Stochastic modified equations and adaptive stochastic gradient
algorithms* (ICML 2017), Thm. 1 (first order).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from symdyn.budget import bounded
from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import RuleError, ShapeError, UndecidedError
from symdyn.escaping import plain, safe_latex
from symdyn.limits.modified import modified_equation
from symdyn.linear.kernel import opening
from symdyn.rules.rule import UpdateRule, as_expression, as_matrix

__all__ = ["SdeLimit", "sde_limit"]


@dataclass(frozen=True)
class SdeLimit(Presented):
    """Leading-order stochastic modified equation dX = b(X) dt + √D dW (first order only).

    Attributes
    ----------
    rule : UpdateRule
    h : sympy.Symbol
    variables : tuple
        The state symbols X stands for (positions, for a momentum rule).
    noise : tuple of sympy.Symbol
        The noise symbols of the rule, each of mean zero.
    covariance : sympy.ImmutableMatrix
        Their covariance Σ per step.
    drift : sympy.ImmutableMatrix
        b(X): the first-order modified field with the noise set to zero.
    diffusion : sympy.ImmutableMatrix
        D = h·G Σ Gᵀ, the covariance of the noise per unit time, where G is the
        response of the drift to a constant noise value (its zero-frequency gain).
    derivation : Derivation
    """

    rule: UpdateRule
    h: sp.Symbol
    variables: tuple
    noise: tuple
    covariance: sp.ImmutableMatrix
    drift: sp.ImmutableMatrix
    diffusion: sp.ImmutableMatrix
    derivation: Derivation = field(repr=False)

    def stationary_covariance(self):
        """Stationary covariance P of the SDE for an affine drift: A P + P Aᵀ + D = 0.

        Raises
        ------
        UndecidedError
            If the drift is not affine in the state.
        """
        state = sp.Matrix(self.variables)
        matrix = self.drift.jacobian(state)
        if matrix.free_symbols & set(self.variables):
            raise UndecidedError(
                f"{self.rule.name}: the drift is not affine, so the stationary "
                "covariance of the SDE has no closed form here"
            )
        n = len(self.variables)
        entries = sp.symbols(f"P0:{n * n}")
        P = sp.Matrix(n, n, lambda i, j: entries[min(i, j) * n + max(i, j)])
        equations = list(matrix * P + P * matrix.T + self.diffusion)
        solution = sp.solve(equations, sorted(P.free_symbols, key=str), dict=True)
        if len(solution) != 1:
            raise UndecidedError(f"{self.rule.name}: the Lyapunov equation has no unique solution")
        return sp.ImmutableMatrix(P.subs(solution[0]).applyfunc(sp.factor))

    def simulate(self, init, t_end, dt, paths, values=None, seed=0):
        """Euler–Maruyama paths from ``init`` to time ``t_end``; returns the final states.

        Parameters
        ----------
        init : sequence of float
            Initial value of each variable.
        values : mapping
            Numbers for every other symbol (h included).

        Returns
        -------
        numpy.ndarray
            Shape ``(paths, n)``.
        """
        import numpy as np

        values = dict(values or {})
        drift = sp.lambdify([self.variables], self.drift.subs(values), "numpy")
        diffusion = np.array(self.diffusion.subs(values), dtype=float)
        root = np.linalg.cholesky(diffusion + 1e-300 * np.eye(len(self.variables)))
        rng = np.random.default_rng(seed)
        state = np.tile(np.asarray(init, dtype=float), (paths, 1))
        for _ in range(round(t_end / dt)):
            rate = np.asarray(drift(state.T), dtype=float).reshape(len(self.variables), -1).T
            kicks = rng.standard_normal(state.shape) @ root.T
            state = state + dt * rate + np.sqrt(dt) * kicks
        return state


@bounded("sde_limit")
def sde_limit(rule, h, noise):
    """Leading-order SDE of a rule with gradient noise (the stochastic modified equation).

    The noise is written into the rule as symbols (``x ← x − η(∇L(x) + ξ)``) of
    mean zero and covariance Σ. The drift is the first-order modified field with
    the noise set to zero; the diffusion is h·GΣGᵀ, with G the response of the
    first-order field to a constant noise value. For a momentum rule that is the
    gain through the slow manifold, so heavy ball gets G = −1/(1 − β).

    Parameters
    ----------
    rule : UpdateRule
    h : sympy.Symbol
    noise : mapping or tuple
        ``{xi: variance}`` for independent noises, or ``(symbols, covariance matrix)``.
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

    Returns
    -------
    SdeLimit

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x, xi = sp.symbols("x xi", real=True)
    >>> eta, lam, sigma = sp.symbols("eta lambda sigma", positive=True)
    >>> sgd = sd.UpdateRule([x], [(x, x - eta * (lam * x + xi))], [eta])
    >>> sde = sd.sde_limit(sgd, h=eta, noise={xi: sigma**2})
    >>> sde.drift[0], sde.diffusion[0], sde.stationary_covariance()[0]
    (-lambda*x, eta*sigma**2, eta*sigma**2/(2*lambda))

    References
    ----------
    Li, Tai & E, *Stochastic modified equations and adaptive stochastic gradient
    algorithms* (ICML 2017), Thm. 1 (first order).
    """
    symbols, covariance = _noise(rule, noise)
    first = modified_equation(rule, h, order=1)
    at_rest = dict.fromkeys(symbols, 0)
    field_ = first.terms[0]
    drift = sp.ImmutableMatrix(field_.subs(at_rest).applyfunc(sp.factor))
    gain = field_.jacobian(sp.Matrix(symbols)).subs(at_rest)
    if gain.free_symbols & set(first.variables):
        raise UndecidedError(
            f"{rule.name}: the noise enters multiplied by the state ({gain}); only additive "
            "gradient noise is supported"
        )
    diffusion = sp.ImmutableMatrix((h * gain * covariance * gain.T).applyfunc(sp.factor))
    derivation = _sde_derivation(
        rule, h, symbols, covariance, first.variables, (drift, gain, diffusion)
    )
    return SdeLimit(
        rule=rule,
        h=h,
        variables=first.variables,
        noise=symbols,
        covariance=covariance,
        drift=drift,
        diffusion=diffusion,
        derivation=derivation,
    )


def _noise(rule, noise):
    """The noise symbols and their covariance matrix Σ, checked against the rule."""
    if isinstance(noise, tuple):
        symbols, covariance = tuple(noise[0]), as_matrix(noise[1], "the noise covariance")
    else:
        pairs = dict(noise)
        symbols = tuple(pairs)
        covariance = sp.ImmutableMatrix(
            sp.diag(*[as_expression(v, f"the variance of {k}") for k, v in pairs.items()])
        )
    if covariance.shape != (len(symbols), len(symbols)):
        raise ShapeError(
            f"{rule.name}: {len(symbols)} noise symbols need a "
            f"{len(symbols)}×{len(symbols)} covariance, got {covariance.shape}"
        )
    missing = [s for s in symbols if s not in rule.free_symbols]
    if missing:
        raise RuleError(f"{rule.name}: the noise symbols {missing} do not appear in the rule")
    return symbols, covariance


def _sde_derivation(rule, h, symbols, covariance, variables, fields):
    """The steps: the rule, Σ, the first-order field f + Gξ, and the SDE."""
    drift, gain, diffusion = fields
    state = sp.Matrix(variables)
    noise = safe_latex(sp.Matrix(symbols).T)
    named = "" if [safe_latex(s) for s in symbols] == ["\\xi"] else f" = {noise}"
    return (
        opening(rule, f"Stochastic modified equation of {plain(rule.name)}")
        .then(
            f"The noise $\\xi{named}$ has mean zero and covariance",
            TeX(r"\Sigma = \operatorname{Cov}" + noise + " = " + safe_latex(covariance)),
        )
        .then(
            f"With the step $h = {safe_latex(h)}$, its first-order modified field is "
            "$f(x) + G\\,\\xi$ with",
            (TeX("f = " + safe_latex(drift)), TeX("G = " + safe_latex(gain))),
        )
        .then(
            "One step adds $h\\,G\\,\\xi$, of covariance $h^2 G\\Sigma G^T$ per time $h$, so to "
            "first order in $h$ only (Li, Tai & E 2017) the iterates follow",
            TeX(
                "d"
                + safe_latex(state)
                + " = "
                + safe_latex(drift)
                + r"\,dt + \sqrt{"
                + safe_latex(diffusion)
                + r"}\,dW"
            ),
        )
    )
