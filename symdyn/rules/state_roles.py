"""Roles of the state variables of a rule: positions, lagged copies and momentum buffers.

A lagged copy ``x_prev ← x`` holds an earlier position; a buffer ``a`` of a
position ``x`` satisfies ``x⁺ − x = C·a⁺`` identically, so it is a scaled
difference of consecutive positions. Continuous limits, the slow-manifold
reduction of modified equations and Hamiltonian forms all start from this split.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symdyn.errors import RuleError

__all__ = ["state_roles"]


@dataclass(frozen=True)
class _Roles:
    """Positions, lagged copies (a → (position, lag)) and buffers (a → (position, C)).

    A buffer ``a`` of position ``x`` satisfies ``x⁺ − x = C·a⁺`` identically,
    so ``a_k = (x_k − x_{k−1}) / C_{k−1}``.
    """

    positions: tuple
    lags: dict
    buffers: dict


def state_roles(rule):
    """Split the state of ``rule`` into positions, lagged copies and momentum buffers."""
    state, nxt = rule.state, dict(zip(rule.state, rule.next_state, strict=True))
    lags = {}
    for a in state:
        if nxt[a] in state and nxt[a] != a:
            lags[a] = nxt[a]
    resolved = {}
    for a, source in lags.items():
        depth, seen = 1, {a}
        while source in lags:
            if source in seen:
                raise RuleError(
                    f"{rule.name}: the lagged copies {sorted(map(str, seen))} form a cycle"
                )
            seen.add(source)
            source, depth = lags[source], depth + 1
        resolved[a] = (source, depth)
    buffers = {}
    candidates = [s for s in state if s not in resolved]
    for x in candidates:
        increment = nxt[x] - x
        if increment == 0:
            continue
        for a in candidates:
            if a == x or a in buffers or nxt[a] == 0:
                continue
            ratio = sp.cancel(sp.together(increment / nxt[a]))
            if (
                ratio != 0
                and not (ratio.free_symbols & set(state))
                and not ratio.has(sp.Subs, sp.Derivative, sp.core.function.AppliedUndef)
            ):
                buffers[a] = (x, ratio)
                break
    positions = tuple(s for s in state if s not in resolved and s not in buffers)
    for a, (x, _) in resolved.items():
        if x not in positions:
            raise RuleError(f"{rule.name}: {a} is a lagged copy of {x}, which is not a position")
    return _Roles(positions, resolved, buffers)
