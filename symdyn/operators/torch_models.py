"""Recurrences of PyTorch models: a torch function or an ``nn.Module`` cell, by ``torch.func``.

The model runs in torch; the operators differentiate it with
``torch.func.jvp``, ``vjp``, ``vmap`` and ``jacrev``/``jacfwd`` (forward over
reverse for Hessian-vector products). An ``nn.Module`` is called through
``torch.func.functional_call`` with θ unflattened into its parameters, so
the module itself is never modified. ``nn.RNN``, ``nn.GRU`` and ``nn.LSTM``
(one layer, one direction) run through the matching cell; an LSTM's state
is (h, c), concatenated to [B, 2H]. PyTorch is imported only here, and only
when a model asks for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symdyn.errors import OperatorError, ShapeError

from .backends import Products
from .model import Recurrence

__all__ = ["TorchBackend", "from_torch"]


def _torch():
    try:
        import torch
        import torch.func
    except ImportError:
        raise OperatorError(
            "Recurrence.from_torch needs PyTorch: pip install 'symdyn[torch]'"
        ) from None
    return torch


@dataclass(frozen=True)
class TorchBackend(Products):
    """Differentiation by ``torch.func``; values are CPU tensors of ``dtype``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> TorchBackend("float64").jvp(torch.sin, np.zeros(2), np.ones(2))[1]
    array([1., 1.])
    """

    dtype: str = "float64"
    name: str = "torch"

    def native(self, array):
        torch = _torch()
        if isinstance(array, torch.Tensor):
            return array
        return torch.tensor(np.asarray(array), dtype=getattr(torch, self.dtype))

    def numpy(self, value):
        torch = _torch()
        if isinstance(value, torch.Tensor):
            return value.detach().cpu().numpy()
        return np.asarray(value)

    def evaluate(self, f, x):
        with _torch().no_grad():
            return self.numpy(f(self.native(x)))

    def stack(self, arrays, axis):
        return _torch().stack(list(arrays), dim=axis)

    def reshape(self, x, shape):
        return _torch().reshape(x, shape)

    def traced(self, out, x):
        return out + 0.0 * x

    def jvp(self, f, x, v):
        value, tangent = _torch().func.jvp(f, (self.native(x),), (self.native(v),))
        return self.numpy(value), self.numpy(tangent)

    def vjp(self, f, x):
        value, pull = _torch().func.vjp(f, self.native(x))
        return self.numpy(value), lambda u: self.numpy(pull(self.native(u))[0])

    def hvp(self, f, x, v):
        func = _torch().func
        return self.numpy(func.jvp(func.grad(f), (self.native(x),), (self.native(v),))[1])

    def value_and_grad(self, f, x):
        gradient, value = _torch().func.grad_and_value(f)(self.native(x))
        return float(value), self.numpy(gradient)

    def batch_jvp(self, f, x, tangents):
        func = _torch().func
        x = self.native(x)

        def push(v):
            return func.jvp(f, (x,), (v,))[1]

        return self.evaluate(f, x), self.numpy(func.vmap(push)(self.native(tangents)))

    def jacobian(self, f, x):
        """Dense [f(x).size, x.size]: reverse mode (vmap of one pullback) for fewer outputs
        than inputs, else ``jacfwd``."""
        func = _torch().func
        x = self.native(x)
        value, pull = func.vjp(f, x)
        if value.numel() < x.numel():
            basis = _torch().eye(value.numel(), dtype=value.dtype).reshape(-1, *value.shape)
            rows = func.vmap(pull)(basis)[0]
            return self.numpy(rows).reshape(value.numel(), x.numel())
        return self.numpy(func.jacfwd(f)(x)).reshape(value.numel(), x.numel())


def _flat_parameters(named):
    return np.concatenate([p.detach().cpu().numpy().ravel() for _, p in named])


def _standard_cell(torch, module, dtype):
    """The cell of a one-layer, one-direction nn.RNN / GRU / LSTM, or None for another module."""
    kinds = {
        torch.nn.RNN: lambda m: torch.nn.RNNCell(
            m.input_size, m.hidden_size, m.bias, m.nonlinearity, dtype=dtype
        ),
        torch.nn.GRU: lambda m: torch.nn.GRUCell(m.input_size, m.hidden_size, m.bias, dtype=dtype),
        torch.nn.LSTM: lambda m: torch.nn.LSTMCell(
            m.input_size, m.hidden_size, m.bias, dtype=dtype
        ),
    }
    make = kinds.get(type(module))
    if make is None:
        return None
    if module.num_layers != 1 or module.bidirectional or getattr(module, "proj_size", 0):
        raise OperatorError(
            f"Recurrence.from_torch: {type(module).__name__} with num_layers="
            f"{module.num_layers}, bidirectional={module.bidirectional}: only one layer in "
            "one direction (without proj_size) runs through its cell; pass a cell instead"
        )
    return make(module)


def _is_lstm(torch, module):
    return isinstance(module, (torch.nn.LSTM, torch.nn.LSTMCell))


def _state_sizes(torch, module, h0):
    """h0 as one array [B, Σ H_i] and the sizes of the state's parts (one part: None)."""
    if isinstance(h0, (tuple, list)):
        parts = [np.asarray(part) for part in h0]
        return np.concatenate(parts, axis=-1), [part.shape[-1] for part in parts]
    h0 = np.asarray(h0)
    if module is not None and _is_lstm(torch, module):
        hidden = module.hidden_size
        if h0.ndim != 2 or h0.shape[-1] != 2 * hidden:
            raise ShapeError(
                f"Recurrence.from_torch: an LSTM's state is (h, c); pass h0 as a pair of "
                f"[B, {hidden}] arrays or one [B, {2 * hidden}] array, got shape {h0.shape}"
            )
        return h0, [hidden, hidden]
    return h0, None


