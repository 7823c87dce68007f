"""Traced values, primitives, and the engine that pushes derivatives through them.

A transform (``grad``, ``jvp``, ...) opens a *trace*: it wraps its inputs in
tracers tagged with a fresh level and calls the user's function. A
:class:`Primitive` called on tracers unwraps the arguments of the highest level
present, computes on the unwrapped values (which may themselves be tracers of
an enclosing transform: that is how derivatives nest to any order) and wraps the
result again, recording a graph :class:`Node` (reverse mode) or a tangent
(forward mode).

Derivative rules are data attached to each primitive by :func:`defvjp` and
:func:`defjvp`; the engine never names a particular operation.
"""

import functools
import itertools
import operator

import numpy as np

from symdyn.errors import AutodiffError

# Levels only have to be unique and to grow with nesting. An inner transform
# always starts after the one enclosing it, so one counter orders them all.
_levels = itertools.count(1)


def new_level():
    """A fresh trace level, higher than every level handed out before."""
    return next(_levels)


class Tracer:
    """A value being traced by one transform.

    Transforms create tracers; user code sees them as arguments and treats
    them like NumPy arrays (arithmetic operators, indexing, ``.T``, ``.sum()``,
    and the functions of :mod:`symdyn.autodiff`).

    Attributes
    ----------
    value : ndarray or Tracer
        The wrapped value; a tracer of an outer transform when transforms nest.
    level : int
        The trace this tracer belongs to.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> def f(x):
    ...     print(type(x).__name__, x.shape)
    ...     return (x * x).sum()
    >>> ad.grad(f)(np.array([1.0, 2.0]))
    ReverseTracer (2,)
    array([2., 4.])
    """

    __slots__ = ("level", "value")

    def __init__(self, value, level):
        self.value = value
        self.level = level

    shape = property(lambda self: np.shape(self.value), doc="Shape of the traced array.")
    ndim = property(lambda self: len(self.shape), doc="Number of dimensions.")
    size = property(lambda self: int(np.prod(self.shape)), doc="Number of elements.")
    dtype = property(lambda self: dtype_of(self.value), doc="NumPy dtype of the traced array.")

    def __len__(self):
        return len(self.value)

    def __bool__(self):
        return bool(self.value)

    def __repr__(self):
        return f"{type(self).__name__}({self.value!r}, level={self.level})"

    def _refuse(self, *args, **kwargs):
        raise AutodiffError(
            "a traced value cannot be converted to a plain number or NumPy array: "
            "that would cut it out of the derivative; use the functions of "
            "symdyn.autodiff (ad.exp, ad.sum, ...) instead of float(), np.asarray() "
            "or NumPy functions that are not ufuncs"
        )

    __float__ = __int__ = __complex__ = __index__ = __array__ = _refuse


class ReverseTracer(Tracer):
    """A tracer of reverse mode: it remembers the :class:`Node` that made it.

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> def f(x):
    ...     y = ad.exp(x)
    ...     print(y.node.primitive.name, len(y.node.parents))
    ...     return y
    >>> float(ad.grad(f)(0.0))
    exp 1
    1.0
    """

    __slots__ = ("node",)

    def __init__(self, value, level, node):
        super().__init__(value, level)
        self.node = node


class ForwardTracer(Tracer):
    """A tracer of forward mode: it carries its tangent along.

    Examples
    --------
    >>> import symdyn.autodiff as ad
    >>> def f(x):
    ...     y = 3.0 * x
    ...     print(float(y.tangent))
    ...     return y
    >>> _ = ad.jvp(f, 1.0, 2.0)
    6.0
    """

    __slots__ = ("tangent",)

    def __init__(self, value, level, tangent):
        super().__init__(value, level)
        self.tangent = tangent

    def push(self, primitive, argnums, tangents, ans, args, kwargs):
        """The traced result of ``primitive``: its tangent from the primitive's forward rule.

        Batched forward mode (:mod:`~symdyn.autodiff.batched`) overrides this.
        """
        return ForwardTracer(ans, self.level, primitive.jvp(argnums, tangents, ans, args, kwargs))


