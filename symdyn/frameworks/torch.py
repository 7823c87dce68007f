"""Update rules traced from ``torch.optim``: the real ``step()``, read exactly.

:func:`trace_torch` builds the optimizer (``foreach=False``: torch's
single-tensor loop) on one 0-d :class:`~symdyn.frameworks.tensors.SymbolicTensor`
per parameter, puts symbolic tensors into its state and its param group, and
calls ``step()``. Every hyperparameter is a symbolic tensor in the param group,
so it stays symbolic through torch's arithmetic; a number given (or a float
default of the constructor, ``betas=(0.9, 0.999)``) enters as a placeholder
symbol of the number's sign and is replaced by the exact number at the end,
so ``1 - 0.999`` is 1/1000, not a float.

Where torch branches on a hyperparameter (``if momentum != 0``, ``if
weight_decay != 0``) the branch is the one the value requires: 0 stays the
number 0, and a symbol takes the branch its assumptions decide (a symbol whose
sign is unknown is an error naming the condition).

The rule is the step with torch's state present. PyTorch creates its state on
the first step, and SGD's first step sets its buffer to the gradient instead
of damping it; from a zero buffer with dampening 0 the two agree.

Examples
--------
>>> import torch, sympy as sp
>>> eta, mu = sp.symbols("eta mu", positive=True)
>>> rule = from_torch(torch.optim.SGD, lr=eta, momentum=mu)
>>> rule.state
(x, momentum_buffer)
"""

from __future__ import annotations

import inspect
import numbers

import sympy as sp

from symdyn.errors import (
    FrameworkError,
    FrameworkNotInstalledError,
    UndecidedError,
    UnsupportedPrimitiveError,
)
from symdyn.frameworks.assembly import (
    COUNTER,
    TracedOptimizer,
    assemble,
    buffer_symbols,
    hyperparameter_symbols,
    problem,
    taken_names,
)
from symdyn.frozen import FrozenMapping
from symdyn.rules.rule import as_expression, symbols_of

__all__ = ["from_torch", "trace_torch"]

COUNTER_KEY = "step"
_STAND_IN = 0.5  # what the constructor sees for a symbol, signed as the expression


def _torch():
    try:
        import torch
    except ImportError:
        raise FrameworkNotInstalledError(
            "from_torch needs PyTorch: pip install 'symdyn[torch]'", extra="torch"
        ) from None
    return torch


def from_torch(optimizer, loss=None, params=None, **hyperparameters):
    """The exact update rule of a ``torch.optim`` optimizer's ``step()``.

    Parameters
    ----------
    optimizer : type
        A ``torch.optim.Optimizer`` class: SGD, Adam, AdamW, RMSprop, Adagrad, ...
    loss, params
        As in :func:`~symdyn.frameworks.optax.from_optax` (default λx²/2 on x).
    **hyperparameters
        Constructor arguments: sympy expressions stay symbolic, numbers exact,
        tuples (``betas``) entry by entry; ``foreach`` is always False.

    Returns
    -------
    UpdateRule
        State: the parameters, then torch's state tensors (``momentum_buffer``,
        ``exp_avg``, ``exp_avg_sq``, ...); ``counter`` k where torch reads ``step``.

    Examples
    --------
    >>> import torch, sympy as sp
    >>> eta, b1 = sp.symbols("eta beta1", positive=True)
    >>> from_torch(torch.optim.Adam, lr=eta, betas=(b1, 0.999)).state
    (x, exp_avg, exp_avg_sq)
    """
    return trace_torch(optimizer, loss, params, **hyperparameters).rule


def trace_torch(optimizer, loss=None, params=None, **hyperparameters):
    """:func:`from_torch`, with what stayed symbolic.

    Returns
    -------
    TracedOptimizer
        ``initial`` is empty: torch makes its state inside the first step.
    """
    torch = _torch()
    from symdyn.frameworks.tensors import SymbolicTensor

    call = _call(optimizer, hyperparameters)
    where = f"from_torch({call})"
    if not (isinstance(optimizer, type) and issubclass(optimizer, torch.optim.Optimizer)):
        raise FrameworkError(f"{where}: {optimizer!r} is not a torch.optim.Optimizer class")
    task = problem(loss, params, where)
    given = {n: _exact(v, f"{where}: {n}") for n, v in hyperparameters.items()}
    values = {**_float_defaults(optimizer, given), **given, "foreach": False}
    placeholders = {}
    traced = {n: _placeholder(n, v, placeholders) for n, v in values.items()}
    keys = _state_keys(torch, optimizer, values, len(task.variables), where)
    tensors = [SymbolicTensor(v, requires_grad=True) for v in task.variables]
    for tensor, g in zip(tensors, task.gradients, strict=True):
        tensor.grad = SymbolicTensor(g)
    instance = _construct(optimizer, tensors, values, where)
    for name, value in traced.items():
        if name in instance.param_groups[0]:
            instance.param_groups[0][name] = _as_tensors(value, SymbolicTensor)
    leaves = [(t, key) for t in tensors for key in keys if key != COUNTER_KEY]
    names = {t: v.name for t, v in zip(tensors, task.variables, strict=True)}
    symbols = buffer_symbols(
        [(key, names[t]) for t, key in leaves],
        list(names.values()),
        taken_names(task, list(_flat(given.values()))),
    )
    buffers = [(t, key, symbol) for (t, key), symbol in zip(leaves, symbols, strict=True)]
    for tensor in tensors:
        if COUNTER_KEY in keys:
            instance.state[tensor][COUNTER_KEY] = SymbolicTensor(COUNTER - 1)
    for tensor, key, symbol in buffers:
        instance.state[tensor][key] = SymbolicTensor(symbol)
    _step(instance, call, placeholders)
    exact = {p: v for p, v in placeholders.items()}

    def read(tensor):
        return as_expression(tensor.expr, where).xreplace(exact)

    symbolic = tuple(n for n, v in given.items() if _symbols(v))
    rule = assemble(
        task,
        [symbol for _, _, symbol in buffers],
        [read(instance.state[t][key]) for t, key, _ in buffers],
        [read(t) for t in tensors],
        hyperparameter_symbols(_flat(v for v in given.values())),
        (),
        f"{call} [traced from torch; symbolic: {', '.join(symbolic) or 'none'}]",
    )
    return TracedOptimizer(rule=rule, initial=FrozenMapping(), symbolic=symbolic, call=call)


