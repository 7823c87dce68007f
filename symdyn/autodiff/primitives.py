"""The primitive operations and their derivative rules, one line each.

Every rule is written with these same primitives, so the derivative of a
rule is again traced: that is what makes ``grad(grad(f))`` and
forward-over-reverse work. Reverse rules take ``(g, ans, *args)`` and return
the cotangent of one argument (summed back to its shape when the operation
broadcast it); forward rules take ``(t, ans, *args)`` and return the
result's tangent.
"""

from numbers import Number

import numpy as np

from .core import Primitive, defjvp, defvjp, dtype_of, value_of
from .docstrings import DOCS


def unbroadcast(g, x):
    """Sum the cotangent ``g`` over the axes along which ``x`` was broadcast.

    Examples
    --------
    >>> unbroadcast(np.ones((2, 3)), np.zeros((1, 3)))
    array([[2., 2., 2.]])
    """
    shape = np.shape(x)
    g_shape = np.shape(g)
    if g_shape == shape:
        return g
    lead = len(g_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g_shape[lead + i] != 1
    )
    return reshape(sum(g, axis=axes), shape)


def broadcast_like(t, ans):
    """``t`` broadcast to the shape of ``ans`` (a tangent must have the result's shape)."""
    return t if np.shape(t) == np.shape(ans) else broadcast_to(t, np.shape(ans))


def _kept_shape(shape, axis):
    """The shape of a reduction over ``axis`` with ``keepdims=True``."""
    if axis is None:
        return (1,) * len(shape)
    axes = {a % len(shape) for a in ((axis,) if np.ndim(axis) == 0 else axis)}
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _spread(g, x, axis, keepdims):
    """The cotangent of a reduction over ``axis`` spread back to the shape of ``x``."""
    if not keepdims:
        g = reshape(g, _kept_shape(np.shape(x), axis))
    return broadcast_to(g, np.shape(x))


# Arithmetic ------------------------------------------------------------------

add = Primitive(np.add, "add", DOCS["add"])
subtract = Primitive(np.subtract, "subtract", DOCS["subtract"])
multiply = Primitive(np.multiply, "multiply", DOCS["multiply"])
divide = Primitive(np.true_divide, "divide", DOCS["divide"])
power = Primitive(np.power, "power", DOCS["power"])
negative = Primitive(np.negative, "negative", DOCS["negative"])

defvjp(add, lambda g, ans, x, y: unbroadcast(g, x), lambda g, ans, x, y: unbroadcast(g, y))
defjvp(
    add, lambda t, ans, x, y: broadcast_like(t, ans), lambda t, ans, x, y: broadcast_like(t, ans)
)
defvjp(
    subtract,
    lambda g, ans, x, y: unbroadcast(g, x),
    lambda g, ans, x, y: unbroadcast(negative(g), y),
)
defjvp(
    subtract,
    lambda t, ans, x, y: broadcast_like(t, ans),
    lambda t, ans, x, y: broadcast_like(negative(t), ans),
)
defvjp(
    multiply,
    lambda g, ans, x, y: unbroadcast(multiply(g, y), x),
    lambda g, ans, x, y: unbroadcast(multiply(x, g), y),
)
defjvp(multiply, lambda t, ans, x, y: multiply(t, y), lambda t, ans, x, y: multiply(x, t))
defvjp(
    divide,
    lambda g, ans, x, y: unbroadcast(divide(g, y), x),
    lambda g, ans, x, y: unbroadcast(negative(multiply(g, divide(ans, y))), y),
)
defjvp(
    divide,
    lambda t, ans, x, y: divide(t, y),
    lambda t, ans, x, y: negative(multiply(t, divide(ans, y))),
)


def _dpower_dx(x, y):
    # a Python exponent stays a Python number: NumPy integer scalars would promote float32
    y_minus_1 = y - 1 if isinstance(y, Number) else subtract(y, 1)
    return multiply(y, power(x, y_minus_1))


