"""A small numeric autodiff engine on NumPy: reverse and forward mode, any order.

Functions written with the operators and the functions of this module (a
NumPy-like namespace) are differentiated by the transforms :func:`grad`,
:func:`value_and_grad`, :func:`vjp`, :func:`jvp`, :func:`jacobian`,
:func:`hessian` and :func:`hvp`, which nest freely; :func:`batch_jvp`
pushes k tangents through one forward pass. :func:`checkpoint`
trades recomputation for memory, :func:`to_dot` draws the graph, and
:data:`namespace` lets ``sympy.lambdify`` emit code that runs on traced values.

The engine imports only NumPy and the standard library.

Examples
--------
>>> import numpy as np
>>> import symdyn.autodiff as ad
>>> ad.grad(lambda w: ad.sum(ad.tanh(w) ** 2))(np.array([0.0, 1.0]))
array([0.        , 0.63970001])
"""

from . import operators  # noqa: F401  (gives Tracer its Python operators)
from .batched import BatchedTracer, batch_jvp
from .checkpoint import checkpoint
from .core import ForwardTracer, Primitive, ReverseTracer, Tracer, defjvp, defvjp
from .dot import to_dot
from .functions import (
    array,
    clip,
    dot,
    heaviside,
    log_softmax,
    logsumexp,
    mean,
    sign,
    softmax,
    square,
    stack,
    tan,
)
from .namespace import namespace
from .primitives import (
    abs,
    add,
    broadcast_to,
    concatenate,
    cos,
    divide,
    exp,
    expand_dims,
    log,
    matmul,
    maximum,
    minimum,
    multiply,
    negative,
    power,
    relu,
    reshape,
    sigmoid,
    sin,
    sqrt,
    subtract,
    sum,
    tanh,
    transpose,
    where,
)
from .primitives import amax as max
from .primitives import amin as min
from .second_order import hvp_at
from .transforms import grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp

__all__ = [
    "BatchedTracer",
    "ForwardTracer",
    "Primitive",
    "ReverseTracer",
    "Tracer",
    "abs",
    "add",
    "array",
    "batch_jvp",
    "broadcast_to",
    "checkpoint",
    "clip",
    "concatenate",
    "cos",
    "defjvp",
    "defvjp",
    "divide",
    "dot",
    "exp",
    "expand_dims",
    "grad",
    "heaviside",
    "hessian",
    "hvp",
    "hvp_at",
    "jacobian",
    "jvp",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "max",
    "maximum",
    "mean",
    "min",
    "minimum",
    "multiply",
    "namespace",
    "negative",
    "power",
    "relu",
    "reshape",
    "sigmoid",
    "sign",
    "sin",
    "softmax",
    "sqrt",
    "square",
    "stack",
    "subtract",
    "sum",
    "tan",
    "tanh",
    "to_dot",
    "transpose",
    "value_and_grad",
    "vjp",
    "where",
]