class Node:
    """One primitive application recorded by reverse mode.

    ``args`` are the arguments with this trace's tracers unwrapped, ``ans``
    is the result, ``argnums`` the positions that were traced and
    ``parents`` their nodes. A leaf (an input of the transform) has
    ``primitive=None``.
    """

    __slots__ = ("ans", "argnums", "args", "kwargs", "parents", "primitive")

    def __init__(self, primitive=None, args=(), kwargs=None, argnums=(), parents=(), ans=None):
        self.primitive = primitive
        self.args = args
        self.kwargs = kwargs or {}
        self.argnums = argnums
        self.parents = parents
        self.ans = ans


def dtype_of(x):
    """The NumPy dtype of ``x``, traced or not.

    Examples
    --------
    >>> dtype_of(2.0)
    dtype('float64')
    """
    return np.result_type(value_of(x))


def value_of(x):
    """The plain value under every layer of tracing (for masks and shapes).

    Examples
    --------
    >>> value_of(2.0)
    2.0
    """
    while isinstance(x, Tracer):
        x = x.value
    return x


class Primitive:
    """An operation whose derivatives the engine knows.

    Parameters
    ----------
    fun : callable
        Computes the result on unwrapped values (NumPy arrays, or tracers of
        outer transforms, which ``fun`` must handle by calling primitives).
    name : str, optional
        Shown in error messages and in :func:`~symdyn.autodiff.to_dot`.
    doc : str, optional
        The docstring of this operation.

    Examples
    --------
    >>> cube = Primitive(lambda x: x**3, "cube")
    >>> defvjp(cube, lambda g, ans, x: g * 3 * x**2)
    >>> defjvp(cube, lambda t, ans, x: t * 3 * x**2)
    >>> import symdyn.autodiff as ad
    >>> float(ad.grad(cube)(2.0))
    12.0
    """

    def __init__(self, fun, name=None, doc=None):
        self.fun = fun
        self.name = name or fun.__name__
        self.__doc__ = doc
        self.vjp = None
        self.jvp = None

    def __repr__(self):
        return f"Primitive({self.name})"

    def __call__(self, *args, **kwargs):
        top = None
        nested = False  # whether tracers of another level are present
        for arg in args:
            if isinstance(arg, Tracer):
                if top is None:
                    top = arg
                elif arg.level != top.level:
                    nested = True
                    if arg.level > top.level:
                        top = arg
        if top is None:
            return self.fun(*args, **kwargs)
        level = top.level
        raw = list(args)
        argnums = []
        for i, arg in enumerate(args):
            if isinstance(arg, Tracer) and arg.level == level:
                raw[i] = arg.value
                argnums.append(i)
                nested = nested or isinstance(arg.value, Tracer)
        ans = self(*raw, **kwargs) if nested else self.fun(*raw, **kwargs)
        if isinstance(top, ReverseTracer):
            if self.vjp is None:
                raise AutodiffError(f"no reverse-mode rule (VJP) is defined for {self.name}")
            parents = [args[i].node for i in argnums]
            return ReverseTracer(ans, level, Node(self, raw, kwargs, argnums, parents, ans))
        if self.jvp is None:
            raise AutodiffError(f"no forward-mode rule (JVP) is defined for {self.name}")
        tangents = [args[i].tangent for i in argnums]
        return top.push(self, argnums, tangents, ans, raw, kwargs)


def _per_argument(primitive, rules, kind):
    def rule_for(i):
        if i >= len(rules) or rules[i] is None:
            raise AutodiffError(f"{primitive.name} is not differentiable in argument {i} ({kind})")
        return rules[i]

    return rule_for


