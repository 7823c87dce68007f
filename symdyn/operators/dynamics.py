"""How perturbations of a hidden state grow: Lyapunov exponents and gradient norms.

For a map h ↦ step(h) with Jacobians A_t along the trajectory, the
state-transition matrix is M_t = A_t ⋯ A_1 = ∂h_t/∂h_0. Its singular values
give finite-time Lyapunov exponents log σᵢ(M_T)/T and the gradient norms
‖∂h_t/∂h_0‖ of backpropagation through time; the QR (Benettin) method gets
the Lyapunov spectrum without forming M_T, which over- or underflows for
long horizons. The k tangent columns go through ``step`` as one batched
JVP per step (:func:`symdyn.autodiff.batch_jvp`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

import symdyn.autodiff as ad
from symdyn.errors import ShapeError

from .driven import (
    driven_finite_time_lyapunov,
    driven_gradient_norms,
    driven_lyapunov_spectrum,
)
from .model import Recurrence, SpectrumSizeError

__all__ = ["finite_time_lyapunov", "gradient_norms", "lyapunov_spectrum"]


def _state(h0, where):
    h = np.asarray(h0, dtype=float)
    if h.ndim != 1 or h.size == 0:
        raise ShapeError(f"{where}: h0 must be a non-empty vector [H], got shape {h.shape}")
    return h


def _push(step, h, columns, where):
    """step(h) and the Jacobian times the columns of ``columns``, in one batched JVP."""

    def traced(x):
        out = step(x)
        if np.shape(out) != h.shape:
            raise ShapeError(
                f"{where}: step must map a state of shape {h.shape} to one of the same "
                f"shape, got {np.shape(out)}"
            )
        # + 0·x keeps a map that ignores its state traced (its Jacobian is zero)
        return ad.add(out, ad.multiply(0.0, x))

    value, pushed = ad.batch_jvp(traced, h, columns.T)
    return np.asarray(value), np.asarray(pushed).T


def _steps(steps, where):
    if not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ShapeError(f"{where}: steps must be a positive integer, got {steps!r}")
    return int(steps)


def lyapunov_spectrum(
    step: Callable, h0=None, steps: int | None = None, k: int | None = None, discard: int = 0
) -> np.ndarray:
    """The top-``k`` Lyapunov exponents of ``step`` along the orbit of ``h0``, by QR.

    Algorithm (Benettin et al., 1980): start from Q = I[:, :k]; at each
    step factor A_t Q = Q' R and accumulate log |R_ii|; the exponents are
    the averages over the counted steps. The first ``discard`` steps only
    align Q with the growing directions (their growth is not counted), which
    removes the O(1/T) bias of the start.

    Parameters
    ----------
    step : callable or Recurrence
        Maps a state [H] to the next state [H]; written with :mod:`symdyn.autodiff`.
        Or a model (any backend, with or without inputs): then the exponents
        are those of each trial along its driven trajectory, [B, k]
        (``h0`` and ``steps`` are the model's; T − ``discard`` steps count).
    h0 : array_like, shape [H]
    steps : int
        Number of steps whose growth is averaged.
    k : int, optional
        How many exponents (default all H).
    discard : int
        Transient steps run first and not counted.

    Returns
    -------
    ndarray, shape [k] (a map) or [B, k] (a model)
        Exponents, descending (natural log per step).

    Guarantee
    ---------
    For a linear map h ↦ W h with eigenvalues of distinct moduli, the
    exponents converge to log|λᵢ(W)|, sorted.

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[2.0, 1.0], [0.0, 0.5]])
    >>> np.round(lyapunov_spectrum(lambda h: W @ h, np.zeros(2), steps=200, discard=50), 6)
    array([ 0.693147, -0.693147])
    """
    if isinstance(step, Recurrence):
        return driven_lyapunov_spectrum(step, k, discard)
    h = _state(h0, "lyapunov_spectrum")
    steps = _steps(steps, "lyapunov_spectrum")
    k = h.size if k is None else k
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= h.size:
        raise SpectrumSizeError(
            f"lyapunov_spectrum: k = {k!r} exponents asked of a state of dimension {h.size}"
        )
    q = np.eye(h.size)[:, :k]
    total = np.zeros(k)
    for t in range(discard + steps):
        h, pushed = _push(step, h, q, "lyapunov_spectrum")
        q, r = np.linalg.qr(pushed)
        if t >= discard:
            with np.errstate(divide="ignore"):
                total += np.log(np.abs(np.diag(r)))
    return np.sort(total / steps)[::-1]


def _transition(step, h0, steps, where):
    """M_t = ∂h_t/∂h_0 for t = 1 … steps (a list of [H, H] arrays)."""
    h = _state(h0, where)
    steps = _steps(steps, where)
    m = np.eye(h.size)
    out = []
    for _ in range(steps):
        h, m = _push(step, h, m, where)
        out.append(m)
    return out


def finite_time_lyapunov(step: Callable, h0=None, steps: int | None = None) -> np.ndarray:
    """log σᵢ(∂h_T/∂h_0) / T, descending: the finite-time Lyapunov exponents.

    For a :class:`~symdyn.operators.Recurrence`, those of each trial along
    its trajectory, [B, H].

    The product is formed explicitly, so keep T·|λ| below the float range
    (~700); use :func:`lyapunov_spectrum` for long horizons. The two agree as
    T grows.

    Examples
    --------
    >>> import numpy as np
    >>> np.round(finite_time_lyapunov(lambda h: 0.5 * h, np.ones(2), steps=10), 6)
    array([-0.693147, -0.693147])
    """
    if isinstance(step, Recurrence):
        return driven_finite_time_lyapunov(step)
    m = _transition(step, h0, steps, "finite_time_lyapunov")[-1]
    with np.errstate(divide="ignore"):
        return np.log(np.linalg.svd(m, compute_uv=False)) / steps


def gradient_norms(step: Callable, h0=None, steps: int | None = None, ord=2) -> np.ndarray:
    """‖∂h_t/∂h_0‖ for t = 1 … ``steps``: do gradients through time vanish or explode?

    For a :class:`~symdyn.operators.Recurrence`, per trial along its
    trajectory: [B, T].

    ``ord`` is passed to ``numpy.linalg.norm`` (2: the spectral norm, the
    largest gain of a backpropagated error).

    Examples
    --------
    >>> import numpy as np
    >>> W = np.array([[0.0, 2.0], [0.0, 0.0]])       # nilpotent: gradients die after 2 steps
    >>> gradient_norms(lambda h: W @ h, np.zeros(2), steps=3)
    array([2., 0., 0.])
    """
    if isinstance(step, Recurrence):
        return driven_gradient_norms(step, ord)
    return np.array(
        [np.linalg.norm(m, ord) for m in _transition(step, h0, steps, "gradient_norms")]
    )
