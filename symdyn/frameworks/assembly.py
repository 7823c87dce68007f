"""From what a framework computed to an :class:`~symdyn.rules.rule.UpdateRule` one can read.

Both tracers (:mod:`symdyn.frameworks.optax`, :mod:`symdyn.frameworks.torch`)
end with the same facts: the problem (loss, parameters, gradient symbols), the
optimizer's state leaves with their framework names, and the next value of
every parameter and leaf as a sympy expression of the old ones. This module
turns those into a rule that prints like the catalogue's:

- the gradient is a temporary ``g_x ← ∂L/∂x``, as in the catalogue;
- the buffers are assigned first, in the framework's order, and every later
  expression reads a buffer's *new* value where the framework did
  (``x ← x − η b`` instead of ``x ← x − η (μ b + g)``), so the rule runs like
  code, as the framework does;
- a linear update is collected in its state (``β m + (1 − β) g`` rather than
  torch's ``lerp`` form ``m + (1 − β)(g − m)``) when that is no longer;
- the step counter (optax's ``count``, torch's ``step``) is not state: it is
  the rule's ``counter`` k = 1, 2, ..., the number of the step being taken.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symdyn.catalogue.named import QUADRATIC, x
from symdyn.errors import FrameworkError
from symdyn.frozen import FrozenMapping
from symdyn.rules.rule import UpdateRule, as_expression, grad, symbols_of

__all__ = [
    "COUNTER",
    "LAST_STEP",
    "Problem",
    "TracedOptimizer",
    "assemble",
    "buffer_symbols",
    "hyperparameter_symbols",
    "problem",
    "settle_on_counter",
    "settle_on_invariants",
    "taken_names",
]

COUNTER = sp.Symbol("k", integer=True, positive=True)
LAST_STEP = 2**31 - 1  # an int32 step counter never passes it (optax saturates there)


@dataclass(frozen=True)
class Problem:
    """What the optimizer minimises: ``loss`` over ``variables``; ``gradients`` are the
    symbols the traced step reads as the gradient of each variable."""

    loss: sp.Expr
    variables: tuple
    gradients: tuple

    @property
    def gradient_updates(self):
        """The temporaries ``g_x ← ∂L/∂x``."""
        return tuple(
            (g, grad(self.loss, v)) for g, v in zip(self.gradients, self.variables, strict=True)
        )


@dataclass(frozen=True)
class TracedOptimizer:
    """A framework optimizer read as an update rule.

    Attributes
    ----------
    rule : UpdateRule
    initial : FrozenMapping
        The framework's initial value of each buffer (state symbol → expression).
    symbolic : tuple of str
        The hyperparameters that stayed symbols through the trace.
    call : str
        The framework call that was traced, e.g. ``optax.adam(learning_rate=eta)``.
    """

    rule: UpdateRule
    initial: FrozenMapping
    symbolic: tuple
    call: str


def problem(loss, params, where):
    """The default problem λx²/2 on one scalar, or the caller's ``loss`` over ``params``."""
    if loss is None and params is None:
        loss, params = QUADRATIC, [x]
    elif params is None:
        raise FrameworkError(
            f"{where}: with loss= give params=[...], the symbols it is minimised over"
        )
    elif loss is None:
        raise FrameworkError(f"{where}: with params= give loss=, the loss they minimise")
    variables = tuple(params)
    if not variables or not all(isinstance(v, sp.Symbol) for v in variables):
        raise FrameworkError(
            f"{where}: params must be a non-empty list of sympy Symbols, got {params!r}"
        )
    loss = as_expression(loss, f"{where}: the loss")
    gradients = tuple(sp.Symbol(f"g_{v.name}", real=True) for v in variables)
    return Problem(loss, variables, gradients)


def hyperparameter_symbols(values):
    """The symbols of the hyperparameter expressions, in order, without repeats."""
    found = []
    for value in values:
        for symbol in sorted(symbols_of(value), key=sp.default_sort_key):
            if symbol not in found:
                found.append(symbol)
    return tuple(found)


def settle_on_counter(relation, counter=COUNTER, last=LAST_STEP):
    """A comparison of the step counter with a number, decided over k = 1, ..., ``last``.

    Frameworks guard their counter against overflow (``count < 2³¹ − 1``); an affine
    comparison in k alone holds on the whole range exactly when it holds at both ends.

    Examples
    --------
    >>> settle_on_counter(sp.Lt(COUNTER - 1, 2**31 - 1))
    True
    >>> settle_on_counter(sp.Lt(COUNTER, 3))
    k < 3
    """
    if relation.free_symbols != {counter}:
        return relation
    try:
        affine = sp.Poly(sp.expand(relation.lhs - relation.rhs), counter).degree() <= 1
    except sp.PolynomialError:  # k in an exponent (RAdam's βᵏ)
        return relation
    if not affine:
        return relation
    ends = {bool(relation.subs(counter, end)) for end in (1, last)}
    if ends == {True}:
        return sp.true
    if ends == {False}:
        return sp.false
    return relation


