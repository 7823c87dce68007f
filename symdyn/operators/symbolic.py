"""Exact gradients through time for the RNN rules of :mod:`symdyn.catalogue.models`.

For a linear RNN h ← W h + u the state-transition matrix is exact,
∂h_T/∂h_0 = W^T, and ‖W^T‖ → 0 iff ρ(W) < 1 (vanishing gradients); it
grows without bound if ρ(W) > 1 (exploding). For a tanh RNN
h ← tanh(W h + u) the Jacobian is diag(1 − h'²) W with |tanh'| ≤ 1, so
‖∂h_T/∂h_0‖₂ ≤ ‖W‖₂^T: gradients vanish for every trajectory if ‖W‖₂ < 1.
These are the symbolic counterparts of :func:`~symdyn.operators.gradient_norms`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from symdyn.budget import bounded
from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import UndecidedError
from symdyn.escaping import plain, safe_latex
from symdyn.rules.rule import UpdateRule, as_expression

__all__ = ["GradientThroughTime", "gradient_through_time"]


@dataclass(frozen=True)
class GradientThroughTime(Presented):
    """∂h_T/∂h_0 for an RNN rule, exactly (linear) or as a bound (tanh).

    Attributes
    ----------
    transition : sympy.ImmutableMatrix or None
        W^T for a linear RNN; ``None`` for tanh (it depends on the trajectory).
    weights : sympy.ImmutableMatrix
        W, the Jacobian of the pre-activation in the state.
    spectral_radius : sympy.Expr
        ρ(W).
    norm_bound : sympy.Expr or None
        An upper bound on ‖∂h_T/∂h_0‖₂: ‖W^T‖₂ (linear, ``None`` when T is
        symbolic) or ‖W‖₂^T (tanh).
    vanishing : sympy.Boolean
        Sufficient for ‖∂h_T/∂h_0‖ → 0 as T → ∞ (ρ(W) < 1 linear, ‖W‖₂ < 1 tanh);
        necessary and sufficient in the linear case.
    exploding : sympy.Boolean or None
        Linear: ρ(W) > 1, under which ‖W^T‖ → ∞. ``None`` for tanh (no bound
        from below holds for every trajectory).
    derivation : Derivation
    """

    transition: sp.ImmutableMatrix | None
    weights: sp.ImmutableMatrix
    spectral_radius: sp.Expr
    norm_bound: sp.Expr | None
    vanishing: sp.Basic
    exploding: sp.Basic | None
    derivation: Derivation = field(compare=False)


def _spectral_radius(matrix):
    return sp.Max(*[sp.Abs(e) for e in matrix.eigenvals()])


def _spectral_norm(matrix):
    return sp.Max(*[sp.sqrt(e) for e in (matrix.T * matrix).eigenvals()])


def _tanh_weights(rule):
    """W if every component is tanh(affine in the state), else None."""
    inner = []
    for value in rule.map:
        if not value.free_symbols & set(rule.state):
            inner.append(sp.S.Zero)  # a constant component: a zero row of W
            continue
        sign = 1
        if value.could_extract_minus_sign():  # sympy writes tanh(-u) as -tanh(u)
            value, sign = -value, -1
        if not isinstance(value, sp.tanh):
            return None
        inner.append(sign * value.args[0])
    pre = sp.Matrix(inner)
    try:
        if any(sp.Poly(e, *rule.state).total_degree() > 1 for e in inner):
            return None
    except sp.PolynomialError:
        return None
    return sp.ImmutableMatrix(pre.jacobian(sp.Matrix(rule.state)))


@bounded("gradient_through_time")
def gradient_through_time(rule: UpdateRule, steps) -> GradientThroughTime:
    """∂h_T/∂h_0 of a linear or tanh RNN rule, with the vanishing/exploding conditions.

    Parameters
    ----------
    rule : UpdateRule
        A rule affine in the state (``sd.models.linear_rnn``) or of the form
        h ← tanh(W h + u) (``sd.models.tanh_rnn``).
    steps : int or sympy.Symbol
        T (a symbol gives W^T in closed form where sympy finds one).
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

    Raises
    ------
    UndecidedError
        The rule is neither affine in the state nor tanh of an affine map.

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> h, w = sp.symbols("h w", real=True)
    >>> T = sp.Symbol("T", integer=True, positive=True)
    >>> g = gradient_through_time(sd.models.linear_rnn([[w]], [h]), T)
    >>> g.transition, g.vanishing
    (Matrix([[w**T]]), Abs(w) < 1)
    """
    if not isinstance(rule, UpdateRule):
        raise UndecidedError(f"gradient_through_time: expected an UpdateRule, got {type(rule)}")
    T = as_expression(steps, "gradient_through_time: steps")
    state = sp.Matrix(rule.state)
    derivation = Derivation(f"Gradients through time of {plain(rule.name)}")
    if rule.is_affine:
        W = sp.ImmutableMatrix(rule.map.jacobian(state))
        transition = sp.ImmutableMatrix(sp.simplify(W**T))
        radius = sp.simplify(_spectral_radius(W))
        bound = _spectral_norm(transition) if T.is_Integer else None
        vanishing = sp.simplify(radius < 1)
        exploding = sp.simplify(radius > 1)
        derivation = (
            derivation.then(
                "The map is affine in the state, so its Jacobian is the constant",
                sp.Eq(sp.MatrixSymbol("W", *W.shape), W, evaluate=False),
            )
            .then(
                "By the chain rule through $T$ steps, $\\partial h_T / \\partial h_0 = W^T$:",
                sp.Eq(sp.MatrixSymbol("W", *W.shape) ** T, transition, evaluate=False),
            )
            .then(
                "By Gelfand's formula $\\|W^T\\|^{1/T} \\to \\rho(W)$, so gradients vanish "
                "iff $\\rho(W) < 1$ and explode if $\\rho(W) > 1$, with",
                TeX("\\rho(W) = " + safe_latex(radius)),
            )
        )
        return GradientThroughTime(transition, W, radius, bound, vanishing, exploding, derivation)
    W = _tanh_weights(rule)
    if W is None:
        raise UndecidedError(
            f"gradient_through_time: {rule.name} is neither affine in the state nor "
            "tanh(W h + u); no exact statement is available"
        )
    radius = sp.simplify(_spectral_radius(W))
    norm = sp.simplify(_spectral_norm(W))
    derivation = (
        derivation.then(
            "Each step is $h \\leftarrow \\tanh(W h + u)$ with",
            sp.Eq(sp.MatrixSymbol("W", *W.shape), W, evaluate=False),
        )
        .then(
            "Its Jacobian is $\\mathrm{diag}(1 - h_{t}^2) W$ and $0 < 1 - \\tanh^2 \\le 1$, "
            "so each step multiplies norms by at most $\\|W\\|_2$:",
            TeX("\\|\\partial h_T / \\partial h_0\\|_2 \\le " + safe_latex(norm**T)),
        )
        .then("Gradients vanish along every trajectory when", norm < 1)
    )
    return GradientThroughTime(None, W, radius, norm**T, sp.simplify(norm < 1), None, derivation)
