"""The pieces the catalogue's optimizers are made of, combined as optax's ``chain`` combines
gradient transformations.

A rule under construction is a :class:`Draft`. For each optimised variable θ it holds a
*direction* u, the assignments written so far and the buffers added to the state. The
:func:`gradient` piece sets u ← g = ∇L(θ); each later piece rewrites u, possibly through
a buffer of its own (:func:`trace`: b ← μ b + (1 − τ) u, u ← b); :func:`finish` closes
the step with θ ← θ + u. A convention is then a short tuple of pieces:

=================================  ====================================================
heavy ball, Polyak                 ``gradient, scale(-η), trace(β)``
PyTorch SGD momentum               ``gradient, trace(μ, dampening=τ), scale(-η)``
EMA momentum                       ``gradient, ema(β), scale(-η)``
Nesterov, PyTorch                  ``gradient, trace(μ, nesterov=True), scale(-η)``
Nesterov, Sutskever                ``lookahead(β), gradient, scale(-η), trace(β)``
Nesterov, two-point (y) form       ``extrapolate(β), gradient, scale(-η)``
Adam, frozen preconditioner        ``gradient(l2=ω), ema(β₁), debias(β₁, k),
                                   precondition(P), scale(-η)``
=================================  ====================================================

Pieces only add assignments, so a new convention is a new tuple, and a missing
ingredient one more small function of a draft.

Examples
--------
>>> import sympy as sp
>>> x = sp.Symbol("x", real=True)
>>> eta, beta = sp.symbols("eta beta", positive=True)
>>> draft = chain(Draft.of([x]), gradient(x**2 / 2), scale(-eta), trace(beta, "v"))
>>> finish(draft, (eta, beta), name="heavy ball").map.T
Matrix([[beta*v_x - eta*x + x, beta*v_x - eta*x]])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import sympy as sp

from symdyn.errors import RuleError
from symdyn.rules.rule import UpdateRule, as_expression, grad, substitute, symbols_of

__all__ = [
    "Draft",
    "add_weights",
    "buffer_symbols",
    "chain",
    "choose",
    "debias",
    "ema",
    "extrapolate",
    "finish",
    "gradient",
    "hyperparameters",
    "lookahead",
    "optimised_variables",
    "precondition",
    "scale",
    "trace",
]


@dataclass(frozen=True)
class Draft:
    """A rule being assembled, one entry per optimised variable θ in each per-variable tuple.

    Attributes
    ----------
    variables : tuple
        The optimised variables θ (Symbols or MatrixSymbols).
    directions : tuple
        The update direction u of each variable so far (empty before :func:`gradient`).
    points : tuple
        Where :func:`gradient` reads ∇L: θ, or a look-ahead point.
    bases : tuple
        What the final step adds u to: θ, or the extrapolated point of the y-form.
    updates : tuple of (target, value)
        The assignments written so far, in order.
    buffers : tuple
        State beyond the variables, in the order the pieces added it.
    closing : tuple of (target, value)
        Assignments that read the old variables and come just before the step (x_prev ← x).
    reads : tuple
        The hyperparameter expressions the pieces used (their symbols become parameters).
    """

    variables: tuple
    directions: tuple = ()
    points: tuple = ()
    bases: tuple = ()
    updates: tuple = ()
    buffers: tuple = ()
    closing: tuple = ()
    reads: tuple = ()

    @classmethod
    def of(cls, variables):
        """An empty draft over ``variables``: gradients read at θ, steps added to θ."""
        variables = tuple(variables)
        return cls(variables, points=variables, bases=variables)

    def rewrite(self, new_direction: Callable, *reads, updates=(), buffers=()):
        """The draft with u ← ``new_direction(θ, u)`` for each variable, after ``updates``."""
        directions = tuple(
            new_direction(theta, u)
            for theta, u in zip(self.variables, self.directions, strict=True)
        )
        return replace(
            self,
            directions=directions,
            updates=self.updates + tuple(updates),
            buffers=self.buffers + tuple(buffers),
            reads=self.reads + reads,
        )


def chain(draft: Draft, *pieces: Callable) -> Draft:
    """Apply ``pieces`` (functions of a draft) in order, as ``optax.chain`` does."""
    for piece in pieces:
        draft = piece(draft)
    return draft


def optimised_variables(variables):
    """The caller's variables as a list, each a sympy Symbol or MatrixSymbol."""
    variables = list(variables)
    if not variables or not all(isinstance(v, (sp.Symbol, sp.MatrixSymbol)) for v in variables):
        raise RuleError(
            "variables must be a non-empty list of sympy Symbols or MatrixSymbols, "
            f"got {variables!r}"
        )
    return variables


