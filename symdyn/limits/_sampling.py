"""The first phases of a continuous limit: the arguments, and the iterates read as curves.

The k-th iterate of each position x is read as X(t_k), t_k = kτ. Lagged copies
become X(t − jτ), buffers scaled differences of past positions
(:mod:`symdyn.rules.state_roles`); each position's one-step residual
X(t + τ) − Φ(X(t), X(t − τ), …) is then written in the jets X, X', X'', … at t, ready to
be expanded in τ (:mod:`symdyn.limits._leading`).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symdyn.errors import RuleError, ShapeError
from symdyn.escaping import plain, safe_latex
from symdyn.frozen import FrozenMapping
from symdyn.rules.printing import opening
from symdyn.rules.rule import UpdateRule
from symdyn.rules.state_roles import state_roles
from symdyn.rules.values import exact_value, exact_values, resolve_symbol

T = sp.Symbol("t", positive=True)
MAX_ORDER = 5


@dataclass(frozen=True)
class Setup:
    """The checked arguments: the step h, the scaling, the time step τ(h) and its inverse."""

    rule: UpdateRule
    h: sp.Symbol
    scaling: FrozenMapping
    step: sp.Expr
    tau: sp.Dummy
    h_of_tau: sp.Expr


@dataclass(frozen=True)
class Sampling:
    """The iterates as curves: jets[x][m] stands for the m-th derivative of X at t.

    ``residuals`` holds, per position, X(t + τ) − Φ(…) in the jets and τ;
    ``functions`` the curve X(t) of each position; ``samples`` every state symbol's
    continuous counterpart before any fast variable is slaved.
    """

    roles: object
    jets: FrozenMapping
    functions: FrozenMapping
    residuals: FrozenMapping
    samples: FrozenMapping
    to_functions: FrozenMapping

    @property
    def positions(self):
        return self.roles.positions

    def as_functions(self, expr):
        """``expr`` with the jets replaced by the curves and their derivatives."""
        return expr.xreplace(dict(self.to_functions)).subs(dict(self.functions))

    def derivatives(self, x):
        """The jet symbols of the derivatives of position x (orders 1 … MAX_ORDER)."""
        return self.jets[x][1:]


def read_arguments(rule, h, scaling, time_step):
    """Check the arguments; the derivation opens with the rule and its scaling."""
    if not isinstance(rule, UpdateRule):
        raise RuleError(f"continuous_limit needs an UpdateRule, got {type(rule).__name__}")
    if any(isinstance(s, sp.MatrixSymbol) for s in rule.state):
        raise ShapeError(f"{rule.name}: continuous_limit needs a state of scalar symbols")
    where = f"{rule.name}: continuous_limit"
    h = resolve_symbol(h, rule.symbols, where=f"{where}(h=...)")
    scaling = exact_values(
        scaling, rule.symbols, where=f"{where}(scaling=...)", expressions=True, closure=True
    )
    for key in scaling:
        if key not in rule.params and key not in rule.free:
            raise RuleError(
                f"{rule.name}: scaling names {key}, which is not a parameter", symbol=key
            )
    step = h if time_step is None else exact_value(time_step, where=f"{where}(time_step=...)")
    tau = sp.Dummy("tau", positive=True)
    solutions = [s for s in sp.solve(sp.Eq(step, tau), h) if s.is_positive is not False]
    if h not in step.free_symbols or not solutions:
        raise RuleError(f"{rule.name}: the time step {step} must be an invertible function of {h}")
    setup = Setup(rule, h, FrozenMapping(scaling), step, tau, solutions[0])
    derivation = opening(rule, f"Continuous-time limit of {plain(rule.name)}")
    if scaling:
        derivation = derivation.then(
            f"The parameters are scaled with the step ${safe_latex(h)}$:",
            tuple(sp.Eq(k, v) for k, v in scaling.items()),
        )
    return setup, derivation


def sample_on_curves(setup, derivation):
    """Write each position's one-step residual in the jets at t; say how the state is read."""
    rule, tau = setup.rule, setup.tau
    roles = state_roles(rule)
    k = rule.counter
    ahead = {x: sp.Dummy(f"{x.name}_next", real=True) for x in roles.positions}
    past = {}

    def behind(x, j):
        return past.setdefault((x, j), sp.Dummy(f"{x.name}_{j}", real=True))

    history = {x: x for x in roles.positions}
    for a, (x, j) in roles.lags.items():
        history[a] = behind(x, j)
    for a, (x, ratio) in roles.buffers.items():
        history[a] = (x - behind(x, 1)) / _before(ratio, k)
    nxt = dict(zip(rule.state, rule.next_state, strict=True))
    known = set(rule.state) | set(ahead.values()) | set(past.values())

    def to_tau(expr):
        expr = expr.subs(dict(setup.scaling)).subs(setup.h, setup.h_of_tau)
        return _substitute_counter(expr, k, T / tau, known)

    residuals = {
        x: to_tau(ahead[x] - nxt[x].subs(history, simultaneous=True)) for x in roles.positions
    }
    jets = {
        x: (x, *(sp.Dummy(f"{x.name}_d{m}", real=True) for m in range(1, MAX_ORDER + 1)))
        for x in roles.positions
    }

    def shifted(x, j):
        return x + sum((j * tau) ** m / sp.factorial(m) * jets[x][m] for m in range(1, MAX_ORDER))

    at_times = {ahead[x]: shifted(x, 1) for x in roles.positions}
    at_times.update({symbol: shifted(x, -j) for (x, j), symbol in past.items()})
    functions = {x: _function_of(x)(T) for x in roles.positions}
    to_functions = {
        jets[x][m]: sp.Derivative(functions[x], (T, m))
        for x in roles.positions
        for m in range(1, MAX_ORDER + 1)
    }
    sampling = Sampling(
        roles=roles,
        jets=FrozenMapping(jets),
        functions=FrozenMapping(functions),
        residuals=FrozenMapping({x: r.subs(at_times) for x, r in residuals.items()}),
        samples=FrozenMapping(_samples(setup, roles, functions)),
        to_functions=FrozenMapping(to_functions),
    )
    return sampling, _say_sampling(setup, sampling, derivation)


