"""Update rules traced from optax: the code that trains the model, read exactly.

An optax optimizer is a pair of pure functions, ``init(params)`` and
``update(grads, state, params)``. :func:`trace_optax` traces both with
``jax.make_jaxpr`` on one scalar per parameter, in float64, with every
numeric hyperparameter a traced input, and reads the jaxpr equation by
equation as sympy (:mod:`symdyn.frameworks.jaxpr`). So a hyperparameter given
as a sympy symbol stays a symbol, a number given (or a float default of the
factory, such as ``b2=0.999``) enters as the exact number written, not as the
float the factory would have computed from it (``1 - 0.999``).

The state of the rule is the parameters and the leaves of optax's state,
named as optax names them (``mu``, ``nu``, ``trace``, ``sum_of_squares``);
the integer ``count`` becomes the rule's step counter k (optax's
``count + 1`` at step k; its guard against int32 overflow is settled, since
k ≤ 2³¹ − 1).

Examples
--------
>>> import optax, sympy as sp
>>> eta, beta = sp.symbols("eta beta", positive=True)
>>> rule = from_optax(optax.sgd, learning_rate=eta, momentum=beta)
>>> rule.state
(x, trace)
>>> rule.map.T
Matrix([[-eta*(beta*trace + lambda*x) + x, beta*trace + lambda*x]])
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np
import sympy as sp

from symdyn.errors import FrameworkError, FrameworkNotInstalledError
from symdyn.frameworks.assembly import (
    COUNTER,
    TracedOptimizer,
    assemble,
    buffer_symbols,
    hyperparameter_symbols,
    problem,
    settle_on_counter,
    settle_on_invariants,
    taken_names,
)
from symdyn.frozen import FrozenMapping
from symdyn.rules.rule import as_expression, symbols_of

__all__ = ["from_optax", "trace_optax"]


def _frameworks():
    try:
        import jax
        import optax
    except ImportError:
        raise FrameworkNotInstalledError(
            "from_optax needs jax and optax: pip install 'symdyn[optax]'", extra="optax"
        ) from None
    return jax, optax


def from_optax(factory, loss=None, params=None, **hyperparameters):
    """The exact update rule of an optax optimizer.

    Parameters
    ----------
    factory : callable or optax.GradientTransformation
        An optax factory (``optax.adam``), any callable of keyword hyperparameters
        returning a ``GradientTransformation`` (an ``optax.chain`` of factories), or
        a ready transformation (then no hyperparameters).
    loss : sympy.Expr, optional
        Default λx²/2 over ``params=[x]``; any loss, an undefined ``f(x)`` included.
    params : list of sympy.Symbol, optional
        The scalar parameters, required with ``loss``.
    **hyperparameters
        Passed to ``factory``: sympy expressions stay symbolic, numbers exact.

    Returns
    -------
    UpdateRule
        State: the parameters, then optax's state leaves; ``counter`` k where optax
        reads its ``count``.

    Raises
    ------
    UnsupportedPrimitiveError
        Where the traced code uses a primitive with no sympy meaning (``sign`` in
        ``optax.lion``).

    Examples
    --------
    >>> import optax, sympy as sp
    >>> eta, beta1 = sp.symbols("eta beta1", positive=True)
    >>> from_optax(optax.adam, learning_rate=eta, b1=beta1).state
    (x, mu, nu)
    """
    return trace_optax(factory, loss, params, **hyperparameters).rule


def trace_optax(factory, loss=None, params=None, **hyperparameters):
    """:func:`from_optax`, with the initial state and what stayed symbolic.

    Returns
    -------
    TracedOptimizer
    """
    jax, optax = _frameworks()
    call = _call(factory, hyperparameters)
    where = f"from_optax({call})"
    task = problem(loss, params, where)
    given = {n: _hyperparameter(v, f"{where}: {n}") for n, v in hyperparameters.items()}
    build = _builder(factory, hyperparameters, where)
    names = [v.name for v in task.variables]
    with jax.enable_x64(True):
        traced, concrete = _split({**_float_defaults(factory, given), **given})
        try:
            return _trace(jax, optax, task, build, traced, concrete, names, call, given)
        except jax.errors.JAXTypeError:
            symbolic = {n: v for n, v in traced.items() if not v.is_number}
            numbers_ = {n: _number(v) for n, v in traced.items() if v.is_number}
            try:
                return _trace(
                    jax, optax, task, build, symbolic, {**concrete, **numbers_}, names, call, given
                )
            except jax.errors.JAXTypeError as error:
                raise FrameworkError(
                    f"{where}: optax uses one of {sorted(symbolic)} in Python control flow, so "
                    f"it cannot stay symbolic; give it a number ({type(error).__name__})"
                ) from None


def _call(factory, hyperparameters):
    if hasattr(factory, "init") and hasattr(factory, "update"):
        return "a ready optax GradientTransformation"
    name = getattr(factory, "__qualname__", None) or type(factory).__name__
    module = getattr(factory, "__module__", "") or ""
    prefix = "optax." if module.startswith("optax") else ""
    arguments = ", ".join(f"{k}={v}" for k, v in hyperparameters.items())
    return f"{prefix}{name}({arguments})"


def _hyperparameter(value, where):
    """A sympy expression for a number or expression; anything else passes to optax as is."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (sp.Basic, numbers.Number)):
        return as_expression(value, where)
    return value