def hyperparameters(where, **values):
    """The hyperparameters as sympy expressions, in the order given (never parsed)."""
    return tuple(as_expression(v, f"{where}: {name}") for name, v in values.items())


def buffer_symbols(prefix, variables, suffix=""):
    """One buffer per variable: a real Symbol ``prefix_θ``, or a MatrixSymbol of θ's shape."""
    return tuple(
        sp.MatrixSymbol(f"{prefix}_{v.name}{suffix}", *v.shape)
        if isinstance(v, sp.MatrixSymbol)
        else sp.Symbol(f"{prefix}_{v.name}{suffix}", real=True)
        for v in variables
    )


def _gradients(loss, variables):
    if any(isinstance(v, sp.MatrixSymbol) for v in variables):
        # A MatrixSymbol gets a matrix-expression gradient (Hθ − b on sd.quadratic, whose
        # H is a SymmetricMatrixSymbol and transposes to itself).
        return [grad(loss, v) for v in variables]
    return list(grad(loss, variables))


def gradient(loss, l2=0):
    """g ← ∇L(point) + ω·point, a temporary ``g_θ`` per variable; u ← g.

    ``l2`` = ω ≠ 0 is weight decay added to the gradient (the gradient of L + ω‖θ‖²/2).
    """

    def piece(draft):
        grads = buffer_symbols("g", draft.variables)
        shift = {
            theta: point
            for theta, point in zip(draft.variables, draft.points, strict=True)
            if point != theta
        }
        values = [
            substitute(d, shift) + l2 * point
            for d, point in zip(_gradients(loss, draft.variables), draft.points, strict=True)
        ]
        return replace(
            draft,
            directions=grads,
            updates=draft.updates + tuple(zip(grads, values, strict=True)),
            reads=(*draft.reads, l2),
        )

    return piece


def scale(factor):
    """u ← factor·u (``scale(-η)`` turns a direction into a step)."""
    return lambda draft: draft.rewrite(lambda theta, u: factor * u, factor)


def trace(decay, prefix, dampening=0, nesterov=False):
    """A momentum buffer ``b = prefix_θ``: b ← μ b + (1 − τ) u, then u ← b.

    With ``nesterov`` the direction is u + μ b instead (PyTorch's and optax's
    ``nesterov=True``). μ = ``decay``, τ = ``dampening``.
    """

    def piece(draft):
        buffers = buffer_symbols(prefix, draft.variables)
        updates = [
            (b, decay * b + (1 - dampening) * u)
            for b, u in zip(buffers, draft.directions, strict=True)
        ]
        new = dict(zip(draft.variables, buffers, strict=True))
        if nesterov:
            direction = lambda theta, u: u + decay * new[theta]  # noqa: E731
        else:
            direction = lambda theta, u: new[theta]  # noqa: E731
        return draft.rewrite(direction, decay, dampening, updates=updates, buffers=buffers)

    return piece


def ema(decay, prefix):
    """An exponential moving average m ← β m + (1 − β) u, then u ← m (a trace damped by β)."""
    return trace(decay, prefix, dampening=decay)


def debias(decay, counter):
    """u ← u/(1 − βᵏ): Adam's correction of an EMA started at zero (k counts from 1)."""
    return lambda draft: draft.rewrite(lambda theta, u: u / (1 - decay**counter), decay)


