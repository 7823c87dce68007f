"""Checks that put a derived claim against an independent numeric computation.

Each check draws examples with hypothesis, compares the symbolic claim with
NumPy and :mod:`symdyn.autodiff` (see :mod:`symdyn.testing.oracle`), and
either returns a :class:`CheckReport` or raises :class:`CheckFailure` (an
``AssertionError``, so pytest shows it as a failed assertion) carrying the
shrunk counterexample. Call them from ordinary pytest tests, not from
inside another ``@given`` test.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable

from symdyn.errors import SymdynError, UndecidedError
from symdyn.escaping import unmark
from symdyn.linear.stability import StabilityResult, stability
from symdyn.linear.step_bounds import step_bound
from symdyn.rules.rule import as_expression
from symdyn.rules.values import as_basic, exact_values
from symdyn.testing.oracle import numeric_rule
from symdyn.testing.strategies import states, symbol_values

__all__ = [
    "CheckFailure",
    "CheckReport",
    "check_against_torch",
    "check_derivation",
    "check_fixed_points",
    "check_jacobian",
    "check_stability",
    "check_step_bound",
]


@dataclass(frozen=True)
class CheckReport:
    """What a passing check tried."""

    check: str
    examples: int
    passed: bool = True
    counterexample: str | None = None


class CheckFailure(AssertionError):
    """A derived claim disagreed with the numeric computation."""

    def __init__(self, check, examples, counterexample):
        self.report = CheckReport(check, examples, False, counterexample)
        super().__init__(f"{check} failed after {examples} examples: {counterexample}")


def _run(check, strategy, body, examples):
    tried = 0

    @settings(
        max_examples=examples or settings().max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def claim(case):
        nonlocal tried
        body(case)
        tried += 1  # examples that were checked; those the body rejects are not counted

    try:
        claim()
    except AssertionError as error:
        raise CheckFailure(check, tried + 1, str(error).split("\n")[0]) from None
    except Unsatisfiable:
        raise SymdynError(f"{check}: could not draw a single decisive example") from None
    return CheckReport(check, tried)


def _claim(value, what):
    """A claimed region or bound to check: a sympy object, never parsed from text."""
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, bool):
        return sp.true if value else sp.false
    return as_expression(value, f"the claimed {what}")


def _parameter_strategy(symbols, fixed, scale):
    fixed = exact_values(fixed, symbols, where="params")
    drawn = {s: symbol_values(s, scale) for s in symbols if s not in fixed}
    return st.fixed_dictionaries(drawn).map(lambda values: {**values, **fixed})


def _show(values):
    return "{" + ", ".join(f"{s}: {float(v):.6g}" for s, v in values.items()) + "}"


def check_jacobian(rule, jacobian=None, params=None, examples=None, rtol=1e-7, scale=2.0):
    """The symbolic Jacobian (or a claimed one) equals the autodiff Jacobian of the map.

    Examples
    --------
    >>> import sympy as sp, symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> check_jacobian(sd.UpdateRule([x], [(x, x - eta * sp.sin(x))], [eta])).passed
    True
    """
    oracle = numeric_rule(rule)
    claimed = sp.ImmutableMatrix(jacobian if jacobian is not None else rule.jacobian())
    evaluate = sp.lambdify([*rule.state, *oracle.symbols], claimed, "numpy")
    strategy = st.tuples(states(rule, scale), _parameter_strategy(oracle.symbols, params, scale))

    def body(case):
        state, values = case
        point = [state[s] for s in rule.state]
        with np.errstate(all="ignore"):
            expected = np.asarray(evaluate(*point, *oracle.values(values)), dtype=float)
        assume(np.all(np.isfinite(expected)))
        numeric = oracle.jacobian(point, values)
        close = np.allclose(expected, numeric, rtol=rtol, atol=rtol)
        assert close, (
            f"at state {_show(state)} and {_show(values)} the claimed Jacobian is "
            f"{expected.tolist()} but autodiff gives {numeric.tolist()}"
        )

    return _run(f"check_jacobian({rule.name})", strategy, body, examples)


MAX_HORIZON = 20000


def _horizon(radius, steps):
    """Steps for ``radius**n`` to reach e^∓30, far beyond any transient (None: too many)."""
    if radius <= 0:
        return steps
    if radius == 1 or 30 / abs(np.log(radius)) > MAX_HORIZON:
        return None
    return int(max(steps, 30 / abs(np.log(radius))))


def _numeric(expr, symbols):
    """``expr`` (an expression, relation, or list of them) as a function of a values dict."""
    function = sp.lambdify(list(symbols), expr, "numpy")
    return lambda values: function(*(float(values[s]) for s in symbols))


def _centre_function(result, symbols):
    """The linearisation point as a vector-valued function of the parameter values."""
    point = [as_basic(result.point.get(s, 0)) for s in result.rule.state]
    function = _numeric(point, symbols)
    return lambda values: np.asarray(function(values), dtype=float)


def check_stability(
    rule, region=None, params=None, examples=None, margin=0.02, steps=200, scale=3.0
):
    """A region (derived or given) agrees with numeric spectral radii and with simulation.

    Inside the region iterates started near the linearisation point shrink;
    outside they grow. Points within ``margin`` of the unit circle are
    skipped; where the derived ``marginal`` set holds, the numeric spectral
    radius must be 1.

    Examples
    --------
    >>> import sympy as sp, symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta, lam = sp.symbols("eta lambda", positive=True)
    >>> rule = sd.optimizers.gd(lam * x**2 / 2, [x], eta)
    >>> check_stability(rule).passed
    True
    """
    result = rule if isinstance(rule, StabilityResult) else stability(rule)
    rule = result.rule
    oracle = numeric_rule(rule)
    claimed = _claim(region, "region") if region is not None else result.region
    symbols = sorted(result.jacobian.free_symbols | claimed.free_symbols, key=sp.default_sort_key)
    strategy = st.tuples(_parameter_strategy(symbols, params, scale), states(rule, 1.0))
    centre_of = _centre_function(result, symbols)
    inside_of = _numeric(claimed, symbols)
    marginal = result.marginal if region is None and result.marginal is not None else sp.false
    marginal_of = _numeric(marginal & ~result.region, symbols)

    def body(case):
        values, offset = case
        centre = centre_of(values)
        radius = oracle.spectral_radius(values, centre)
        if marginal_of(values):
            assert abs(radius - 1) < 1e-7, (
                f"at {_show(values)} the rule is claimed marginal but the spectral radius is "
                f"{radius:.9g}"
            )
            return
        assume(abs(radius - 1) > margin)
        inside = bool(inside_of(values))
        assert inside == (radius < 1), (
            f"at {_show(values)} the region says {'stable' if inside else 'unstable'} but the "
            f"numeric spectral radius is {radius:.6g}"
        )
        horizon = _horizon(radius, steps)
        if rule.is_affine and horizon is not None:
            start = centre + 1e-3 * np.array([offset[s] for s in rule.state])
            growth = oracle.growth(values, start, horizon, centre)
            assert (growth < 1) == inside, (
                f"at {_show(values)} the region says {'stable' if inside else 'unstable'} but "
                "simulation changes the distance to the fixed point by "
                f"{growth:.3g}x"
            )

    return _run(f"check_stability({rule.name})", strategy, body, examples)


UNDECIDABLE = 1e-9
"""How close to 1 a numeric spectral radius may be before a step-bound check skips the
point: eigenvalues of a small Jacobian in float64 are good to about 1e-15 of its norm."""


def check_step_bound(
    rule, step, bound=None, params=None, examples=None, delta=0.02, steps=200, scale=3.0
):
    """Just below the (derived or given) upper bound the rule converges; just above it diverges.

    Examples
    --------
    >>> import sympy as sp, symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta, lam = sp.symbols("eta lambda", positive=True)
    >>> check_step_bound(sd.optimizers.gd(lam * x**2 / 2, [x], eta), eta).passed
    True
    """
    result = stability(rule)
    derived = step_bound(result, step)
    upper = _claim(bound, "bound") if bound is not None else derived.upper
    if upper == sp.oo:
        raise UndecidedError(f"{rule.name}: {step} has no finite upper bound to check")
    oracle = numeric_rule(rule)
    others = sorted(
        (result.jacobian.free_symbols | upper.free_symbols) - {step}, key=sp.default_sort_key
    )
    strategy = st.tuples(_parameter_strategy(others, params, scale), states(rule, 1.0))
    requires_of = _numeric(sp.And(*derived.requires), others)
    edges_of = _numeric([upper, derived.lower], others)
    centre_of = _centre_function(result, [*others, step])

    def body(case):
        values, offset = case
        assume(requires_of(values))
        with np.errstate(all="ignore"):
            edge, lower = (float(v) for v in edges_of(values))
        assume(np.isfinite(edge) and edge > 0 and edge > lower)
        for factor, converges in ((1 - delta, True), (1 + delta, False)):
            trial = {**values, step: edge * factor}
            centre = centre_of(trial)
            radius = oracle.spectral_radius(trial, centre)
            # Near the edge of ``requires`` (β → 1 for heavy ball) the radius is 1 to
            # within rounding on both sides of the bound: floats cannot decide there.
            assume(abs(radius - 1) > UNDECIDABLE)
            start = centre + 1e-3 * np.array([offset[s] for s in rule.state])
            # Where convergence is too slow to observe, only the spectral radius can decide.
            horizon = _horizon(radius, steps)
            growth = oracle.growth(trial, start, horizon, centre) if horizon else radius
            side = "below" if converges else "above"
            assert (radius < 1) == converges and (growth < 1) == converges, (
                f"{side} the bound {step} < {upper} (at {step} = {edge * factor:.6g}, "
                f"{_show(values)}) the spectral radius is {radius:.6g} and {horizon} steps "
                f"scale the error by {growth:.3g}x"
            )

    return _run(f"check_step_bound({rule.name}, {step})", strategy, body, examples)


def check_fixed_points(rule, points=None, params=None, examples=None, scale=3.0, atol=1e-9):
    """Each (derived or given) fixed point is mapped to itself by the numeric map.

    Examples
    --------
    >>> import sympy as sp, symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> check_fixed_points(sd.UpdateRule([x], [(x, x - eta * (x**2 - 1))], [eta])).passed
    True
    """
    points = rule.fixed_points() if points is None else points
    oracle = numeric_rule(rule)
    strategy = _parameter_strategy(oracle.symbols, params, scale)

    locate = [
        _numeric([as_basic(point.get(s, 0)) for s in rule.state], oracle.symbols)
        for point in points
    ]

    def body(values):
        for point_of in locate:
            with np.errstate(all="ignore"):
                state = np.asarray(point_of(values), dtype=complex)
            assume(np.all(np.isfinite(state)))
            if np.any(abs(state.imag) > 1e-12):
                continue
            state = state.real
            image = oracle.step(state, values)
            assert np.allclose(image, state, atol=atol, rtol=1e-9), (
                f"at {_show(values)} the claimed fixed point {state.tolist()} maps to "
                f"{image.tolist()}"
            )

    return _run(f"check_fixed_points({rule.name})", strategy, body, examples)


def check_derivation(result, examples=None, scale=2.0, rtol=1e-8):
    """Every equation in ``result.derivation`` holds at random numeric points.

    Examples
    --------
    >>> import sympy as sp, symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta, lam = sp.symbols("eta lambda", positive=True)
    >>> check_derivation(sd.stability(sd.optimizers.gd(lam * x**2 / 2, [x], eta))).passed
    True
    """
    equations = [e for e in result.derivation.equations if isinstance(e, sp.Eq)]
    if not equations:
        raise SymdynError(f"{unmark(result.derivation.title)}: the derivation states no equations")
    symbols = sorted(set().union(*(e.free_symbols for e in equations)), key=sp.default_sort_key)
    functions = [sp.lambdify(symbols, [e.lhs.doit(), e.rhs.doit()], "numpy") for e in equations]
    strategy = _parameter_strategy(symbols, None, scale)

    def body(values):
        point = [values[s] for s in symbols]
        for equation, function in zip(equations, functions, strict=True):
            try:
                with np.errstate(all="ignore"):
                    lhs, rhs = (complex(v) for v in function(*point))
            except (ZeroDivisionError, OverflowError):  # a pole of a rational identity
                assume(False)
            assume(np.isfinite(lhs) and np.isfinite(rhs))
            assert abs(lhs - rhs) <= rtol * (1 + abs(lhs) + abs(rhs)), (
                f"{equation} fails at {_show(values)}: {lhs:.10g} != {rhs:.10g}"
            )

    return _run(f"check_derivation({unmark(result.derivation.title)})", strategy, body, examples)


# The names torch.optim gives its state tensors (what sd.from_torch names a rule's buffers).
_TORCH_STATE = {
    "momentum_buffer",
    "exp_avg",
    "exp_avg_sq",
    "max_exp_avg_sq",
    "sum",
    "square_avg",
    "grad_avg",
}


def _prime_torch_state(torch, optimizer, rule, tensors):
    """Give torch the rule's zero buffers up front where the rule names torch's state
    (a rule from ``sd.from_torch`` on one parameter): torch then runs its general step
    from the first step on (SGD's first step would set its buffer to the gradient)."""
    names = {s.name for s in rule.state[len(tensors) :]}
    if len(tensors) != 1 or not names or not names <= _TORCH_STATE:
        return
    state = optimizer.state[tensors[0]]
    for name in names:
        state[name] = torch.zeros((), dtype=torch.float64)
    state["step"] = torch.zeros((), dtype=torch.float32)  # SGD ignores it


def _torch_state(optimizer, rule, tensors):
    """The rule's state read from torch: the parameters, then the buffers the rule names."""
    names = [s.name for s in rule.state[len(tensors) :]]
    if len(tensors) != 1 or not set(names) <= _TORCH_STATE:
        raise SymdynError(
            f"check_against_torch({rule.name}, from_torch_state=True) needs one parameter and "
            f"buffers named as torch names its state, got {names}"
        )
    held = optimizer.state[tensors[0]]
    return np.array([tensors[0].item(), *(float(held[name]) for name in names)])


def check_against_torch(
    rule,
    optimizer_factory,
    loss,
    variables,
    params,
    steps=50,
    init=None,
    rtol=1e-10,
    from_torch_state=False,
):
    """A ``torch.optim`` optimizer and ``rule`` produce the same iterates on ``loss``.

    Parameters
    ----------
    rule : UpdateRule
        Its first ``len(variables)`` state entries are the variables; the
        rest (buffers) start at zero. A rule from ``sd.from_torch`` names its
        buffers after torch's state, and torch's state then starts from those
        zero buffers too; a rule's counter k is the number of the step.
    optimizer_factory : callable
        ``parameters -> torch.optim.Optimizer``.
    loss : sympy.Expr
        A polynomial (or exp/log/tanh/...) loss in ``variables``.
    params : dict
        Values for every other symbol of the rule.
    from_torch_state : bool
        Step the rule from torch's own state (its parameter and the buffers the rule
        names) at every step, so each of the ``steps`` comparisons checks one update
        of the formula. Adaptive methods amplify the last bits of their state near a
        minimum (they divide small numbers by small numbers), so two correct codes
        drift apart by more than ``rtol`` over many free-running steps.
    """
    try:
        import torch
    except ImportError:
        raise SymdynError("check_against_torch needs PyTorch (pip install torch)") from None
    oracle = numeric_rule(rule)
    functions = {
        name: getattr(torch, name) for name in ("exp", "log", "sqrt", "sin", "cos", "tanh")
    }
    loss = as_expression(loss, "check_against_torch: the loss")
    values = exact_values(params, rule.symbols, where="check_against_torch(params=...)")
    values = {k: float(v) for k, v in values.items()}
    torch_loss = sp.lambdify(list(variables), loss.subs(values), modules=[functions, "math"])
    start = np.asarray(init if init is not None else np.linspace(0.5, 1.5, len(variables)))
    tensors = [torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for v in start]
    optimizer = optimizer_factory(tensors)
    state = np.concatenate([start, np.zeros(len(rule.state) - len(variables))])
    _prime_torch_state(torch, optimizer, rule, tensors)
    for number in range(1, steps + 1):
        if from_torch_state:
            state = _torch_state(optimizer, rule, tensors)
        optimizer.zero_grad()
        torch_loss(*tensors).backward()
        optimizer.step()
        counter = {} if rule.counter is None else {rule.counter: number}
        state = oracle.step(state, {**values, **counter})
        theirs = np.array([t.item() for t in tensors])
        if not np.allclose(state[: len(variables)], theirs, rtol=rtol, atol=rtol):
            raise CheckFailure(
                f"check_against_torch({rule.name})",
                number,
                f"step {number}: symdyn gives {state[: len(variables)].tolist()}, torch gives "
                f"{theirs.tolist()}",
            )
    return CheckReport(f"check_against_torch({rule.name})", steps)
