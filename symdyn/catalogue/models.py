"""Models whose forward pass is an iterated map: ResNet blocks and RNN steps, and the
Euler step of a continuous-time rate network (:mod:`symdyn.catalogue.rate_networks`).

Stability of the forward map decides whether signals (and, through the
same Jacobians, gradients) vanish or explode with depth or time.
"""

from __future__ import annotations

import sympy as sp

from symdyn.catalogue.rate_networks import RateNetwork, rate_network
from symdyn.errors import ShapeError
from symdyn.rules.rule import UpdateRule, as_expression, as_matrix

__all__ = ["RateNetwork", "linear_rnn", "rate_network", "resnet_block", "tanh_rnn"]


def _column(values):
    column = as_matrix(values, "the input term")
    return column.reshape(len(column), 1)


def _free(expressions, state, params):
    symbols = set()
    for expr in expressions:
        symbols |= as_expression(expr, "a residual component").free_symbols
    return sorted(symbols - set(state) - set(params), key=str)


def resnet_block(residual, state, h, name="ResNet block"):
    """A residual block as forward Euler: x ← x + h f(x).

    Parameters
    ----------
    residual : sympy expression or sequence of them
        f(x), one component per state variable.
    state : sequence of sympy.Symbol
    h : sympy.Symbol
        The step (the block's scale).

    Guarantee
    ---------
    For f(x) = −a x: stable iff h < 2/a. For the spiral
    f = [[−a, −b], [b, −a]] x: stable iff h < 2a/(a² + b²).

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> a, h = sp.symbols("a h", positive=True)
    >>> resnet_block(-a * x, [x], h).map
    Matrix([[-a*h*x + x]])
    """
    state = list(state)
    f = list(residual) if isinstance(residual, (list, tuple, sp.MatrixBase)) else [residual]
    f = [as_expression(fx, f"{name}: the residual's component {i + 1}") for i, fx in enumerate(f)]
    if len(f) != len(state):
        raise ShapeError(f"{name}: f has {len(f)} components for a state of {len(state)}")
    h = as_expression(h, f"{name}: the step h")
    params = sorted(h.free_symbols, key=str)
    updates = [(x, x + h * fx) for x, fx in zip(state, f, strict=True)]
    return UpdateRule(
        state, updates, params, name=name, simultaneous=True, free=_free(f, state, params)
    )


def _rnn(activation, weights, hidden, input_term, name):
    hidden = list(hidden)
    W = as_matrix(weights, f"{name}: the recurrent weights")
    if W.shape != (len(hidden), len(hidden)):
        raise ShapeError(
            f"{name}: the recurrent weights are {W.shape[0]}×{W.shape[1]} "
            f"for a hidden state of {len(hidden)}"
        )
    drive = W * sp.Matrix(hidden)
    if input_term is not None:
        drive += _column(input_term)
    values = [activation(d) for d in drive]
    params = sorted(set().union(*(w.free_symbols for w in W)), key=str)
    params = [p for p in params if p not in hidden]
    return UpdateRule(
        hidden,
        list(zip(hidden, values, strict=True)),
        params,
        name=name,
        simultaneous=True,
        free=_free(values, hidden, params),
    )


def linear_rnn(weights, hidden, input_term=None, name="linear RNN"):
    """A linear RNN step: h ← W h + u (``input_term`` u, e.g. ``U x + b``).

    Gradients through T steps scale like ρ(W)^T: they vanish for ρ(W) < 1
    and explode for ρ(W) > 1.

    Examples
    --------
    >>> import sympy as sp
    >>> h = sp.Symbol("h", real=True)
    >>> w = sp.Symbol("w", real=True)
    >>> linear_rnn([[w]], [h]).jacobian()
    Matrix([[w]])
    """
    return _rnn(lambda d: d, weights, hidden, input_term, name)


def tanh_rnn(weights, hidden, input_term=None, name="tanh RNN"):
    """A tanh RNN step: h ← tanh(W h + u).

    Examples
    --------
    >>> import sympy as sp
    >>> h = sp.Symbol("h", real=True)
    >>> w = sp.Symbol("w", real=True)
    >>> tanh_rnn([[w]], [h]).jacobian(at={h: 0})
    Matrix([[w]])
    """
    return _rnn(sp.tanh, weights, hidden, input_term, name)
