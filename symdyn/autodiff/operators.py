"""Python operators and NumPy ufuncs on traced values.

With these a tracer reads like an ``ndarray``: ``2 * x``, ``x ** 2``,
``1 / x``, ``A @ x``, ``x[1:]``, ``x.T``, ``x.sum(axis=0)``, ``np.exp(x)``
for the ufuncs in :data:`UFUNCS`, and ``np.sum``, ``np.mean``,
``np.reshape``, ``np.transpose``, which NumPy forwards to the methods of the
same names. They are attached to :class:`~symdyn.autodiff.core.Tracer` here,
not in its class body, because they are primitives, and the primitives need
the class first.
"""

import numpy as np

from symdyn.errors import AutodiffError

from . import functions
from . import primitives as p
from .core import Tracer, value_of


def _method(f):
    # a Primitive is not a descriptor, so it would not receive ``self`` as a method
    return lambda *args, **kwargs: f(*args, **kwargs)


def _flip(f):
    return lambda self, other: f(other, self)


def _compare(ufunc):
    # comparisons decide control flow; their result carries no derivative
    return lambda self, other: ufunc(value_of(self), value_of(other))


def _only_defaults(**keywords):
    """Refuse NumPy keywords (``np.sum(x, dtype=...)``) that tracing cannot honour."""
    for name, value in keywords.items():
        if value is not None:
            raise AutodiffError(f"{name}={value!r} is not supported on traced values")


def _sum(self, axis=None, dtype=None, out=None, keepdims=False):
    _only_defaults(dtype=dtype, out=out)
    return p.sum(self, axis=axis, keepdims=keepdims)


def _mean(self, axis=None, dtype=None, out=None, keepdims=False):
    _only_defaults(dtype=dtype, out=out)
    return functions.mean(self, axis=axis, keepdims=keepdims)


def _reshape(self, *shape, order="C"):
    _only_defaults(order=None if order == "C" else order)
    return p.reshape(self, shape[0] if len(shape) == 1 else shape)


def _transpose(self, *axes):
    return p.transpose(self, axes[0] if len(axes) == 1 else axes or None)


def _index(index):
    if isinstance(index, tuple):
        return tuple(value_of(i) for i in index)
    return value_of(index)


def _ufunc_call(self, ufunc, method, *inputs, **kwargs):
    function = UFUNCS.get(ufunc)
    if method != "__call__" or kwargs or function is None:
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        raise AutodiffError(
            f"np.{name} is not differentiable by symdyn.autodiff; "
            f"supported ufuncs: {', '.join(sorted(u.__name__ for u in UFUNCS))}"
        )
    return function(*inputs)


UFUNCS = {
    np.add: p.add,
    np.subtract: p.subtract,
    np.multiply: p.multiply,
    np.true_divide: p.divide,
    np.power: p.power,
    np.negative: p.negative,
    np.positive: lambda x: x,
    np.exp: p.exp,
    np.log: p.log,
    np.sqrt: p.sqrt,
    np.absolute: p.abs,
    np.sin: p.sin,
    np.cos: p.cos,
    np.tanh: p.tanh,
    np.matmul: p.matmul,
    np.maximum: p.maximum,
    np.minimum: p.minimum,
    **{
        u: _compare(u)
        for u in (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal)
    },
}
"""The NumPy ufuncs that accept tracers, and the primitive each one becomes."""

_METHODS = {
    "__add__": _method(p.add),
    "__radd__": _flip(p.add),
    "__sub__": _method(p.subtract),
    "__rsub__": _flip(p.subtract),
    "__mul__": _method(p.multiply),
    "__rmul__": _flip(p.multiply),
    "__truediv__": _method(p.divide),
    "__rtruediv__": _flip(p.divide),
    "__pow__": _method(p.power),
    "__rpow__": _flip(p.power),
    "__matmul__": _method(p.matmul),
    "__rmatmul__": _flip(p.matmul),
    "__neg__": _method(p.negative),
    "__pos__": lambda self: self,
    "__abs__": _method(p.abs),
    "__getitem__": lambda self, index: p.getitem(self, _index(index)),
    "__lt__": _compare(np.less),
    "__le__": _compare(np.less_equal),
    "__gt__": _compare(np.greater),
    "__ge__": _compare(np.greater_equal),
    "__eq__": _compare(np.equal),
    "__ne__": _compare(np.not_equal),
    "__hash__": None,
    "__array_ufunc__": _ufunc_call,
    "T": property(lambda self: p.transpose(self)),
    "sum": _sum,
    "mean": _mean,
    "reshape": _reshape,
    "transpose": _transpose,
}

for _attribute, _value in _METHODS.items():
    setattr(Tracer, _attribute, _value)
