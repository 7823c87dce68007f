"""A :class:`~symdyn.operators.model.Recurrence` of a symbolic RNN rule (see the catalogue).

The rule's map is printed by ``sympy.lambdify`` into code on
:mod:`symdyn.autodiff` values (``ad.namespace``), one column of the batch
per state variable, so the symbolic model and the numeric operators share
one definition.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import sympy as sp

import symdyn.autodiff as ad
from symdyn.errors import ShapeError, UnknownSymbolError
from symdyn.rules.rule import UpdateRule

from .model import Recurrence

__all__ = ["from_rule"]


def from_rule(
    rule: UpdateRule,
    theta: Mapping,
    h0,
    inputs=None,
    input_symbols: Sequence = (),
    steps: int | None = None,
    fixed: Mapping | None = None,
    readout: Callable | None = None,
) -> Recurrence:
    """The batched recurrence of an :class:`~symdyn.UpdateRule`, trainable in ``theta``.

    Parameters
    ----------
    rule : UpdateRule
        Its state is the hidden state (H = ``len(rule.state)``).
    theta : mapping of sympy.Symbol to float
        The trainable symbols and their values; θ is flattened in this order.
    h0 : array_like, shape [B, H]
    inputs : array_like, shape [B, T, I], optional
        Values of ``input_symbols`` over time.
    input_symbols : sequence of sympy.Symbol
        The I symbols the inputs feed, in the order of the last axis.
    steps : int, optional
        T when there are no inputs.
    fixed : mapping of sympy.Symbol to float, optional
        Values of any other symbol the map reads (held constant).
    readout : callable, optional
        As for :class:`Recurrence`.

    Raises
    ------
    UnknownSymbolError
        The map reads a symbol that is neither state, trainable, input nor fixed.

    Examples
    --------
    >>> import numpy as np
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> h, w = sp.symbols("h w", real=True)
    >>> model = from_rule(sd.models.linear_rnn([[w]], [h]), {w: 0.5}, np.ones((1, 1)), steps=3)
    >>> model.trajectory.ravel()
    array([0.5  , 0.25 , 0.125])
    """
    if not isinstance(rule, UpdateRule):
        raise ShapeError(f"from_rule: expected an UpdateRule, got {type(rule).__name__}")
    state = list(rule.state)
    trainable = list(theta)
    inputs_syms = list(input_symbols)
    fixed = dict(fixed or {})
    known = set(state) | set(trainable) | set(inputs_syms) | set(fixed)
    missing = sorted(rule.free_symbols - known, key=str)
    if missing:
        raise UnknownSymbolError(
            f"from_rule: {rule.name} reads {missing}, which are neither state, trainable "
            "(theta), inputs (input_symbols) nor fixed; give each a role"
        )
    if inputs is not None and np.shape(inputs)[-1:] != (len(inputs_syms),):
        raise ShapeError(
            f"from_rule: inputs have {np.shape(inputs)[-1:]} features for "
            f"{len(inputs_syms)} input symbols {inputs_syms}"
        )
    expressions = [e.subs(fixed) for e in rule.map]
    components = [
        sp.lambdify([state, trainable, inputs_syms], e, modules=[ad.namespace])
        for e in expressions
    ]
    hidden = len(state)

    def step(h, x, params):
        columns = [h[:, i] for i in range(hidden)]
        values = [params[j] for j in range(len(trainable))]
        drive = [x[:, k] for k in range(len(inputs_syms))] if x is not None else []
        # 0·h[:, 0] gives every component the batch shape, constants included.
        zero = ad.multiply(0.0, h[:, 0])
        return ad.stack([ad.add(f(columns, values, drive), zero) for f in components], axis=1)

    return Recurrence(
        step,
        np.array([float(theta[s]) for s in trainable]),
        h0,
        inputs=inputs,
        steps=steps,
        readout=readout,
    )
