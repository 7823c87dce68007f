"""Hessian-vector products on one recorded graph: forward over reverse, the graph built once.

``jvp(grad(f), x, v)`` traces ``f`` again for every ``v``. Here ``f`` is traced
once, in reverse mode, at ``x``; each product then runs two sweeps over that
graph and never calls ``f``:

1. forward, the tangent ``ȧ`` of every node's value along ``v``, by the nodes'
   JVP rules on the recorded values;
2. backward, the gradient's pullback with every recorded value ``a`` replaced by
   the forward-mode pair ``(a, ȧ)``, so each VJP rule (written with
   primitives) carries its own derivative along: the cotangents that reach
   ``x`` are ``∇f(x) + ε ∇²f(x) v``.

For Lanczos or conjugate gradients on the Hessian, where many products are
taken at one point, the forward pass of ``f`` is paid once (Pearlmutter 1994).
"""

import numpy as np

from symdyn.errors import AutodiffError

from .core import ForwardTracer, Tracer, _check_cotangent, _toposort, new_level
from .transforms import _input, _reverse, grad, jvp

__all__ = ["hvp_at"]


def hvp_at(f, x):
    """The function ``v ↦ ∇²f(x) v``, with ``f``'s graph recorded once at ``x``.

    Parameters
    ----------
    f : callable
        Returns a scalar.
    x : array_like of float

    Returns
    -------
    callable
        Takes ``v`` shaped like ``x``; returns ``∇²f(x) v`` shaped like ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> product = ad.hvp_at(lambda x: ad.sum(x**3), np.array([1.0, 2.0]))
    >>> product(np.array([1.0, 0.0])), product(np.array([0.0, 1.0]))
    (array([6., 0.]), array([ 0., 12.]))
    """
    x = _input(x, "hvp: the point x")
    if isinstance(x, Tracer):  # inside another transform: trace again, which nests
        return lambda v: jvp(grad(f), x, v)[1]
    out, traced, leaves, _ = _reverse(f, (x,), (0,), "hvp")
    if np.shape(out) != ():
        raise AutodiffError(
            f"hvp: the function must return a scalar, got shape {np.shape(out)}; "
            "use ad.jacobian or ad.vjp for array outputs"
        )
    zero = np.zeros(x.shape, dtype=x.dtype)
    if not traced:
        return lambda v: zero.copy()
    (leaf,) = leaves
    order = list(_toposort(out.node))  # each node before the nodes it was computed from
    seed = np.ones((), dtype=np.result_type(out.value))

    def product(v):
        if isinstance(v, Tracer):  # a traced direction: trace again, which nests
            return jvp(grad(f), x, v)[1]
        v = np.asarray(v, dtype=x.dtype)
        if v.shape != x.shape:
            raise AutodiffError(f"hvp: tangent of shape {v.shape}, expected {x.shape}")
        tangents = _tangents(order, leaf, v)
        found = _pullback_with_tangents(order, out.node, seed, tangents, new_level())
        if isinstance(found, ForwardTracer):
            return found.tangent
        return zero.copy()

    return product


def _tangents(order, leaf, v):
    """Sweep 1: the tangent of every node's value along ``v`` (JVP rules, recorded values)."""
    tangents = {leaf: v}
    for node in reversed(order):
        if node.primitive is None:
            continue
        parts = [tangents[p] for p in node.parents]
        tangents[node] = node.primitive.jvp(node.argnums, parts, node.ans, node.args, node.kwargs)
    return tangents


def _pullback_with_tangents(order, end, seed, tangents, level):
    """Sweep 2: ``backward`` with each recorded value paired with its tangent at ``level``.

    Returns the cotangent reaching the leaf: a forward tracer whose tangent is ``H v``
    (or a plain array when the gradient does not depend on ``x``).
    """
    cotangents = {end: seed}
    for node in order:
        g = cotangents.pop(node)
        if node.primitive is None:
            return g
        args = list(node.args)
        for i, parent in zip(node.argnums, node.parents, strict=True):
            args[i] = ForwardTracer(args[i], level, tangents[parent])
        ans = ForwardTracer(node.ans, level, tangents[node])
        pulled = node.primitive.vjp(node.argnums, g, ans, args, node.kwargs)
        for argnum, c in zip(node.argnums, pulled, strict=True):
            _check_cotangent(node.primitive, argnum, node.args[argnum], c)
        for parent, c in zip(node.parents, pulled, strict=True):
            previous = cotangents.get(parent)
            cotangents[parent] = c if previous is None else previous + c
    return None