def _step(instance, call, placeholders):
    """torch's own ``step()``; a refused operation or an undecided branch names the call
    (and the branch's condition with the numbers the placeholders stand for)."""
    try:
        instance.step()
    except UnsupportedPrimitiveError as error:
        raise UnsupportedPrimitiveError(
            f"{call}: {error.message}", primitive=error.primitive, call=call
        ) from None
    except UndecidedError as error:
        condition = error.symbol.xreplace(placeholders)
        raise UndecidedError(
            f"{call}: torch.optim branches on {condition}, which the symbols' assumptions do "
            "not decide (a branch on the step counter, or a symbol of unknown sign); give "
            "numbers or declare signs",
            symbol=condition,
        ) from None
    except (TypeError, ValueError, IndexError, KeyError, AttributeError, RuntimeError) as error:
        raise FrameworkError(
            f"{call}: torch's step cannot run on symbolic 0-d tensors: "
            f"{type(error).__name__}: {error}"
        ) from error


def _call(optimizer, hyperparameters):
    arguments = ", ".join(f"{k}={v}" for k, v in hyperparameters.items())
    return f"torch.optim.{getattr(optimizer, '__name__', optimizer)}({arguments})"


def _exact(value, where):
    if isinstance(value, (tuple, list)):
        return tuple(_exact(v, where) for v in value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (sp.Basic, numbers.Number)):
        return as_expression(value, where)
    return value


def _float_defaults(optimizer, given):
    """Constructor defaults that are floats (or tuples of floats), not given: exact too."""
    signature = inspect.signature(optimizer.__init__)
    found = {}
    for name, p in signature.parameters.items():
        default = p.default
        if name in given or isinstance(default, bool):
            continue
        if isinstance(default, float) or (
            isinstance(default, tuple) and all(isinstance(d, float) for d in default)
        ):
            found[name] = _exact(default, name)
    return found


def _placeholder(name, value, placeholders):
    """A symbol of the number's sign standing for a nonzero number during the trace."""
    if isinstance(value, tuple):
        return tuple(_placeholder(f"{name}{i}", v, placeholders) for i, v in enumerate(value))
    if not isinstance(value, sp.Expr) or not value.is_number or value == 0:
        return value
    symbol = sp.Dummy(name, positive=True) if value > 0 else sp.Dummy(name, negative=True)
    placeholders[symbol] = value
    return symbol


def _as_tensors(value, tensor):
    if isinstance(value, tuple):
        return tuple(_as_tensors(v, tensor) for v in value)
    if isinstance(value, sp.Expr) and not value.is_number:
        return tensor(value)
    return _numeric(value)


def _numeric(value):
    if isinstance(value, tuple):
        return tuple(_numeric(v) for v in value)
    if isinstance(value, sp.Expr) and value.is_number:
        return int(value) if value.is_Integer else float(value)
    if isinstance(value, sp.Expr):  # torch refuses lr = -eta as it refuses lr = -0.5
        return -_STAND_IN if value.is_negative else _STAND_IN
    return value


def _construct(optimizer, tensors, values, where):
    try:
        return optimizer(tensors, **{n: _numeric(v) for n, v in values.items()})
    except (TypeError, ValueError) as error:
        raise FrameworkError(f"{where}: torch refuses the arguments: {error}") from None


def _state_keys(torch, optimizer, values, count, where):
    """The names of the state tensors torch keeps, from one numeric step."""
    probes = [torch.ones((), dtype=torch.float64, requires_grad=True) for _ in range(count)]
    for probe in probes:
        probe.grad = torch.ones((), dtype=torch.float64)
    instance = _construct(optimizer, probes, values, where)
    instance.step()
    state = instance.state[probes[0]]
    return [key for key, value in state.items() if isinstance(value, torch.Tensor)]


def _symbols(value):
    if isinstance(value, tuple):
        return any(_symbols(v) for v in value)
    return isinstance(value, sp.Basic) and bool(symbols_of(value))


def _flat(values):
    for value in values:
        if isinstance(value, tuple):
            yield from _flat(value)
        elif isinstance(value, sp.Basic):
            yield value
