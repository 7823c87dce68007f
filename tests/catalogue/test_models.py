"""The model steps of the catalogue against their documented equations, written out here."""

import pytest
import sympy as sp

import symdyn as sd

x, y, h1, h2, u1 = sp.symbols("x y h1 h2 u1", real=True)
a, b, step = sp.symbols("a b h", positive=True)
w11, w12, w21, w22 = sp.symbols("w11 w12 w21 w22", real=True)
W = [[w11, w12], [w21, w22]]


def check(rule, expected, params):
    assert rule.state == tuple(expected)
    assert rule.params == tuple(params)
    assert rule.simultaneous
    for got, (target, want) in zip(rule.map, expected.items(), strict=True):
        assert sp.simplify(got - want) == 0, f"{rule.name}: {target}"


def test_resnet_block_is_forward_euler():
    """x ← x + h f(x), f the spiral [[−a, −b], [b, −a]]x."""
    f = [-a * x - b * y, b * x - a * y]
    rule = sd.models.resnet_block(f, [x, y], step)
    check(rule, {x: x + step * f[0], y: y + step * f[1]}, [step])
    assert rule.free == (a, b)


def test_linear_rnn_with_an_input_term():
    """h ← W h + u."""
    rule = sd.models.linear_rnn(W, [h1, h2], input_term=[u1, 2 * u1])
    expected = {h1: w11 * h1 + w12 * h2 + u1, h2: w21 * h1 + w22 * h2 + 2 * u1}
    check(rule, expected, [w11, w12, w21, w22])
    assert rule.free == (u1,)


def test_tanh_rnn():
    """h ← tanh(W h + u)."""
    rule = sd.models.tanh_rnn(W, [h1, h2], input_term=[u1, 0])
    expected = {h1: sp.tanh(w11 * h1 + w12 * h2 + u1), h2: sp.tanh(w21 * h1 + w22 * h2)}
    check(rule, expected, [w11, w12, w21, w22])


def test_shapes_are_checked():
    with pytest.raises(sd.ShapeError, match="2 components for a state of 1"):
        sd.models.resnet_block([x, y], [x], step)
    with pytest.raises(sd.ShapeError, match="recurrent weights"):
        sd.models.tanh_rnn(W, [h1])
