"""Permutation symmetry: identical hidden units stay identical under GD until noise breaks it.

If two hidden units of an MLP start with the same incoming and outgoing weights, the loss is
symmetric under swapping them, so their gradients are equal and gradient descent keeps them
equal forever: the network trains as if it had one unit fewer. Here a 2-2-1 network on XOR
(which one tanh unit cannot fit) with identical units stays stuck, bit for bit identical;
a perturbation of 1e-6 grows (the symmetric subspace is unstable) and the network solves XOR.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import _gallery as gallery

import symdyn.autodiff as ad
from symdyn.derivation import Derivation

NAME = "permutation_symmetry"
INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
TARGETS = np.array([0.0, 1.0, 1.0, 0.0])
STEPS, STEP = 4000, 0.5


def loss(W1, b1, w2, b2):
    hidden = ad.tanh(INPUTS @ W1 + b1)
    return ad.mean((hidden @ w2 + b2 - TARGETS) ** 2) / 2


def train(noise, seed=0):
    rng = np.random.default_rng(seed)
    column = rng.standard_normal(2)
    W1 = np.stack([column, column], axis=1)
    b1 = np.full(2, 0.1)
    w2 = np.full(2, 0.5)
    b2 = np.zeros(())
    W1 = W1 + noise * rng.standard_normal(W1.shape)
    value_and_grad = ad.value_and_grad(loss, argnum=(0, 1, 2, 3))
    losses, gaps = [], []
    for _ in range(STEPS):
        value, (gW1, gb1, gw2, gb2) = value_and_grad(W1, b1, w2, b2)
        losses.append(float(value))
        gaps.append(np.abs(W1[:, 0] - W1[:, 1]).max() + abs(w2[0] - w2[1]) + abs(b1[0] - b1[1]))
        W1, b1, w2, b2 = W1 - STEP * gW1, b1 - STEP * gb1, w2 - STEP * gw2, b2 - STEP * gb2
    return np.array(losses), np.array(gaps), (W1, b1, w2, b2)


def main():
    print("permutation symmetry of hidden units")
    sym_losses, sym_gaps, sym_params = train(0.0)
    noisy_losses, noisy_gaps, _ = train(1e-6)
    W1, b1, w2, _ = sym_params
    gallery.claim(
        np.array_equal(W1[:, 0], W1[:, 1]) and b1[0] == b1[1] and w2[0] == w2[1],
        f"identical units stay bit-for-bit identical after {STEPS} steps",
    )
    gallery.claim(sym_losses[-1] > 0.05, f"and the network is stuck (loss {sym_losses[-1]:.3f})")
    gallery.claim(
        noisy_gaps[-1] > 1e5 * noisy_gaps[0], f"a 1e-6 perturbation grows to {noisy_gaps[-1]:.2f}"
    )
    gallery.claim(
        noisy_losses[-1] < 1e-3,
        f"and the broken-symmetry network fits XOR (loss {noisy_losses[-1]:.1e})",
    )

    fig, (left, right) = gallery.figure(ncols=2, size=(10, 4.0))
    left.semilogy(sym_losses, label="identical units")
    left.semilogy(noisy_losses, label=r"perturbed by $10^{-6}$")
    left.set_xlabel(r"step $k$")
    left.set_ylabel(r"loss $L(\theta_k)$")
    left.set_ylim(1e-10, 1)
    left.legend(fontsize=8)
    right.semilogy(np.maximum(sym_gaps, 1e-18), label="identical units (exactly 0)")
    right.semilogy(noisy_gaps, label=r"perturbed by $10^{-6}$")
    right.set_xlabel(r"step $k$")
    right.set_ylabel(r"$\|\theta_{\mathrm{unit}\,1} - \theta_{\mathrm{unit}\,2}\|_\infty$")
    right.legend(fontsize=8)
    figure_path = gallery.save_figure(fig, NAME)
    report = (
        Derivation("Permutation symmetry of hidden units")
        .then(
            "Swapping two hidden units leaves the loss unchanged. If their parameters are equal "
            "the gradient is symmetric too, so gradient descent keeps them equal: the set of "
            "symmetric networks is invariant, and training inside it is training a network "
            "with one unit fewer."
        )
        .then(
            f"A 2-2-1 tanh network on XOR, full-batch GD with $\\eta = {STEP}$ for {STEPS} "
            "steps. From identical units the two stay bit for bit equal and the loss stalls "
            f"at {sym_losses[-1]:.3f}; perturbing the first layer by $10^{{-6}}$ lets the "
            f"difference grow to {noisy_gaps[-1]:.2f} (the invariant set repels) and the loss "
            f"falls to {noisy_losses[-1]:.1e}."
        )
    )
    gallery.save(report, NAME, figures=[figure_path])


if __name__ == "__main__":
    main()