def _dpower_dy(ans, x):
    # d(x**y)/dy = x**y log x; taken as 0 where x <= 0 (undefined or not real there).
    positive = value_of(x) > 0
    return multiply(ans, where(positive, log(where(positive, x, 1.0)), 0.0))


defvjp(
    power,
    lambda g, ans, x, y: unbroadcast(multiply(g, _dpower_dx(x, y)), x),
    lambda g, ans, x, y: unbroadcast(multiply(g, _dpower_dy(ans, x)), y),
)
defjvp(
    power,
    lambda t, ans, x, y: multiply(t, _dpower_dx(x, y)),
    lambda t, ans, x, y: multiply(t, _dpower_dy(ans, x)),
)
defvjp(negative, lambda g, ans, x: negative(g))
defjvp(negative, lambda t, ans, x: negative(t))

# Elementwise functions -------------------------------------------------------


def _sigmoid(x):
    # tanh form: no overflow in exp for large |x|
    return 0.5 * (np.tanh(0.5 * x) + 1.0)


def _balance(x, y):
    """Mask of where ``x`` wins a max: 1 where x > y, 1/2 at ties, else 0."""
    x, y = value_of(x), value_of(y)
    return ((x > y) + 0.5 * (x == y)).astype(np.result_type(x, y))


exp = Primitive(np.exp, "exp", DOCS["exp"])
log = Primitive(np.log, "log", DOCS["log"])
sqrt = Primitive(np.sqrt, "sqrt", DOCS["sqrt"])
abs = Primitive(np.abs, "abs", DOCS["abs"])
sin = Primitive(np.sin, "sin", DOCS["sin"])
cos = Primitive(np.cos, "cos", DOCS["cos"])
tanh = Primitive(np.tanh, "tanh", DOCS["tanh"])
sigmoid = Primitive(_sigmoid, "sigmoid", DOCS["sigmoid"])
relu = Primitive(lambda x: np.maximum(x, 0.0), "relu", DOCS["relu"])
maximum = Primitive(np.maximum, "maximum", DOCS["maximum"])
minimum = Primitive(np.minimum, "minimum", DOCS["minimum"])

defvjp(exp, lambda g, ans, x: multiply(g, ans))
defjvp(exp, lambda t, ans, x: multiply(t, ans))
defvjp(log, lambda g, ans, x: divide(g, x))
defjvp(log, lambda t, ans, x: divide(t, x))
defvjp(sqrt, lambda g, ans, x: divide(g, multiply(2.0, ans)))
defjvp(sqrt, lambda t, ans, x: divide(t, multiply(2.0, ans)))
defvjp(abs, lambda g, ans, x: multiply(g, np.sign(value_of(x))))
defjvp(abs, lambda t, ans, x: multiply(t, np.sign(value_of(x))))
defvjp(sin, lambda g, ans, x: multiply(g, cos(x)))
defjvp(sin, lambda t, ans, x: multiply(t, cos(x)))
defvjp(cos, lambda g, ans, x: negative(multiply(g, sin(x))))
defjvp(cos, lambda t, ans, x: negative(multiply(t, sin(x))))
defvjp(tanh, lambda g, ans, x: multiply(g, subtract(1.0, multiply(ans, ans))))
defjvp(tanh, lambda t, ans, x: multiply(t, subtract(1.0, multiply(ans, ans))))
defvjp(sigmoid, lambda g, ans, x: multiply(g, multiply(ans, subtract(1.0, ans))))
defjvp(sigmoid, lambda t, ans, x: multiply(t, multiply(ans, subtract(1.0, ans))))
defvjp(relu, lambda g, ans, x: multiply(g, value_of(x) > 0))
defjvp(relu, lambda t, ans, x: multiply(t, value_of(x) > 0))
defvjp(
    maximum,
    lambda g, ans, x, y: unbroadcast(multiply(g, _balance(x, y)), x),
    lambda g, ans, x, y: unbroadcast(multiply(g, _balance(y, x)), y),
)
defjvp(
    maximum,
    lambda t, ans, x, y: broadcast_like(multiply(t, _balance(x, y)), ans),
    lambda t, ans, x, y: broadcast_like(multiply(t, _balance(y, x)), ans),
)
defvjp(
    minimum,
    lambda g, ans, x, y: unbroadcast(multiply(g, _balance(y, x)), x),
    lambda g, ans, x, y: unbroadcast(multiply(g, _balance(x, y)), y),
)
defjvp(
    minimum,
    lambda t, ans, x, y: broadcast_like(multiply(t, _balance(y, x)), ans),
    lambda t, ans, x, y: broadcast_like(multiply(t, _balance(x, y)), ans),
)

