"""Whether an update map is differentiable where it is linearised.

``Abs``, ``Max``, ``Min``, ``sign``, ``Heaviside`` and ``Piecewise`` are
smooth away from a switching set, and sympy differentiates them by formulas
that hold only there: ``d/dx Abs(x) = sign(x)``, ``d/dx sign(x) = 2 DiracDelta(x)``,
``d/dx Max(x, 0) = Heaviside(x)``. On the switching set those are not
derivatives (``DiracDelta(0)``, ``Heaviside(0) = 1/2``, ``sign(0) = 0``), and a
stability region built from them is a wrong claim. So before a Jacobian is
taken at a point, each switching function of the state in the map is placed:

- off its switching set it is smooth: ``Abs(f)``, ``sign(f)``, ``Heaviside(f)``
  with ``f ≠ 0``; ``Max``/``Min`` with one argument strictly extreme, or with
  every argument that may be extreme of one gradient (and no switch inside);
  ``Piecewise`` with every condition that reads the state off its boundary;
  ``Abs(f)`` with ``f = 0`` and ``∇f = 0`` (and no switch inside ``f``) is smooth too;
- a jump (``sign``, ``Heaviside``, ``Piecewise``) on its switching set is refused;
- a kink (``Abs``, ``Max``, ``Min``: continuous, Lipschitz) is refused unless the
  map does not feel it to first order: with every kinked function ``s_k``
  replaced by a variable, ``∂F/∂s_k = 0`` at the point. Then ``F`` is
  differentiable there with derivative ``∂F/∂x``, which is what sympy's formula
  gives, since the kinks' formal derivatives are finite and multiplied by 0
  (``x·Abs(x)`` at 0).

A function of the parameters alone is a constant of the map and always fine.
"""

from __future__ import annotations

import sympy as sp

from symdyn.errors import NonDifferentiableError
from symdyn.rules.signs import sign_of
from symdyn.rules.values import as_basic

__all__ = ["require_differentiable"]

_KINKS = (sp.Abs, sp.Max, sp.Min)  # continuous
_JUMPS = (sp.sign, sp.Heaviside, sp.Piecewise)
_SWITCHES = _KINKS + _JUMPS


def require_differentiable(rule, point):
    """Raise :class:`~symdyn.errors.NonDifferentiableError` if ``rule``'s map has a
    kink or jump at ``point``.

    Parameters
    ----------
    rule : UpdateRule
        Its ``state``, ``updates``, ``next_state`` and ``name`` are read.
    point : mapping
        Values of the state (and possibly of parameters). A switching
        function still depending on the state after substituting is not at
        a point and is left alone.

    Raises
    ------
    NonDifferentiableError
        Naming the update (its number and target) that writes the function,
        and the function, when the point is on its switching set or the
        assumptions cannot tell whether it is.

    Examples
    --------
    >>> import sympy as sp
    >>> from symdyn.rules.rule import UpdateRule
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> rule = UpdateRule([x], [(x, x - eta * sp.sign(x))], [eta])
    >>> require_differentiable(rule, {x: 1})
    >>> require_differentiable(rule, {x: 0})
    Traceback (most recent call last):
    ...
    symdyn.errors.NonDifferentiableError: update rule: update 1 (x ← -eta*sign(x) + x) is not
    differentiable at the linearisation point: sign(x) jumps where x = 0, and x = 0 there
    """
    state = tuple(rule.state)
    for component in rule.next_state:
        kinks = {}
        for node in sp.preorder_traversal(component):
            if not isinstance(node, _SWITCHES) or not node.free_symbols & set(state):
                continue
            problem = _problem(node, state, point)
            if problem is None:
                continue
            if isinstance(node, _JUMPS):
                _refuse(rule, node, problem)
            kinks[node] = problem
        _require_unfelt(rule, component, kinks, state, point)


def _require_unfelt(rule, component, kinks, state, point):
    """Refuse a kink the component feels to first order (``∂F/∂s ≠ 0`` at the point)."""
    if not kinks:
        return
    variables = {node: sp.Dummy("s") for node in kinks}
    replaced = component.xreplace(variables)
    values = {variables[node]: node.subs(point) for node in kinks}
    for node, variable in variables.items():
        if not replaced.has(variable):
            continue  # inside another kinked function, which is checked itself
        slope = sp.diff(replaced, variable).subs(values).subs(point)
        if sign_of(sp.simplify(slope)) != 0:
            _refuse(rule, node, kinks[node])