def precondition(preconditioners):
    """u ← P⁻¹u, one fixed positive (diagonal) P per variable."""

    def piece(draft):
        of = dict(zip(draft.variables, preconditioners, strict=True))

        def divided(theta, u):
            p = of[theta]
            return sp.Inverse(p) * u if isinstance(p, sp.MatrixSymbol) else u / p

        return draft.rewrite(divided)

    return piece


def add_weights(rate):
    """u ← u + rate·θ: weight decay on the direction.

    Placed after ``scale(-η)`` it is decoupled decay: ``add_weights(-η ω)`` is PyTorch's
    AdamW (θ shrinks by ηωθ), ``add_weights(-ω)`` Loshchilov & Hutter's.
    """
    return lambda draft: draft.rewrite(lambda theta, u: u + rate * theta, rate)


def lookahead(decay, prefix):
    """Read the gradient at θ + β b, ``b = prefix_θ`` the momentum buffer a later
    :func:`trace` keeps (Sutskever's Nesterov)."""

    def piece(draft):
        buffers = buffer_symbols(prefix, draft.variables)
        points = tuple(x + decay * b for x, b in zip(draft.points, buffers, strict=True))
        return replace(draft, points=points, reads=(*draft.reads, decay))

    return piece


def extrapolate(decay):
    """Nesterov's two-point form: y ← θ + β(θ − θ_prev), gradient and step at y.

    θ_prev joins the state and is set to the old θ just before the step.
    """

    def piece(draft):
        previous = tuple(
            sp.MatrixSymbol(f"{x.name}_prev", *x.shape)
            if isinstance(x, sp.MatrixSymbol)
            else sp.Symbol(f"{x.name}_prev", real=True)
            for x in draft.variables
        )
        points = buffer_symbols("y", draft.variables)
        updates = [
            (y, x + decay * (x - p))
            for y, x, p in zip(points, draft.variables, previous, strict=True)
        ]
        return replace(
            draft,
            points=points,
            bases=points,
            updates=draft.updates + tuple(updates),
            buffers=draft.buffers + previous,
            closing=draft.closing + tuple(zip(previous, draft.variables, strict=True)),
            reads=(*draft.reads, decay),
        )

    return piece


def choose(table, convention, where):
    """``table[convention]``, or a RuleError naming the conventions there are."""
    try:
        return table[convention]
    except (KeyError, TypeError):
        names = [repr(name) for name in table]
        known = " or ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        raise RuleError(f"{where}: unknown convention {convention!r}; use {known}") from None


def _parameters(values, reads, counter):
    """The symbols of ``values`` (in order, no repeats) that some piece read, but the counter."""
    used = set().union(*(as_expression(r, "a hyperparameter").free_symbols for r in reads))
    found = []
    for value in values:
        for symbol in sorted(
            as_expression(value, "a hyperparameter").free_symbols, key=sp.default_sort_key
        ):
            if symbol in used and symbol != counter and symbol not in found:
                found.append(symbol)
    return found


def finish(draft, values, name, counter=None, loss=None):
    """The rule: every assignment of the draft, then θ ← base + u for each variable.

    ``values`` are the hyperparameters in the order their symbols become the rule's
    parameters. With ``loss`` the free symbols are declared (those of the loss that are
    neither variable nor parameter); without it, the rule infers them.
    """
    params = _parameters(values, draft.reads, counter)
    steps = tuple(
        (x, base + u)
        for x, base, u in zip(draft.variables, draft.bases, draft.directions, strict=True)
    )
    free = None
    if loss is not None:
        free = sorted(
            symbols_of(as_expression(loss, "the loss")) - set(draft.variables) - set(params),
            key=sp.default_sort_key,
        )
    return UpdateRule(
        draft.variables + draft.buffers,
        draft.updates + draft.closing + steps,
        params,
        name=name,
        counter=counter,
        free=free,
    )
