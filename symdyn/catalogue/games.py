"""Two-player differentiable games: min over x, max over y of f(x, y).

Each function returns an :class:`~symdyn.rules.rule.UpdateRule` whose state is
the players' variables (plus the previous iterates where the method needs
them). The descent player ``x`` steps along −∇ₓf, the ascent player ``y``
along +∇ᵧf.

References
----------
Korpelevich (1976) for extragradient; Daskalakis et al. (2018) for
optimistic GDA; Gidel et al. (2019) for alternating updates and their
cycles on bilinear games.
"""

from __future__ import annotations

import sympy as sp

from symdyn.errors import RuleError
from symdyn.rules.rule import UpdateRule, as_expression, grad, substitute

__all__ = ["extragradient", "gda", "optimistic_gda"]


def _players(x, y):
    """Each player's variables as a list; a single Symbol is one variable."""
    x, y = (_variables(v, who) for v, who in ((x, "x"), (y, "y")))
    return x, y


def _variables(value, who):
    if isinstance(value, sp.Symbol):
        return [value]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, sp.Symbol) for v in value):
        return list(value)
    raise RuleError(
        f"player {who}'s variables must be a sympy Symbol or a non-empty list of them, "
        f"got {value!r:.60}"
    )


def _setup(objective, x, y, lr, lr_y):
    x, y = _players(x, y)
    lr_y = lr if lr_y is None else lr_y
    params = []
    for value in (lr, lr_y):
        value = as_expression(value, "the learning rate")
        params += [s for s in sorted(value.free_symbols, key=str) if s not in params]
    objective = as_expression(objective, "the objective")
    free = sorted(objective.free_symbols - set(x) - set(y) - set(params), key=str)
    return x, y, lr_y, params, free, list(grad(objective, x)), list(grad(objective, y))


def gda(objective, x, y, lr, lr_y=None, mode="simultaneous", name=None):
    """Gradient descent-ascent, simultaneous or alternating.

    ``mode="simultaneous"``::

        x ← x − η ∇ₓf(x, y),   y ← y + η_y ∇ᵧf(x, y)   (both read the old iterate)

    ``mode="alternating"``: x moves first, then y reads the new x::

        x ← x − η ∇ₓf(x, y);   y ← y + η_y ∇ᵧf(x⁺, y)

    Guarantee
    ---------
    On f = xy: simultaneous GDA diverges for every η > 0; alternating GDA
    has both eigenvalues on the unit circle for η < 2 (it cycles).

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> gda(x * y, [x], [y], lr=eta).map.T
    Matrix([[-eta*y + x, eta*x + y]])
    """
    if mode not in ("simultaneous", "alternating"):
        raise RuleError(f"gda: unknown mode {mode!r}; use 'simultaneous' or 'alternating'")
    x, y, lr_y, params, free, gx, gy = _setup(objective, x, y, lr, lr_y)
    updates = [(v, v - lr * g) for v, g in zip(x, gx, strict=True)]
    updates += [(v, v + lr_y * g) for v, g in zip(y, gy, strict=True)]
    return UpdateRule(
        x + y,
        updates,
        params,
        name=name or f"{mode} GDA",
        simultaneous=mode == "simultaneous",
        free=free,
    )


def extragradient(objective, x, y, lr, lr_y=None, name="extragradient"):
    """Extragradient: a look-ahead step, then a step with the look-ahead's gradients::

        x½ ← x − η ∇ₓf(x, y),      y½ ← y + η_y ∇ᵧf(x, y)
        x ← x − η ∇ₓf(x½, y½),     y ← y + η_y ∇ᵧf(x½, y½)

    Guarantee
    ---------
    On f = a·xy (a > 0): converges iff η < 1/a.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> extragradient(x * y, [x], [y], lr=eta).map.T.expand()
    Matrix([[-eta**2*x - eta*y + x, -eta**2*y + eta*x + y]])
    """
    x, y, lr_y, params, free, gx, gy = _setup(objective, x, y, lr, lr_y)
    hx = [sp.Symbol(f"{v.name}_half", real=True) for v in x]
    hy = [sp.Symbol(f"{v.name}_half", real=True) for v in y]
    at_half = dict(zip(x + y, hx + hy, strict=True))
    updates = [(h, v - lr * g) for h, v, g in zip(hx, x, gx, strict=True)]
    updates += [(h, v + lr_y * g) for h, v, g in zip(hy, y, gy, strict=True)]
    updates += [(v, v - lr * substitute(g, at_half)) for v, g in zip(x, gx, strict=True)]
    updates += [(v, v + lr_y * substitute(g, at_half)) for v, g in zip(y, gy, strict=True)]
    return UpdateRule(x + y, updates, params, name=name, free=free)


def optimistic_gda(objective, x, y, lr, lr_y=None, name="optimistic GDA"):
    """Optimistic GDA: a gradient step corrected by the previous gradient::

        x ← x − 2η ∇ₓf(x, y) + η ∇ₓf(x_prev, y_prev)
        y ← y + 2η_y ∇ᵧf(x, y) − η_y ∇ᵧf(x_prev, y_prev)

    The state holds the previous iterate ``(x_prev, y_prev)``; all updates
    read the old state.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> optimistic_gda(x * y, [x], [y], lr=eta).state
    (x, y, x_prev, y_prev)
    """
    x, y, lr_y, params, free, gx, gy = _setup(objective, x, y, lr, lr_y)
    px = [sp.Symbol(f"{v.name}_prev", real=True) for v in x]
    py = [sp.Symbol(f"{v.name}_prev", real=True) for v in y]
    at_prev = dict(zip(x + y, px + py, strict=True))
    updates = [
        (v, v - 2 * lr * g + lr * substitute(g, at_prev)) for v, g in zip(x, gx, strict=True)
    ]
    updates += [
        (v, v + 2 * lr_y * g - lr_y * substitute(g, at_prev)) for v, g in zip(y, gy, strict=True)
    ]
    updates += list(zip(px + py, x + y, strict=True))
    return UpdateRule(x + y + px + py, updates, params, name=name, simultaneous=True, free=free)
