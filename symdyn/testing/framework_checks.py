"""Extracted rules run like their framework: optax itself against the lambdified rule.

:func:`check_against_optax` runs the optax optimizer (in float64, its gradients
by ``jax.grad``) and the rule's map (lambdified by :mod:`symdyn.testing.oracle`)
side by side from the same start, optax's own initial state included, and
compares the iterates at every step. ``check_against_torch`` in
:mod:`symdyn.testing.checks` does the same for ``torch.optim``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from symdyn.catalogue.named import QUADRATIC, x
from symdyn.errors import FrameworkNotInstalledError
from symdyn.rules.rule import as_expression
from symdyn.rules.values import exact_values
from symdyn.testing.checks import CheckFailure, CheckReport
from symdyn.testing.oracle import numeric_rule

__all__ = ["check_against_optax"]


def check_against_optax(
    rule,
    factory,
    hyperparameters,
    params,
    loss=None,
    variables=None,
    steps=100,
    init=None,
    rtol=1e-12,
):
    """The optax optimizer ``factory(**hyperparameters)`` and ``rule`` give the same iterates.

    Parameters
    ----------
    rule : UpdateRule
        Its first ``len(variables)`` state entries are the variables, the rest
        optax's state leaves in tree order, the integer ``count`` left out (it is
        the rule's counter, k = the step's number).
    factory : callable
        An optax factory, called with ``hyperparameters`` (numbers).
    params : dict
        Values for the rule's other symbols (its hyperparameters, λ).
    loss, variables
        Default λx²/2 over ``[x]``.

    Examples
    --------
    >>> import optax, sympy as sp, symdyn as sd
    >>> eta, lam = sp.symbols("eta lambda", positive=True)
    >>> rule = sd.from_optax(optax.sgd, learning_rate=eta)
    >>> check_against_optax(rule, optax.sgd, {"learning_rate": 0.1}, {eta: 0.1, lam: 2}).passed
    True
    """
    try:
        import jax
        import optax
    except ImportError:
        raise FrameworkNotInstalledError(
            "check_against_optax needs jax and optax: pip install 'symdyn[optax]'",
            extra="optax",
        ) from None
    loss, variables = (QUADRATIC, [x]) if loss is None else (loss, list(variables))
    loss = as_expression(loss, "check_against_optax: the loss")
    values = exact_values(params, rule.symbols, where="check_against_optax(params=...)")
    values = {k: float(v) for k, v in values.items()}
    start = np.asarray(init if init is not None else np.linspace(0.5, 1.5, len(variables)))
    names = [v.name for v in variables]
    oracle = numeric_rule(rule)
    with jax.enable_x64(True):
        numeric_loss = sp.lambdify(variables, loss.subs(values), "jax")
        gradient = jax.grad(lambda p: numeric_loss(*(p[n] for n in names)))
        transformation = factory(**hyperparameters)
        current = {n: jax.numpy.float64(v) for n, v in zip(names, start, strict=True)}
        state = transformation.init(current)
        leaves = [
            float(leaf)
            for leaf in jax.tree_util.tree_leaves(state)
            if not np.issubdtype(np.asarray(leaf).dtype, np.integer)
        ]
        ours = np.array([*start, *leaves], dtype=float)

        @jax.jit
        def step(current, state):
            updates, state = transformation.update(gradient(current), state, current)
            return optax.apply_updates(current, updates), state

        for number in range(1, steps + 1):
            current, state = step(current, state)
            counter = {} if rule.counter is None else {rule.counter: number}
            ours = oracle.step(ours, {**values, **counter})
            theirs = np.array([float(current[n]) for n in names])
            if not np.allclose(ours[: len(names)], theirs, rtol=rtol, atol=rtol):
                raise CheckFailure(
                    f"check_against_optax({rule.name})",
                    number,
                    f"step {number}: symdyn gives {ours[: len(names)].tolist()}, optax gives "
                    f"{theirs.tolist()}",
                )
    return CheckReport(f"check_against_optax({rule.name})", steps)
