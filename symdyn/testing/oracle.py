"""The numeric side of every check: a rule's map run by NumPy and differentiated by
:mod:`symdyn.autodiff`, sharing nothing with symdyn's symbolic Jacobian or criteria."""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from symdyn import autodiff as ad
from symdyn.rules.values import resolve_symbol

__all__ = ["NumericRule", "numeric_rule"]


class NumericRule:
    """A rule's update map as a NumPy function of (state, parameter values)."""

    def __init__(self, rule):
        self.rule = rule
        self.symbols = tuple(sorted(rule.free_symbols, key=sp.default_sort_key))
        self._map = sp.lambdify(
            [*rule.state, *self.symbols], list(rule.next_state), modules=[ad.namespace, "numpy"]
        )

    def values(self, params):
        """Parameter values in the order of :attr:`symbols` (missing ones are an error)."""
        by_symbol = {
            resolve_symbol(k, self.symbols, where=self.rule.name): v for k, v in params.items()
        }
        missing = [s for s in self.symbols if s not in by_symbol]
        if missing:
            raise KeyError(f"{self.rule.name}: no value for {', '.join(map(str, missing))}")
        return [float(by_symbol[s]) for s in self.symbols]

    def step(self, state, params):
        """One application of the map to a state vector."""
        return self._step(state, self.values(params))

    def _step(self, state, values):
        return np.array([float(v) for v in self._map(*state, *values)])

    def jacobian(self, state, params):
        """The map's Jacobian at ``state`` by reverse-mode autodiff."""
        values = self.values(params)
        n = len(self.rule.state)

        def traced(s):
            outputs = self._map(*(s[i] for i in range(n)), *values)
            # Components that do not depend on the state come back as plain numbers.
            return ad.stack([s[0] * 0 + out for out in outputs])

        return np.asarray(ad.jacobian(traced)(np.asarray(state, dtype=float)))

    def spectral_radius(self, params, state=None):
        """Largest eigenvalue modulus of the autodiff Jacobian (at the origin by default)."""
        state = np.zeros(len(self.rule.state)) if state is None else state
        return float(max(abs(np.linalg.eigvals(self.jacobian(state, params)))))

    def growth(self, params, state, steps, centre=None):
        """``|x_N − c| / |x_0 − c|`` after ``steps`` iterations (inf when it overflows)."""
        current = np.asarray(state, dtype=float)
        centre = np.zeros_like(current) if centre is None else np.asarray(centre, dtype=float)
        start = distance = np.linalg.norm(current - centre)
        values = self.values(params)
        with np.errstate(all="ignore"):
            for number in range(1, steps + 1):
                current = self._step(current, values)
                if number % 16 == 0 or number == steps:
                    distance = np.linalg.norm(current - centre)
                    if not np.isfinite(distance) or distance > 1e150:
                        return np.inf
        return float(distance / start)


@functools.lru_cache(maxsize=64)
def numeric_rule(rule):
    """Cached :class:`NumericRule` for a (hashable, immutable) rule."""
    return NumericRule(rule)
