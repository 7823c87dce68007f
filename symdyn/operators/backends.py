"""How a model is differentiated: symdyn's own autodiff, or the framework the model is written in.

A :class:`~symdyn.operators.Recurrence` runs its step through a backend. The
operators only ever call the backend's transforms, which take and return
NumPy arrays; inside them the model's functions see the backend's own values
(autodiff tracers, torch tensors, JAX arrays). :class:`AutodiffBackend` is
the default; the torch and JAX backends live in
:mod:`symdyn.operators.torch_models` and :mod:`symdyn.operators.jax_models`
and are imported only when a model asks for them.

Every backend provides:

- ``native(array)`` / ``numpy(value)``: NumPy to the backend's arrays and back;
  ``evaluate(f, x)``: f at a NumPy point, as NumPy;
- ``stack``, ``reshape``, ``traced(out, x)`` (``out + 0·x``: keeps a map
  that ignores its input differentiable, with zero derivative);
- ``jvp(f, x, v)``, ``vjp(f, x)``, ``hvp(f, x, v)``, ``value_and_grad(f, x)``;
- ``jvp_fn(f, static)``, ``vjp_fn(f, static)``, ``hvp_fn(f)``: the same maps
  for a fixed ``f(x, *args)``, as functions ``(x, v, *args)`` that an
  operator calls many times (JAX compiles them once; ``static`` are the
  positions in ``args`` of Python values such as a time index);
- ``batch_jvp(f, x, V)``: the JVPs of the rows of ``V`` [k, *x.shape] in
  one pass, and ``jacobian(f, x)``: the dense Jacobian [f(x).size, x.size].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import symdyn.autodiff as ad

__all__ = ["AUTODIFF", "AutodiffBackend", "Products"]

# Tangents pushed through one forward pass at a time when a dense Jacobian is
# built column by column: bounds the memory to CHUNK copies of the values.
CHUNK = 512


class Products:
    """``jvp_fn``, ``vjp_fn`` and ``hvp_fn`` of a backend from its ``jvp``, ``vjp`` and
    ``hvp``: functions of (x, v, *args) that the operators call once per product. A
    backend that compiles its products (JAX) gives its own."""

    def jvp_fn(self, f, static=()):
        def tangent(x, v, *args):
            return self.jvp(lambda x: f(x, *args), x, v)[1]

        return tangent

    def vjp_fn(self, f, static=()):
        def cotangent(x, u, *args):
            return self.vjp(lambda x: f(x, *args), x)[1](u)

        return cotangent

    def hvp_fn(self, f):
        def product(x, v):
            return self.hvp(f, x, v)

        return product


@dataclass(frozen=True)
class AutodiffBackend(Products):
    """symdyn's NumPy autodiff engine (:mod:`symdyn.autodiff`): the default backend.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> AUTODIFF.jvp(ad.sin, np.zeros(2), np.ones(2))[1]
    array([1., 1.])
    >>> AUTODIFF.jacobian(lambda x: x * x, np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """

    name: str = "autodiff"

    def native(self, array):
        return array

    def numpy(self, value):
        return np.asarray(value)

    def evaluate(self, f, x):
        """f(x) as a NumPy array, not traced."""
        return np.asarray(f(x))

    def stack(self, arrays, axis):
        return ad.stack(arrays, axis=axis)

    def reshape(self, x, shape):
        return ad.reshape(x, shape)

    def traced(self, out, x):
        return ad.add(out, ad.multiply(0.0, x))

    def jvp(self, f, x, v):
        value, tangent = ad.jvp(f, x, v)
        return np.asarray(value), np.asarray(tangent)

    def vjp(self, f, x):
        value, pull = ad.vjp(f, x)
        return np.asarray(value), lambda u: np.asarray(pull(u))

    def hvp(self, f, x, v):
        return np.asarray(ad.hvp(f, x, v))

    def value_and_grad(self, f, x):
        value, gradient = ad.value_and_grad(f)(x)
        return float(value), np.asarray(gradient)

    def batch_jvp(self, f, x, tangents):
        value, pushed = ad.batch_jvp(f, x, tangents)
        return np.asarray(value), np.asarray(pushed)

    def jacobian(self, f, x):
        """Dense Jacobian [f(x).size, x.size] by forward mode, ``CHUNK`` columns per pass."""
        x = np.asarray(x)
        eye = np.eye(x.size, dtype=x.dtype)
        blocks = []
        for start in range(0, x.size, CHUNK):
            rows = eye[start : start + CHUNK].reshape(-1, *x.shape)
            blocks.append(self.batch_jvp(f, x, rows)[1].reshape(len(rows), -1))
        return np.concatenate(blocks).T


AUTODIFF = AutodiffBackend()
