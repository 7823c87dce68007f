"""Stationary covariance of a linear method whose gradients carry additive noise.

Each gradient temporary g becomes g + ξ with independent zero-mean noise; the
state then settles (where the rule is stable) to the covariance solving a
discrete Lyapunov equation, per mode on :func:`symdyn.quadratic` rules
(sharing the per-mode system of :mod:`symdyn.linear.spectrum`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from symdyn.budget import bounded
from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import NoStationaryStateError, UndecidedError
from symdyn.escaping import plain, safe_latex
from symdyn.linear.spectrum import SpectrumError, _per_mode, parameter_values
from symdyn.rules.rule import UpdateRule
from symdyn.rules.values import exact_value, resolve_symbol

__all__ = ["NoStationaryStateError", "StationaryCovariance", "stationary_covariance"]


@dataclass(frozen=True)
class StationaryCovariance(Presented):
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


def _gradient_temporaries(rule):
    gradients = [t for t in rule.temporaries if t.name.startswith("g_")]
    if not gradients:
        raise SpectrumError(
            f"{rule.name}: no gradient temporaries (named g_...) to add noise to; "
            "pass noise={temporary: variance}"
        )
    return gradients


def _covariance_matrix(rule, noise):
    """(sources, Σ) for a full covariance of the gradient temporaries, in their order."""
    matrix = (
        sp.Matrix(np.asarray(noise, dtype=object).tolist())
        if isinstance(noise, np.ndarray)
        else sp.Matrix(noise)
    )
    sources = _gradient_temporaries(rule)
    if matrix.shape != (len(sources), len(sources)):
        raise SpectrumError(
            f"{rule.name}: the noise covariance must be {len(sources)}x{len(sources)}, one row "
            f"per gradient temporary {[str(g) for g in sources]}; got {matrix.shape}"
        )
    where = f"{rule.name}: stationary_covariance(noise=...)"
    matrix = matrix.applyfunc(lambda v: exact_value(v, where=where))
    if matrix != matrix.T:
        raise SpectrumError(f"{rule.name}: the noise covariance is not symmetric")
    return sources, sp.ImmutableMatrix(matrix)


def _noise_sources(rule, noise):
    """{gradient temporary: variance} from a variance or a mapping."""
    if isinstance(noise, Mapping):
        where = f"{rule.name}: stationary_covariance(noise=...)"
        sources = {resolve_symbol(k, rule.temporaries, where=where): v for k, v in noise.items()}
        unknown = [k for k in sources if k not in rule.temporaries]
        if unknown:
            raise SpectrumError(
                f"{rule.name}: noise is added to temporaries; {unknown} are not among "
                f"{list(rule.temporaries)}"
            )
        return sources
    return dict.fromkeys(_gradient_temporaries(rule), noise)


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


@bounded("stationary_covariance")
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
    noise : sympy.Expr or number or mapping or matrix
        σ², {temporary: variance}, or the full covariance Σ (a square sympy Matrix or
        array) of the noise on the gradient temporaries ``g_...`` in their order.
    params : mapping, optional
        Numeric values; outside the stability region they raise. With them the
        stability is decided at those values (``region`` is then ``True``).
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

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
    from symdyn.linear.modes import _mode_inputs
    from symdyn.linear.stability import stability

    if isinstance(noise, (sp.MatrixBase, np.ndarray, list, tuple)):
        order, variances = _covariance_matrix(rule, noise)
        sources = dict.fromkeys(order)
    else:
        sources = _noise_sources(rule, noise)
        variances = sp.diag(
            *[exact_value(sources[g], where=f"the variance of {g}") for g in sources]
        )
    noisy, shocks = _noisy(rule, sources)
    values = parameter_values(rule, params, "stationary_covariance(params=...)")
    derivation = Derivation(f"Stationary covariance of {plain(rule.name)}")
    if any(isinstance(s, sp.MatrixSymbol) for s in rule.state):
        jac, _, state, _, reduction = _per_mode(rule, values)
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
            TeX("J = " + safe_latex(jac)),
            TeX("B = " + safe_latex(inputs)),
            TeX("\\Sigma = " + safe_latex(variances)),
        ),
    )
    if values:  # numbers first: deciding stability at them is cheap, symbolically not
        jac, inputs, variances = (
            sp.ImmutableMatrix(m.subs(values)) for m in (jac, inputs, variances)
        )
    result = stability(jac)  # the per-mode (or whole) linearisation decides existence
    if result.region is sp.false:
        if values:
            raise NoStationaryStateError(
                f"{rule.name} is not stable at {values}, so the noise accumulates without "
                "bound: no stationary covariance exists"
            )
        raise NoStationaryStateError(f"{rule.name} is stable for no parameter values")
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
        TeX("C = " + safe_latex(shown)),
    )
    return StationaryCovariance(rule, tuple(state), covariance, result.region, derivation)