_where = Primitive(np.where, "where")
defvjp(
    _where,
    None,
    lambda g, ans, c, x, y: unbroadcast(_where(c, g, 0.0), x),
    lambda g, ans, c, x, y: unbroadcast(_where(c, 0.0, g), y),
)
defjvp(
    _where,
    None,
    lambda t, ans, c, x, y: broadcast_like(_where(c, t, 0.0), ans),
    lambda t, ans, c, x, y: broadcast_like(_where(c, 0.0, t), ans),
)


def where(condition, x, y):
    """``x`` where ``condition`` holds, else ``y``; differentiable in ``x`` and ``y``.

    Examples
    --------
    >>> where(np.array([True, False]), 1.0, np.array([5.0, 6.0]))
    array([1., 6.])
    """
    return _where(value_of(condition), x, y)


# Linear algebra --------------------------------------------------------------

matmul = Primitive(np.matmul, "matmul", DOCS["matmul"])


def _swap(a):
    axes = list(range(np.ndim(a)))
    axes[-2:] = axes[-1], axes[-2]
    return transpose(a, axes)


def _matmul_vjp_a(g, ans, a, b):
    if np.ndim(a) == np.ndim(b) == 1:
        return multiply(g, b)
    if np.ndim(b) == 1:
        return unbroadcast(multiply(expand_dims(g, -1), b), a)
    if np.ndim(a) == 1:
        return unbroadcast(reshape(matmul(b, expand_dims(g, -1)), np.shape(b)[:-1]), a)
    return unbroadcast(matmul(g, _swap(b)), a)


def _matmul_vjp_b(g, ans, a, b):
    if np.ndim(a) == np.ndim(b) == 1:
        return multiply(a, g)
    if np.ndim(a) == 1:
        return unbroadcast(multiply(expand_dims(a, -1), expand_dims(g, -2)), b)
    if np.ndim(b) == 1:
        return unbroadcast(
            reshape(matmul(_swap(a), expand_dims(g, -1)), (*np.shape(g)[:-1], -1)), b
        )
    return unbroadcast(matmul(_swap(a), g), b)


defvjp(matmul, _matmul_vjp_a, _matmul_vjp_b)
defjvp(matmul, lambda t, ans, a, b: matmul(t, b), lambda t, ans, a, b: matmul(a, t))

# Reductions ------------------------------------------------------------------

sum = Primitive(np.sum, "sum", DOCS["sum"])
defvjp(sum, lambda g, ans, x, axis=None, keepdims=False: _spread(g, x, axis, keepdims))
defjvp(sum, lambda t, ans, x, axis=None, keepdims=False: sum(t, axis=axis, keepdims=keepdims))


def _arg_extremum_weights(ans, x, axis, keepdims):
    """Where ``x`` attains its reduced extremum, ties sharing the derivative equally."""
    x = value_of(x)
    extremum = value_of(ans)
    if not keepdims:
        extremum = np.reshape(extremum, _kept_shape(x.shape, axis))
    hits = x == extremum
    return (hits / np.sum(hits, axis=axis, keepdims=True)).astype(x.dtype)


