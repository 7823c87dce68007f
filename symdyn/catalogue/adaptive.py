"""Adaptive optimizers with a frozen preconditioner: RMSprop, Adam, AdamW, Adagrad.

Near a minimum the second-moment estimate of an adaptive method changes
slowly, and the standard way to study its stability is to freeze it: the
update divides by a fixed positive diagonal P = diag(√v̂ + ε) (Adagrad:
P = diag(√s + ε), s the sum of squared gradients). What remains is linear,
and on θᵀHθ/2 − bᵀθ every block of its Jacobian is a function of P⁻¹H once
the buffers are rescaled by P (:mod:`symdyn.linear.modes`), so stability is decided
per eigenvalue of P⁻¹H.

``preconditioner="frozen"`` makes P a symbol: a positive scalar ``p_x`` per
scalar variable, a :class:`~symdyn.rules.matrix_symbols.PositiveDiagonalMatrixSymbol`
``P_theta`` per matrix variable. A positive expression (scalar variables) or
a ``PositiveDiagonalMatrixSymbol`` (matrix variables) may be given instead.
Each function documents the exact equations it implements; the second-moment
decay (β₂, α) and ε live inside P and do not enter the frozen map.

References
----------
Tieleman & Hinton, Lecture 6.5 (2012); Kingma & Ba, "Adam" (ICLR 2015);
Loshchilov & Hutter, "Decoupled weight decay regularization" (ICLR 2019);
Duchi, Hazan & Singer, "Adaptive subgradient methods" (JMLR 2011);
Cohen et al., "Adaptive gradient methods at the edge of stability" (2022).
"""

from __future__ import annotations

from types import MappingProxyType

import sympy as sp

from symdyn.catalogue.pieces import (
    Draft,
    add_weights,
    chain,
    choose,
    debias,
    ema,
    finish,
    gradient,
    hyperparameters,
    optimised_variables,
    precondition,
    scale,
    trace,
)
from symdyn.errors import PreconditionerError, RuleError
from symdyn.rules.matrix_symbols import PositiveDiagonalMatrixSymbol
from symdyn.rules.rule import as_expression
from symdyn.rules.signs import sign_of

__all__ = [
    "ADAMW",
    "ADAM_WEIGHT_DECAY",
    "RMSPROP",
    "PreconditionerError",
    "adagrad",
    "adam",
    "adamw",
    "rmsprop",
]

# RMSprop's momentum, by convention: the pieces after u ← P⁻¹g.
RMSPROP = MappingProxyType(
    {
        "polyak": lambda lr, momentum: (scale(-lr), trace(momentum, "u")),
        "torch": lambda lr, momentum: (trace(momentum, "b"), scale(-lr)),
    }
)

# AdamW's decoupled decay, by convention: the piece after the step −η c_k P⁻¹m.
ADAMW = MappingProxyType(
    {
        "torch": lambda lr, weight_decay: add_weights(-lr * weight_decay),
        "loshchilov": lambda lr, weight_decay: add_weights(-weight_decay),
    }
)
# Adam, by convention: whether weight decay (ωθ added to the gradient) is part of it.
ADAM_WEIGHT_DECAY = MappingProxyType({"kingma": False, "torch": True})


def _preconditioners(preconditioner, variables, where):
    """One frozen preconditioner per variable, checked positive."""
    if isinstance(preconditioner, str):
        if preconditioner != "frozen":
            raise PreconditionerError(
                f"{where}: unknown preconditioner {preconditioner!r}; symdyn analyses adaptive "
                "methods with preconditioner='frozen' (or an explicit positive preconditioner)"
            )
        return [
            PositiveDiagonalMatrixSymbol(f"P_{v.name}", v.shape[0])
            if isinstance(v, sp.MatrixSymbol)
            else sp.Symbol(f"p_{v.name}", positive=True)
            for v in variables
        ]
    values = list(preconditioner) if isinstance(preconditioner, (list, tuple)) else None
    values = values or [preconditioner] * len(variables)
    if len(values) != len(variables):
        raise PreconditionerError(
            f"{where}: {len(values)} preconditioners for {len(variables)} variables"
        )
    for v, p in zip(variables, values, strict=True):
        if isinstance(v, sp.MatrixSymbol):
            if not isinstance(p, PositiveDiagonalMatrixSymbol) or p.shape[0] != v.shape[0]:
                raise PreconditionerError(
                    f"{where}: the preconditioner of {v} must be a "
                    f"PositiveDiagonalMatrixSymbol of size {v.shape[0]}, got {p!r}"
                )
            continue
        if isinstance(p, (sp.MatrixBase, sp.MatrixExpr)) or not isinstance(
            as_expression(p, f"{where}: the preconditioner of {v}"), sp.Expr
        ):
            raise PreconditionerError(
                f"{where}: the preconditioner of {v} must be a scalar, got {p!r}"
            )
        if sign_of(as_expression(p, where)) != 1:
            raise PreconditionerError(
                f"{where}: the preconditioner {p} of {v} is not known to be positive; "
                "a frozen preconditioner is √v̂ + ε > 0 (declare its symbols positive=True)"
            )
    return [p if isinstance(p, sp.MatrixSymbol) else as_expression(p, where) for p in values]