def defvjp(primitive, *rules):
    """Register reverse-mode rules, one per argument (``None``: not differentiable).

    Each rule is ``rule(g, ans, *args, **kwargs)`` and returns the cotangent
    of its argument given the cotangent ``g`` of the result ``ans``, with the
    argument's shape. Rules must be written with primitives so that they can
    be differentiated again.

    Examples
    --------
    >>> square = Primitive(lambda x: x * x, "square")
    >>> defvjp(square, lambda g, ans, x: 2 * g * x)
    """
    rule_for = _per_argument(primitive, rules, "VJP")

    def vjp(argnums, g, ans, args, kwargs):
        return [rule_for(i)(g, ans, *args, **kwargs) for i in argnums]

    primitive.vjp = vjp


def defjvp(primitive, *rules):
    """Register forward-mode rules, one per argument (``None``: not differentiable).

    Each rule is ``rule(t, ans, *args, **kwargs)`` and returns the tangent of
    the result caused by the tangent ``t`` of its argument; the engine sums
    the contributions of several traced arguments.

    Examples
    --------
    >>> square = Primitive(lambda x: x * x, "square")
    >>> defjvp(square, lambda t, ans, x: 2 * t * x)
    """
    rule_for = _per_argument(primitive, rules, "JVP")

    def jvp(argnums, tangents, ans, args, kwargs):
        parts = [
            rule_for(i)(t, ans, *args, **kwargs) for i, t in zip(argnums, tangents, strict=True)
        ]
        return functools.reduce(operator.add, parts)

    primitive.jvp = jvp


def _toposort(end):
    """Nodes from ``end`` back to the leaves, each after all nodes that use it.

    Iterative (deep graphs would overflow a recursive walk): count each
    node's consumers, then release a node once all of them have been emitted.
    """
    consumers = {}
    stack = [end]
    while stack:
        node = stack.pop()
        if node in consumers:
            consumers[node] += 1
        else:
            consumers[node] = 1
            stack.extend(node.parents)
    ready = [end]
    while ready:
        node = ready.pop()
        yield node
        for parent in node.parents:
            if consumers[parent] == 1:
                ready.append(parent)
            else:
                consumers[parent] -= 1


def _untraced(x):
    while isinstance(x, Tracer):
        x = x.value
    return x


def _check_cotangent(primitive, argnum, value, cotangent):
    """A cotangent lives in its value's space: same shape, not complex for a real value.

    As HIPS autograd's ``assert_vspace_match``: a wrong derivative rule fails here,
    naming its primitive, instead of broadcasting silently into a wrong gradient.
    """
    value, cotangent = _untraced(value), _untraced(cotangent)
    if np.shape(cotangent) != np.shape(value):
        raise AutodiffError(
            f"the VJP of {primitive.name} in argument {argnum} gives a cotangent of shape "
            f"{np.shape(cotangent)} for a value of shape {np.shape(value)}"
        )
    if np.iscomplexobj(cotangent) and not np.iscomplexobj(value):
        raise AutodiffError(
            f"the VJP of {primitive.name} in argument {argnum} gives a complex cotangent "
            "for a real value"
        )


def backward(out, g, leaves):
    """Pull the cotangent ``g`` of ``out`` back to the ``leaves``.

    Parameters
    ----------
    out : ReverseTracer
    g : array_like or Tracer
        Cotangent with the shape of ``out``.
    leaves : sequence of Node

    Returns
    -------
    list
        One cotangent per leaf, ``None`` where ``out`` does not depend on it.
    """
    cotangents = {out.node: g}
    found = {}
    for node in _toposort(out.node):
        g = cotangents.pop(node)
        if node.primitive is None:
            found[node] = g
            continue
        pulled = node.primitive.vjp(node.argnums, g, node.ans, node.args, node.kwargs)
        for argnum, c in zip(node.argnums, pulled, strict=True):
            _check_cotangent(node.primitive, argnum, node.args[argnum], c)
        for parent, c in zip(node.parents, pulled, strict=True):
            previous = cotangents.get(parent)
            cotangents[parent] = c if previous is None else previous + c
    return [found.get(leaf) for leaf in leaves]