amax = Primitive(np.max, "max", DOCS["max"])
amin = Primitive(np.min, "min", DOCS["min"])
for _extremum in (amax, amin):
    defvjp(
        _extremum,
        lambda g, ans, x, axis=None, keepdims=False: multiply(
            _spread(g, x, axis, keepdims), _arg_extremum_weights(ans, x, axis, keepdims)
        ),
    )
    defjvp(
        _extremum,
        lambda t, ans, x, axis=None, keepdims=False: sum(
            multiply(t, _arg_extremum_weights(ans, x, axis, keepdims)),
            axis=axis,
            keepdims=keepdims,
        ),
    )

# Shapes ----------------------------------------------------------------------

reshape = Primitive(np.reshape, "reshape", DOCS["reshape"])
defvjp(reshape, lambda g, ans, x, shape: reshape(g, np.shape(x)))
defjvp(reshape, lambda t, ans, x, shape: reshape(t, shape))

broadcast_to = Primitive(np.broadcast_to, "broadcast_to", DOCS["broadcast_to"])
defvjp(broadcast_to, lambda g, ans, x, shape: unbroadcast(g, x))
defjvp(broadcast_to, lambda t, ans, x, shape: broadcast_to(t, shape))

transpose = Primitive(np.transpose, "transpose", DOCS["transpose"])
defvjp(
    transpose,
    lambda g, ans, x, axes=None: transpose(g, None if axes is None else np.argsort(axes)),
)
defjvp(transpose, lambda t, ans, x, axes=None: transpose(t, axes))


def expand_dims(x, axis):
    """``x`` with a new axis of length one at position ``axis``.

    Examples
    --------
    >>> expand_dims(np.zeros(3), -1).shape
    (3, 1)
    """
    shape = list(np.shape(x))
    shape.insert(axis % (len(shape) + 1), 1)
    return reshape(x, tuple(shape))


# Indexing and joining --------------------------------------------------------


def _is_basic(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        isinstance(p, (int, np.integer, slice)) or p is None or p is Ellipsis for p in parts
    )


def _scatter(g, index, shape):
    out = np.zeros(shape, dtype=np.result_type(g))
    if _is_basic(index):
        # basic indices never repeat an element, so assignment is a valid (and fast) sum
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


getitem = Primitive(lambda x, index: x[index], "getitem")
scatter = Primitive(_scatter, "scatter")
defvjp(getitem, lambda g, ans, x, index: scatter(g, index, np.shape(x)))
defjvp(getitem, lambda t, ans, x, index: getitem(t, index))
defvjp(scatter, lambda g, ans, v, index, shape: getitem(g, index))
defjvp(scatter, lambda t, ans, v, index, shape: scatter(t, index, shape))


def _concatenate_vjp(argnums, g, ans, args, kwargs):
    axis, arrays = args[0], args[1:]
    axis %= np.ndim(ans)
    ends = np.cumsum([np.shape(a)[axis] for a in arrays])
    lead = (slice(None),) * axis
    return [
        getitem(g, (*lead, slice(ends[i - 1] - np.shape(args[i])[axis], ends[i - 1])))
        for i in argnums
    ]


def _concatenate_jvp(argnums, tangents, ans, args, kwargs):
    parts = [np.zeros(np.shape(a), dtype_of(a)) for a in args[1:]]
    for i, t in zip(argnums, tangents, strict=True):
        parts[i - 1] = t
    return _concatenate(args[0], *parts)


_concatenate = Primitive(lambda axis, *arrays: np.concatenate(arrays, axis), "concatenate")
_concatenate.vjp = _concatenate_vjp
_concatenate.jvp = _concatenate_jvp


def concatenate(arrays, axis=0):
    """Join a sequence of arrays along an existing axis.

    Examples
    --------
    >>> concatenate([np.zeros(2), np.ones(1)])
    array([0., 0., 1.])
    """
    return _concatenate(axis, *arrays)