def _counter(bias_correction, counter):
    if not bias_correction:
        return counter
    return counter if counter is not None else sp.Symbol("k", integer=True, positive=True)


def rmsprop(
    loss,
    variables,
    lr,
    momentum=0,
    weight_decay=0,
    preconditioner="frozen",
    convention="polyak",
    name=None,
):
    """RMSprop with a frozen preconditioner P = diag(√v + ε).

    ``convention="polyak"`` (Tieleman & Hinton 2012, with heavy-ball momentum)::

        g ← ∇L(θ) + ω θ
        u ← β u − η P⁻¹ g
        θ ← θ + u

    ``convention="torch"`` (``torch.optim.RMSprop(lr=η, alpha=α, eps=ε, momentum=μ,
    weight_decay=ω)``, non-centred; torch's buffer accumulates P⁻¹g, not an EMA)::

        g ← ∇L(θ) + ω θ
        v ← α v + (1 − α) g²          (frozen: P = diag(√v + ε))
        b ← μ b + P⁻¹ g
        θ ← θ − η b

    With ``momentum=0`` both are θ ← θ − η P⁻¹ g.

    Guarantee
    ---------
    On λx²/2 with preconditioner p (polyak): stable iff β < 1 and ηλ/p < 2(1 + β).

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> eta, lam = sp.symbols("eta lambda", positive=True)
    >>> rmsprop(lam * x**2 / 2, [x], lr=eta).map
    Matrix([[-eta*lambda*x/p_x + x]])
    """
    form = choose(RMSPROP, convention, "rmsprop")
    variables = optimised_variables(variables)
    lr, momentum, weight_decay = hyperparameters(
        "rmsprop", lr=lr, momentum=momentum, weight_decay=weight_decay
    )
    ps = _preconditioners(preconditioner, variables, "rmsprop")
    # with no momentum both conventions are θ ← θ − η P⁻¹g, and no buffer is kept
    tail = (scale(-lr),) if momentum == 0 else form(lr, momentum)
    draft = chain(Draft.of(variables), gradient(loss, l2=weight_decay), precondition(ps), *tail)
    return finish(
        draft,
        (lr, momentum, weight_decay),
        name or f"RMSprop ({convention}, frozen preconditioner)",
    )


def _adam_step(loss, variables, lr, beta1, l2, bias_corrected, counter, preconditioners):
    """The pieces of Adam's step −η c_k P⁻¹m, m the EMA of g = ∇L + ω θ."""
    corrected = (debias(beta1, counter),) if bias_corrected else ()
    return chain(
        Draft.of(variables),
        gradient(loss, l2=l2),
        ema(beta1, "m"),
        *corrected,
        precondition(preconditioners),
        scale(-lr),
    )


def _adam_name(family, convention, bias_corrected):
    corrected = ", bias-corrected" if bias_corrected else ""
    return f"{family} ({convention}, frozen preconditioner{corrected})"


