"""Array functions built from the primitives (their derivatives come for free).

Each works on plain arrays and on traced values alike.
"""

import numpy as np

from symdyn.errors import AutodiffError

from . import primitives as p
from .core import Tracer, value_of


def mean(x, axis=None, keepdims=False):
    """Arithmetic mean over ``axis`` (all axes by default).

    Examples
    --------
    >>> mean(np.array([[1.0, 2.0], [3.0, 5.0]]), axis=0)
    array([2. , 3.5])
    """
    total = p.sum(x, axis=axis, keepdims=keepdims)
    return p.divide(total, np.size(value_of(x)) // max(np.size(value_of(total)), 1))


def square(x):
    """Elementwise ``x * x``.

    Examples
    --------
    >>> square(np.array([2.0, -3.0]))
    array([4., 9.])
    """
    return p.multiply(x, x)


def tan(x):
    """Elementwise tangent, as ``sin(x) / cos(x)``.

    Examples
    --------
    >>> round(float(tan(np.pi / 4)), 12)
    1.0
    """
    return p.divide(p.sin(x), p.cos(x))


def stack(arrays, axis=0):
    """Join arrays of equal shape along a new axis.

    Examples
    --------
    >>> stack([np.zeros(2), np.ones(2)], axis=1)
    array([[0., 1.],
           [0., 1.]])
    """
    return p.concatenate([p.expand_dims(a, axis) for a in arrays], axis=axis)


def array(nested):
    """A traced array from (nested) sequences of scalars and traced values.

    This is how a function builds a vector output out of traced components,
    e.g. ``array([x[0] * x[1], x[0] ** 2])``.

    Examples
    --------
    >>> array([[1.0, 2.0], [3.0, 4.0]]).shape
    (2, 2)
    """
    if isinstance(nested, (list, tuple)):
        return stack([array(item) for item in nested])
    return nested if isinstance(nested, Tracer) else np.asarray(nested, dtype=float)


def dot(a, b):
    """NumPy's ``dot`` for operands of at most two dimensions (scalars multiply).

    For more dimensions use :func:`matmul`, whose batch rules differ from ``np.dot``.

    Examples
    --------
    >>> dot(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.float64(11.0)
    """
    dims = np.ndim(value_of(a)), np.ndim(value_of(b))
    if max(dims) > 2:
        raise AutodiffError(f"dot takes operands of at most 2 dimensions, got {dims}; use matmul")
    if min(dims) == 0:
        return p.multiply(a, b)
    return p.matmul(a, b)


def clip(x, lower, upper):
    """``x`` limited to ``[lower, upper]``; derivative zero outside.

    Examples
    --------
    >>> clip(np.array([-2.0, 0.5, 3.0]), 0.0, 1.0)
    array([0. , 0.5, 1. ])
    """
    return p.minimum(p.maximum(x, lower), upper)


def logsumexp(x, axis=None, keepdims=False):
    """``log(sum(exp(x)))`` over ``axis``, computed without overflow.

    Examples
    --------
    >>> float(logsumexp(np.array([1000.0, 1000.0])))
    1000.6931471805599
    """
    # Any constant shift gives the same function, so the shift needs no derivative.
    shift = np.max(value_of(x), axis=axis, keepdims=True)
    total = p.log(p.sum(p.exp(p.subtract(x, shift)), axis=axis, keepdims=True))
    out = p.add(total, shift)
    # summing over the kept length-one axes drops them
    return out if keepdims else p.sum(out, axis=axis)


def log_softmax(x, axis=-1):
    """``x - logsumexp(x)`` along ``axis``.

    Examples
    --------
    >>> np.exp(log_softmax(np.zeros(4)))
    array([0.25, 0.25, 0.25, 0.25])
    """
    return p.subtract(x, logsumexp(x, axis=axis, keepdims=True))


def softmax(x, axis=-1):
    """``exp(x) / sum(exp(x))`` along ``axis``.

    Examples
    --------
    >>> softmax(np.array([0.0, np.log(3.0)]))
    array([0.25, 0.75])
    """
    return p.exp(log_softmax(x, axis=axis))


def sign(x):
    """Elementwise sign; piecewise constant, so it carries no derivative.

    Examples
    --------
    >>> sign(np.array([-2.0, 0.0, 3.0]))
    array([-1.,  0.,  1.])
    """
    return np.sign(value_of(x))


def heaviside(x, at_zero=0.5):
    """Unit step: 0 for ``x < 0``, 1 for ``x > 0``, ``at_zero`` at 0; no derivative.

    Examples
    --------
    >>> heaviside(np.array([-1.0, 0.0, 2.0]))
    array([0. , 0.5, 1. ])
    """
    return np.heaviside(value_of(x), value_of(at_zero))
