"""Operators of the symbolic RNN rules of sd.models, against hand-written steps and exact W^t."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symdyn as sd
import symdyn.autodiff as ad
from symdyn import operators as ops
from symdyn.errors import UnknownSymbolError

h1, h2, u1, u2 = sp.symbols("h1 h2 u1 u2", real=True)
W = sp.Matrix(2, 2, sp.symbols("w11 w12 w21 w22", real=True))


def dense(op):
    return op @ np.eye(op.shape[1])


@settings(max_examples=10)
@given(st.integers(0, 2**16))
def test_tanh_rule_gives_the_same_operators_as_a_hand_written_step(seed):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(4)
    h0, inputs = rng.standard_normal((2, 2)), rng.standard_normal((2, 3, 2))
    rule = sd.models.tanh_rnn(W, [h1, h2], [u1, u2])
    from_rule = ops.from_rule(
        rule, dict(zip(W, values, strict=True)), h0, inputs, input_symbols=[u1, u2]
    )

    def step(h, x, theta):
        return ad.tanh(h @ theta.reshape(2, 2).T + x)  # h ← tanh(W h + u), row-wise

    by_hand = ops.Recurrence(step, values, h0, inputs)
    np.testing.assert_allclose(from_rule.trajectory, by_hand.trajectory, atol=1e-14)
    for build in (ops.nto, ops.K, ops.P):
        np.testing.assert_allclose(dense(build(from_rule)), dense(build(by_hand)), atol=1e-12)


def test_propagator_of_a_linear_rule_has_blocks_W_power():
    """P[t, s] = ∂h_t/∂h_s = W^(t−s), the exact transition of gradient_through_time."""
    values = {W[0, 0]: 0.5, W[0, 1]: -0.3, W[1, 0]: 0.2, W[1, 1]: 0.9}
    rule = sd.models.linear_rnn(W, [h1, h2])
    model = ops.from_rule(rule, values, np.ones((1, 2)), steps=4)
    blocks = dense(ops.P(model)).reshape(4, 2, 4, 2)
    exact = ops.gradient_through_time(rule.subs(values), 3).transition
    np.testing.assert_allclose(blocks[3, :, 0, :], np.array(exact, dtype=float), atol=1e-14)


def test_unassigned_symbols_are_named():
    rule = sd.models.tanh_rnn(W, [h1, h2], [u1, u2])
    with pytest.raises(UnknownSymbolError, match="u1"):
        ops.from_rule(rule, dict.fromkeys(W, 0.1), np.zeros((1, 2)), steps=2)
    model = ops.from_rule(
        rule, dict.fromkeys(W, 0.1), np.zeros((1, 2)), steps=2, fixed={u1: 1.0, u2: 0.0}
    )
    assert model.trajectory.shape == (1, 2, 2)
