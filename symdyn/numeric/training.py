"""The analysed rule as an optax-style optimizer over arrays: ``as_optimizer``.

What was proved stable is exactly what runs: the rule is lambdified and
applied element-wise, the gradient temporary bound to each array's gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import NamedTuple

import numpy as np

from symdyn.errors import ArgumentError, RuleError
from symdyn.numeric._keys import SymbolMapping, checked_inputs
from symdyn.numeric.codegen import lambdify
from symdyn.rules.rule import UpdateRule

__all__ = ["Optimizer", "OptimizerState", "as_optimizer"]


class Optimizer(NamedTuple):
    """An optax-style pair of pure functions.

    ``init(params) -> state`` and ``update(grads, state, params) -> (updates, state)``;
    apply with ``params[k] + updates[k]``.
    """

    init: Callable
    update: Callable


class OptimizerState(NamedTuple):
    """Buffers (buffer Symbol → container shaped like the parameters) and the step count.

    ``buffers`` is a read-only :class:`~symdyn.numeric._keys.SymbolMapping`: keyed by the
    rule's Symbols and readable by exact name (``state.buffers["v_x"]``).
    """

    buffers: SymbolMapping
    count: int


def _gradient_temporary(rule, gradient):
    if gradient is not None:
        return gradient
    names = {f"g_{s}": s for s in rule.state}
    found = [t for t in rule.temporaries if str(t) in names]
    if len(found) != 1:
        raise RuleError(
            f"{rule.name}: as_optimizer needs exactly one gradient temporary g_<variable> "
            f"(found {', '.join(map(str, found)) or 'none'}); pass gradient= and variable="
        )
    return found[0]


def _keys(container):
    return list(container) if isinstance(container, Mapping) else list(range(len(container)))


def _like(container, values):
    if isinstance(container, Mapping):
        return dict(values)
    return [values[i] for i in range(len(container))]


def as_optimizer(rule, hyperparams, gradient=None, variable=None):
    """An optax-style optimizer that applies ``rule`` element-wise to arrays.

    The assignment to the gradient temporary (``g_x`` in the catalogue) is
    dropped and the temporary is bound to each array's gradient, so what
    runs is exactly the analysed rule. Buffers start at zero; the counter of
    a time-varying rule takes the values 1, 2, ...

    Parameters
    ----------
    rule : UpdateRule
        One variable and its buffers, with the gradient taken at the variable
        itself (rules that take it at a shifted point, such as Sutskever's
        Nesterov or the y-form, are refused).
    hyperparams : mapping
        Symbol (or name) → value for the remaining parameters.
    gradient, variable : sympy.Symbol, optional
        Default: the temporary called ``g_<v>`` and the state variable ``v``.

    Returns
    -------
    Optimizer

    Examples
    --------
    >>> import numpy as np
    >>> import sympy as sp
    >>> from symdyn import optimizers
    >>> x = sp.Symbol("x", real=True)
    >>> eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
    >>> opt = as_optimizer(optimizers.heavy_ball(lam * x**2 / 2, [x], eta, beta),
    ...                    {eta: 0.1, beta: 0.9})
    >>> params = {"w": np.array([1.0, -2.0])}
    >>> state = opt.init(params)
    >>> updates, state = opt.update({"w": params["w"]}, state, params)
    >>> updates["w"]
    array([-0.1,  0.2])
    """
    gradient = _gradient_temporary(rule, gradient)
    if variable is None:
        variable = next(s for s in rule.state if f"g_{s}" == str(gradient))
    current, reads = {}, None
    for target, value in rule.updates:
        resolved = value.xreplace({k: v for k, v in current.items() if k not in rule.state})
        if target == gradient:
            reads = resolved.free_symbols & (set(rule.state) - {variable})
        current[target] = resolved
    if reads:
        raise RuleError(
            f"{rule.name}: the gradient {gradient} is taken at a point that depends on "
            f"{', '.join(map(str, sorted(reads, key=str)))}, not at {variable} alone; "
            "as_optimizer only receives gradients at the parameters"
        )
    reduced = UpdateRule(
        rule.state,
        [(t, v) for t, v in rule.updates if t != gradient],
        rule.params,
        name=rule.name,
        simultaneous=rule.simultaneous,
        counter=rule.counter,
        free=None if rule.free is None else (*rule.free, gradient),
    )
    step = lambdify(reduced)
    position = reduced.state.index(variable)
    buffers = [s for s in reduced.state if s != variable]
    hyper = (*reduced.params, *(f for f in reduced.free if f != gradient))
    fixed = checked_inputs(hyperparams, hyper, f"{rule.name}: as_optimizer(hyperparams=...)")
    missing = [str(k) for k in step.keywords if k not in (gradient, rule.counter, *fixed)]
    if missing:
        raise ArgumentError(
            f"{rule.name}: as_optimizer(hyperparams=...): missing values for {', '.join(missing)}"
        )

    def init(params):
        zeros = {
            b: _like(params, {k: np.zeros_like(params[k]) for k in _keys(params)}) for b in buffers
        }
        return OptimizerState(SymbolMapping(zeros), 0)

    def update(grads, state, params):
        count = state.count + 1
        updates, new = {}, {b: {} for b in buffers}
        for key in _keys(params):
            old = [params[key] if s == variable else state.buffers[s][key] for s in reduced.state]
            now = {**fixed, rule.counter: count, gradient: grads[key]}
            out = step.run(old, [now[k] for k in step.keywords])
            updates[key] = out[position] - params[key]
            for b in buffers:
                new[b][key] = out[reduced.state.index(b)]
        buffers_now = SymbolMapping({b: _like(params, v) for b, v in new.items()})
        return _like(params, updates), OptimizerState(buffers_now, count)

    return Optimizer(init, update)