def _module_step(torch, module, theta_size, sizes, time_dependent):
    """step(h, x, θ[, t]) calling ``module(x, state)`` with θ as its parameters."""
    cell = _standard_cell(torch, module, next(module.parameters()).dtype) or module
    shapes = [(name.removesuffix("_l0"), p.shape) for name, p in module.named_parameters()]

    def parameters(theta):
        out, start = {}, 0
        for name, shape in shapes:
            count = int(np.prod(shape))
            out[name] = theta[start : start + count].reshape(shape)
            start += count
        return out

    def step(h, x, theta, *t):
        state = h if sizes is None else tuple(torch.split(h, sizes, dim=-1))
        args = (x, state, *t) if time_dependent else (x, state)
        out = torch.func.functional_call(cell, parameters(theta), args)
        return torch.cat(out, dim=-1) if isinstance(out, (tuple, list)) else out

    return step


def _fixed_readout(module):
    """readout(h, θ) = module(h): the readout's own parameters are held fixed."""

    def readout(h, theta):
        return module(h)

    return readout


def from_torch(
    step,
    theta,
    h0,
    inputs=None,
    steps: int | None = None,
    readout=None,
    time_dependent: bool = False,
) -> Recurrence:
    """A :class:`Recurrence` of a PyTorch model, differentiated by ``torch.func``.

    Parameters
    ----------
    step : callable or torch.nn.Module
        A torch function ``step(h, x, theta)`` (``theta`` a flat tensor), or a
        module called like torch's cells, ``module(x, state)`` → next state:
        ``nn.RNNCell``, ``nn.GRUCell``, ``nn.LSTMCell``, one-layer ``nn.RNN``,
        ``nn.GRU``, ``nn.LSTM`` (through their cells) or a custom cell. A
        module returning a tuple (an LSTM's (h, c)) has that tuple as its state.
    theta : array_like of shape [M], or None
        The parameters, flattened in ``module.named_parameters()`` order;
        None: the module's own parameters. Their dtype is the model's
        (a float32 module stays float32).
    h0 : array_like [B, H], or a tuple of [B, H_i] for a state in parts
    inputs, steps, readout, time_dependent
        As for :class:`Recurrence`; ``readout(h, theta)`` is a torch function.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from symdyn import operators as ops
    >>> cell = torch.nn.RNNCell(2, 3).double()
    >>> model = ops.Recurrence.from_torch(cell, None, np.zeros((4, 3)), np.ones((4, 5, 2)))
    >>> model.shape, model.theta.size, model.dtype
    ((4, 5, 3), 21, dtype('float64'))
    """
    torch = _torch()
    module = step if isinstance(step, torch.nn.Module) else None
    h0, sizes = _state_sizes(torch, module, h0)
    if module is not None:
        named = list(module.named_parameters())
        own = _flat_parameters(named)
        theta = own if theta is None else np.asarray(theta, dtype=own.dtype)
        if theta.shape != own.shape:
            raise ShapeError(
                f"Recurrence.from_torch: theta has shape {theta.shape}; the module has "
                f"{own.size} parameters ({', '.join(name for name, _ in named)})"
            )
        if inputs is None and _standard_cell(torch, module, own.dtype) is not None:
            raise ShapeError(f"Recurrence.from_torch: {type(module).__name__} needs inputs")
        step = _module_step(torch, module, theta.size, sizes, time_dependent)
    elif theta is None:
        raise ShapeError("Recurrence.from_torch: theta=None needs an nn.Module step")
    theta = np.asarray(theta)
    if theta.dtype not in (np.float32, np.float64):
        theta = theta.astype(np.float64)
    if isinstance(readout, torch.nn.Module):
        readout = _fixed_readout(readout)
    return Recurrence(
        step,
        theta,
        h0.astype(theta.dtype),
        None if inputs is None else np.asarray(inputs, dtype=theta.dtype),
        steps,
        readout,
        time_dependent,
        TorchBackend(str(theta.dtype)),
    )
