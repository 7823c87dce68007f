"""The optimizer catalogue: exact update equations, with framework conventions made explicit.

Every function takes a scalar ``loss``, the list of variables it is
minimised over, and sympy expressions for the hyperparameters, and returns
an :class:`~symdyn.rules.rule.UpdateRule`. Buffers get one symbol per variable,
named after it (``v_x`` for the velocity of ``x``). Gradients at shifted
points (Nesterov) are the symbolic gradient with the variables substituted.
"""

from __future__ import annotations

import sympy as sp

from symdyn.errors import RuleError
from symdyn.rules.rule import UpdateRule, as_expression, grad, substitute, symbols_of

__all__ = ["gd", "heavy_ball", "nesterov"]


def _variables(variables):
    variables = list(variables)
    if not variables or not all(isinstance(v, (sp.Symbol, sp.MatrixSymbol)) for v in variables):
        raise RuleError(
            "variables must be a non-empty list of sympy Symbols or MatrixSymbols, "
            f"got {variables!r}"
        )
    return variables


def _hyperparameters(where, **values):
    """The hyperparameters as sympy expressions, in the order given (never parsed)."""
    return tuple(as_expression(v, f"{where}: {name}") for name, v in values.items())


def _buffers(prefix, variables, suffix=""):
    """One buffer per variable: a real Symbol, or a MatrixSymbol of the variable's shape."""
    return [
        sp.MatrixSymbol(f"{prefix}_{v.name}{suffix}", *v.shape)
        if isinstance(v, sp.MatrixSymbol)
        else sp.Symbol(f"{prefix}_{v.name}{suffix}", real=True)
        for v in variables
    ]


def _gradients(loss, variables):
    if any(isinstance(v, sp.MatrixSymbol) for v in variables):
        # A MatrixSymbol gets a matrix-expression gradient (Hθ − b on sd.quadratic, whose
        # H is a SymmetricMatrixSymbol and transposes to itself).
        return [grad(loss, v) for v in variables]
    return list(grad(loss, variables))


def _params(*values, counter=None):
    """Symbols among the hyperparameter expressions, in order, without repeats."""
    found = [] if counter is None else [counter]
    for value in values:
        for symbol in sorted(
            as_expression(value, "a hyperparameter").free_symbols, key=sp.default_sort_key
        ):
            if symbol not in found:
                found.append(symbol)
    return found if counter is None else found[1:]


def _free(loss, variables, params):
    return sorted(
        symbols_of(as_expression(loss, "the loss")) - set(variables) - set(params),
        key=sp.default_sort_key,
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
    variables = _variables(variables)
    (lr,) = _hyperparameters("gd", lr=lr)
    grads = _buffers("g", variables)
    updates = list(zip(grads, _gradients(loss, variables), strict=True))
    updates += [(x, x - lr * g) for x, g in zip(variables, grads, strict=True)]
    params = _params(lr)
    return UpdateRule(variables, updates, params, name=name, free=_free(loss, variables, params))


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
    variables = _variables(variables)
    lr, momentum, dampening = _hyperparameters(
        "heavy_ball", lr=lr, momentum=momentum, dampening=dampening
    )
    grads = _buffers("g", variables)
    updates = list(zip(grads, _gradients(loss, variables), strict=True))
    if convention == "polyak":
        buffers = _buffers("v", variables)
        updates += [(v, momentum * v - lr * g) for v, g in zip(buffers, grads, strict=True)]
        updates += [(x, x + v) for x, v in zip(variables, buffers, strict=True)]
        params = _params(lr, momentum, counter=counter)
    elif convention == "torch":
        buffers = _buffers("b", variables)
        updates += [
            (b, momentum * b + (1 - dampening) * g) for b, g in zip(buffers, grads, strict=True)
        ]
        updates += [(x, x - lr * b) for x, b in zip(variables, buffers, strict=True)]
        params = _params(lr, momentum, dampening, counter=counter)
    elif convention == "ema":
        buffers = _buffers("m", variables)
        updates += [
            (m, momentum * m + (1 - momentum) * g) for m, g in zip(buffers, grads, strict=True)
        ]
        updates += [(x, x - lr * m) for x, m in zip(variables, buffers, strict=True)]
        params = _params(lr, momentum, counter=counter)
    else:
        raise RuleError(
            f"heavy_ball: unknown convention {convention!r}; use 'polyak', 'torch' or 'ema'"
        )
    return UpdateRule(
        variables + buffers,
        updates,
        params,
        name=name or f"heavy ball ({convention})",
        counter=counter,
        free=_free(loss, variables, params),
    )


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
    variables = _variables(variables)
    lr, momentum = _hyperparameters("nesterov", lr=lr, momentum=momentum)
    gradients = _gradients(loss, variables)
    if convention == "sutskever":
        buffers = _buffers("v", variables)
        lookahead = {x: x + momentum * v for x, v in zip(variables, buffers, strict=True)}
        grads = _buffers("g", variables)
        updates = [(g, substitute(d, lookahead)) for g, d in zip(grads, gradients, strict=True)]
        updates += [(v, momentum * v - lr * g) for v, g in zip(buffers, grads, strict=True)]
        updates += [(x, x + v) for x, v in zip(variables, buffers, strict=True)]
        state = variables + buffers
    elif convention == "torch":
        buffers = _buffers("b", variables)
        grads = _buffers("g", variables)
        updates = list(zip(grads, gradients, strict=True))
        updates += [(b, momentum * b + g) for b, g in zip(buffers, grads, strict=True)]
        updates += [
            (x, x - lr * (g + momentum * b))
            for x, g, b in zip(variables, grads, buffers, strict=True)
        ]
        state = variables + buffers
    elif convention == "y-form":
        previous = [
            sp.MatrixSymbol(f"{x.name}_prev", *x.shape)
            if isinstance(x, sp.MatrixSymbol)
            else sp.Symbol(f"{x.name}_prev", real=True)
            for x in variables
        ]
        points = _buffers("y", variables)
        at_y = dict(zip(variables, points, strict=True))
        grads = _buffers("g", variables)
        updates = [
            (y, x + momentum * (x - p))
            for y, x, p in zip(points, variables, previous, strict=True)
        ]
        updates += [(g, substitute(d, at_y)) for g, d in zip(grads, gradients, strict=True)]
        updates += list(zip(previous, variables, strict=True))
        updates += [(x, y - lr * g) for x, y, g in zip(variables, points, grads, strict=True)]
        state = variables + previous
    else:
        raise RuleError(
            f"nesterov: unknown convention {convention!r}; use 'sutskever', 'torch' or 'y-form'"
        )
    params = _params(lr, momentum, counter=counter)
    return UpdateRule(
        state,
        updates,
        params,
        name=name or f"Nesterov ({convention})",
        counter=counter,
        free=_free(loss, variables, params),
    )
