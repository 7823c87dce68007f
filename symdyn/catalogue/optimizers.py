"""The optimizer catalogue: exact update equations, with framework conventions made explicit.

Every function takes a scalar ``loss``, the list of variables it is
minimised over, and sympy expressions for the hyperparameters, and returns
an :class:`~symdyn.rules.rule.UpdateRule`. Buffers get one symbol per variable,
named after it (``v_x`` for the velocity of ``x``). Gradients at shifted
points (Nesterov) are the symbolic gradient with the variables substituted.

Each rule is a chain of the pieces of :mod:`symdyn.catalogue.pieces`, and each
convention one row of a table (:data:`HEAVY_BALL`, :data:`NESTEROV`): a new convention
is a new row, e.g. ``"ema"`` is ``(ema(β, "m"), scale(-η))`` after the gradient.
"""

from __future__ import annotations

from types import MappingProxyType

from symdyn.catalogue.pieces import (
    Draft,
    chain,
    choose,
    ema,
    extrapolate,
    finish,
    gradient,
    hyperparameters,
    lookahead,
    optimised_variables,
    scale,
    trace,
)

__all__ = ["HEAVY_BALL", "NESTEROV", "gd", "heavy_ball", "nesterov"]

# Each convention: the pieces after the gradient, as a function of the hyperparameters.
HEAVY_BALL = MappingProxyType(
    {
        "polyak": lambda lr, momentum, dampening: (scale(-lr), trace(momentum, "v")),
        "torch": lambda lr, momentum, dampening: (
            trace(momentum, "b", dampening=dampening),
            scale(-lr),
        ),
        "ema": lambda lr, momentum, dampening: (ema(momentum, "m"), scale(-lr)),
    }
)

# Each convention: the whole chain, as a function of the loss and the hyperparameters.
NESTEROV = MappingProxyType(
    {
        "sutskever": lambda loss, lr, momentum: (
            lookahead(momentum, "v"),
            gradient(loss),
            scale(-lr),
            trace(momentum, "v"),
        ),
        "torch": lambda loss, lr, momentum: (
            gradient(loss),
            trace(momentum, "b", nesterov=True),
            scale(-lr),
        ),
        "y-form": lambda loss, lr, momentum: (extrapolate(momentum), gradient(loss), scale(-lr)),
    }
)


def gd(loss, variables, lr, name="gradient descent"):
    """Gradient descent: x ← x − η ∇L(x).

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> eta, lam = sp.symbols("eta lambda", positive=True)
    >>> gd(lam * x**2 / 2, [x], lr=eta).map
    Matrix([[-eta*lambda*x + x]])
    """
    variables = optimised_variables(variables)
    (lr,) = hyperparameters("gd", lr=lr)
    draft = chain(Draft.of(variables), gradient(loss), scale(-lr))
    return finish(draft, (lr,), name, loss=loss)


def heavy_ball(
    loss, variables, lr, momentum, convention="polyak", dampening=0, name=None, counter=None
):
    """Heavy-ball momentum, in one of three explicit conventions.

    ``convention="polyak"`` (Polyak 1964; Sutskever et al. 2013)::

        v ← β v − η ∇L(x)
        x ← x + v

    ``convention="torch"`` (``torch.optim.SGD(momentum=μ, dampening=τ)``)::

        b ← μ b + (1 − τ) ∇L(x)
        x ← x − η b

    PyTorch sets b = ∇L(x) on the very first step instead of applying the
    dampening; with b₀ = 0 and τ = 0 the two agree at every step.

    ``convention="ema"`` (exponential moving average of gradients)::

        m ← β m + (1 − β) ∇L(x)
        x ← x − η m

    Guarantee
    ---------
    On λx²/2: stable iff β < 1 and ηλ < 2(1 + β) (polyak),
    ηλ(1 − τ) < 2(1 + μ) (torch), ηλ(1 − β) < 2(1 + β) (ema).

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
    >>> rule = heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
    >>> rule.state
    (x, v_x)
    """
    form = choose(HEAVY_BALL, convention, "heavy_ball")
    variables = optimised_variables(variables)
    values = hyperparameters("heavy_ball", lr=lr, momentum=momentum, dampening=dampening)
    draft = chain(Draft.of(variables), gradient(loss), *form(*values))
    return finish(draft, values, name or f"heavy ball ({convention})", counter=counter, loss=loss)


def nesterov(loss, variables, lr, momentum, convention="sutskever", name=None, counter=None):
    """Nesterov's accelerated gradient, in one of three explicit conventions.

    ``convention="sutskever"`` (Sutskever et al. 2013)::

        v ← β v − η ∇L(x + β v)
        x ← x + v

    ``convention="torch"`` (``torch.optim.SGD(momentum=μ, nesterov=True)``)::

        b ← μ b + ∇L(x)
        x ← x − η (∇L(x) + μ b)

    ``convention="y-form"`` (Nesterov 1983, two-point form; state x and its previous value)::

        y ← x + β (x − x_prev)
        x_prev ← x
        x ← y − η ∇L(y)

    ``momentum`` may depend on a step counter ``counter=k`` (an integer
    symbol), e.g. ``momentum=(k - 1)/(k + 2)``.

    Guarantee
    ---------
    On λx²/2 with β ≥ 0 (sutskever): stable iff ηλ < 2(1 + β)/(1 + 2β)
    and β(1 − ηλ) < 1.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
    >>> nesterov(lam * x**2 / 2, [x], lr=eta, momentum=beta).state
    (x, v_x)
    """
    form = choose(NESTEROV, convention, "nesterov")
    variables = optimised_variables(variables)
    values = hyperparameters("nesterov", lr=lr, momentum=momentum)
    draft = chain(Draft.of(variables), *form(loss, *values))
    return finish(draft, values, name or f"Nesterov ({convention})", counter=counter, loss=loss)