def _refuse(rule, node, problem):
    number, target, value = _writer(rule, node)
    raise NonDifferentiableError(
        f"{rule.name}: update {number} ({target} ← {value}) is not differentiable at the "
        f"linearisation point: {node} {problem}",
        update_index=number,
        symbol=target,
    )


def _writer(rule, node):
    """The first update whose value (read in terms of the old state) holds ``node``."""
    state = set(rule.state)
    current, last = {}, None
    for number, (target, value) in enumerate(rule.updates, start=1):
        reads = {s: v for s, v in current.items() if not rule.simultaneous or s not in state}
        resolved = value.xreplace(reads) if reads else value
        if resolved.has(node):
            return number, target, value
        current[target] = resolved
        last = (number, target, value)
    return last  # sympy rewrote the node on the way: name the last update


def _problem(node, state, point):
    """Why ``node`` is not smooth at ``point`` (a phrase), or None when it is."""
    if isinstance(node, sp.Piecewise):
        return _piecewise_problem(node, state, point)
    if isinstance(node, (sp.Max, sp.Min)):
        return _extremum_problem(node, state, point)
    argument = node.args[0]
    at = _at(argument, state, point)
    if at is None:
        return None
    sign = sign_of(at)
    if sign in (1, -1):
        return None
    smooth_zero = (
        isinstance(node, sp.Abs)
        and sign == 0
        and not argument.has(*_SWITCHES)
        and all(g == 0 for g in _gradient_at(argument, state, point))
    )
    if smooth_zero:
        return None  # |f| with f = 0 and ∇f = 0 is O(|h|²)
    kind = "has a kink" if isinstance(node, sp.Abs) else "jumps"
    if sign == 0:
        return f"{kind} where {argument} = 0, and {argument} = 0 there"
    return (
        f"{kind} where {argument} = 0, and there {argument} = {at}, which the assumptions "
        "do not keep from 0; declare its symbols' signs, or linearise elsewhere with at={...}"
    )


def _extremum_problem(node, state, point):
    values = [_at(a, state, point) for a in node.args]
    if any(v is None for v in values):
        return None
    beats = 1 if isinstance(node, sp.Max) else -1
    candidates = [
        (arg, value)
        for arg, value in zip(node.args, values, strict=True)
        if not any(sign_of(other - value) == beats for other in values)
    ]
    if len(candidates) <= 1:
        return None
    plain = not any(arg.has(*_SWITCHES) for arg, _ in candidates)
    if plain and len({_gradient_at(arg, state, point) for arg, _ in candidates}) == 1:
        return None  # every possible winner has the same derivative
    tied = ", ".join(str(arg) for arg, _ in candidates)
    first = candidates[0][1]
    if all(sign_of(value - first) == 0 for _, value in candidates):
        return f"has a kink where {tied} tie, and they tie there"
    return (
        f"has a kink where {tied} tie, and the assumptions cannot tell them apart there; "
        "declare its symbols' signs, or linearise elsewhere with at={...}"
    )


def _piecewise_problem(node, state, point):
    for _, condition in node.args:
        for relation in condition.atoms(sp.core.relational.Relational):
            difference = relation.lhs - relation.rhs
            if not difference.free_symbols & set(state):
                continue
            at = _at(difference, state, point)
            if at is None or sign_of(at) in (1, -1):
                continue
            if sign_of(at) == 0:
                return f"switches branch on {relation}, whose boundary the point lies on"
            return (
                f"switches branch on {relation}, whose boundary the assumptions cannot "
                "rule out at the point; linearise elsewhere with at={...}"
            )
    return None


def _at(expr, state, point):
    """``expr`` at ``point``, or None when it still depends on a state symbol."""
    value = as_basic(expr).subs(point)
    return None if value.free_symbols & set(state) else value


def _gradient_at(expr, state, point):
    return tuple(sp.simplify(sp.diff(expr, s).subs(point)) for s in state)
