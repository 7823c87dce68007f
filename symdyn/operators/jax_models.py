"""Recurrences of JAX models: a JAX step function, differentiated by ``jax.jvp`` and ``jax.vjp``.

θ may be any pytree; ``jax.flatten_util.ravel_pytree`` flattens it to the
flat vector the operators act on and the step sees the pytree again. Every
call runs inside ``jax.enable_x64(dtype is float64)``, so a float64 model is
float64 end to end without changing JAX's global configuration, and a
float32 one stays float32. JAX is imported only here, and only when a model
asks for it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from symdyn.errors import OperatorError, ShapeError

from .model import Recurrence

__all__ = ["JaxBackend", "from_jax"]


def _jax():
    try:
        import jax
        import jax.flatten_util
    except ImportError:
        raise OperatorError(
            "Recurrence.from_jax needs JAX: pip install 'symdyn[optax]' (or jax)"
        ) from None
    return jax


@dataclass(frozen=True)
class JaxBackend:
    """Differentiation by JAX's transforms; values are JAX arrays of ``dtype``.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> JaxBackend("float64").jvp(jnp.sin, np.zeros(2), np.ones(2))[1]
    array([1., 1.])
    """

    dtype: str = "float64"
    name: str = "jax"

    def _precision(self):
        return _jax().enable_x64(self.dtype == "float64")

    def native(self, array):
        jax = _jax()
        if isinstance(array, jax.Array):
            return array
        with self._precision():
            return jax.numpy.asarray(np.asarray(array), dtype=self.dtype)

    def numpy(self, value):
        return np.asarray(value)

    def evaluate(self, f, x):
        with self._precision():
            return self.numpy(f(self.native(x)))

    def stack(self, arrays, axis):
        return _jax().numpy.stack(list(arrays), axis=axis)

    def reshape(self, x, shape):
        return _jax().numpy.reshape(x, shape)

    def traced(self, out, x):
        return out + 0.0 * x

    def jvp(self, f, x, v):
        with self._precision():
            value, tangent = _jax().jvp(f, (self.native(x),), (self.native(v),))
            return self.numpy(value), self.numpy(tangent)

    def vjp(self, f, x):
        with self._precision():
            value, pull = _jax().vjp(f, self.native(x))

        def pullback(u):
            with self._precision():
                return self.numpy(pull(self.native(u))[0])

        return self.numpy(value), pullback

    def hvp(self, f, x, v):
        jax = _jax()
        with self._precision():
            return self.numpy(jax.jvp(jax.grad(f), (self.native(x),), (self.native(v),))[1])

    def _run(self, kind, f, static, x, v, args):
        with self._precision():
            compiled = _compiled(kind, tuple(static))
            return self.numpy(compiled(f, self.native(x), self.native(v), *args))

    def jvp_fn(self, f, static=()):
        return functools.partial(self._run_with, "jvp", f, static)

    def vjp_fn(self, f, static=()):
        return functools.partial(self._run_with, "vjp", f, static)

    def hvp_fn(self, f):
        return functools.partial(self._run_with, "hvp", f, ())

    def _run_with(self, kind, f, static, x, v, *args):
        return self._run(kind, f, static, x, v, args)

    def value_and_grad(self, f, x):
        with self._precision():
            value, gradient = _jax().value_and_grad(f)(self.native(x))
            return float(value), self.numpy(gradient)

    def batch_jvp(self, f, x, tangents):
        jax = _jax()
        with self._precision():
            x = self.native(x)

            def push(v):
                return jax.jvp(f, (x,), (v,))[1]

            return self.numpy(f(x)), self.numpy(jax.vmap(push)(self.native(tangents)))

    def jacobian(self, f, x):
        """Dense [f(x).size, x.size]: ``jacrev`` for fewer outputs than inputs, else ``jacfwd``."""
        with self._precision():
            x = self.native(x)
            out_size = int(np.prod(np.shape(f(x))))
            kind = "jacrev" if out_size < x.size else "jacfwd"
            return self.numpy(_compiled(kind, ())(f, x)).reshape(out_size, x.size)


@functools.cache
def _compiled(kind, static):
    """One jitted transform per kind, with the function a static argument.

    JAX then compiles once per (function, shapes): the bound methods of a
    model (``model.unroll``, ``model.state_step``) hash alike however often
    they are looked up, so every operator built on a model shares the
    compiled code. ``static`` are positions (after x and v) of Python values.
    """
    jax = _jax()

    def jvp(f, x, v, *args):
        return jax.jvp(lambda x: f(x, *args), (x,), (v,))[1]

    def vjp(f, x, u, *args):
        return jax.vjp(lambda x: f(x, *args), x)[1](u)[0]

    def hvp(f, x, v):
        return jax.jvp(jax.grad(f), (x,), (v,))[1]

    def jacrev(f, x):
        return jax.jacrev(f)(x)

    def jacfwd(f, x):
        return jax.jacfwd(f)(x)

    transforms = {"jvp": jvp, "vjp": vjp, "hvp": hvp, "jacrev": jacrev, "jacfwd": jacfwd}
    return jax.jit(transforms[kind], static_argnums=(0, *(3 + i for i in static)))


def from_jax(
    step,
    theta,
    h0,
    inputs=None,
    steps: int | None = None,
    readout=None,
    time_dependent: bool = False,
) -> Recurrence:
    """A :class:`Recurrence` of a JAX step ``step(h, x, theta)``, differentiated by JAX.

    Parameters
    ----------
    step : callable
        ``step(h, x, theta)`` (``step(h, x, theta, t)`` with
        ``time_dependent``) on JAX arrays, ``theta`` the pytree given.
    theta : pytree of arrays
        Flattened by ``jax.flatten_util.ravel_pytree``; its dtype is the
        model's (NumPy float64 leaves give a float64 model).
    h0, inputs, steps, time_dependent
        As for :class:`Recurrence`.
    readout : callable, optional
        ``readout(h, theta)`` on JAX arrays, ``theta`` the pytree.

    Examples
    --------
    >>> import numpy as np, jax.numpy as jnp
    >>> from symdyn import operators as ops
    >>> step = lambda h, x, p: jnp.tanh(h @ p["W"] + x @ p["U"])
    >>> theta = {"W": 0.5 * np.eye(3), "U": np.ones((2, 3))}
    >>> model = ops.Recurrence.from_jax(step, theta, np.zeros((4, 3)), np.ones((4, 5, 2)))
    >>> model.shape, model.theta.size, model.dtype
    ((4, 5, 3), 15, dtype('float64'))
    """
    jax = _jax()
    leaves = jax.tree_util.tree_leaves(theta)
    if not leaves:
        raise ShapeError("Recurrence.from_jax: theta has no arrays")
    dtype = np.result_type(*[np.asarray(leaf).dtype for leaf in leaves])
    dtype = np.dtype(np.float32 if dtype == np.float32 else np.float64)
    backend = JaxBackend(str(dtype))
    with backend._precision():
        flat, unravel = jax.flatten_util.ravel_pytree(
            jax.tree_util.tree_map(lambda leaf: jax.numpy.asarray(leaf, dtype=dtype), theta)
        )

    # Compiled once per shape: eager JAX dispatches every operation on its own,
    # and the operators call the step thousands of times.
    @functools.partial(jax.jit, static_argnums=(3,) if time_dependent else ())
    def flat_step(h, x, theta, *t):
        return step(h, x, unravel(theta), *t)

    @jax.jit
    def flat_readout(h, theta):
        return readout(h, unravel(theta))

    return Recurrence(
        flat_step,
        np.asarray(flat),
        np.asarray(h0, dtype=dtype),
        None if inputs is None else np.asarray(inputs, dtype=dtype),
        steps,
        None if readout is None else flat_readout,
        time_dependent,
        backend,
    )
