"""A jaxpr read as sympy: each equation of a traced JAX function becomes an expression.

The interpreter walks a (closed) jaxpr equation by equation, as JAX's own
``eval_jaxpr`` does, but every value is a sympy expression. The meaning of each
primitive is one entry of :data:`PRIMITIVES` (autograd's habit: operations as
data, the engine a screen long). Calls (``jit``/``pjit``, ``custom_jvp_call``,
``custom_vjp_call``, ``closed_call``) are inlined. A primitive with no entry, or
one refused on purpose (``sign``: a jump, so no Jacobian where the rule is
linearised), raises :class:`~symdyn.errors.UnsupportedPrimitiveError` naming it.

Only scalar programs are read: symdyn traces an optimizer on one scalar per
parameter, so shape primitives (``broadcast_in_dim``, ``reshape``, ...) are the
identity here.
"""

from __future__ import annotations

import numbers

import numpy as np
import sympy as sp

from symdyn.errors import UnsupportedPrimitiveError
from symdyn.rules.values import exact_number

__all__ = ["PRIMITIVES", "REFUSED", "evaluate_jaxpr"]


def _select_n(predicate, *cases):
    """``cases[predicate]``: a boolean picks ``cases[1]`` when true."""
    if predicate is sp.true or predicate is True:
        return cases[1]
    if predicate is sp.false or predicate is False:
        return cases[0]
    if isinstance(predicate, sp.Integer):
        return cases[int(predicate)]
    if len(cases) != 2:
        raise UnsupportedPrimitiveError(
            f"select_n with {len(cases)} cases on the undecided index {predicate}",
            primitive="select_n",
        )
    return sp.Piecewise((cases[1], predicate), (cases[0], True))


def _identity(value, **_):
    return value


def _clamp(low, value, high):
    return sp.Min(sp.Max(value, low), high)


PRIMITIVES = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "neg": lambda a: -a,
    "integer_pow": lambda a, y: a ** int(y),
    "pow": lambda a, b: a**b,
    "square": lambda a: a**2,
    "sqrt": sp.sqrt,
    "rsqrt": lambda a: 1 / sp.sqrt(a),
    "cbrt": sp.cbrt,
    "exp": sp.exp,
    "exp2": lambda a: 2**a,
    "log": sp.log,
    "log1p": lambda a: sp.log(1 + a),
    "expm1": lambda a: sp.exp(a) - 1,
    "tanh": sp.tanh,
    "logistic": lambda a: 1 / (1 + sp.exp(-a)),
    "sin": sp.sin,
    "cos": sp.cos,
    "abs": sp.Abs,
    "max": sp.Max,
    "min": sp.Min,
    "clamp": _clamp,
    "select_n": _select_n,
    "lt": sp.Lt,
    "le": sp.Le,
    "gt": sp.Gt,
    "ge": sp.Ge,
    "eq": sp.Eq,
    "ne": sp.Ne,
    "and": sp.And,
    "or": sp.Or,
    "not": sp.Not,
    "convert_element_type": _identity,
    "stop_gradient": _identity,
    "copy": _identity,
    "copy_p": _identity,
    "broadcast_in_dim": _identity,
    "reshape": _identity,
    "squeeze": _identity,
    "reduce_precision": _identity,
    "optimization_barrier": _identity,
}

# Operations that JAX traces but symdyn refuses, with the reason given in the error.
REFUSED = {
    "sign": "a jump at 0: the rule has no Jacobian there, so no linear analysis applies",
    "floor": "piecewise constant: its derivative is zero or undefined",
    "ceil": "piecewise constant: its derivative is zero or undefined",
    "round": "piecewise constant: its derivative is zero or undefined",
    "random_bits": "random numbers have no exact value",
}

_CALLS = {
    "jit": "jaxpr",
    "pjit": "jaxpr",
    "closed_call": "call_jaxpr",
    "custom_jvp_call": "call_jaxpr",
    "custom_vjp_call": "call_jaxpr",
    "custom_vjp_call_jaxpr": "fun_jaxpr",
    "remat": "jaxpr",
    "checkpoint": "jaxpr",
}

