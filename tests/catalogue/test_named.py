"""The named catalogue rules of ``symdyn list`` against the equations their summaries
state, written out here on λx²/2 (gradient λx), a·x·y and the linear models."""

import pytest
import sympy as sp

from symdyn.catalogue.named import CATALOGUE, UnknownRuleError, build

x, y = sp.symbols("x y", real=True)
eta, beta, lam, a, b, h, p = sp.symbols("eta beta lambda a b h p", positive=True)
tau = sp.Symbol("tau", nonnegative=True)
w = sp.Symbol("w", real=True)


def real(name):
    return sp.Symbol(name, real=True)


v, bx, m, x_prev = real("v_x"), real("b_x"), real("m_x"), real("x_prev")


def _momentum(buffer, new_buffer, new_x):
    return {x: new_x(new_buffer), buffer: new_buffer}


def _nesterov_y():
    y_point = x + beta * (x - x_prev)
    return {x: y_point - eta * lam * y_point, x_prev: x}


# name → (next state by state symbol, the step symbol)
EXPECTED = {
    "gd": ({x: x - eta * lam * x}, eta),
    "heavy-ball": (_momentum(v, beta * v - eta * lam * x, lambda nv: x + nv), eta),
    "heavy-ball-torch": (
        _momentum(bx, beta * bx + (1 - tau) * lam * x, lambda nb: x - eta * nb),
        eta,
    ),
    "ema-momentum": (_momentum(m, beta * m + (1 - beta) * lam * x, lambda nm: x - eta * nm), eta),
    "nesterov": (
        _momentum(v, beta * v - eta * lam * (x + beta * v), lambda nv: x + nv),
        eta,
    ),
    "nesterov-torch": (
        _momentum(bx, beta * bx + lam * x, lambda nb: x - eta * (lam * x + beta * nb)),
        eta,
    ),
    "nesterov-y": (_nesterov_y(), eta),
    "adam-frozen": (
        _momentum(m, beta * m + (1 - beta) * lam * x, lambda nm: x - eta * nm / p),
        eta,
    ),
    "rmsprop-frozen": (
        _momentum(real("u_x"), beta * real("u_x") - eta * lam * x / p, lambda nu: x + nu),
        eta,
    ),
    "gda": ({x: x - eta * a * y, y: y + eta * a * x}, eta),
    "gda-alternating": (
        {x: x - eta * a * y, y: y + eta * a * (x - eta * a * y)},
        eta,
    ),
    "extragradient": (
        {x: x - eta * a * (y + eta * a * x), y: y + eta * a * (x - eta * a * y)},
        eta,
    ),
    "optimistic-gda": (
        {
            x: x - 2 * eta * a * y + eta * a * real("y_prev"),
            y: y + 2 * eta * a * x - eta * a * real("x_prev"),
            real("x_prev"): x,
            real("y_prev"): y,
        },
        eta,
    ),
    "resnet-block": ({x: x + h * (-a * x - b * y), y: y + h * (b * x - a * y)}, h),
    "linear-rnn": ({x: w * x}, w),
}


def test_every_named_rule_has_its_equations_here():
    assert set(CATALOGUE) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_named_rule_follows_its_equations(name):
    expected, step = EXPECTED[name]
    rule = build(name)
    assert rule.state == tuple(expected)
    for got, (target, want) in zip(rule.map, expected.items(), strict=True):
        assert sp.simplify(got - want) == 0, f"{name}: {target}"
    entry = CATALOGUE[name]
    assert entry.step == step and step in rule.params
    assert entry.summary


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(UnknownRuleError, match="known rules: gd, heavy-ball"):
        build("sgd")
