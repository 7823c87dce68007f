"""Second derivatives through a composition: the Gauss–Newton split and response Jacobians.

Two questions about the second derivatives of a training loss, answered
with exact algebra and a derivation each:

- how does the Hessian of L(z(θ)) split into the always-usable Gauss–Newton
  term JᵀH_L J and the residual term (:func:`gauss_newton`);
- how does a minimiser θ*(φ) move with a hyperparameter φ
  (:func:`response_jacobian`, the implicit function theorem).

Where the critical points are and what they are is :mod:`symdyn.curvature.critical_points`.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from symdyn.budget import bounded
from symdyn.curvature.critical_points import _named, _scalar, _symbols
from symdyn.derivation import Derivation, Presented
from symdyn.errors import ExpressionTypeError, UndecidedError
from symdyn.rules.factoring import factor
from symdyn.rules.rule import as_expression

__all__ = ["GaussNewton", "ResponseJacobian", "gauss_newton", "response_jacobian"]


# --------------------------------------------------------------------------- Gauss–Newton


@dataclass(frozen=True)
class GaussNewton(Presented):
    """The Hessian of L(z(θ)) split as Jᵀ H_L J + Σᵢ (∂L/∂zᵢ) ∇²zᵢ.

    Attributes
    ----------
    jacobian : sympy.ImmutableMatrix
        J = ∂z/∂θ, one row per output.
    output_hessian : sympy.ImmutableMatrix
        H_L = ∂²L/∂z², in the output symbols.
    gauss_newton : sympy.ImmutableMatrix
        Jᵀ H_L J as a function of θ.
    residual : sympy.ImmutableMatrix
        Σᵢ (∂L/∂zᵢ)(z(θ)) ∇²_θ zᵢ.
    hessian : sympy.ImmutableMatrix
        ∇²_θ L(z(θ)), computed directly; equals ``gauss_newton + residual``.
    psd_condition : sympy.Boolean
        H_L is positive semidefinite (every principal minor ≥ 0), which
        makes the Gauss–Newton term positive semidefinite for every J.
    derivation : Derivation
    """

    jacobian: sp.ImmutableMatrix
    output_hessian: sp.ImmutableMatrix
    gauss_newton: sp.ImmutableMatrix
    residual: sp.ImmutableMatrix
    hessian: sp.ImmutableMatrix
    psd_condition: sp.Basic
    derivation: Derivation = field(compare=False)


def _outputs(model, where):
    if isinstance(model, Mapping):
        pairs = list(model.items())
    else:
        try:
            pairs = [tuple(pair) for pair in model]
        except TypeError as err:
            raise ExpressionTypeError(
                f"{where}: the model must map output symbols to expressions "
                "(a dict or a list of (z, expression) pairs)"
            ) from err
    if not pairs or any(len(p) != 2 or not isinstance(p[0], sp.Symbol) for p in pairs):
        raise ExpressionTypeError(
            f"{where}: the model must map output symbols to expressions, got {model!r}"
        )
    return [z for z, _ in pairs], [as_expression(e, f"{where}: the model's {z}") for z, e in pairs]


def _psd_condition(matrix):
    n = matrix.shape[0]
    conditions = []
    for size in range(1, n + 1):
        for rows in itertools.combinations(range(n), size):
            minor = sp.simplify(matrix.extract(list(rows), list(rows)).det())
            conditions.append(sp.Ge(minor, 0))
    return sp.And(*conditions)


@bounded("gauss_newton")
def gauss_newton(loss, model, params) -> GaussNewton:
    """Split ∇²_θ L(z(θ)) into the Gauss–Newton term and the residual term.

    With J = ∂z/∂θ and H_L = ∂²L/∂z²,

        ∇²_θ L = Jᵀ H_L J + Σᵢ (∂L/∂zᵢ) ∇²_θ zᵢ.

    The first term is positive semidefinite whenever H_L is (convex losses:
    squared error, cross-entropy on logits); the second vanishes where the
    model interpolates (∂L/∂z = 0) or is linear in θ.

    Parameters
    ----------
    loss : sympy.Expr
        L as a function of the output symbols.
    model : dict or sequence of (Symbol, Expr)
        Each output symbol zᵢ and its expression in ``params``.
    params : sequence of sympy.Symbol
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

    Returns
    -------
    GaussNewton

    Examples
    --------
    >>> import sympy as sp
    >>> z, a, b, y = sp.symbols("z a b y", real=True)
    >>> gn = gauss_newton((z - y) ** 2 / 2, {z: a * b}, [a, b])
    >>> gn.gauss_newton
    Matrix([
    [b**2,  a*b],
    [ a*b, a**2]])
    >>> gn.residual
    Matrix([
    [       0, a*b - y],
    [a*b - y,       0]])
    >>> gn.psd_condition
    True
    """
    loss = _scalar(loss, "gauss_newton")
    theta = _symbols(params, "params", "gauss_newton")
    outputs, expressions = _outputs(model, "gauss_newton")
    clash = set(outputs) & set(theta)
    if clash:
        raise ExpressionTypeError(
            f"gauss_newton: {sorted(clash, key=str)} are both outputs and params"
        )
    at_model = dict(zip(outputs, expressions, strict=True))
    jac = sp.ImmutableMatrix(sp.Matrix(expressions).jacobian(theta))
    h_out = sp.ImmutableMatrix(sp.hessian(loss, outputs))
    h_out_at = h_out.subs(at_model, simultaneous=True)
    gn = sp.ImmutableMatrix(jac.T * h_out_at * jac)
    residual = sp.zeros(len(theta), len(theta))
    for z, e in zip(outputs, expressions, strict=True):
        weight = sp.diff(loss, z).subs(at_model, simultaneous=True)
        residual += weight * sp.hessian(e, theta)
    residual = sp.ImmutableMatrix(residual)
    composed = loss.subs(at_model, simultaneous=True)
    hessian = sp.ImmutableMatrix(sp.hessian(composed, theta))
    condition = _psd_condition(h_out)
    n, m = len(theta), len(outputs)
    J, H = sp.MatrixSymbol("J", m, n), sp.MatrixSymbol("H_L", m, m)
    R = sp.MatrixSymbol("R", n, n)
    derivation = (
        Derivation("Gauss–Newton split of the Hessian")
        .then(
            "By the chain rule twice, the Hessian $H$ of $L(z(\\theta))$ is a Gauss–Newton "
            "term $G = J^T H_L J$ plus a residual term $R$ weighted by "
            "$\\partial L / \\partial z$:",
            sp.Eq(sp.MatrixSymbol("H", n, n), J.T * H * J + R, evaluate=False),
        )
        .then("The model's Jacobian:", _named("J", jac))
        .then("The loss's Hessian in the outputs:", _named("H_L", h_out))
        .then("The Gauss–Newton term:", _named("G", gn))
        .then("The residual term:", _named("R", residual))
        .then(
            "$J^T H_L J$ is positive semidefinite for every $J$ when $H_L$ is, i.e. when "
            "every principal minor of $H_L$ is nonnegative:",
            condition,
        )
    )
    return GaussNewton(jac, h_out, gn, residual, hessian, condition, derivation)


# --------------------------------------------------------------------------- response Jacobian


@dataclass(frozen=True)
class ResponseJacobian(Presented):
    """How a minimiser moves with hyperparameters: dθ*/dφ.

    Attributes
    ----------
    matrix : sympy.ImmutableMatrix
        −(∂²L/∂θ²)⁻¹ ∂²L/∂θ∂φ, one row per parameter, one column per
        hyperparameter; a function of θ and φ to be read at θ = θ*(φ)
        (substituted already when ``at`` was given).
    condition : sympy.Boolean
        det ∂²L/∂θ² ≠ 0: where it holds, the implicit function theorem gives
        a differentiable θ*(φ) near the point.
    derivation : Derivation
    """

    matrix: sp.ImmutableMatrix
    condition: sp.Basic
    derivation: Derivation = field(compare=False)


@bounded("response_jacobian")
def response_jacobian(loss, params, hyper, at: Mapping | None = None) -> ResponseJacobian:
    """dθ*/dφ at a minimiser by the implicit function theorem.

    Differentiating ∇_θ L(θ*(φ), φ) = 0 in φ gives
    ∂²L/∂θ² · dθ*/dφ + ∂²L/∂θ∂φ = 0, so

        dθ*/dφ = −(∂²L/∂θ²)⁻¹ ∂²L/∂θ∂φ   where det ∂²L/∂θ² ≠ 0.

    Parameters
    ----------
    loss : sympy.Expr
    params : sequence of sympy.Symbol
        θ, the variables minimised over.
    hyper : sequence of sympy.Symbol
        φ, the hyperparameters.
    at : dict, optional
        θ*(φ) (or any point); substituted into the result and the condition.
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

    Returns
    -------
    ResponseJacobian

    Examples
    --------
    >>> import sympy as sp
    >>> w, a = sp.symbols("w a", real=True)
    >>> c = sp.Symbol("c", positive=True)
    >>> loss = (w - a) ** 2 / 2 + c * w**2 / 2       # ridge: w* = a / (1 + c)
    >>> r = response_jacobian(loss, [w], [c], at={w: a / (1 + c)})
    >>> r.matrix
    Matrix([[-a/(c + 1)**2]])
    >>> r.condition
    True
    """
    loss = _scalar(loss, "response_jacobian")
    theta = _symbols(params, "params", "response_jacobian")
    phi = _symbols(hyper, "hyper", "response_jacobian")
    clash = set(theta) & set(phi)
    if clash:
        raise ExpressionTypeError(
            f"response_jacobian: {sorted(clash, key=str)} are both params and hyper"
        )
    gradient = sp.Matrix([sp.diff(loss, x) for x in theta])
    h_tt = sp.Matrix(sp.hessian(loss, theta))
    h_tp = gradient.jacobian(phi)
    if at:
        h_tt = h_tt.subs(at, simultaneous=True)
        h_tp = h_tp.subs(at, simultaneous=True)
    det = factor(sp.simplify(h_tt.det()))
    condition = sp.simplify(sp.Ne(det, 0))
    if condition is sp.false:
        raise UndecidedError(
            "response_jacobian: ∂²L/∂θ² is singular everywhere "
            "(det = 0); θ*(φ) is not determined by the implicit function theorem"
        )
    matrix = sp.ImmutableMatrix(sp.simplify(-h_tt.adjugate() * h_tp / det))
    derivation = (
        Derivation("Response of the minimiser to the hyperparameters")
        .then(
            "At a minimiser the gradient vanishes for every $\\phi$:",
            sp.Eq(gradient, sp.zeros(len(theta), 1), evaluate=False),
        )
        .then(
            "Differentiating in $\\phi$ gives $H_{\\theta\\theta} D + H_{\\theta\\phi} = 0$ "
            "with $D = d\\theta^*/d\\phi$ and",
            (_named("H_{\\theta\\theta}", h_tt), _named("H_{\\theta\\phi}", h_tp)),
        )
        .then("The implicit function theorem applies where", condition)
        .then("and there", _named("D", matrix))
    )
    return ResponseJacobian(matrix, condition, derivation)
