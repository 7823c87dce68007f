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

import sympy as sp

from symdyn.catalogue.optimizers import _buffers, _gradients, _hyperparameters, _params, _variables
from symdyn.errors import PreconditionerError, RuleError
from symdyn.rules.matrix_symbols import PositiveDiagonalMatrixSymbol
from symdyn.rules.rule import UpdateRule, as_expression
from symdyn.rules.signs import sign_of

__all__ = ["PreconditionerError", "adagrad", "adam", "adamw", "rmsprop"]


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


def _divide(p, value):
    """P⁻¹ value."""
    if isinstance(p, sp.MatrixSymbol):
        return sp.Inverse(p) * value
    return value / p


def _decayed_gradients(loss, variables, decay):
    """Temporaries ``g ← ∇L(θ) + decay·θ`` (L2 weight decay in the gradient), and their symbols."""
    grads = _buffers("g", variables)
    gradients = _gradients(loss, variables)
    updates = [(g, d + decay * x) for g, d, x in zip(grads, gradients, variables, strict=True)]
    return grads, updates


def _counter(bias_correction, counter):
    if not bias_correction:
        return counter
    return counter if counter is not None else sp.Symbol("k", integer=True, positive=True)


def _rule(state, updates, values, name, counter=None):
    params = _params(*values, counter=counter)
    return UpdateRule(state, updates, params, name=name, counter=counter)


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
    variables = _variables(variables)
    lr, momentum, weight_decay = _hyperparameters(
        "rmsprop", lr=lr, momentum=momentum, weight_decay=weight_decay
    )
    ps = _preconditioners(preconditioner, variables, "rmsprop")
    grads, updates = _decayed_gradients(loss, variables, weight_decay)
    if momentum == 0:
        updates += [
            (x, x - lr * _divide(p, g)) for x, g, p in zip(variables, grads, ps, strict=True)
        ]
        state = variables
    elif convention == "polyak":
        buffers = _buffers("u", variables)
        updates += [
            (u, momentum * u - lr * _divide(p, g))
            for u, g, p in zip(buffers, grads, ps, strict=True)
        ]
        updates += [(x, x + u) for x, u in zip(variables, buffers, strict=True)]
        state = variables + buffers
    elif convention == "torch":
        buffers = _buffers("b", variables)
        updates += [
            (b, momentum * b + _divide(p, g)) for b, g, p in zip(buffers, grads, ps, strict=True)
        ]
        updates += [(x, x - lr * b) for x, b in zip(variables, buffers, strict=True)]
        state = variables + buffers
    else:
        raise RuleError(f"rmsprop: unknown convention {convention!r}; use 'polyak' or 'torch'")
    return _rule(
        state,
        updates,
        (lr, momentum, weight_decay),
        name or f"RMSprop ({convention}, frozen preconditioner)",
    )


def _adam_updates(loss, variables, lr, beta1, bias_correction, l2, counter, ps):
    grads, updates = _decayed_gradients(loss, variables, l2)
    buffers = _buffers("m", variables)
    updates += [(m, beta1 * m + (1 - beta1) * g) for m, g in zip(buffers, grads, strict=True)]
    scale = 1 / (1 - beta1**counter) if bias_correction else 1
    steps = [lr * scale * _divide(p, m) for m, p in zip(buffers, ps, strict=True)]
    return buffers, updates, steps


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
    if convention not in ("kingma", "torch"):
        raise RuleError(f"adam: unknown convention {convention!r}; use 'kingma' or 'torch'")
    if convention == "kingma" and weight_decay != 0:
        raise RuleError(
            "adam: Kingma & Ba's Adam has no weight decay; use convention='torch' for L2 "
            "decay added to the gradient, or adamw for decoupled decay"
        )
    variables = _variables(variables)
    lr, beta1, weight_decay = _hyperparameters(
        "adam", lr=lr, beta1=beta1, weight_decay=weight_decay
    )
    ps = _preconditioners(preconditioner, variables, "adam")
    counter = _counter(bias_correction, counter)
    buffers, updates, steps = _adam_updates(
        loss, variables, lr, beta1, bias_correction, weight_decay, counter, ps
    )
    updates += [(x, x - s) for x, s in zip(variables, steps, strict=True)]
    return _rule(
        variables + buffers,
        updates,
        (lr, beta1, weight_decay),
        name
        or f"Adam ({convention}, frozen preconditioner"
        + (", bias-corrected)" if bias_correction else ")"),
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
    variables = _variables(variables)
    lr, beta1, weight_decay = _hyperparameters(
        "adamw", lr=lr, beta1=beta1, weight_decay=weight_decay
    )
    ps = _preconditioners(preconditioner, variables, "adamw")
    counter = _counter(bias_correction, counter)
    buffers, updates, steps = _adam_updates(
        loss, variables, lr, beta1, bias_correction, 0, counter, ps
    )
    if convention == "torch":
        updates += [
            (x, x - lr * weight_decay * x - s) for x, s in zip(variables, steps, strict=True)
        ]
    elif convention == "loshchilov":
        updates += [(x, x - s - weight_decay * x) for x, s in zip(variables, steps, strict=True)]
    else:
        raise RuleError(f"adamw: unknown convention {convention!r}; use 'torch' or 'loshchilov'")
    return _rule(
        variables + buffers,
        updates,
        (lr, beta1, weight_decay),
        name
        or f"AdamW ({convention}, frozen preconditioner"
        + (", bias-corrected)" if bias_correction else ")"),
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
    variables = _variables(variables)
    lr, weight_decay = _hyperparameters("adagrad", lr=lr, weight_decay=weight_decay)
    ps = _preconditioners(preconditioner, variables, "adagrad")
    grads, updates = _decayed_gradients(loss, variables, weight_decay)
    updates += [(x, x - lr * _divide(p, g)) for x, g, p in zip(variables, grads, ps, strict=True)]
    return _rule(
        variables,
        updates,
        (lr, weight_decay),
        name or "Adagrad (frozen preconditioner)",
    )
