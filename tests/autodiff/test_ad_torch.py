"""Gradients and Hessian-vector products agree with PyTorch's autograd.

Each function is written twice, once per library, with the same operations.
"""

import numpy as np
import pytest

import symdyn.autodiff as ad
from tests.optional import require_module

torch = require_module("torch")

RNG = np.random.default_rng(0)
DATA = RNG.standard_normal((6, 3))
LABELS = np.eye(4)[RNG.integers(0, 4, 6)]
SHAPES = [(3, 5), (5,), (5, 4)]
SIZE = sum(int(np.prod(s)) for s in SHAPES)


def _unpack(theta, reshape):
    parts, start = [], 0
    for shape in SHAPES:
        n = int(np.prod(shape))
        parts.append(reshape(theta[start : start + n], shape))
        start += n
    return parts


def mlp_ad(theta):
    w1, b1, w2 = _unpack(theta, ad.reshape)
    logits = ad.tanh(DATA @ w1 + b1) @ w2
    return -ad.mean(ad.sum(LABELS * ad.log_softmax(logits), axis=1))


def mlp_torch(theta):
    w1, b1, w2 = _unpack(theta, torch.reshape)
    logits = torch.tanh(torch.from_numpy(DATA) @ w1 + b1) @ w2
    return -torch.mean(torch.sum(torch.from_numpy(LABELS) * torch.log_softmax(logits, 1), 1))


def smooth_ad(x):
    return ad.sum(ad.sin(x) * ad.exp(x) / (1.0 + x**2)) + ad.logsumexp(x) + ad.sqrt(x @ x)


def smooth_torch(x):
    return (
        torch.sum(torch.sin(x) * torch.exp(x) / (1.0 + x**2))
        + torch.logsumexp(x, 0)
        + (torch.sqrt(x @ x))
    )


def kinked_ad(x):
    return ad.sum(ad.maximum(x, 0.3) * ad.abs(x) + ad.where(x > 0, x**3, ad.sigmoid(x)))


def kinked_torch(x):
    return torch.sum(
        torch.maximum(x, torch.tensor(0.3, dtype=x.dtype)) * torch.abs(x)
        + torch.where(x > 0, x**3, torch.sigmoid(x))
    )


CASES = [(mlp_ad, mlp_torch, SIZE), (smooth_ad, smooth_torch, 7), (kinked_ad, kinked_torch, 7)]


def _torch_grad_and_hvp(f, x, v):
    xt = torch.tensor(x, requires_grad=True)
    (g,) = torch.autograd.grad(f(xt), xt, create_graph=True)
    (hv,) = torch.autograd.grad(g, xt, grad_outputs=torch.tensor(v))
    return g.detach().numpy(), hv.numpy()


@pytest.mark.parametrize("f_ad, f_torch, n", CASES, ids=["mlp", "smooth", "kinked"])
def test_gradient_and_hvp_agree_with_torch(f_ad, f_torch, n):
    rng = np.random.default_rng(n)
    x, v = rng.standard_normal(n), rng.standard_normal(n)
    g_torch, hv_torch = _torch_grad_and_hvp(f_torch, x, v)
    np.testing.assert_allclose(ad.grad(f_ad)(x), g_torch, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ad.hvp(f_ad, x, v), hv_torch, rtol=1e-10, atol=1e-12)