def settle_on_invariants(values, buffers, next_buffers, initial):
    """``values`` with each ``Piecewise`` decided where a buffer that stays positive decides it.

    A buffer that starts positive and never decreases (its update minus itself is
    nonnegative by the symbols' assumptions, as Adagrad's s ← s + g²) is positive at every
    step; a condition that holds for every positive value of such buffers is true.
    optax's Adagrad guards its ``rsqrt`` with ``where(s + g² > 0, ...)`` and starts at
    s = 0.1, so the guard always passes.
    """
    positive = {
        b: sp.Dummy(b.name, positive=True)
        for b, value, start in zip(buffers, next_buffers, initial, strict=True)
        if start.is_positive and sp.expand(value - b).is_nonnegative
    }
    if not positive:
        return list(values)

    def decide(piecewise):
        for branch, condition in piecewise.args:
            settled = condition.xreplace(positive)
            if settled is sp.true:
                return branch
            if settled is not sp.false:
                return piecewise
        return piecewise

    return [v.replace(lambda e: isinstance(e, sp.Piecewise), decide) for v in values]


def _tidy(expr, symbols):
    """``expr`` collected in ``symbols`` when it is linear in them and that is no longer."""
    try:
        linear = sp.Poly(expr, *symbols).total_degree() <= 1
    except sp.PolynomialError:
        return expr
    if not linear:
        return expr
    collected = sp.collect(sp.expand(expr), symbols)
    return collected if sp.count_ops(collected) <= sp.count_ops(expr) else expr


def _multiple(node, terms):
    """The number c with c·Σterms among ``node``'s terms (sympy distributes numbers over a
    sum: −0.1(g + t/2) is −g/10 − t/20), or None."""
    first = next(iter(terms))
    for term in node.args:
        c = term / first
        if c.is_number and c != 0 and {c * t for t in terms} <= set(node.args):
            return c
    return None


def _reuse(expr, value, target):
    """``expr`` reading ``target`` wherever it holds ``value``, also inside a longer sum
    (``v' + ε`` is one sum to sympy) and as a multiple of it."""
    expr = expr.xreplace({value: target})
    if not value.is_Add:
        return expr
    terms = set(value.args)

    def holds(node):
        return node.is_Add and _multiple(node, terms) is not None

    def reads(node):
        c = _multiple(node, terms)
        return c * target + sp.Add(*(set(node.args) - {c * t for t in terms}))

    return expr.replace(holds, reads)


def taken_names(problem, hyperparameters):
    """Names a buffer must not take: the loss's symbols, the gradients', the counter's and
    the hyperparameters' (a leaf ``mu`` beside a momentum called ``mu``)."""
    symbols = symbols_of(problem.loss) | set(problem.variables) | set(problem.gradients)
    for value in hyperparameters:
        symbols |= symbols_of(value)
    return {s.name for s in symbols} | {COUNTER.name}


def buffer_symbols(bases, variables, taken):
    """One real symbol per state leaf: ``(base, variable name or None)`` pairs.

    A leaf is named after the framework's field (``mu``), with the parameter's name
    when there are several parameters or the plain name is taken by a hyperparameter
    or a symbol of the loss, and a number when the name still repeats.

    Examples
    --------
    >>> buffer_symbols([("mu", "x"), ("nu", "x")], [x], {"mu"})
    [mu_x, nu]
    """
    names = set(taken)
    symbols = []
    for base, variable in bases:
        label = base
        if variable is not None and (len(variables) > 1 or label in names):
            label = f"{base}_{variable}"
        number = 1
        while label in names:
            number += 1
            label = f"{base}_{number}"
        names.add(label)
        symbols.append(sp.Symbol(label, real=True))
    return symbols


def _collapsed(targets, values, buffers):
    """Each value reading the new buffers assigned before it, or None where some old
    buffer value would still be read after its buffer is assigned (then the rule is
    written simultaneous instead)."""
    earlier = []  # (value as rewritten, marker standing for the new buffer, buffer)
    readings = []
    for target, value in zip(targets, values, strict=True):
        marked = value
        for old, marker, _ in earlier:
            marked = _reuse(marked, old, marker)
        if marked.free_symbols & {buffer for _, _, buffer in earlier}:
            return None
        readings.append(marked.xreplace({m: b for _, m, b in earlier}))
        if target in buffers and not marked.is_Atom:
            earlier.append((marked, sp.Dummy(target.name), target))
    return readings


def assemble(problem, buffers, next_buffers, next_variables, params, free_extra, name):
    """The rule: gradients, then buffers in order, then variables, each reading the new
    values assigned above it.

    Parameters
    ----------
    problem : Problem
    buffers : sequence of sympy.Symbol
        The optimizer's state leaves (counter excluded), named after the framework's.
    next_buffers, next_variables : sequence of sympy.Expr
        Their next values, in terms of the old state, the gradient symbols, the
        hyperparameters and the counter.
    params : sequence of sympy.Symbol
    free_extra : sequence of sympy.Symbol
        Symbols the caller allows beyond the loss's own (none so far).
    name : str
    """
    targets = [*buffers, *problem.variables]
    values = [*next_buffers, *next_variables]
    readable = [*problem.gradients, *targets]
    readings = _collapsed(targets, values, buffers)
    simultaneous = readings is None
    updates = list(problem.gradient_updates)
    for target, value in zip(targets, values if simultaneous else readings, strict=True):
        updates.append((target, _tidy(value, readable)))
    counter = COUNTER if any(COUNTER in symbols_of(v) for _, v in updates) else None
    free = sorted(
        symbols_of(problem.loss) - set(problem.variables) - set(params), key=sp.default_sort_key
    )
    return UpdateRule(
        [*problem.variables, *buffers],
        updates,
        list(params),
        name=name,
        simultaneous=simultaneous,
        counter=counter,
        free=[*free, *free_extra],
    )
