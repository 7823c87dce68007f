"""Recurrence.from_torch: every operator against torch.autograd.functional dense Jacobians."""

import numpy as np
import pytest

from symdyn import operators as ops
from symdyn.errors import OperatorError, ShapeError
from tests.operators.dense_references import check_model, close
from tests.optional import require_module

torch = require_module("torch")
F = torch.autograd.functional

B, T, H, I = 2, 3, 3, 2


class ScaledCell(torch.nn.Module):
    """A custom cell: h' = tanh(a ⊙ (W h) + U x)."""

    def __init__(self):
        super().__init__()
        self.W = torch.nn.Parameter(0.6 * torch.randn(H, H, dtype=torch.float64))
        self.U = torch.nn.Parameter(torch.randn(H, I, dtype=torch.float64))
        self.a = torch.nn.Parameter(torch.ones(H, dtype=torch.float64) + 0.1)

    def forward(self, x, h):
        return torch.tanh(self.a * (h @ self.W.T) + x @ self.U.T)


def module_step(module):
    """One step of the whole module (nn.RNN/GRU/LSTM over a sequence of length 1)."""
    names = [(name, p.shape) for name, p in module.named_parameters()]

    def step(theta, h, x):
        params, start = {}, 0
        for name, shape in names:
            params[name] = theta[start : start + shape.numel()].reshape(shape)
            start += shape.numel()
        if isinstance(module, torch.nn.LSTM):
            _, (hn, cn) = torch.func.functional_call(
                module, params, (x[None], (h[None, :, :H], h[None, :, H:]))
            )
            return torch.cat([hn[0], cn[0]], dim=-1)
        if isinstance(module, (torch.nn.RNN, torch.nn.GRU)):
            return torch.func.functional_call(module, params, (x[None], h[None]))[1][0]
        return torch.func.functional_call(module, params, (x, h))

    return step


def references(model, module, W_out, target):
    step = module_step(module)
    theta = torch.tensor(model.theta)
    h0, x = torch.tensor(model.h0), torch.tensor(model.inputs).transpose(0, 1)
    previous = torch.tensor(model.previous_states).transpose(0, 1)

    def unroll(theta, e=None):
        h, out = h0, []
        for t in range(T):
            h = step(theta, h, x[t]) + (0 if e is None else e[:, t])
            out.append(h)
        return torch.stack(out, dim=1)

    def velocity(theta):
        return torch.stack([step(theta, previous[t], x[t]) for t in range(T)], dim=1)

    def loss_of_theta(theta):
        return ((unroll(theta) @ W_out - target) ** 2).mean()

    zero = torch.zeros(model.shape, dtype=torch.float64)
    return dict(
        J_h=F.jacobian(unroll, theta).numpy(),
        J_F=F.jacobian(velocity, theta).numpy(),
        J_e=F.jacobian(lambda e: unroll(theta, e), zero).numpy(),
        J_y=F.jacobian(lambda th: unroll(th) @ W_out, theta).numpy(),
        hessian=F.hessian(loss_of_theta, theta).numpy(),
    )


def cases():
    torch.manual_seed(0)
    return {
        "RNN": torch.nn.RNN(I, H).double(),
        "GRU": torch.nn.GRU(I, H).double(),
        "LSTM": torch.nn.LSTM(I, H).double(),
        "custom": ScaledCell(),
    }


@pytest.mark.parametrize("name", ["RNN", "GRU", "LSTM", "custom"])
def test_every_operator_matches_dense_jacobians(name):
    module = cases()[name]
    rng = np.random.default_rng(1)
    state = 2 * H if name == "LSTM" else H
    W_out = torch.tensor(rng.standard_normal((state, 2)))
    target = torch.tensor(rng.standard_normal((B, T, 2)))
    model = ops.Recurrence.from_torch(
        module,
        None,
        0.3 * rng.standard_normal((B, state)),
        rng.standard_normal((B, T, I)),
        readout=lambda h, theta: h @ W_out,
    )
    refs = references(model, module, W_out, target)
    with torch.no_grad():  # the trajectory is the module's own
        close(model.trajectory, module_unrolled(module, model))

    def loss(y):
        return ((y - target) ** 2).mean()

    check_model(model, loss=loss, **refs)


def module_unrolled(module, model):
    theta = torch.tensor(model.theta)
    step = module_step(module)
    h, out = torch.tensor(model.h0), []
    for t in range(T):
        h = step(theta, h, torch.tensor(model.inputs[:, t]))
        out.append(h)
    return torch.stack(out, dim=1).numpy()


def test_a_torch_function_an_explicit_theta_and_float32():
    def step(h, x, theta):
        return torch.tanh(h @ theta[: H * H].reshape(H, H) + x @ theta[H * H :].reshape(I, H))

    rng = np.random.default_rng(2)
    theta = rng.standard_normal(H * H + I * H) / 2
    h0, inputs = rng.standard_normal((B, H)), rng.standard_normal((B, T, I))
    model = ops.Recurrence.from_torch(step, theta, h0, inputs)

    def unroll(theta):
        h, out = torch.tensor(h0), []
        for t in range(T):
            h = step(h, torch.tensor(inputs[:, t]), theta)
            out.append(h)
        return torch.stack(out, dim=1)

    J = F.jacobian(unroll, torch.tensor(theta)).numpy().reshape(model.size, -1)
    close(ops.nto(model).to_matrix(), J @ J.T)
    single = ops.Recurrence.from_torch(step, theta.astype(np.float32), h0, inputs)
    Phi32 = ops.nto(single)
    out = Phi32 @ np.ones(model.size)
    assert single.dtype == np.float32 and Phi32.dtype == np.float32 and out.dtype == np.float32
    np.testing.assert_allclose(out, ops.nto(model) @ np.ones(model.size), rtol=1e-4, atol=1e-4)
    cell = torch.nn.GRUCell(I, H)  # float32 parameters: a float32 model
    assert ops.Recurrence.from_torch(cell, None, h0, inputs).dtype == np.float32


def test_clear_errors():
    with pytest.raises(OperatorError, match="num_layers=2"):
        ops.Recurrence.from_torch(
            torch.nn.RNN(I, H, num_layers=2), None, np.zeros((B, H)), np.zeros((B, T, I))
        )
    with pytest.raises(ShapeError, match=r"\(h, c\)"):
        ops.Recurrence.from_torch(torch.nn.LSTM(I, H), None, np.zeros((B, H)), np.zeros((B, T, I)))
    with pytest.raises(ShapeError, match="21 parameters"):
        ops.Recurrence.from_torch(
            torch.nn.RNNCell(I, H), np.zeros(3), np.zeros((B, H)), np.zeros((B, T, I))
        )
    with pytest.raises(ShapeError, match=r"needs an nn\.Module"):
        ops.Recurrence.from_torch(torch.tanh, None, np.zeros((B, H)), np.zeros((B, T, I)))
