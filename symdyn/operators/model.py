"""A discrete recurrent model over a batch: the object every operator is built on.

A :class:`Recurrence` is the model written as data: the step
h_t = F(h_{t-1}, x_{t-1}, θ), the parameters θ as one flat vector, the
initial states of the batch and the inputs. Its hidden trajectory has shape
[B, T, H] (h_1 … h_T; h_0 is fixed, not part of it). The operators in
:mod:`symdyn.operators.tangent` act on tensors of that shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from symdyn.errors import (
    NoParametersError,
    OperatorError,
    ShapeError,
    SpectrumSizeError,
)

from .backends import AUTODIFF

__all__ = ["NoParametersError", "OperatorError", "Recurrence", "SpectrumSizeError"]


def _float_array(value, name, dtype=None):
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise ShapeError(f"Recurrence: {name} must be a numeric array, got dtype {array.dtype}")
    if dtype is None:
        dtype = array.dtype if array.dtype in (np.float32, np.float64) else np.float64
    return array.astype(dtype)


@dataclass(frozen=True, eq=False)
class Recurrence:
    """A batched recurrent model h_t = F(h_{t-1}, x_{t-1}, θ), t = 1 … T.

    Parameters
    ----------
    step : callable
        ``step(h, x, theta)`` (or ``step(h, x, theta, t)`` with
        ``time_dependent=True``, t = 0 … T−1) maps the states [B, H], the
        inputs [B, I] of one time (``None`` when there are no inputs) and the
        flat parameter vector [M] to the next states [B, H]. Rows must not
        interact: the batch is a batch. Write it with :mod:`symdyn.autodiff`
        functions so it can be traced.
    theta : array_like, shape [M]
    h0 : array_like, shape [B, H]
    inputs : array_like, shape [B, T, I], optional
    steps : int, optional
        T, required when ``inputs`` is None.
    readout : callable, optional
        ``readout(h, theta)`` maps the trajectory [B, T, H] to the outputs
        (any shape, e.g. [B, T, O] for y = W_out h + b_out); the identity
        by default. Used by :func:`~symdyn.operators.ntk`.
    time_dependent : bool
        Pass the time index to ``step`` (an MLP: one layer per time).
    backend : AutodiffBackend, optional
        How ``step`` is differentiated; symdyn's autodiff by default.
        :meth:`from_torch` and :meth:`from_jax` set the framework's.

    The dtype is θ's (float32 stays float32; anything else is float64);
    ``h0`` and the inputs are cast to it.

    Attributes
    ----------
    trajectory : ndarray, shape [B, T, H]
        h_1 … h_T, computed once on construction.

    Examples
    --------
    >>> import numpy as np
    >>> import symdyn.autodiff as ad
    >>> step = lambda h, x, w: ad.tanh(h * w[0] + x)
    >>> model = Recurrence(step, [0.5], h0=np.zeros((2, 1)), inputs=np.ones((2, 3, 1)))
    >>> model.shape
    (2, 3, 1)
    """

    step: Callable
    theta: np.ndarray
    h0: np.ndarray
    inputs: np.ndarray | None = None
    steps: int | None = None
    readout: Callable | None = None
    time_dependent: bool = False
    backend: object = AUTODIFF
    trajectory: np.ndarray = field(init=False, repr=False)

    @classmethod
    def from_torch(cls, step, theta, h0, inputs=None, **options):
        """A Recurrence of a torch function or ``nn.Module`` cell; see
        :func:`symdyn.operators.torch_models.from_torch`."""
        from .torch_models import from_torch

        return from_torch(step, theta, h0, inputs, **options)

    @classmethod
    def from_jax(cls, step, theta, h0, inputs=None, **options):
        """A Recurrence of a JAX function; see :func:`symdyn.operators.jax_models.from_jax`."""
        from .jax_models import from_jax

        return from_jax(step, theta, h0, inputs, **options)

    def __post_init__(self):
        theta = _float_array(self.theta, "theta")
        if theta.ndim != 1:
            raise ShapeError(
                f"Recurrence: theta must be one flat vector [M], got shape {theta.shape}"
            )
        h0 = _float_array(self.h0, "h0", theta.dtype)
        if h0.ndim != 2:
            raise ShapeError(f"Recurrence: h0 must have shape [B, H], got {h0.shape}")
        inputs = self.inputs
        steps = self.steps
        if inputs is not None:
            inputs = _float_array(inputs, "inputs", theta.dtype)
            if inputs.ndim != 3 or inputs.shape[0] != h0.shape[0]:
                raise ShapeError(
                    f"Recurrence: inputs must have shape [B, T, I] with B = {h0.shape[0]} "
                    f"(the batch of h0), got {inputs.shape}"
                )
            if steps is not None and steps != inputs.shape[1]:
                raise ShapeError(
                    f"Recurrence: steps={steps} but the inputs have T = {inputs.shape[1]}"
                )
            steps = inputs.shape[1]
        if steps is None or int(steps) != steps or steps < 1:
            raise ShapeError(f"Recurrence: need steps ≥ 1 (or inputs [B, T, I]), got {steps!r}")
        for name, value in (
            ("theta", theta),
            ("h0", h0),
            ("inputs", inputs),
            ("steps", int(steps)),
        ):
            object.__setattr__(self, name, value)
        native = self.backend.native
        object.__setattr__(self, "_native_h0", native(h0))
        object.__setattr__(self, "_native_inputs", None if inputs is None else native(inputs))
        trajectory = self.backend.evaluate(self._unroll, theta)
        object.__setattr__(self, "trajectory", trajectory)

    @property
    def shape(self):
        """(B, T, H), the shape of the hidden trajectory."""
        batch, hidden = self.h0.shape
        return (batch, self.steps, hidden)

    @property
    def dtype(self):
        """The floating dtype of θ, the states and the operators."""
        return self.theta.dtype

    @property
    def size(self):
        """B·T·H, the dimension the operators act on."""
        return int(np.prod(self.shape))

    def input_at(self, t):
        """The inputs x_t [B, I] in the backend's arrays (``None`` without inputs)."""
        return None if self.inputs is None else self._native_inputs[:, t]

    def apply_step(self, h, t, theta=None):
        """F(h, x_t, θ) for states [B, H] (the backend's arrays); θ defaults to the model's."""
        theta = self.backend.native(self.theta) if theta is None else theta
        if self.time_dependent:
            return self.step(h, self.input_at(t), theta, t)
        return self.step(h, self.input_at(t), theta)

    def state_step(self, h, x_or_t):
        """F(h, x_t, θ) + 0·h as a function of the state, for the propagator P.

        ``x_or_t`` is the time index for a time-dependent model, else the
        inputs x_t (backend arrays, or None). Adding 0·h keeps the map traced
        when F ignores the state (an MLP's first layer): its Jacobian is zero.
        """
        if self.time_dependent:
            out = self.apply_step(h, x_or_t)
        else:
            out = self.step(h, x_or_t, self.backend.native(self.theta))
        return self.backend.traced(out, h)

    def _checked(self, out, t, h_shape):
        if np.shape(out) != h_shape:
            raise ShapeError(
                f"Recurrence: step at t = {t} returned shape {np.shape(out)}, "
                f"expected {h_shape} (the shape of the states it was given)"
            )
        return out

    def _unroll(self, theta):
        h = self._native_h0
        states = []
        for t in range(self.steps):
            h = self._checked(self.apply_step(h, t, theta), t, self.h0.shape)
            states.append(h)
        return self.backend.stack(states, axis=1)

    def unroll(self, theta):
        """The trajectory [B, T, H] as a function of θ (traceable by the backend)."""
        return self._unroll(theta)

    def velocity(self, theta):
        """F(h_{t-1}, x_{t-1}, θ) for every t along the fixed trajectory, shape [B, T, H].

        The states are those of the nominal trajectory, held constant: this is
        the map whose Jacobian in θ defines K.
        """
        batch, steps, hidden = self.shape
        native = self.backend.native
        previous = self.previous_states
        if self.time_dependent:
            return self.backend.stack(
                [self.apply_step(native(previous[:, t]), t, theta) for t in range(steps)], axis=1
            )
        flat_h = native(previous.reshape(batch * steps, hidden))
        x = None if self.inputs is None else native(self.inputs.reshape(batch * steps, -1))
        out = self.step(flat_h, x, theta)
        return self.backend.reshape(out, (batch, steps, hidden))

    @property
    def previous_states(self):
        """h_0 … h_{T-1}, shape [B, T, H]: the states each step starts from."""
        return np.concatenate([self.h0[:, None], self.trajectory[:, :-1]], axis=1)

    def outputs(self, theta):
        """readout(unroll(θ), θ) (traceable); the trajectory without a readout."""
        states = self.unroll(theta)
        return states if self.readout is None else self.readout(states, theta)

    def require_parameters(self, what):
        if self.theta.size == 0:
            raise NoParametersError(
                f"{what}: the model has no parameters (theta is empty), so the operator "
                "(dz/dθ)(dz/dθ)ᵀ is the zero map on a space with no directions to train"
            )
