"""Function transforms: ``grad``, ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``.

Each transform opens its own trace level, so they compose in any order and
to any depth: ``grad(grad(f))``, ``jacobian(grad(f))``, ``jvp(grad(f), ...)``.
"""

import functools
from numbers import Number

import numpy as np

from symdyn.errors import AutodiffError

from .core import ForwardTracer, Node, ReverseTracer, Tracer, backward, dtype_of, new_level
from .functions import stack
from .primitives import add, multiply, reshape, sum


def _input(x, where):
    """``x`` as an array (or tracer) of floats, or a clear error."""
    if not isinstance(x, Tracer):
        x = np.asarray(x)
    if x.dtype.kind != "f":
        raise AutodiffError(
            f"{where} has dtype {x.dtype}; derivatives are taken with respect to "
            "floating-point values (pass 2.0 rather than 2, or cast with .astype(float))"
        )
    return x


def _output(out, level, name, nested):
    """Whether ``out`` is traced at ``level``; raises if it cannot be used at all.

    An output that does not depend on the inputs has zero derivative. That is
    normal inside another transform (the third derivative of a quadratic is
    zero) but at the top level it means the function cut its result out of the
    trace (``float(...)``, ``np.asarray(...)``) or ignores its input.
    """
    if isinstance(out, Tracer):
        return out.level == level
    if isinstance(out, (np.ndarray, Number)) and np.result_type(out).kind in "fiub":
        if nested:
            return False
        raise AutodiffError(
            f"{name}: the function returned a {type(out).__name__} that does not depend "
            "on its input; compute it with traced operations (ad.exp, ad.sum, operators) "
            "and return the traced value"
        )
    raise AutodiffError(
        f"{name}: the function must return an array or a traced value, got "
        f"{type(out).__name__}; build vector outputs with ad.array or ad.stack"
    )


def _zeros(x):
    return np.zeros(np.shape(x), dtype=x.dtype)


def _connect(result, x):
    """``result``, traced at ``x``'s level when ``x`` is traced by an enclosing transform.

    A derivative that comes out constant (the tangent of a linear map, the
    gradient of a quadratic's Hessian) must still look traced to the
    enclosing transform, or it would be mistaken for a function that ignores
    its input; adding ``0 * sum(x)`` marks it with zero derivative.
    """
    if isinstance(x, Tracer) and not isinstance(result, Tracer):
        return add(result, multiply(0.0, sum(x)))
    return result


def _reverse(f, args, argnums, name):
    """Run ``f`` with ``args[argnums]`` traced in reverse mode.

    Returns the output, whether it is traced, the leaf nodes and the inputs.
    """
    level = new_level()
    args = list(args)
    leaves = []
    inputs = []
    for i in argnums:
        x = _input(args[i], f"{name}: argument {i}")
        leaf = Node(ans=x)
        args[i] = ReverseTracer(x, level, leaf)
        leaves.append(leaf)
        inputs.append(x)
    nested = any(isinstance(x, Tracer) for x in inputs)
    out = f(*args)
    return out, _output(out, level, name, nested), leaves, inputs


def pullback(f, args, argnums, name="vjp"):
    """The value of ``f(*args)`` and a function pulling cotangents back to ``args[argnums]``.

    The building block of :func:`vjp`, :func:`value_and_grad` and
    :func:`~symdyn.autodiff.checkpoint`.

    Examples
    --------
    >>> value, pull = pullback(lambda x, y: x * y, (2.0, 3.0), (0, 1))
    >>> [float(c) for c in pull(1.0)]
    [3.0, 2.0]
    """
    out, traced, leaves, inputs = _reverse(f, args, argnums, name)
    shape = np.shape(out)

    def pull(g):
        if not isinstance(g, Tracer):
            g = np.asarray(g, dtype=dtype_of(out))
        if np.shape(g) != shape:
            raise AutodiffError(f"{name}: cotangent of shape {np.shape(g)}, expected {shape}")
        found = backward(out, g, leaves) if traced else [None] * len(leaves)
        return [
            _connect(_zeros(x) if c is None else c, x) for c, x in zip(found, inputs, strict=True)
        ]

    if not traced:
        return out, pull

    return out.value, pull


def vjp(f, x):
    """Value of ``f(x)`` and its pullback ``u ↦ uᵀ J``, by reverse mode.

    Parameters
    ----------
    f : callable
        Maps an array to an array.
    x : array_like of float

    Returns
    -------
    value : ndarray
    pullback : callable
        Takes a cotangent with the shape of ``value``; returns one with the shape of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> value, pull = ad.vjp(lambda x: x**2, np.array([1.0, 3.0]))
    >>> pull(np.array([1.0, 10.0]))
    array([ 2., 60.])
    """
    value, pull = pullback(f, (x,), (0,), "vjp")
    return value, lambda u: pull(u)[0]


