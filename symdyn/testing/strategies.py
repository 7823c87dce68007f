"""Hypothesis strategies for symdyn's objects: parameters inside or outside a derived
region, SPD matrices with a given spectrum, states, and random small update rules."""

from __future__ import annotations

import numpy as np
import sympy as sp
from hypothesis import assume
from hypothesis import strategies as st

from symdyn.errors import SymdynError, UndecidedError
from symdyn.linear.stability import StabilityResult, stability
from symdyn.linear.step_bounds import step_bound
from symdyn.rules.rule import UpdateRule

__all__ = ["hyperparameters", "rules", "spd_matrices", "states", "symbol_values"]


def symbol_values(symbol, scale=3.0, margin=0.05):
    """Floats admissible for ``symbol``: (margin, scale) if positive, (−scale, scale) if real."""
    if symbol.is_positive or symbol.is_nonnegative:
        return st.floats(margin, scale, allow_nan=False)
    return st.floats(-scale, scale, allow_nan=False)


def _as_result(rule_or_result):
    if isinstance(rule_or_result, StabilityResult):
        return rule_or_result
    return stability(rule_or_result)


def _single_symbol_bounds(relations):
    """``{symbol: (low, high)}`` from relations ``s < c`` / ``s > c`` with numeric ``c``."""
    bounds = {}
    for relation in relations:
        lhs, rhs = relation.lhs, relation.rhs
        if isinstance(lhs, sp.Symbol) and rhs.is_number:
            low, high = bounds.get(lhs, (-np.inf, np.inf))
            if isinstance(relation, (sp.StrictLessThan, sp.LessThan)):
                high = min(high, float(rhs))
            else:
                low = max(low, float(rhs))
            bounds[lhs] = (low, high)
    return bounds


@st.composite
def hyperparameters(draw, result, stable=True, margin=0.05, step=None, scale=3.0):
    """Parameter values strictly inside (``stable=True``) or outside a derived region.

    The other symbols are drawn first (inside the single-symbol bounds the
    region requires, when drawing stable points); the step is then drawn
    inside or beyond its exact interval from :func:`~symdyn.step_bound`, a
    relative ``margin`` away from the boundary, so almost nothing is rejected.

    Parameters
    ----------
    result : StabilityResult or UpdateRule
    stable : bool
    margin : float
        Relative distance kept from the boundary.
    step : sympy.Symbol, optional
        The parameter solved for; default: the rule's first parameter.
    scale : float
        Upper end of the range for positive symbols (and ± for real ones).

    Examples
    --------
    >>> import sympy as sp, symdyn as sd
    >>> from hypothesis import given
    >>> x = sp.Symbol("x", real=True)
    >>> eta, lam = sp.symbols("eta lambda", positive=True)
    >>> res = sd.stability(sd.optimizers.gd(lam * x**2 / 2, [x], eta))
    >>> @given(hyperparameters(res, stable=True))
    ... def inside(values):
    ...     assert values[eta] * values[lam] < 2
    >>> inside()
    """
    result = _as_result(result)
    rule = result.rule
    symbols = sorted(result.jacobian.free_symbols, key=sp.default_sort_key)
    if step is None and rule is not None and rule.params:
        step = rule.params[0]
    if step is None or step not in symbols:
        raise SymdynError("hyperparameters needs a step symbol that appears in the Jacobian")
    try:
        bound = step_bound(result, step)
    except UndecidedError:
        bound = None
    limits = _single_symbol_bounds(bound.requires) if bound is not None and stable else {}
    values = {}
    for symbol in symbols:
        if symbol == step:
            continue
        strategy = symbol_values(symbol, scale, margin)
        low, high = limits.get(symbol, (-np.inf, np.inf))
        if np.isfinite(high) or np.isfinite(low):
            base_low = margin if (symbol.is_positive or symbol.is_nonnegative) else -scale
            low, high = max(low, base_low), min(high, scale)
            span = high - low
            strategy = st.floats(low + margin * span, high - margin * span, allow_nan=False)
        values[symbol] = draw(strategy, label=str(symbol))
    exact = {s: sp.Rational(v) for s, v in values.items()}
    if bound is not None:
        lower = float(bound.lower.subs(exact)) if bound.lower != -sp.oo else -scale
        upper = float(bound.upper.subs(exact)) if bound.upper != sp.oo else scale
        if stable:
            assume(all(bool(r.subs(exact)) for r in bound.requires) and upper > lower)
            width = upper - lower
            value = draw(
                st.floats(lower + margin * width, upper - margin * width), label=str(step)
            )
        elif np.isfinite(upper) and bound.upper != sp.oo:
            value = draw(
                st.floats(upper * (1 + margin) + margin, upper * (1 + margin) + scale),
                label=str(step),
            )
        else:
            value = draw(symbol_values(step, scale, margin), label=str(step))
    else:
        value = draw(symbol_values(step, scale, margin), label=str(step))
    values[step] = value
    exact[step] = sp.Rational(value)
    assume(result.is_stable(exact) == stable)
    return values


@st.composite
def spd_matrices(draw, n, spectrum=(0.1, 10.0)):
    """A symmetric positive definite n×n NumPy matrix with eigenvalues in ``spectrum``.

    Examples
    --------
    >>> from hypothesis import given
    >>> import numpy as np
    >>> @given(spd_matrices(3, spectrum=(1.0, 2.0)))
    ... def check(H):
    ...     assert np.all(np.linalg.eigvalsh(H) >= 1.0 - 1e-9)
    >>> check()
    """
    low, high = spectrum
    if not 0 < low <= high:
        raise SymdynError(f"spd_matrices: need 0 < low <= high, got spectrum={spectrum}")
    eigenvalues = np.array(draw(st.lists(st.floats(low, high), min_size=n, max_size=n)))
    entries = draw(st.lists(st.floats(-1, 1), min_size=n * n, max_size=n * n))
    q, r = np.linalg.qr(np.array(entries).reshape(n, n) + 3 * np.eye(n))
    q = q * np.sign(np.where(np.diag(r) == 0, 1, np.diag(r)))
    return (q * eigenvalues) @ q.T


def states(rule, scale=1.0):
    """A state of ``rule`` as ``{symbol: float}``, not all zero."""
    coordinates = st.lists(
        st.floats(-scale, scale, allow_nan=False),
        min_size=len(rule.state),
        max_size=len(rule.state),
    ).filter(lambda xs: any(abs(v) > 1e-3 for v in xs))
    return coordinates.map(lambda xs: dict(zip(rule.state, xs, strict=True)))


@st.composite
def rules(draw, max_state=2, max_degree=2):
    """Random small polynomial update rules x ← x − η·p(x), for fuzzing the engine.

    Examples
    --------
    >>> from hypothesis import given
    >>> @given(rules())
    ... def check(rule):
    ...     assert rule.jacobian().shape == (len(rule.state),) * 2
    >>> check()
    """
    n = draw(st.integers(1, max_state))
    state = sp.symbols(f"s0:{n}", real=True)
    eta = sp.Symbol("eta", positive=True)
    monomials = [sp.Integer(1), *state]
    if max_degree >= 2:
        monomials += [a * b for i, a in enumerate(state) for b in state[i:]]
    updates = []
    for s in state:
        coefficients = draw(
            st.lists(st.integers(-3, 3), min_size=len(monomials), max_size=len(monomials))
        )
        polynomial = sum(c * m for c, m in zip(coefficients, monomials, strict=True))
        updates.append((s, s - eta * polynomial))
    simultaneous = draw(st.booleans())
    return UpdateRule(state, updates, [eta], name="random rule", simultaneous=simultaneous)
