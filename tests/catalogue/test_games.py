"""Every game dynamic of the catalogue against its documented equations, written out here
again with ``sympy.diff`` on a game that is neither bilinear nor separable."""

import pytest
import sympy as sp

import symdyn as sd

x1, x2, y1 = sp.symbols("x1 x2 y1", real=True)
eta, eta_y, a = sp.symbols("eta eta_y a", positive=True)
F = x1 * y1 + a * x2 * y1 + x1**2 * y1**2 / 2 - x2**2 / 2
X, Y = (x1, x2), (y1,)


def gradients(at=None):
    """(∇ₓf, ∇ᵧf) at ``at`` (a mapping of the players' symbols), by sympy.diff."""
    at = at or {}
    return (
        [sp.diff(F, v).subs(at, simultaneous=True) for v in X],
        [sp.diff(F, v).subs(at, simultaneous=True) for v in Y],
    )


def check(rule, expected, params):
    assert rule.state == tuple(expected)
    assert rule.params == tuple(params)
    for got, (target, want) in zip(rule.map, expected.items(), strict=True):
        assert sp.simplify(got - want) == 0, f"{rule.name}: {target}"


@pytest.mark.parametrize("lr_y", [None, eta_y])
def test_simultaneous_gda(lr_y):
    """x ← x − η∇ₓf(x, y), y ← y + η_y∇ᵧf(x, y), both at the old iterate."""
    step_y = eta if lr_y is None else lr_y
    gx, gy = gradients()
    expected = {v: v - eta * g for v, g in zip(X, gx, strict=True)}
    expected |= {v: v + step_y * g for v, g in zip(Y, gy, strict=True)}
    rule = sd.games.gda(F, list(X), list(Y), lr=eta, lr_y=lr_y)
    check(rule, expected, [eta] if lr_y is None else [eta, eta_y])
    assert rule.free == (a,)


def test_alternating_gda():
    """x ← x − η∇ₓf(x, y); then y ← y + η∇ᵧf(x⁺, y)."""
    gx, _ = gradients()
    new_x = [v - eta * g for v, g in zip(X, gx, strict=True)]
    _, gy_new = gradients(dict(zip(X, new_x, strict=True)))
    expected = dict(zip(X, new_x, strict=True))
    expected |= {v: v + eta * g for v, g in zip(Y, gy_new, strict=True)}
    check(sd.games.gda(F, list(X), list(Y), lr=eta, mode="alternating"), expected, [eta])


def test_extragradient():
    """A look-ahead (x½, y½) by one GDA step, then a GDA step with the look-ahead's gradients."""
    gx, gy = gradients()
    half = {v: v - eta * g for v, g in zip(X, gx, strict=True)}
    half |= {v: v + eta_y * g for v, g in zip(Y, gy, strict=True)}
    hx, hy = gradients(half)
    expected = {v: v - eta * g for v, g in zip(X, hx, strict=True)}
    expected |= {v: v + eta_y * g for v, g in zip(Y, hy, strict=True)}
    check(sd.games.extragradient(F, list(X), list(Y), lr=eta, lr_y=eta_y), expected, [eta, eta_y])


def test_optimistic_gda():
    """x ← x − 2η∇ₓf(x, y) + η∇ₓf(x_prev, y_prev), y likewise with +, and the previous
    iterate kept in the state."""
    previous = {v: sp.Symbol(f"{v.name}_prev", real=True) for v in X + Y}
    gx, gy = gradients()
    px, py = gradients(previous)
    expected = {v: v - 2 * eta * g + eta * q for v, g, q in zip(X, gx, px, strict=True)}
    expected |= {v: v + 2 * eta * g - eta * q for v, g, q in zip(Y, gy, py, strict=True)}
    expected |= {previous[v]: v for v in X + Y}
    check(sd.games.optimistic_gda(F, list(X), list(Y), lr=eta), expected, [eta])


def test_a_single_symbol_is_one_player_variable():
    rule = sd.games.gda(x1 * y1, x1, y1, lr=eta)
    assert sp.Matrix([[x1 - eta * y1, y1 + eta * x1]]) == rule.map.T


def test_bad_players_and_modes_are_named():
    with pytest.raises(sd.RuleError, match="player x"):
        sd.games.gda(F, [x1 + x2], list(Y), lr=eta)
    with pytest.raises(sd.RuleError, match="mode"):
        sd.games.gda(F, list(X), list(Y), lr=eta, mode="sequential")
