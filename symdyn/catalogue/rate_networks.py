"""Continuous-time recurrent rate networks, τ dh/dt = −h + W φ(h) + U x + b.

A rate network is a dynamical system in its own right (Wilson & Cowan 1972; Hopfield 1984;
Sompolinsky, Crisanti & Sommers 1988). :func:`rate_network` writes down its vector field
and its forward-Euler step h ← h + Δt·f(h), an :class:`~symdyn.rules.rule.UpdateRule` with
step Δt, so the discrete analyses (``sd.stability``, ``sd.step_bound``) apply to the step
and the continuous ones to the flow: ``sd.continuous_limit(net.euler, h=net.step)`` is the
ODE again, and ``sd.routh_hurwitz`` of that limit decides the stability of an equilibrium.

At h = 0 with no input and no bias, the Jacobian of the flow is (−I + φ′(0) W)/τ, so the
origin is stable iff every eigenvalue of W has Re λ < 1/φ′(0) (φ′(0) = 1 for tanh, 1/4
for the logistic sigmoid); with W = g W₀ it loses stability at g = 1/(φ′(0) max Re λ(W₀)).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from symdyn.errors import RuleError, ShapeError
from symdyn.frozen import FrozenMapping
from symdyn.rules.rule import UpdateRule, as_expression, as_matrix

__all__ = ["ACTIVATIONS", "RateNetwork", "rate_network"]

# φ by name: tanh, and the logistic sigmoid 1/(1 + e^(−u)), both smooth.
ACTIVATIONS = FrozenMapping(
    {
        "tanh": sp.tanh,
        "sigmoid": lambda u: 1 / (1 + sp.exp(-u)),
    }
)


@dataclass(frozen=True)
class RateNetwork:
    """A rate network τ dh/dt = −h + W φ(h) + U x + b and its forward-Euler step.

    Attributes
    ----------
    state : tuple of sympy.Symbol
        The rates h.
    vector_field : tuple of sympy.Expr
        f(h) = (−h + W φ(h) + U x + b)/τ, one component per unit.
    weights : sympy.ImmutableMatrix
        W.
    tau : sympy.Expr
        The time constant τ.
    activation : str
        The name of φ in :data:`ACTIVATIONS`.
    step : sympy.Symbol
        Δt, the Euler step.
    euler : UpdateRule
        h ← h + Δt f(h), read simultaneously; its parameters are Δt, then the symbols
        of W, τ, U and b; the inputs x are free symbols.
    """

    state: tuple
    vector_field: tuple
    weights: sp.ImmutableMatrix
    tau: sp.Expr
    activation: str
    step: sp.Symbol
    euler: UpdateRule = field(repr=False)

    def jacobian(self, at=None):
        """∂f/∂h = (−I + W diag φ′(h))/τ, at ``at`` (state symbol → value) if given.

        Examples
        --------
        >>> import sympy as sp
        >>> h1, h2 = sp.symbols("h1 h2", real=True)
        >>> net = rate_network([[0, 2], [-2, 0]], [h1, h2])
        >>> net.jacobian(at={h1: 0, h2: 0})
        Matrix([
        [-1,  2],
        [-2, -1]])
        """
        matrix = sp.Matrix(self.vector_field).jacobian(self.state)
        if at:
            matrix = matrix.subs(dict(at))
        return sp.ImmutableMatrix(matrix)


def _column(value, rows, where):
    column = as_matrix(value, where)
    if column.shape not in ((rows, 1), (1, rows)):
        raise ShapeError(f"{where} has shape {column.shape}, not one entry per unit ({rows})")
    return column.reshape(rows, 1)


def _input_drive(input_weights, inputs, units, name):
    """(U x as a column, U), zeros and an n×0 U when there is no input."""
    if input_weights is None and inputs is None:
        return sp.zeros(units, 1), sp.zeros(units, 0)
    if input_weights is None or inputs is None:
        raise RuleError(f"{name}: give both input_weights U and inputs x, or neither")
    inputs = list(inputs)
    U = as_matrix(input_weights, f"{name}: the input weights U")
    if U.shape != (units, len(inputs)):
        raise ShapeError(
            f"{name}: U is {U.shape[0]}×{U.shape[1]} for {units} units and {len(inputs)} inputs"
        )
    return U * sp.Matrix([as_expression(v, f"{name}: an input") for v in inputs]), U


def _parameters(step, *values):
    found = [step]
    for value in values:
        for symbol in sorted(value.free_symbols, key=sp.default_sort_key):
            if symbol not in found:
                found.append(symbol)
    return found


def rate_network(
    weights,
    hidden,
    tau=1,
    activation="tanh",
    input_weights=None,
    inputs=None,
    bias=None,
    step=None,
    name="rate network",
):
    """A continuous-time rate network τ dh/dt = −h + W φ(h) + U x + b.

    Parameters
    ----------
    weights : sympy Matrix or list of rows
        W, n×n, numbers or symbols (a gain ``g * W0`` is fine).
    hidden : sequence of sympy.Symbol
        The n rates h.
    tau : positive number or sympy expression
        The time constant.
    activation : {"tanh", "sigmoid"}
        φ: tanh, or the logistic sigmoid 1/(1 + e^(−u)).
    input_weights, inputs : optional
        U (n×m) and the m input symbols x, which stay free symbols of the rule.
    bias : optional
        b, one entry per unit.
    step : sympy.Symbol, optional
        Δt of the Euler step (default a positive symbol ``Delta_t``).

    Returns
    -------
    RateNetwork
        ``.vector_field``, ``.jacobian()``, and ``.euler``, the step h ← h + Δt f(h).

    Guarantee
    ---------
    At an equilibrium with flow Jacobian A (eigenvalues μ, all Re μ < 0) the Euler step
    is stable iff Δt < min over μ of −2 Re μ / |μ|²; ``continuous_limit(net.euler,
    h=net.step)`` is dh/dt = f(h).

    Examples
    --------
    >>> import sympy as sp
    >>> h = sp.Symbol("h", real=True)
    >>> w = sp.Symbol("w", real=True)
    >>> net = rate_network([[w]], [h])
    >>> net.vector_field
    (-h + w*tanh(h),)
    >>> net.euler.map
    Matrix([[Delta_t*(-h + w*tanh(h)) + h]])
    >>> net.euler.params
    (Delta_t, w)
    """
    hidden = list(hidden)
    if not hidden or not all(isinstance(v, sp.Symbol) for v in hidden):
        raise RuleError(f"{name}: hidden must be a non-empty list of sympy Symbols")
    if activation not in ACTIVATIONS:
        known = " or ".join(repr(k) for k in ACTIVATIONS)
        raise RuleError(f"{name}: unknown activation {activation!r}; use {known}")
    n = len(hidden)
    W = as_matrix(weights, f"{name}: the recurrent weights W")
    if W.shape != (n, n):
        raise ShapeError(f"{name}: W is {W.shape[0]}×{W.shape[1]} for {n} units")
    tau = as_expression(tau, f"{name}: the time constant tau")
    if tau.is_positive is not True:
        raise RuleError(f"{name}: the time constant tau = {tau} is not known to be positive")
    step = sp.Symbol("Delta_t", positive=True) if step is None else step
    if not isinstance(step, sp.Symbol):
        raise RuleError(f"{name}: the Euler step must be a sympy Symbol, got {step!r}")
    drive, U = _input_drive(input_weights, inputs, n, name)
    b = sp.zeros(n, 1) if bias is None else _column(bias, n, f"{name}: the bias b")
    phi = ACTIVATIONS[activation]
    h = sp.Matrix(hidden)
    vector_field = tuple((-h + W * h.applyfunc(phi) + drive + b) / tau)
    params = _parameters(step, W, tau, U, b)
    params = [p for p in params if p not in hidden]
    euler = UpdateRule(
        hidden,
        [(v, v + step * f) for v, f in zip(hidden, vector_field, strict=True)],
        params,
        name=f"{name} (Euler step)",
        simultaneous=True,
    )
    return RateNetwork(
        state=tuple(hidden),
        vector_field=vector_field,
        weights=W,
        tau=tau,
        activation=activation,
        step=step,
        euler=euler,
    )
