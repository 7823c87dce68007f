"""Forward mode over a leading tangent axis: k JVPs in one pass through the function.

:func:`batch_jvp` pushes a batch of tangents V [k, *x.shape] through ``f``
together: every traced value carries a tangent of shape [k, *value.shape],
so each primitive runs once on the values and once, vectorised, on the k
tangents. A dense Jacobian, the columns of a small operator or the k
tangent columns of a Lyapunov frame then cost one pass instead of k.

The rules are the ordinary forward rules read in batch: an elementwise
primitive's tangent is linear and pointwise in the argument's tangent,
t ↦ t ⊙ D, so D is the rule applied to ones and the k tangents are
multiplied by it at once; the primitives that move axes (sums, reshapes,
matmul, indexing, joining) have their rule shifted by the leading axis.
A primitive without a batched rule (one a user defined) runs its rule once
per tangent, which is correct, only slower.
"""

import numpy as np

from symdyn.errors import AutodiffError

from . import primitives as p
from .core import ForwardTracer, Tracer, dtype_of, new_level
from .transforms import _connect, _input, _output

__all__ = ["BatchedTracer", "batch_jvp"]

ELEMENTWISE = frozenset(
    {
        p.add,
        p.subtract,
        p.multiply,
        p.divide,
        p.power,
        p.negative,
        p.exp,
        p.log,
        p.sqrt,
        p.abs,
        p.sin,
        p.cos,
        p.tanh,
        p.sigmoid,
        p.relu,
        p.maximum,
        p.minimum,
        p._where,
    }
)


def _count(tangents):
    return np.shape(tangents[0])[0]


def _padded(t, ndim):
    """A tangent [k, *s] with ones inserted after k, so that it has ``ndim`` value axes."""
    shape = np.shape(t)
    missing = ndim - (len(shape) - 1)
    return t if missing <= 0 else p.reshape(t, (shape[0], *(1,) * missing, *shape[1:]))


def _full(t, ans, k):
    shape = (k, *np.shape(ans))
    return t if np.shape(t) == shape else p.broadcast_to(t, shape)


def _elementwise(primitive, argnums, tangents, ans, args, kwargs):
    ndim = np.ndim(ans)
    total = None
    for i, t in zip(argnums, tangents, strict=True):
        ones = np.ones(np.shape(args[i]), dtype=dtype_of(args[i]))
        factor = primitive.jvp([i], [ones], ans, args, kwargs)
        part = p.multiply(_padded(t, ndim), factor)
        total = part if total is None else p.add(total, part)
    return _full(total, ans, _count(tangents))


def _linear(signs):
    """The batched rule of add / subtract / negative: a signed sum of the tangents."""

    def rule(primitive, argnums, tangents, ans, args, kwargs):
        ndim = np.ndim(ans)
        total = None
        for i, t in zip(argnums, tangents, strict=True):
            part = _padded(t, ndim)
            if total is None:
                total = part if signs[i] > 0 else p.negative(part)
            else:
                total = p.add(total, part) if signs[i] > 0 else p.subtract(total, part)
        return _full(total, ans, _count(tangents))

    return rule


def _flat_matmul(t, b):
    """[k, m, n] @ [n, p] as one [k·m, n] @ [n, p] product (one GEMM, not k)."""
    k, m, n = np.shape(t)
    return p.reshape(p.matmul(p.reshape(t, (k * m, n)), b), (k, m, -1))


def _matmul(primitive, argnums, tangents, ans, args, kwargs):
    a, b = args
    ndim = max(np.ndim(a), np.ndim(b))
    total = None
    for i, t in zip(argnums, tangents, strict=True):
        if np.ndim(a) == np.ndim(b) == 1:
            part = p.sum(p.multiply(t, b if i == 0 else a), axis=-1)
        elif i == 0 and np.ndim(t) == 3 and np.ndim(b) == 2:
            part = _flat_matmul(t, b)
        elif i == 1 and np.ndim(a) == 2 and np.ndim(t) == 3:  # a (tᵀ)ᵀ: one GEMM again
            part = p.transpose(_flat_matmul(p.transpose(t, (0, 2, 1)), p.transpose(a)), (0, 2, 1))
        elif i == 0:
            part = p.matmul(_padded(t, ndim), b)
        elif np.ndim(b) == 1:  # A (k columns of) vector(s): make them [k, ..., n, 1]
            column = p.reshape(t, (np.shape(t)[0], *(1,) * (ndim - 2), -1, 1))
            part = p.matmul(a, column)
        else:
            part = p.matmul(a, _padded(t, ndim))
        part = p.reshape(part, (np.shape(t)[0], *np.shape(ans)))
        total = part if total is None else p.add(total, part)
    return total


def _shifted(axis, ndim):
    if axis is None:
        return tuple(range(1, ndim + 1))
    axes = (axis,) if np.ndim(axis) == 0 else axis
    return tuple(a % ndim + 1 for a in axes)


def _sum(primitive, argnums, tangents, ans, args, kwargs):
    (t,), x = tangents, args[0]
    axis = _shifted(kwargs.get("axis"), np.ndim(x))
    return p.sum(t, axis=axis, keepdims=kwargs.get("keepdims", False))


def _extremum(primitive, argnums, tangents, ans, args, kwargs):
    x = args[0]
    weights = p._arg_extremum_weights(ans, x, kwargs.get("axis"), kwargs.get("keepdims", False))
    axis = _shifted(kwargs.get("axis"), np.ndim(x))
    return p.sum(
        p.multiply(tangents[0], weights), axis=axis, keepdims=kwargs.get("keepdims", False)
    )