def value_and_grad(f, argnum=0):
    """``f`` returning both its value and its gradient with respect to ``argnum``.

    Parameters
    ----------
    f : callable
        Returns a scalar (shape ``()``).
    argnum : int or tuple of int
        Which positional argument(s) to differentiate; a tuple gives a tuple of gradients.

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> value, (gx, gy) = ad.value_and_grad(lambda x, y: x * y**2, argnum=(0, 1))(3.0, 2.0)
    >>> float(value), float(gx), float(gy)
    (12.0, 4.0, 12.0)
    """
    argnums = (argnum,) if isinstance(argnum, int) else tuple(argnum)

    @functools.wraps(f)
    def value_and_gradient(*args):
        value, pull = pullback(f, args, argnums, "grad")
        if np.shape(value) != ():
            raise AutodiffError(
                f"grad: the function must return a scalar, got shape {np.shape(value)}; "
                "use ad.jacobian or ad.vjp for array outputs"
            )
        grads = pull(np.ones((), dtype=np.result_type(dtype_of(value))))
        return value, grads[0] if isinstance(argnum, int) else tuple(grads)

    return value_and_gradient


def grad(f, argnum=0):
    """The gradient of a scalar function, by reverse mode.

    Parameters
    ----------
    f : callable
        Returns a scalar.
    argnum : int or tuple of int

    Returns
    -------
    callable
        Same arguments as ``f``; returns arrays shaped like the differentiated arguments.

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> d3 = ad.grad(ad.grad(ad.grad(lambda x: x**4)))
    >>> float(d3(2.0))
    48.0
    """
    value_and_gradient = value_and_grad(f, argnum)

    @functools.wraps(f)
    def gradient(*args):
        return value_and_gradient(*args)[1]

    return gradient


def jvp(f, x, v):
    """Value of ``f(x)`` and the directional derivative ``J v``, by forward mode.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.jvp(ad.sin, np.array([0.0, np.pi]), np.array([1.0, 2.0]))
    (array([0.0000000e+00, 1.2246468e-16]), array([ 1., -2.]))
    """
    x = _input(x, "jvp: the point x")
    if not isinstance(v, Tracer):
        v = np.asarray(v, dtype=x.dtype)
    if np.shape(v) != x.shape:
        raise AutodiffError(f"jvp: tangent of shape {np.shape(v)}, expected {x.shape}")
    level = new_level()
    out = f(ForwardTracer(x, level, v))
    if not _output(out, level, "jvp", isinstance(x, Tracer)):
        return out, _connect(np.zeros(np.shape(out), dtype=dtype_of(out)), x)
    return out.value, _connect(out.tangent, x)


def jacobian(f):
    """The Jacobian of ``f``, shaped ``f(x).shape + x.shape``.

    Reverse mode (one pullback per output) when ``f`` has fewer outputs than
    inputs, forward mode (one JVP per input) otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.jacobian(lambda x: ad.array([x[0] * x[1], ad.sin(x[0])]))(np.array([0.0, 2.0]))
    array([[2., 0.],
           [1., 0.]])
    """

    @functools.wraps(f)
    def jacobian_of_f(x):
        x = _input(x, "jacobian: the point x")
        in_shape, in_size = x.shape, x.size
        if in_size == 0:
            return np.zeros(np.shape(f(x)) + in_shape)
        value, first_column = jvp(f, x, _basis(0, in_shape, x.dtype))
        out_shape, out_size = np.shape(value), int(np.prod(np.shape(value)))
        if out_size == 0:
            return np.zeros(out_shape + in_shape, dtype=x.dtype)
        if out_size < in_size:
            pull = vjp(f, x)[1]
            rows = [pull(_basis(i, out_shape, dtype_of(value))) for i in range(out_size)]
            return reshape(stack(rows), out_shape + in_shape)
        columns = [first_column]
        columns += [jvp(f, x, _basis(j, in_shape, x.dtype))[1] for j in range(1, in_size)]
        return reshape(stack(columns, axis=-1), out_shape + in_shape)

    return jacobian_of_f


def _basis(i, shape, dtype):
    e = np.zeros(int(np.prod(shape)), dtype=dtype)
    e[i] = 1
    return e.reshape(shape)


def hessian(f):
    """The Hessian of a scalar function: the Jacobian of its gradient (forward over reverse).

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 3.0]))
    array([[6., 2.],
           [2., 0.]])
    """
    return jacobian(grad(f))


def hvp(f, x, v):
    """The Hessian-vector product ``∇²f(x) v`` by forward-over-reverse mode.

    Costs a small multiple of one gradient; the Hessian is never formed. For
    many products at one point, :func:`~symdyn.autodiff.hvp_at` records ``f``'s
    graph once.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> ad.hvp(lambda x: ad.sum(x**3), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 6., 12.])
    """
    from .second_order import hvp_at  # it builds on this module

    return hvp_at(f, x)(v)