# Parameters of an equation that are arguments of the sympy meaning.
_ARGUMENTS = {"integer_pow": ("y",)}


def literal(value):
    """A jaxpr literal (a NumPy or Python scalar) as an exact sympy number."""
    value = np.asarray(value).item() if not isinstance(value, numbers.Number) else value
    if isinstance(value, bool):
        return sp.true if value else sp.false
    return exact_number(value, where="a constant of the traced program")


def evaluate_jaxpr(closed, inputs, call="the traced function", decide=None):
    """The outputs of ``closed`` (a ``ClosedJaxpr``) as sympy expressions of ``inputs``.

    Parameters
    ----------
    closed : jax.extend.core.ClosedJaxpr
    inputs : sequence of sympy.Expr
        One expression per input variable of the jaxpr.
    call : str
        The framework call traced, named in errors.
    decide : callable, optional
        ``relation -> relation``: where a comparison can be settled by what the
        caller knows (a step counter never overflows), it returns ``sympy.true``
        or ``sympy.false``.

    Examples
    --------
    >>> import jax, jax.numpy as jnp
    >>> x = sp.Symbol("x")
    >>> closed = jax.make_jaxpr(lambda a: jnp.sqrt(a) * a + 1)(2.0)
    >>> evaluate_jaxpr(closed, [x])
    [x**(3/2) + 1]
    """
    consts = [_constant(c) for c in closed.consts]
    return _run(closed.jaxpr, consts, list(inputs), call, decide or _identity)


def _constant(value):
    array = np.asarray(value)
    if array.shape != ():
        raise UnsupportedPrimitiveError(
            f"the traced program holds a constant of shape {array.shape}; symdyn reads "
            "scalar programs only",
            primitive="constant",
        )
    return literal(array)


def _read(environment, atom):
    from jax.extend.core import Literal

    if isinstance(atom, Literal):
        return literal(atom.val)
    return environment[atom]


def _run(jaxpr, consts, inputs, call, decide):
    environment = dict(zip(jaxpr.constvars, consts, strict=True))
    environment.update(zip(jaxpr.invars, inputs, strict=True))
    for equation in jaxpr.eqns:
        arguments = [_read(environment, atom) for atom in equation.invars]
        outputs = _apply(equation, arguments, call, decide)
        for variable, value in zip(equation.outvars, outputs, strict=True):
            environment[variable] = value
    return [_read(environment, atom) for atom in jaxpr.outvars]


def _apply(equation, arguments, call, decide):
    name = equation.primitive.name
    if name in _CALLS:
        inner = equation.params.get(_CALLS[name])
        inner = inner if inner is not None else equation.params.get("fun_jaxpr")
        closed_consts = [_constant(c) for c in getattr(inner, "consts", ())]
        body = getattr(inner, "jaxpr", inner)
        return _run(body, closed_consts, arguments[: len(body.invars)], call, decide)
    if name in REFUSED:
        raise UnsupportedPrimitiveError(
            f"{call} uses the JAX primitive {name!r} ({REFUSED[name]}); symdyn cannot turn "
            "it into an exact update rule",
            primitive=name,
            call=call,
        )
    meaning = PRIMITIVES.get(name)
    if meaning is None:
        raise UnsupportedPrimitiveError(
            f"{call} uses the JAX primitive {name!r}, which has no sympy meaning in "
            f"symdyn.frameworks.jaxpr (known: {', '.join(sorted(PRIMITIVES))})",
            primitive=name,
            call=call,
        )
    extra = [equation.params[key] for key in _ARGUMENTS.get(name, ())]
    value = meaning(*arguments, *extra)
    if isinstance(value, sp.core.relational.Relational):
        value = decide(value)
    outputs = value if equation.primitive.multiple_results else [value]
    return list(outputs)
