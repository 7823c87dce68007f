"""Gradient checkpointing: keep a segment's inputs, recompute its insides.

A checkpointed function is itself a :class:`~symdyn.autodiff.core.Primitive`.
Run forward, it computes on unwrapped values, so nothing inside it is
recorded; its derivative rules run it again under a fresh trace when (and
only while) the backward or forward pass needs it. Because those rules use
the transforms, checkpointed segments nest and differentiate to any order.
"""

import functools

from .core import Primitive
from .transforms import jvp, pullback


def checkpoint(f):
    """``f`` with its intermediates dropped after the forward pass and recomputed on demand.

    Memory for the intermediates of ``f`` is needed only while its own part
    of the backward pass runs, at the cost of evaluating ``f`` twice.

    Parameters
    ----------
    f : callable
        Takes arrays as positional arguments and returns one array.

    Returns
    -------
    callable
        Computes the same values and derivatives as ``f``.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> def block(x):
    ...     return ad.tanh(ad.tanh(x))
    >>> saved = ad.checkpoint(block)
    >>> x = np.linspace(-1.0, 1.0, 3)
    >>> bool(np.allclose(ad.grad(lambda x: ad.sum(saved(saved(x))))(x),
    ...                  ad.grad(lambda x: ad.sum(block(block(x))))(x)))
    True
    """
    segment = Primitive(f, f"checkpoint({getattr(f, '__name__', 'f')})")

    def recompute_vjp(argnums, g, ans, args, kwargs):
        return pullback(functools.partial(f, **kwargs), args, argnums, segment.name)[1](g)

    def recompute_jvp(argnums, tangents, ans, args, kwargs):
        total = None
        for i, t in zip(argnums, tangents, strict=True):

            def along_i(xi, i=i):
                return f(*args[:i], xi, *args[i + 1 :], **kwargs)

            part = jvp(along_i, args[i], t)[1]
            total = part if total is None else total + part
        return total

    segment.vjp = recompute_vjp
    segment.jvp = recompute_jvp
    return functools.wraps(f)(lambda *args, **kwargs: segment(*args, **kwargs))
