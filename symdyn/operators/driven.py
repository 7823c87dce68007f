"""Lyapunov exponents and gradient norms of an input-driven recurrence, one per trial.

Along a :class:`~symdyn.operators.Recurrence`'s trajectory each trial b has
its own Jacobians A_t^b = ∂F/∂h at (h_{t-1}^b, x_{t-1}^b), the inputs
driving them. Every trial's tangent frame [H, k] is pushed at once: the
frames of all B trials are k tangents of the batched step (rows do not
interact), so each time step is one batched JVP, whatever B and k, through
the model's backend (symdyn autodiff, torch or JAX). NumPy's stacked QR
re-orthonormalises the B frames together.
"""

from __future__ import annotations

import numpy as np

from symdyn.errors import ShapeError

from .model import Recurrence, SpectrumSizeError

__all__ = ["driven_finite_time_lyapunov", "driven_gradient_norms", "driven_lyapunov_spectrum"]


def _pusher(model):
    """push(t, frames [B, H, k]) = A_{t+1} frames, trial by trial, in one batched JVP."""
    backend, previous = model.backend, model.previous_states
    argument = int if model.time_dependent else model.input_at

    def push(t, frames):
        def step(h):
            return model.state_step(h, argument(t))

        tangents = np.moveaxis(frames, -1, 0)
        pushed = backend.batch_jvp(step, previous[:, t], tangents)[1]
        return np.moveaxis(np.asarray(pushed), 0, -1)

    return push


def _frames(model, k):
    batch, _, hidden = model.shape
    eye = np.eye(hidden, k, dtype=model.dtype)
    return np.broadcast_to(eye, (batch, hidden, k)).copy()


def driven_lyapunov_spectrum(model: Recurrence, k: int | None = None, discard: int = 0):
    """The top-``k`` Lyapunov exponents of each trial along the driven trajectory, [B, k].

    The QR (Benettin) method of :func:`~symdyn.operators.lyapunov_spectrum`
    on the time-varying Jacobians of each trial; the first ``discard`` of
    the T steps align the frames and are not counted (T − discard are).

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> from symdyn.operators import Recurrence
    >>> W = np.diag([2.0, 0.5])
    >>> model = Recurrence(lambda h, x, w: h @ W + x, np.zeros(1), np.zeros((3, 2)),
    ...                    np.ones((3, 20, 2)))
    >>> np.round(driven_lyapunov_spectrum(model), 6)[0]
    array([ 0.693147, -0.693147])
    """
    _, steps, hidden = model.shape
    k = hidden if k is None else k
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= hidden:
        raise SpectrumSizeError(
            f"lyapunov_spectrum: k = {k!r} exponents asked of a state of dimension {hidden}"
        )
    if not isinstance(discard, (int, np.integer)) or not 0 <= discard < steps:
        raise ShapeError(
            f"lyapunov_spectrum: discard = {discard!r} must leave steps to count (T = {steps})"
        )
    push, frames = _pusher(model), _frames(model, k)
    total = np.zeros(frames.shape[::2])
    for t in range(steps):
        frames, r = np.linalg.qr(push(t, frames))
        if t >= discard:
            with np.errstate(divide="ignore"):
                total += np.log(np.abs(np.diagonal(r, axis1=1, axis2=2)))
    return -np.sort(-total / (steps - discard), axis=1)


def _transitions(model):
    """M_t = ∂h_t/∂h_0 for every trial, t = 1 … T: a list of [B, H, H]."""
    push, frames = _pusher(model), _frames(model, model.shape[2])
    out = []
    for t in range(model.steps):
        frames = push(t, frames)
        out.append(frames)
    return out


def driven_finite_time_lyapunov(model: Recurrence):
    """log σᵢ(∂h_T/∂h_0) / T for each trial, descending, [B, H]."""
    last = _transitions(model)[-1]
    with np.errstate(divide="ignore"):
        return np.log(np.linalg.svd(last, compute_uv=False)) / model.steps


def driven_gradient_norms(model: Recurrence, ord=2):
    """‖∂h_t/∂h_0‖ for each trial and t = 1 … T, [B, T] (``ord`` as for numpy.linalg.norm)."""
    return np.stack([np.linalg.norm(m, ord=ord, axis=(1, 2)) for m in _transitions(model)], axis=1)