def _builder(factory, hyperparameters, where):
    if hasattr(factory, "init") and hasattr(factory, "update"):
        if hyperparameters:
            raise FrameworkError(
                f"{where}: a ready GradientTransformation takes no hyperparameters; pass "
                "its factory (or a function of the hyperparameters returning the chain)"
            )
        return lambda **_: factory
    if not callable(factory):
        raise FrameworkError(
            f"{where}: {factory!r} is neither an optax factory nor a transformation"
        )
    return factory


def _float_defaults(factory, given):
    """The factory's float defaults not given: traced too, so they stay exact."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return {}
    return {
        name: as_expression(p.default, name)
        for name, p in signature.parameters.items()
        if name not in given and isinstance(p.default, float)
    }


def _split(values):
    traced = {n: v for n, v in values.items() if isinstance(v, sp.Expr)}
    concrete = {n: v for n, v in values.items() if not isinstance(v, sp.Expr)}
    return traced, concrete


def _number(value):
    return int(value) if value.is_Integer else float(value)


def _trace(jax, optax, task, build, traced, concrete, names, call, given):
    hyper_names = list(traced)
    hyper_inputs = [traced[n] for n in hyper_names]
    stand_ins = [np.float64(0.5)] * len(hyper_names)
    zeros = [np.float64(0.0)] * len(names)

    def transformation(hyper_leaves):
        return build(**dict(zip(hyper_names, hyper_leaves, strict=True)), **concrete)

    def init(param_leaves, hyper_leaves):
        return transformation(hyper_leaves).init(dict(zip(names, param_leaves, strict=True)))

    closed_init, shapes = _traced(jax, call, init, zeros, stand_ins, return_shape=True)
    paths, tree = jax.tree_util.tree_flatten_with_path(shapes)
    leaves = _leaves(jax, paths, names, taken_names(task, given_values(given)))

    def update(param_leaves, grad_leaves, state_leaves, hyper_leaves):
        transform = transformation(hyper_leaves)
        parameters = dict(zip(names, param_leaves, strict=True))
        state = jax.tree_util.tree_unflatten(tree, state_leaves)
        updates, new_state = transform.update(
            dict(zip(names, grad_leaves, strict=True)), state, parameters
        )
        new = optax.apply_updates(parameters, updates)
        return [new[n] for n in names], jax.tree_util.tree_leaves(new_state)

    state_stand_ins = [np.zeros((), leaf.dtype) for leaf in leaves]
    closed = _traced(jax, call, update, zeros, zeros, state_stand_ins, stand_ins)
    state_inputs = [COUNTER - 1 if leaf.counter else leaf.symbol for leaf in leaves]
    outputs = _evaluate(
        closed, [*task.variables, *task.gradients, *state_inputs, *hyper_inputs], call
    )
    initial = _evaluate(closed_init, [*task.variables, *hyper_inputs], call)
    buffers = [
        (leaf, value, start)
        for leaf, value, start in zip(leaves, outputs[len(names) :], initial, strict=True)
        if not leaf.counter
    ]
    symbolic = tuple(n for n, v in given.items() if isinstance(v, sp.Basic) and symbols_of(v))
    params = hyperparameter_symbols(v for v in given.values() if isinstance(v, sp.Basic))
    symbols = [leaf.symbol for leaf, _, _ in buffers]
    news = [value for _, value, _ in buffers]
    settled = settle_on_invariants(
        [*news, *outputs[: len(names)]], symbols, news, [start for _, _, start in buffers]
    )
    rule = assemble(
        task,
        symbols,
        settled[: len(news)],
        settled[len(news) :],
        params,
        (),
        _name(call, symbolic),
    )
    return TracedOptimizer(
        rule=rule,
        initial=FrozenMapping({leaf.symbol: start for leaf, _, start in buffers}),
        symbolic=symbolic,
        call=call,
    )


# What optax's own code raises when it cannot run on scalar parameters (sm3 indexes axes).
_FRAMEWORK_FAILURES = (TypeError, ValueError, IndexError, KeyError, AttributeError)


def _traced(jax, call, function, *arguments, return_shape=False):
    """``jax.make_jaxpr`` of ``function``; optax failing on scalars is a FrameworkError
    (JAX's concretization errors pass, to be retried with numbers)."""
    try:
        return jax.make_jaxpr(function, return_shape=return_shape)(*arguments)
    except jax.errors.JAXTypeError:
        raise
    except _FRAMEWORK_FAILURES as error:
        raise FrameworkError(
            f"{call} cannot be traced on one scalar per parameter: {type(error).__name__}: {error}"
        ) from error


def given_values(given):
    """The sympy values among the caller's hyperparameters."""
    return [v for v in given.values() if isinstance(v, sp.Basic)]


def _name(call, symbolic):
    kept = ", ".join(symbolic) if symbolic else "none"
    return f"{call} [traced from optax; symbolic: {kept}]"


def _evaluate(closed, inputs, call):
    from symdyn.frameworks.jaxpr import evaluate_jaxpr

    return evaluate_jaxpr(closed, inputs, call=call, decide=settle_on_counter)


class _Leaf:
    """One leaf of optax's state: its symbol, dtype, and whether it is the step counter."""

    def __init__(self, symbol, dtype, counter):
        self.symbol, self.dtype, self.counter = symbol, dtype, counter


def _leaves(jax, paths, names, taken):
    """One :class:`_Leaf` per state leaf, named after optax's field (``mu``)."""
    bases, dtypes = [], []
    for path, shape in paths:
        fields = [k.name for k in path if isinstance(k, jax.tree_util.GetAttrKey)]
        keys = [k.key for k in path if isinstance(k, jax.tree_util.DictKey) and k.key in names]
        bases.append((fields[-1] if fields else "state", keys[-1] if keys else None))
        dtypes.append(shape.dtype)
    symbols = buffer_symbols(bases, names, taken)
    for symbol, dtype in zip(symbols, dtypes, strict=True):
        if _numeric_kind(dtype) is None:
            raise FrameworkError(
                f"optax's state leaf {symbol} has dtype {dtype} (a random key?), which has "
                "no exact value; symdyn traces deterministic optimizers"
            )
    return [
        _Leaf(symbol, dtype, _numeric_kind(dtype) == "integer")
        for symbol, dtype in zip(symbols, dtypes, strict=True)
    ]


def _numeric_kind(dtype):
    """``"integer"``, ``"floating"``, or None for a dtype NumPy does not know (a JAX key)."""
    try:
        if np.issubdtype(dtype, np.integer):
            return "integer"
        return "floating" if np.issubdtype(dtype, np.floating) else None
    except TypeError:
        return None
