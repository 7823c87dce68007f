"""Hamiltonian and conformal-symplectic forms of momentum methods.

A momentum rule with positions x and buffers a (x⁺ − x = C·a⁺) is written in
canonical coordinates q = x, p = C·a/s. When its Jacobian satisfies
JᵀΩJ = cΩ with a constant c, it is conformal symplectic; if moreover the
momentum update is p⁺ = c·p − s∇V(q), it is the conformal symplectic Euler
method with step s for H(q, p) = |p|²/2 + V(q), damped by c = e^{−γs} per step.

References
----------
McLachlan & Perlmutter, *Conformal Hamiltonian systems* (2001); França,
Sulam, Robinson & Vidal, *Conformal symplectic and relativistic
optimization* (NeurIPS 2020); Hairer, Lubich & Wanner (2006), ch. VI.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from symdyn.budget import bounded
from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import RuleError
from symdyn.escaping import plain, safe_latex
from symdyn.frozen import freeze_fields
from symdyn.limits._potential import _potential
from symdyn.limits._taylor import _is_zero
from symdyn.linear.criteria import sign_of
from symdyn.linear.kernel import determinant, opening
from symdyn.rules.factoring import factor
from symdyn.rules.rule import UpdateRule, as_expression
from symdyn.rules.state_roles import state_roles
from symdyn.rules.values import resolve_symbol

__all__ = ["HamiltonianForm", "hamiltonian_form"]


@dataclass(frozen=True)
class HamiltonianForm(Presented):
    """A momentum rule as a (conformal) symplectic map.

    Attributes
    ----------
    rule : UpdateRule
    q, p : tuple of sympy.Symbol
        Canonical positions and momenta (``p`` are new symbols).
    coordinates : dict
        Each momentum → its expression in the rule's state.
    step : sympy.Expr or None
        s, the symplectic Euler step (√η for heavy ball).
    H : sympy.Expr or None
        |p|²/2 + V(q) when the rule is conformal symplectic Euler for it.
    damping : sympy.Expr or None
        γ with c = e^{−γ s}.
    contraction : sympy.Expr or None
        c in JᵀΩJ = cΩ (so det J = cⁿ for n positions); None if not constant.
    det_jacobian : sympy.Expr
    is_conformal_symplectic : bool
    is_symplectic : sympy.Boolean
        ``Eq(c, 1)``: True, False, or the condition on the parameters.
    reason : str
        Why the rule is or is not conformal symplectic.
    derivation : Derivation
    """

    rule: UpdateRule
    q: tuple
    p: tuple
    coordinates: dict
    step: sp.Expr | None
    H: sp.Expr | None
    damping: sp.Expr | None
    contraction: sp.Expr | None
    det_jacobian: sp.Expr
    is_conformal_symplectic: bool
    is_symplectic: sp.Basic
    reason: str
    derivation: Derivation = field(repr=False)

    def __post_init__(self):
        freeze_fields(self, "coordinates")


def _momenta(rule, roles):
    """Pairs (position, momentum symbol, momentum with s = 1 in the old state, inverse)."""
    pairs = []
    for a, (x, ratio) in roles.buffers.items():
        p = sp.Symbol(f"p_{x.name}", real=True)
        pairs.append((x, a, p, ratio * a, lambda p_value, ratio=ratio: p_value / ratio))
    for a, (x, depth) in roles.lags.items():
        if depth != 1:
            raise RuleError(
                f"{rule.name}: {a} lags {x} by {depth} steps; only one-step lags "
                "pair with a position"
            )
        p = sp.Symbol(f"p_{x.name}", real=True)
        pairs.append((x, a, p, x - a, lambda p_value, x=x: x - p_value))
    order = {x: i for i, x in enumerate(roles.positions)}
    return sorted(pairs, key=lambda item: order[item[0]])


def _coordinates(rule, q, p):
    """(positions, momentum symbols, momenta in the state, old non-positions in (q, p))."""
    if q is None and p is None:
        roles = state_roles(rule)
        pairs = _momenta(rule, roles)
        paired = [item[0] for item in pairs]
        if not pairs or sorted(map(str, paired)) != sorted(map(str, roles.positions)):
            raise RuleError(
                f"{rule.name}: hamiltonian_form needs one momentum buffer or lagged copy per "
                f"position; positions {list(roles.positions)} have momenta for {paired} only; "
                "give q=[...] and p=[...] to choose coordinates"
            )
        to_old = {item[1]: item[4](item[2]) for item in pairs}
        return (
            tuple(i[0] for i in pairs),
            tuple(i[2] for i in pairs),
            tuple(i[3] for i in pairs),
            to_old,
        )
    if q is None or p is None:
        raise RuleError(f"{rule.name}: give both q=[...] and p=[...], or neither")
    where = f"{rule.name}: hamiltonian_form"
    q = tuple(resolve_symbol(x, rule.state, where=f"{where}(q=...)") for x in q)
    momenta = tuple(as_expression(m, f"{where}(p=...)") for m in p)
    others = [s for s in rule.state if s not in q]
    if any(x not in rule.state for x in q) or not (len(q) == len(momenta) == len(others)):
        raise RuleError(
            f"{rule.name}: q must be state symbols and p one expression per position, with as "
            f"many other state symbols; got q={list(q)}, p={list(momenta)}, state={rule.state}"
        )
    symbols = tuple(sp.Symbol(f"p_{x.name}", real=True) for x in q)
    solved = sp.solve([s - m for s, m in zip(symbols, momenta, strict=True)], others, dict=True)
    if len(solved) != 1 or any(o not in solved[0] for o in others):
        raise RuleError(f"{rule.name}: the momenta {list(momenta)} do not determine {others}")
    return q, symbols, momenta, solved[0]


@bounded("hamiltonian_form")
def hamiltonian_form(rule, q=None, p=None):
    """Canonical coordinates, contraction and Hamiltonian of a momentum rule.

    Parameters
    ----------
    rule : UpdateRule
        One momentum buffer (or one-step lagged copy) per position.
    q, p : sequences, optional
        Positions (state symbols) and momenta (expressions in the state, one
        per position) to use instead of the detected ones; the contraction
        does not depend on this choice, the Hamiltonian form needs q⁺ = q + p⁺.
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

    Returns
    -------
    HamiltonianForm
        A rule that is not conformal symplectic (Nesterov: det J depends on the
        curvature) gets ``is_conformal_symplectic=False`` and the reason.

    Raises
    ------
    RuleError
        If the state cannot be split into positions and their momenta.

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta, beta = sp.symbols("eta beta", positive=True)
    >>> L = sp.Function("L")
    >>> form = sd.hamiltonian_form(sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=beta))
    >>> form.contraction, form.step, form.H
    (beta, sqrt(eta), p_x**2/2 + L(x))

    References
    ----------
    McLachlan & Perlmutter (2001); França et al. (2020).
    """
    if not isinstance(rule, UpdateRule):
        raise RuleError(f"hamiltonian_form needs an UpdateRule, got {type(rule).__name__}")
    coordinates = _Coordinates(*_coordinates(rule, q, p))
    step, derivation = _one_step(rule, coordinates)
    if not step.is_conformal:
        return _not_conformal(rule, coordinates, step, derivation)
    euler, derivation = _euler_form(rule, coordinates, step, derivation)
    derivation = derivation.then("It is symplectic exactly when $c = 1$.")
    return HamiltonianForm(
        rule=rule,
        q=coordinates.q,
        p=coordinates.p,
        coordinates=euler.coordinates,
        step=euler.step,
        H=euler.H,
        damping=euler.damping,
        contraction=step.contraction,
        det_jacobian=step.det,
        is_conformal_symplectic=True,
        is_symplectic=sp.Eq(step.contraction, 1),
        reason=euler.reason,
        derivation=derivation,
    )


@dataclass(frozen=True)
class _Coordinates:
    """Positions q, momentum symbols p, the momenta in the rule's state, and the old
    non-positions in (q, p)."""

    q: tuple
    p: tuple
    momenta: tuple
    to_old: dict


@dataclass(frozen=True)
class _Step:
    """One step in (q, p): the new values, the Jacobian J, JᵀΩJ, its factor c and det J."""

    q_next: tuple
    p_next: tuple
    jacobian: sp.ImmutableMatrix
    form: sp.ImmutableMatrix
    contraction: sp.Expr
    det: sp.Expr
    is_conformal: bool


@dataclass(frozen=True)
class _Euler:
    """The conformal symplectic Euler reading: step s (None unless q⁺ = q + p⁺ and the
    force is free of p), H and damping γ (None when the momentum update is not
    c·p − s∇V(q)), the momenta (rescaled by 1/s with H) and the reason."""

    step: sp.Expr | None
    H: sp.Expr | None
    damping: sp.Expr | None
    coordinates: dict
    reason: str


def _one_step(rule, coordinates):
    """The step in (q, p), its Jacobian and JᵀΩJ; the derivation opens with them."""
    q, p, momenta, to_old = coordinates.q, coordinates.p, coordinates.momenta, coordinates.to_old
    nxt = dict(zip(rule.state, rule.next_state, strict=True))
    q_next = [nxt[x].subs(to_old, simultaneous=True) for x in q]
    p_next = [
        sp.expand(m.subs(nxt, simultaneous=True).subs(to_old, simultaneous=True)) for m in momenta
    ]
    n = len(q)
    coords = sp.Matrix([*q, *p])
    jac = sp.Matrix([*q_next, *p_next]).jacobian(coords)
    omega = sp.Matrix(sp.BlockMatrix([[sp.zeros(n), sp.eye(n)], [-sp.eye(n), sp.zeros(n)]]))
    form = (jac.T * omega * jac).applyfunc(sp.expand)
    contraction = factor(sp.cancel(form[0, n]))
    det = factor(determinant(jac))
    state_like = set(q) | set(p)
    constant = not (contraction.free_symbols & state_like)
    exact = all(
        _is_zero(form[i, j] - contraction * omega[i, j])
        for i in range(2 * n)
        for j in range(2 * n)
    )
    d = opening(rule, f"Hamiltonian form of {plain(rule.name)}")
    d = d.then(
        "Take the positions as $q$ and the momenta (before rescaling by a step $s$) as",
        tuple(sp.Eq(pk, m) for pk, m in zip(p, momenta, strict=True)),
    )
    d = d.then(
        "In these coordinates one step is",
        tuple(
            sp.Eq(sp.Symbol(f"{{{safe_latex(c)}}}^{{+}}"), e)
            for c, e in zip(coords, [*q_next, *p_next], strict=True)
        ),
    )
    d = d.then(
        "With the symplectic form $\\Omega = \\begin{pmatrix} 0 & I \\\\ -I & 0 "
        "\\end{pmatrix}$, its Jacobian $J$ and the product $J^T \\Omega J$ are",
        (TeX("J = " + safe_latex(jac)), TeX("J^T\\Omega J = " + safe_latex(form))),
    )
    step = _Step(
        q_next=tuple(q_next),
        p_next=tuple(p_next),
        jacobian=sp.ImmutableMatrix(jac),
        form=sp.ImmutableMatrix(form),
        contraction=contraction,
        det=det,
        is_conformal=exact and constant,
    )
    return step, d


def _not_conformal(rule, coordinates, step, d):
    """The result for a rule whose JᵀΩJ is not a constant multiple of Ω, with the reason."""
    det, state_like = step.det, set(coordinates.q) | set(coordinates.p)
    depends = det.free_symbols & state_like
    why = f"det J = {det} depends on the state" if depends else "JᵀΩJ is not a multiple of Ω"
    shown = (
        "$\\det J$ depends on the state"
        if depends
        else "$J^T \\Omega J$ is not a multiple of $\\Omega$"
    )
    if det.has(sp.Derivative) or any(str(a).startswith("Subs") for a in det.atoms()):
        why += " through the curvature of the loss"
        shown += " through the curvature of the loss"
    reason = f"not conformal symplectic: {why}"
    d = d.then(
        f"So the rule is not conformal symplectic: {shown}.",
        TeX("\\det J = " + safe_latex(det)),
    )
    return HamiltonianForm(
        rule=rule,
        q=coordinates.q,
        p=coordinates.p,
        coordinates=dict(zip(coordinates.p, coordinates.momenta, strict=True)),
        step=None,
        H=None,
        damping=None,
        contraction=None,
        det_jacobian=det,
        is_conformal_symplectic=False,
        is_symplectic=sp.false,
        reason=reason,
        derivation=d,
    )


def _euler_form(rule, coordinates, step, d):
    """Whether the conformal symplectic map is symplectic Euler for |p|²/2 + V(q)."""
    q, p, momenta = coordinates.q, coordinates.p, coordinates.momenta
    contraction = step.contraction
    d = d.then(
        "It is a multiple of $\\Omega$ with a constant factor, so the map is "
        "conformal symplectic with contraction",
        (sp.Eq(sp.Symbol("c"), contraction), TeX("\\det J = " + safe_latex(step.det))),
    )
    force = [sp.expand(contraction * pk - pn) for pk, pn in zip(p, step.p_next, strict=True)]
    reason = f"conformal symplectic with constant contraction {contraction}"
    s, potential, assumption, assumption_tex = _step_and_potential(rule, q, p, step, force)
    if potential is None:
        d = d.then(
            "The momentum update is not of the form $c\\,p - s\\nabla V(q)$ for a step "
            "$s$ and a potential $V$, so no Hamiltonian is given."
        )
        reason += "; the momentum update is not of the form c·p − s∇V(q), so no H is given"
        coordinates = dict(zip(p, momenta, strict=True))
        return _Euler(s, None, None, coordinates, reason), d
    H = sum(pk**2 for pk in p) / 2 + potential
    damping = sp.simplify(-sp.log(contraction) / s)
    rescaled = {pk: m / s for pk, m in zip(p, momenta, strict=True)}
    d = d.then(
        f"With the step $s = {safe_latex(s)}${assumption_tex}, momenta rescaled by $1/s$ "
        "and the potential",
        TeX("V(q) = " + safe_latex(potential)),
    )
    d = d.then(
        "the update is $p^+ = c\\,p - s\\nabla V(q)$, $q^+ = q + s\\,p^+$: conformal "
        "symplectic Euler for $H = |p|^2/2 + V(q)$, that is",
        (TeX("H = " + safe_latex(H)), *(sp.Eq(k, v) for k, v in rescaled.items())),
    )
    d = d.then("with damping $c = e^{-\\gamma s}$, i.e.", sp.Eq(sp.Symbol("\\gamma"), damping))
    reason += f"; conformal symplectic Euler for H = {H} with step {s}{assumption}"
    return _Euler(s, H, damping, rescaled, reason), d


def _step_and_potential(rule, q, p, step, force):
    """(s, V, assumption, its LaTeX) when p⁺ = c·p − s∇V(q) and q⁺ = q + p⁺; V None else."""
    none = (None, None, "", "")
    euler = all(
        _is_zero(qn - x - pn) for qn, x, pn in zip(step.q_next, q, step.p_next, strict=True)
    )
    if not euler or any(f.free_symbols & set(p) for f in force):
        return none
    scale, _ = sp.factor_terms(force[0]).as_independent(*q, *rule.free, as_Add=False)
    if sign_of(scale) == -1:
        return none
    potential = _potential([sp.expand(f / scale) for f in force], list(q))
    if sign_of(scale) is None:
        return (
            sp.sqrt(scale),
            potential,
            f" (where {scale} > 0)",
            f" (where ${safe_latex(scale)} > 0$)",
        )
    return sp.sqrt(scale), potential, "", ""