def adam(
    loss,
    variables,
    lr,
    beta1,
    weight_decay=0,
    bias_correction=False,
    preconditioner="frozen",
    convention="kingma",
    counter=None,
    name=None,
):
    """Adam with a frozen preconditioner P = diag(√v̂ + ε).

    ``convention="kingma"`` (Kingma & Ba 2015, Algorithm 1; ``weight_decay`` must be 0)
    and ``convention="torch"`` (``torch.optim.Adam(lr=η, betas=(β₁, β₂), eps=ε,
    weight_decay=ω)``, which adds ωθ to the gradient)::

        g ← ∇L(θ) + ω θ
        m ← β₁ m + (1 − β₁) g
        v ← β₂ v + (1 − β₂) g²            (frozen: P = diag(√v̂ + ε), v̂ = v/(1 − β₂ᵏ))
        θ ← θ − η m̂ / (√v̂ + ε) = θ − η c_k P⁻¹ m

    with c_k = 1/(1 − β₁ᵏ) when ``bias_correction`` (k the step counter,
    starting at 1) and c_k = 1 otherwise. With bias correction the rule is
    time-varying; ``sd.stability`` reports the asymptotic region (c_k → 1
    for 0 < β₁ < 1) and says so in its derivation.

    Guarantee
    ---------
    On λx²/2 with preconditioner p: stable iff β₁ < 1 and ηλ(1 − β₁)/p < 2(1 + β₁)
    (the EMA-momentum region with curvature λ/p).

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
    >>> adam(lam * x**2 / 2, [x], lr=eta, beta1=beta).state
    (x, m_x)
    """
    if not choose(ADAM_WEIGHT_DECAY, convention, "adam") and weight_decay != 0:
        raise RuleError(
            "adam: Kingma & Ba's Adam has no weight decay; use convention='torch' for L2 "
            "decay added to the gradient, or adamw for decoupled decay"
        )
    variables = optimised_variables(variables)
    values = hyperparameters("adam", lr=lr, beta1=beta1, weight_decay=weight_decay)
    ps = _preconditioners(preconditioner, variables, "adam")
    counter = _counter(bias_correction, counter)
    draft = _adam_step(loss, variables, *values, bias_correction, counter, ps)
    return finish(
        draft,
        values,
        name or _adam_name("Adam", convention, bias_correction),
        counter=counter if bias_correction else None,
    )


def adamw(
    loss,
    variables,
    lr,
    beta1,
    weight_decay,
    bias_correction=False,
    preconditioner="frozen",
    convention="torch",
    counter=None,
    name=None,
):
    """AdamW (decoupled weight decay) with a frozen preconditioner P = diag(√v̂ + ε).

    ``convention="torch"`` (``torch.optim.AdamW(lr=η, betas=(β₁, β₂), weight_decay=ω)``)::

        g ← ∇L(θ)                          (computed by backward, before the step)
        m ← β₁ m + (1 − β₁) g
        θ ← θ − η ω θ − η c_k P⁻¹ m       (torch multiplies θ by 1 − ηω first)

    ``convention="loshchilov"`` (Loshchilov & Hutter 2019, Algorithm 2, schedule
    multiplier 1; decay not scaled by η, gradient at the old θ)::

        g ← ∇L(θ)
        m ← β₁ m + (1 − β₁) g
        θ ← θ − η c_k P⁻¹ m − ω θ

    c_k as in :func:`adam`.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> eta, beta, lam, w = sp.symbols("eta beta lambda omega", positive=True)
    >>> adamw(lam * x**2 / 2, [x], lr=eta, beta1=beta, weight_decay=w).params
    (eta, beta, omega)
    """
    decay = choose(ADAMW, convention, "adamw")
    variables = optimised_variables(variables)
    values = hyperparameters("adamw", lr=lr, beta1=beta1, weight_decay=weight_decay)
    lr, beta1, weight_decay = values
    ps = _preconditioners(preconditioner, variables, "adamw")
    counter = _counter(bias_correction, counter)
    draft = _adam_step(loss, variables, lr, beta1, 0, bias_correction, counter, ps)
    return finish(
        chain(draft, decay(lr, weight_decay)),
        values,
        name or _adam_name("AdamW", convention, bias_correction),
        counter=counter if bias_correction else None,
    )


def adagrad(loss, variables, lr, weight_decay=0, preconditioner="frozen", name=None):
    """Adagrad with a frozen preconditioner P = diag(√s + ε).

    ``torch.optim.Adagrad(lr=η, lr_decay=0, weight_decay=ω, eps=ε)``, which is
    also Duchi et al.'s diagonal form::

        g ← ∇L(θ) + ω θ
        s ← s + g²                       (frozen: P = diag(√s + ε))
        θ ← θ − η P⁻¹ g

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> eta, lam = sp.symbols("eta lambda", positive=True)
    >>> adagrad(lam * x**2 / 2, [x], lr=eta).map
    Matrix([[-eta*lambda*x/p_x + x]])
    """
    variables = optimised_variables(variables)
    lr, weight_decay = hyperparameters("adagrad", lr=lr, weight_decay=weight_decay)
    ps = _preconditioners(preconditioner, variables, "adagrad")
    draft = chain(
        Draft.of(variables), gradient(loss, l2=weight_decay), precondition(ps), scale(-lr)
    )
    return finish(draft, (lr, weight_decay), name or "Adagrad (frozen preconditioner)")
