"""track: operators recorded over training, checked against an independent recomputation."""

import functools

import numpy as np
import pytest
import sympy as sp
from matplotlib.lines import Line2D

import symdyn as sd
import symdyn.autodiff as ad
from symdyn import operators as ops
from symdyn.errors import OperatorError
from tests.operators.test_ops_tangent import tanh_rnn
from tests.optional import require_module

ETA = 0.05
x, eta = sp.Symbol("x", real=True), sp.Symbol("eta", positive=True)


def gd():
    return sd.as_optimizer(sd.optimizers.gd(x**2 / 2, [x], lr=eta), {eta: ETA})


def task(seed=0):
    model = tanh_rnn(seed, batch=3, steps=5, hidden=4, inputs=2)
    target = np.sin(np.arange(1, 6) / 2)[None, :, None] * np.ones((3, 1, 2))
    return model, target


def mse(target):
    def loss(y):
        return ad.sum((y - target) ** 2) / target.size

    return loss


@pytest.fixture(scope="module")
def run():
    model, target = task()
    return ops.track(
        model, mse(target), gd(), steps=200, every=50, measures=["K", "<K>_hidden", "nto"], k=4
    )


def test_the_loss_decreases_and_checkpoints_are_recorded(run):
    assert run.steps == (0, 50, 100, 150, 200)
    assert run.history.shape == (201,) and run.loss[-1] < 0.5 * run.loss[0]
    assert run.spectra["K"].shape == (5, 4) and run.functions["<K>_hidden"].shape == (5, 4, 3, 5)
    assert np.isnan(run.drift["K"][0]) and np.all(run.drift["K"][1:] > 0.5)
    assert set(run.alignments) == {"K|nto"}


def test_one_checkpoint_against_an_independent_recomputation(run):
    """Plain GD by ad.grad to step 100, then K and Φ from dense Jacobians and LAPACK."""
    model, target = task()
    theta = model.theta.copy()

    def loss_of_theta(theta):
        return ad.sum((model.outputs(theta) - target) ** 2) / target.size

    B, T, H = model.shape

    def velocity_at(theta):
        """F(h_{t-1}(θ), x_{t-1}, ·) with the states of θ's own trajectory held fixed."""
        states = np.asarray(model.unroll(theta))
        previous = np.concatenate([model.h0[:, None], states[:, :-1]], axis=1).reshape(-1, H)
        inputs = model.inputs.reshape(B * T, -1)
        return lambda w: ad.reshape(model.step(previous, inputs, w), (B, T, H))

    dense_K = []
    for n in range(101):
        if n in (50, 100):
            J = ad.jacobian(velocity_at(theta))(theta).reshape(model.size, -1)
            dense_K.append(J @ J.T)
        if n < 100:
            theta = theta - ETA * ad.grad(loss_of_theta)(theta)
    assert run.loss[2] == pytest.approx(float(loss_of_theta(theta)), rel=1e-12)
    values = np.linalg.eigvalsh(dense_K[1])[::-1][:4]
    np.testing.assert_allclose(run.spectra["K"][2], values, rtol=1e-10)
    assert run.ranks["K"][2] == pytest.approx(ops.effective_rank(values), rel=1e-10)
    exact = (
        np.sum(dense_K[0] * dense_K[1]) / np.linalg.norm(dense_K[0]) / np.linalg.norm(dense_K[1])
    )
    assert run.drift["K"][2] == pytest.approx(exact, abs=0.02)
    averaged = dense_K[1].reshape(B, T, H, B, T, H).sum(axis=(2, 5)) / H
    top = np.linalg.eigh(averaged.reshape(B * T, B * T))[1][:, -1].reshape(B, T)
    function = run.functions["<K>_hidden"][2, 0]
    assert min(np.abs(function - top).max(), np.abs(function + top).max()) < 1e-8


def test_figures_draw_what_was_tracked(run):
    figure = ops.plot.tracking_figure(run)
    loss, spectra, ranks, aligned = figure.axes
    np.testing.assert_allclose(loss.lines[0].get_ydata(), run.history)
    assert len(spectra.lines) == 3 * 4  # k lines per measure
    np.testing.assert_allclose(spectra.lines[0].get_ydata(), run.spectra["K"][:, 0])
    np.testing.assert_allclose(ranks.lines[2].get_ydata(), run.ranks["nto"])
    assert "K|nto" in [text.get_text() for text in aligned.get_legend().get_texts()]
    eigen = ops.plot.eigenfunctions_figure(run, "<K>_hidden", panels=3)
    assert [ax.get_title() for ax in eigen.axes] == ["step 0", "step 100", "step 200"]
    curves = eigen.axes[1].lines
    assert len(curves) == 3 and all(isinstance(c, Line2D) for c in curves)
    np.testing.assert_allclose(
        np.abs([c.get_ydata() for c in curves]), np.abs(run.functions["<K>_hidden"][2, 0])
    )
    with pytest.raises(sd.errors.ShapeError, match="need \\[B, T\\]"):
        ops.plot.eigenfunctions_figure(run, "K")


def test_torch_and_optax_optimizers_take_the_same_steps():
    torch = require_module("torch")
    optax = require_module("optax")
    model, target = task(1)
    runs = [
        ops.track(model, mse(target), optimizer, steps=3, every=3, measures=["K"], k=2)
        for optimizer in (gd(), functools.partial(torch.optim.SGD, lr=ETA), optax.sgd(ETA))
    ]
    for other in runs[1:]:
        np.testing.assert_allclose(other.theta, runs[0].theta, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(other.history, runs[0].history, rtol=1e-6)
    with pytest.raises(OperatorError, match="unknown measure"):
        ops.track(model, mse(target), gd(), steps=1, every=1, measures=["Q"])
