"""Sharpness: the top eigenvalues of a training loss's Hessian, by Lanczos on HVPs.

Gradient descent with step η is linearly stable at a minimum only while the
top Hessian eigenvalue stays below 2/η; in practice the sharpness rises to
that value and hovers there (the edge of stability, Cohen et al., 2021).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from symdyn.errors import ShapeError

from .backends import AUTODIFF
from .model import NoParametersError, Recurrence, SpectrumSizeError

__all__ = ["hessian_operator", "sharpness", "training_loss"]

# Up to this many parameters the Hessian is formed from HVPs and LAPACK decides.
DENSE_LIMIT = 32


def training_loss(loss: Callable, theta):
    """The loss as a function of θ, the point and the backend that differentiates it.

    ``theta`` is a point (``loss`` a function of θ written with
    :mod:`symdyn.autodiff`) or a :class:`~symdyn.operators.Recurrence`
    (``loss`` a function of its outputs, in the model's framework:
    L(θ) = loss(readout(unroll(θ), θ))).
    """
    if isinstance(theta, Recurrence):
        model = theta

        def of_theta(point):
            return loss(model.outputs(point))

        return of_theta, model.theta, model.backend
    return loss, np.asarray(theta, dtype=float), AUTODIFF


def hessian_operator(loss: Callable, theta) -> LinearOperator:
    """∇²loss(θ) as a symmetric LinearOperator on flat vectors: v ↦ HVP (forward over reverse).

    ``theta`` is a point, or a model whose outputs ``loss`` maps to a scalar
    (see :func:`training_loss`): then the HVPs are the model framework's.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> H = hessian_operator(lambda w: ad.sum(w**4) / 4, np.array([1.0, 2.0]))
    >>> H @ np.array([1.0, 1.0])
    array([ 3., 12.])
    """
    f, theta, backend = training_loss(loss, theta)
    if theta.size == 0:
        raise NoParametersError("hessian_operator: theta is empty; there is no Hessian")
    shape = theta.shape
    product = backend.hvp_fn(f)

    def matvec(v):
        v = np.asarray(v, dtype=theta.dtype).reshape(shape)
        return np.asarray(product(theta, v)).ravel()

    return LinearOperator(
        (theta.size, theta.size), matvec=matvec, rmatvec=matvec, dtype=theta.dtype
    )


def sharpness(loss: Callable, theta, k: int = 1, tol: float = 0.0, seed: int = 0) -> np.ndarray:
    """The ``k`` largest (algebraic) eigenvalues of ∇²loss(θ), descending.

    Lanczos (``scipy.sparse.linalg.eigsh``, ``which="LA"``) on
    Hessian-vector products; the Hessian is never formed beyond
    ``DENSE_LIMIT`` parameters.

    Parameters
    ----------
    loss : callable
        A scalar function of θ written with :mod:`symdyn.autodiff`; or, with
        a model for ``theta``, a scalar function of the model's outputs.
    theta : array_like or Recurrence
        The point (any shape; treated as a flat vector), or a model (its θ,
        differentiated by its framework).
    k : int
        1 ≤ k ≤ θ.size.
    tol : float
        ARPACK's relative tolerance (0: machine precision).
    seed : int
        Seeds the starting vector.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> A = np.diag([1.0, 4.0, 2.0])
    >>> sharpness(lambda w: w @ A @ w / 2, np.zeros(3), k=2)
    array([4., 2.])
    """
    op = hessian_operator(loss, theta)
    n = op.shape[0]
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise SpectrumSizeError(
            f"sharpness: asked for k = {k!r} eigenvalues of a Hessian of dimension {n}"
        )
    f, point, backend = training_loss(loss, theta)
    value = backend.evaluate(f, point)
    if np.shape(value) != ():
        raise ShapeError(f"sharpness: the loss must return a scalar, got shape {np.shape(value)}")
    if n <= DENSE_LIMIT or k >= n - 1:
        dense = op @ np.eye(n)
        return np.linalg.eigvalsh((dense + dense.T) / 2)[::-1][:k]
    v0 = np.random.default_rng(seed).standard_normal(n)
    values = eigsh(op, k=k, which="LA", tol=tol, v0=v0, return_eigenvectors=False)
    return np.sort(values)[::-1]