def _samples(setup, roles, functions):
    """Each state symbol's continuous counterpart: X(t), X(t − jτ), or a scaled difference."""
    step, k = setup.step, setup.rule.counter
    samples = dict(functions)
    for a, (x, j) in roles.lags.items():
        samples[a] = functions[x].subs(T, T - j * step)
    for a, (x, ratio) in roles.buffers.items():
        before = _before(ratio, k).subs(dict(setup.scaling))
        samples[a] = (functions[x] - functions[x].subs(T, T - step)) / before
    return samples


def _say_sampling(setup, sampling, derivation):
    counter = " (so the counter is $k = t/\\tau$)" if setup.rule.counter is not None else ""
    derivation = derivation.then(
        "Read the iterates as samples of smooth curves at $t_k = k\\,\\tau$, with time step "
        f"$\\tau = {safe_latex(setup.step)}${counter}:",
        tuple(
            sp.Eq(sp.Symbol(f"{{{safe_latex(s)}}}_{{k}}"), v) for s, v in sampling.samples.items()
        ),
    )
    if sampling.roles.buffers or sampling.roles.lags:
        derivation = derivation.then(
            "Lagged copies and buffers are functions of past positions, so the "
            "rule is a multistep recurrence in the positions alone."
        )
    return derivation


def _before(ratio, counter):
    """The buffer's ratio one step earlier (it may depend on the counter)."""
    return ratio if counter is None else ratio.subs(counter, counter - 1)


def _substitute_counter(expr, counter, value, state):
    """Replace the counter in the state-free subexpressions, each simplified by ``cancel``."""
    if counter is None or counter not in expr.free_symbols:
        return expr
    if not (expr.free_symbols & state):
        return sp.cancel(sp.together(expr.subs(counter, value)))
    if isinstance(expr, (sp.Subs, sp.Derivative)):
        return expr.subs(counter, value)
    return expr.func(*[_substitute_counter(a, counter, value, state) for a in expr.args])


def _function_of(symbol):
    name = symbol.name
    return sp.Function(name[0].upper() + name[1:], real=True)
