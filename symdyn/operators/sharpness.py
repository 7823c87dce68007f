"""Sharpness: the top eigenvalues of a training loss's Hessian, by Lanczos on HVPs.

Gradient descent with step η is linearly stable at a minimum only while the
top Hessian eigenvalue stays below 2/η; in practice the sharpness rises to
that value and hovers there (the edge of stability, Cohen et al., 2021).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

import symdyn.autodiff as ad
from symdyn.errors import ShapeError

from .model import NoParametersError, SpectrumSizeError

__all__ = ["hessian_operator", "sharpness"]

# Up to this many parameters the Hessian is formed from HVPs and LAPACK decides.
DENSE_LIMIT = 32


def hessian_operator(loss: Callable, theta) -> LinearOperator:
    """∇²loss(θ) as a symmetric LinearOperator on flat vectors: v ↦ HVP (forward over reverse).

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> H = hessian_operator(lambda w: ad.sum(w**4) / 4, np.array([1.0, 2.0]))
    >>> H @ np.array([1.0, 1.0])
    array([ 3., 12.])
    """
    theta = np.asarray(theta, dtype=float)
    if theta.size == 0:
        raise NoParametersError("hessian_operator: theta is empty; there is no Hessian")
    shape = theta.shape

    def matvec(v):
        v = np.asarray(v, dtype=float).reshape(shape)
        return np.asarray(ad.hvp(loss, theta, v)).ravel()

    return LinearOperator((theta.size, theta.size), matvec=matvec, rmatvec=matvec, dtype=float)


def sharpness(loss: Callable, theta, k: int = 1, tol: float = 0.0, seed: int = 0) -> np.ndarray:
    """The ``k`` largest (algebraic) eigenvalues of ∇²loss(θ), descending.

    Lanczos (``scipy.sparse.linalg.eigsh``, ``which="LA"``) on
    Hessian-vector products; the Hessian is never formed beyond
    ``DENSE_LIMIT`` parameters.

    Parameters
    ----------
    loss : callable
        A scalar function of θ written with :mod:`symdyn.autodiff`.
    theta : array_like
        The point (any shape; treated as a flat vector).
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
    value = loss(np.asarray(theta, dtype=float))
    if np.shape(value) != ():
        raise ShapeError(f"sharpness: the loss must return a scalar, got shape {np.shape(value)}")
    if n <= DENSE_LIMIT or k >= n - 1:
        dense = op @ np.eye(n)
        return np.linalg.eigvalsh((dense + dense.T) / 2)[::-1][:k]
    v0 = np.random.default_rng(seed).standard_normal(n)
    values = eigsh(op, k=k, which="LA", tol=tol, v0=v0, return_eigenvectors=False)
    return np.sort(values)[::-1]
