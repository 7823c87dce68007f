"""Vanishing and exploding gradients through depth (a deep tanh MLP) and time (an RNN).

Backpropagation multiplies one Jacobian per layer or time step. For a deep network with
weights W_l ~ N(0, σ²/n) the squared gradient norm changes per layer by about
χ = σ² E[tanh'(h)²] (Poole et al. 2016; Schoenholz et al. 2017): it vanishes for χ < 1
and grows for χ > 1. Through time, a linear RNN h ← Wh with W = s·Q (Q orthogonal)
scales it by exactly s per step; h ← tanh(Wh) stays below s^t.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import _gallery as gallery

import symdyn.autodiff as ad
from symdyn import operators as ops
from symdyn.derivation import Derivation

NAME = "vanishing_gradients"
WIDTH, DEPTH = 128, 40


def layer_gradients(scale, seed=0):
    """‖∂L/∂h_l‖ for l = 0 … DEPTH of L = sum(h_DEPTH)/√n, through tanh layers (reverse mode)."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((WIDTH, WIDTH)) * scale / np.sqrt(WIDTH) for _ in range(DEPTH)]
    h0 = rng.standard_normal(WIDTH)
    norms = []
    for start in range(DEPTH + 1):
        h = h0
        for W in weights[:start]:
            h = np.tanh(W @ h)

        def tail(h, start=start):
            for W in weights[start:]:
                h = ad.tanh(W @ h)
            return ad.sum(h) / np.sqrt(WIDTH)

        norms.append(np.linalg.norm(ad.grad(tail)(h)))
    return np.array(norms)


def main():
    print("vanishing and exploding gradients")
    depth_norms = {scale: layer_gradients(scale) for scale in (0.5, 1.0, 3.0)}
    small, critical, large = (depth_norms[s] for s in (0.5, 1.0, 3.0))
    gallery.claim(
        small[0] / small[-1] < 1e-6,
        f"σ = 0.5: gradient at the input is {small[0] / small[-1]:.1e} of the output's",
    )
    gallery.claim(
        large[0] / large[-1] > 1e3,
        f"σ = 3: gradient at the input is {large[0] / large[-1]:.1e} of the output's",
    )
    gallery.claim(
        1e-3 < critical[0] / critical[-1] < 1e2,
        f"σ = 1 (near the edge of chaos): ratio {critical[0] / critical[-1]:.2f}, neither",
    )

    steps = 60
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.standard_normal((16, 16)))
    time_norms = {}
    for scale in (0.9, 1.1):
        W = scale * Q
        linear = ops.gradient_norms(lambda h, W=W: W @ h, rng.standard_normal(16) * 0.1, steps)
        tanh = ops.gradient_norms(
            lambda h, W=W: ad.tanh(W @ h), rng.standard_normal(16) * 0.1, steps
        )
        time_norms[scale] = (linear, tanh)
        gallery.claim(
            np.allclose(linear, scale ** np.arange(1, steps + 1)),
            f"linear RNN, W = {scale}·orthogonal: ‖∂h_t/∂h_0‖ = {scale}^t",
        )
        gallery.claim(
            np.all(tanh <= scale ** np.arange(1, steps + 1) * (1 + 1e-9)),
            f"tanh RNN: below {scale}^t",
        )

    fig, (left, right) = gallery.figure(ncols=2, size=(10, 4.0))
    for scale, norms in depth_norms.items():
        left.semilogy(np.arange(DEPTH + 1), norms / norms[-1], label=rf"$\sigma_w = {scale:g}$")
    left.set_xlabel(r"layer $l$")
    left.set_ylabel(r"$\|\partial L/\partial h_l\| \,/\, \|\partial L/\partial h_{40}\|$")
    left.set_title(f"tanh MLP, width {WIDTH}, depth {DEPTH}", fontsize=10)
    left.legend(fontsize=8)
    t = np.arange(1, steps + 1)
    for i, (scale, (linear, tanh)) in enumerate(time_norms.items()):
        right.semilogy(t, linear, color=f"C{i}", label=rf"linear, $W = {scale}\,Q$")
        right.semilogy(t, tanh, "--", color=f"C{i}", label=rf"tanh, $W = {scale}\,Q$")
    right.set_xlabel(r"time $t$")
    right.set_ylabel(r"$\|\partial h_t/\partial h_0\|_2$")
    right.set_title(r"RNN, $Q$ orthogonal $16 \times 16$", fontsize=10)
    right.legend(fontsize=8)
    figure_path = gallery.save_figure(fig, NAME)
    report = (
        Derivation("Vanishing and exploding gradients")
        .then(
            f"Depth: a tanh MLP of width {WIDTH} and depth {DEPTH} with weights "
            "$W_l \\sim N(0, \\sigma_w^2/n)$; $\\|\\partial L/\\partial h_l\\|$ by reverse mode. "
            f"Relative to the output layer the input-layer gradient is {small[0] / small[-1]:.1e} "
            f"for $\\sigma_w = 0.5$ (vanishing), {critical[0] / critical[-1]:.2f} for "
            f"$\\sigma_w = 1$, and {large[0] / large[-1]:.1e} for $\\sigma_w = 3$ (exploding)."
        )
        .then(
            "Time: for $h \\leftarrow Wh$ with $W = sQ$, $Q$ orthogonal, "
            "$\\|\\partial h_t/\\partial h_0\\| = s^t$ exactly (measured by "
            "operators.gradient_norms); with tanh the norm stays below $s^t$, since "
            "$|\\tanh'| \\le 1$."
        )
    )
    gallery.save(report, NAME, figures=[figure_path])


if __name__ == "__main__":
    main()
