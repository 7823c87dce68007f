"""Freeze the preconditioner of a traced adaptive rule, where the code put it.

Adam, RMSprop and Adagrad divide the step by P = √v̂ + ε, built from a
second-moment buffer v (a buffer whose update is quadratic in the gradient).
The catalogue (:mod:`symdyn.catalogue.adaptive`) studies them with P frozen
at a positive constant; :func:`freeze_preconditioner` does the same to a rule
traced from code. It finds, in each parameter's update, the factor 1/D that
reads the second moments, replaces D by a positive symbol ``p_x`` and drops
the second moments from the state. The derivation states D as the code
computes it, so where each framework puts ε (outside the root in optax's and
torch's Adam, with optax's ``eps_root`` inside) is there to read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sympy as sp

from symdyn.derivation import Derivation
from symdyn.errors import PreconditionerError
from symdyn.escaping import plain
from symdyn.frozen import FrozenMapping
from symdyn.linear.step_bounds import step_bound
from symdyn.rules.rule import UpdateRule, symbols_of

__all__ = ["FrozenPreconditioner", "freeze_preconditioner", "frozen_step_bound"]


@dataclass(frozen=True)
class FrozenPreconditioner:
    """A traced adaptive rule with its preconditioner frozen.

    Attributes
    ----------
    rule : UpdateRule
        The frozen rule: state without the second moments, ``p_x`` for each D.
    preconditioners : FrozenMapping
        ``p_x`` → D, the expression the code divides by (in the traced rule's symbols).
    derivation : Derivation
    """

    rule: UpdateRule
    preconditioners: FrozenMapping
    derivation: Derivation


def _second_moments(rule):
    """Buffers whose update is quadratic in a gradient temporary."""
    gradients = [t for t in rule.temporaries if t.name.startswith("g_")]
    found = []
    for target, value in rule.updates:
        if target in rule.state[1:] and any(
            sp.Poly(value, g).degree() == 2 for g in gradients if value.is_polynomial(g)
        ):
            found.append(target)
    return found


def _owner(moment, variables, where):
    """The parameter a second moment belongs to: the only one, or the one it is named after."""
    if len(variables) == 1:
        return variables[0]
    for variable in variables:
        if moment.name.endswith(f"_{variable.name}"):
            return variable
    raise PreconditionerError(f"{where}: which parameter's second moment is {moment}?")


def _freeze(value, preconditioners, found):
    """``value`` with each divisor 1/D (or 1/√D) that reads one parameter's second moments
    replaced by 1/p; the D's are collected in ``found`` (p → list of D)."""

    def reads(node):
        return (
            node.is_Pow
            and node.exp.is_negative
            and bool(node.base.free_symbols & set(preconditioners))
        )

    def freeze(node):
        owners = {preconditioners[m] for m in node.base.free_symbols & set(preconditioners)}
        if len(owners) != 1:
            return node  # reads two parameters' moments: refused below
        (p,) = owners
        found.setdefault(p, []).append(node.base ** (-node.exp))
        return 1 / p

    return value.replace(reads, freeze)


def _late(updates, counter):
    """Updates with every βᵏ (k the counter) at its limit 0: bias corrections past."""
    powers = {
        power: sp.S.Zero
        for _, value in updates
        for power in value.atoms(sp.Pow)
        if power.exp == counter
    }
    return [(t, v.xreplace(powers)) for t, v in updates], tuple(powers)


def freeze_preconditioner(rule, asymptotic=False):
    """The rule with P = D frozen at a positive symbol ``p_x`` per parameter.

    With ``asymptotic=True`` the bias corrections are also taken at their limit,
    βᵏ → 0 for 0 < β < 1 (the range the frameworks require), so that the frozen
    rule is time-invariant and ``sd.stability`` and ``sd.step_bound`` apply.

    Examples
    --------
    >>> import optax, sympy as sp, symdyn as sd
    >>> eta, beta1 = sp.symbols("eta beta1", positive=True)
    >>> frozen = freeze_preconditioner(sd.from_optax(optax.adam, learning_rate=eta, b1=beta1))
    >>> frozen.rule.state
    (x, mu)
    >>> frozen.preconditioners[sp.Symbol("p_x", positive=True)]
    sqrt(nu/(1 - (999/1000)**k)) + 1/100000000
    """
    moments = set(_second_moments(rule))
    if not moments:
        raise PreconditionerError(
            f"{rule.name}: no buffer is quadratic in the gradient, so there is no "
            "second-moment preconditioner to freeze"
        )
    # The parameters are the state with a gradient temporary g_<name> (as traced rules have).
    gradients = {t.name for t in rule.temporaries}
    variables = [s for s in rule.state if f"g_{s.name}" in gradients]
    preconditioners = {
        m: sp.Symbol(f"p_{_owner(m, variables, rule.name).name}", positive=True) for m in moments
    }
    updates, found = [], {}
    for target, value in rule.updates:
        if target in moments:
            continue
        value = _freeze(value, preconditioners, found)
        if symbols_of(value) & moments:
            raise PreconditionerError(
                f"{rule.name}: {target}'s update reads the second moments "
                f"{sorted(map(str, moments))} outside one divisor; no single P to freeze",
                symbol=target,
            )
        updates.append((target, value))
    frozen = _one_divisor_each(found, rule.name)
    state = [s for s in rule.state if s not in moments]
    late = ()
    if asymptotic and rule.counter is not None:
        updates, late = _late(updates, rule.counter)
    counter = rule.counter if any(rule.counter in symbols_of(v) for _, v in updates) else None
    params = [*rule.params, *frozen]
    result = UpdateRule(
        state,
        updates,
        params,
        name=f"{rule.name}, frozen preconditioner",
        simultaneous=rule.simultaneous,
        counter=counter,
        free=rule.free,
    )
    return FrozenPreconditioner(
        rule=result,
        preconditioners=FrozenMapping(frozen),
        derivation=_derivation(rule, frozen, late),
    )


def _one_divisor_each(found, where):
    """p → its D, refusing a p that stands for two different divisors."""
    frozen = {}
    for p, denominators in found.items():
        if any(sp.simplify(d - denominators[0]) != 0 for d in denominators[1:]):
            raise PreconditionerError(
                f"{where}: the step divides by different expressions of the second "
                f"moments ({', '.join(map(str, denominators))}); no single {p} to freeze"
            )
        frozen[p] = denominators[0]
    return frozen


def _derivation(rule, frozen, late):
    derivation = Derivation(f"Frozen preconditioner of {plain(rule.name)}")
    for p, denominator in frozen.items():
        derivation = derivation.then(
            "The traced code divides the step by this expression of the second moments "
            "($\\varepsilon$ where the code adds it); near a minimum it changes slowly, so it "
            "is frozen at a positive constant:",
            sp.Eq(p, denominator),
        )
    if late:
        derivation = derivation.then(
            "Late in training the bias corrections are past: for $0 < \\beta < 1$ each "
            "power of the step counter tends to 0:",
            [sp.Eq(sp.Limit(power, rule.counter, sp.oo), 0, evaluate=False) for power in late],
        )
    return derivation


def frozen_step_bound(rule, step):
    """The step bound of a traced adaptive rule, its preconditioner frozen late in training.

    The derivation opens with P as the code computes it (so where the framework puts ε
    is read there), then the late limit of the bias corrections, then the bound.

    Examples
    --------
    >>> import torch, sympy as sp, symdyn as sd
    >>> eta, beta1 = sp.symbols("eta beta1", positive=True)
    >>> rule = sd.from_torch(torch.optim.Adam, lr=eta, betas=(beta1, 0.999))
    >>> frozen_step_bound(rule, step=eta).upper
    -2*p_x*(beta1 + 1)/(lambda*(beta1 - 1))
    """
    frozen = freeze_preconditioner(rule, asymptotic=True)
    bound = step_bound(frozen.rule, step=step)
    return replace(bound, derivation=frozen.derivation + bound.derivation)
