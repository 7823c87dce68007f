"""Named catalogue rules on the canonical one-mode problems, for the command line.

Optimizers run on the quadratic λx²/2 (one eigen-mode of any quadratic),
games on the bilinear game a·x·y, models on a linear residual or recurrence.
Each entry states which symbol is the step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

import sympy as sp

from symdyn.catalogue import adaptive, games, models, optimizers
from symdyn.errors import UnknownRuleError
from symdyn.rules.rule import UpdateRule

__all__ = ["CATALOGUE", "Entry", "UnknownRuleError", "build"]

x, y = sp.symbols("x y", real=True)
eta, beta, lam, a, b, h = sp.symbols("eta beta lambda a b h", positive=True)
tau = sp.Symbol("tau", nonnegative=True)
w = sp.Symbol("w", real=True)
p = sp.Symbol("p", positive=True)  # a frozen preconditioner √v̂ + ε
QUADRATIC = lam * x**2 / 2


@dataclass(frozen=True)
class Entry:
    """A catalogue rule: what it is, how to build it, which symbol is its step."""

    summary: str
    factory: Callable[[], UpdateRule]
    step: sp.Symbol


_ENTRIES = {
    "gd": Entry("gradient descent on λx²/2", lambda: optimizers.gd(QUADRATIC, [x], eta), eta),
    "heavy-ball": Entry(
        "Polyak heavy ball on λx²/2",
        lambda: optimizers.heavy_ball(QUADRATIC, [x], eta, beta),
        eta,
    ),
    "heavy-ball-torch": Entry(
        "PyTorch SGD momentum (dampening τ) on λx²/2",
        lambda: optimizers.heavy_ball(
            QUADRATIC, [x], eta, beta, convention="torch", dampening=tau
        ),
        eta,
    ),
    "ema-momentum": Entry(
        "EMA momentum m ← βm + (1−β)g on λx²/2",
        lambda: optimizers.heavy_ball(QUADRATIC, [x], eta, beta, convention="ema"),
        eta,
    ),
    "nesterov": Entry(
        "Nesterov (Sutskever form) on λx²/2",
        lambda: optimizers.nesterov(QUADRATIC, [x], eta, beta),
        eta,
    ),
    "nesterov-torch": Entry(
        "PyTorch SGD(nesterov=True) on λx²/2",
        lambda: optimizers.nesterov(QUADRATIC, [x], eta, beta, convention="torch"),
        eta,
    ),
    "nesterov-y": Entry(
        "Nesterov two-point (y) form on λx²/2",
        lambda: optimizers.nesterov(QUADRATIC, [x], eta, beta, convention="y-form"),
        eta,
    ),
    "adam-frozen": Entry(
        "Adam (β₁ = β, no bias correction) with frozen preconditioner p on λx²/2",
        lambda: adaptive.adam(QUADRATIC, [x], eta, beta, preconditioner=p),
        eta,
    ),
    "rmsprop-frozen": Entry(
        "RMSprop with heavy-ball momentum and frozen preconditioner p on λx²/2",
        lambda: adaptive.rmsprop(QUADRATIC, [x], eta, beta, preconditioner=p),
        eta,
    ),
    "gda": Entry(
        "simultaneous gradient descent-ascent on a·x·y",
        lambda: games.gda(a * x * y, [x], [y], eta),
        eta,
    ),
    "gda-alternating": Entry(
        "alternating gradient descent-ascent on a·x·y",
        lambda: games.gda(a * x * y, [x], [y], eta, mode="alternating"),
        eta,
    ),
    "extragradient": Entry(
        "extragradient on a·x·y",
        lambda: games.extragradient(a * x * y, [x], [y], eta),
        eta,
    ),
    "optimistic-gda": Entry(
        "optimistic gradient descent-ascent on a·x·y",
        lambda: games.optimistic_gda(a * x * y, [x], [y], eta),
        eta,
    ),
    "resnet-block": Entry(
        "ResNet block x ← x + h f(x), f the spiral [[−a, −b], [b, −a]]x",
        lambda: models.resnet_block([-a * x - b * y, b * x - a * y], [x, y], h),
        h,
    ),
    "linear-rnn": Entry(
        "linear RNN step h ← w h (one hidden unit)",
        lambda: models.linear_rnn([[w]], [x]),
        w,
    ),
}

CATALOGUE = MappingProxyType(_ENTRIES)


def build(name):
    """The catalogue rule called ``name``.

    Examples
    --------
    >>> build("gd").name
    'gradient descent'
    """
    try:
        entry = CATALOGUE[name]
    except KeyError:
        known = ", ".join(CATALOGUE)
        raise UnknownRuleError(f"no catalogue rule {name!r}; known rules: {known}") from None
    return entry.factory()