def _reshape(primitive, argnums, tangents, ans, args, kwargs):
    return p.reshape(tangents[0], (_count(tangents), *np.shape(ans)))


def _broadcast_to(primitive, argnums, tangents, ans, args, kwargs):
    return _full(_padded(tangents[0], np.ndim(ans)), ans, _count(tangents))


def _transpose(primitive, argnums, tangents, ans, args, kwargs):
    ndim = np.ndim(args[0])
    axes = kwargs.get("axes", args[1] if len(args) > 1 else None)
    axes = range(ndim)[::-1] if axes is None else [a % ndim for a in axes]
    return p.transpose(tangents[0], (0, *(a + 1 for a in axes)))


def _batched_index(index):
    return (slice(None), *(index if isinstance(index, tuple) else (index,)))


def _checked(primitive, tangent, ans, k):
    if np.shape(tangent) != (k, *np.shape(ans)):
        raise AutodiffError(
            f"batch_jvp: {primitive.name} with this index reorders axes (advanced indices "
            "split by a slice); index in two steps, or use jvp once per tangent"
        )
    return tangent


def _getitem(primitive, argnums, tangents, ans, args, kwargs):
    out = p.getitem(tangents[0], _batched_index(args[1]))
    return _checked(primitive, out, ans, _count(tangents))


def _scatter(primitive, argnums, tangents, ans, args, kwargs):
    k = _count(tangents)
    out = p.scatter(tangents[0], _batched_index(args[1]), (k, *args[2]))
    return _checked(primitive, out, ans, k)


def _concatenate(primitive, argnums, tangents, ans, args, kwargs):
    axis, arrays = args[0], args[1:]
    k = _count(tangents)
    parts = [np.zeros((k, *np.shape(a)), dtype_of(a)) for a in arrays]
    for i, t in zip(argnums, tangents, strict=True):
        parts[i - 1] = t
    return p._concatenate(axis % np.ndim(ans) + 1, *parts)


def _one_by_one(primitive, argnums, tangents, ans, args, kwargs):
    if primitive.jvp is None:
        raise AutodiffError(f"no forward-mode rule (JVP) is defined for {primitive.name}")
    k = _count(tangents)
    columns = [
        p.expand_dims(
            p.broadcast_to(
                primitive.jvp(argnums, [t[j] for t in tangents], ans, args, kwargs),
                np.shape(ans),
            ),
            0,
        )
        for j in range(k)
    ]
    return p._concatenate(0, *columns)


RULES = {
    p.add: _linear({0: 1, 1: 1}),
    p.subtract: _linear({0: 1, 1: -1}),
    p.negative: _linear({0: -1}),
    p.matmul: _matmul,
    p.sum: _sum,
    p.amax: _extremum,
    p.amin: _extremum,
    p.reshape: _reshape,
    p.broadcast_to: _broadcast_to,
    p.transpose: _transpose,
    p.getitem: _getitem,
    p.scatter: _scatter,
    p._concatenate: _concatenate,
}


class BatchedTracer(ForwardTracer):
    """A tracer of batched forward mode: its tangent has shape [k, *value.shape].

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> def f(x):
    ...     y = ad.sin(x)
    ...     print(type(y).__name__, y.tangent.shape)
    ...     return y
    >>> _ = ad.batch_jvp(f, np.zeros(2), np.eye(2))
    BatchedTracer (2, 2)
    """

    __slots__ = ()

    def push(self, primitive, argnums, tangents, ans, args, kwargs):
        rule = RULES.get(primitive) or (_elementwise if primitive in ELEMENTWISE else _one_by_one)
        tangent = rule(primitive, argnums, tangents, ans, args, kwargs)
        return BatchedTracer(ans, self.level, tangent)


def batch_jvp(f, x, tangents):
    """Value of ``f(x)`` and the JVPs J vᵢ of every row vᵢ of ``tangents``, in one pass.

    Parameters
    ----------
    f : callable
        Maps an array to an array, written with :mod:`symdyn.autodiff`.
    x : array_like of float
    tangents : array_like, shape [k, *x.shape]

    Returns
    -------
    value : ndarray
    pushed : ndarray, shape [k, *value.shape]
        Row i is ``jvp(f, x, tangents[i])[1]``.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> value, pushed = ad.batch_jvp(lambda x: x[0] * x, np.array([2.0, 3.0]), np.eye(2))
    >>> pushed                                    # the Jacobian's columns, as rows
    array([[4., 3.],
           [0., 2.]])
    """
    x = _input(x, "batch_jvp: the point x")
    if not isinstance(tangents, Tracer):
        tangents = np.asarray(tangents, dtype=x.dtype)
    shape = np.shape(tangents)
    if len(shape) != x.ndim + 1 or shape[1:] != x.shape:
        raise AutodiffError(
            f"batch_jvp: tangents of shape {shape}, expected [k, *{x.shape}] (one per row)"
        )
    level = new_level()
    out = f(BatchedTracer(x, level, tangents))
    if not _output(out, level, "batch_jvp", isinstance(x, Tracer)):
        zeros = np.zeros((shape[0], *np.shape(out)), dtype=dtype_of(out))
        return out, _connect(zeros, x)
    return out.value, _connect(out.tangent, x)
