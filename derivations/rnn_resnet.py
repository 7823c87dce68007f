"""RNNs and ResNets as iterated maps: vanishing/exploding gradients, and a ResNet block as Euler.

Algorithm: an RNN step h ← σ(Wh + u) and a residual block x ← x + h f(x), iterated over
time or depth.
Guarantee: ∂h_T/∂h_0 = W^T for a linear RNN, which vanishes iff ρ(W) < 1 and explodes if
ρ(W) > 1; for tanh, ‖∂h_T/∂h_0‖₂ ≤ ‖W‖₂^T. A ResNet block is forward Euler for the neural
ODE x' = f(x); for the spiral f = [[−a, −b], [b, −a]]x the ODE is stable iff a > 0, and
Euler (the network) iff h < 2a/(a² + b²).
References: Bengio, Simard & Frasconi (1994); Pascanu, Mikolov & Bengio (2013);
Haber & Ruthotto, "Stable architectures for deep neural networks" (2017); Chen et al. (2018).
"""

import sys
from pathlib import Path

import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _gallery as gallery

import symdyn as sd
import symdyn.autodiff as ad
from symdyn import operators as ops
from symdyn.derivation import Derivation

NAME = "rnn_resnet"


def rotation(scale, angle=0.7):
    c, s = np.cos(angle), np.sin(angle)
    return scale * np.array([[c, -s], [s, c]])


def main():
    h1, h2, x, y = sp.symbols("h_1 h_2 x y", real=True)
    a, b, h = sp.symbols("a b h", positive=True)
    w = sp.Symbol("w", real=True)
    T = sp.Symbol("T", integer=True, positive=True)
    print("RNNs and ResNets")
    scalar = ops.gradient_through_time(sd.models.linear_rnn([[w]], [h1]), T)
    gallery.identical(scalar.transition[0], w**T, "linear RNN: ∂h_T/∂h_0 = w^T")
    gallery.claim(scalar.vanishing == (sp.Abs(w) < 1), "vanishing iff |w| < 1")
    gallery.claim(scalar.exploding == (sp.Abs(w) > 1), "exploding iff |w| > 1")
    c, s = sp.symbols("c s", real=True)
    tanh = ops.gradient_through_time(sd.models.tanh_rnn([[c, -s], [s, c]], [h1, h2]), T)
    gallery.identical(tanh.norm_bound, (c**2 + s**2) ** (T / 2), "tanh RNN: ‖∂h_T/∂h_0‖ ≤ ‖W‖^T")

    # Numbers: gradient norms through 60 steps for W = scale × rotation.
    depth = 60
    norms = {}
    for scale in (0.8, 1.0, 1.25):
        W = rotation(scale)
        linear = ops.gradient_norms(lambda v, W=W: W @ v, np.array([0.3, -0.2]), depth)
        bounded = ops.gradient_norms(lambda v, W=W: ad.tanh(W @ v), np.array([0.3, -0.2]), depth)
        norms[scale] = (linear, bounded)
        gallery.claim(
            np.allclose(linear, scale ** np.arange(1, depth + 1), rtol=1e-9),
            f"linear, scale {scale}: ‖∂h_t/∂h_0‖ = {scale}^t",
        )
        gallery.claim(
            np.all(bounded <= scale ** np.arange(1, depth + 1) * (1 + 1e-9)),
            f"tanh, scale {scale}: below the bound ‖W‖^t",
        )
    gallery.claim(norms[0.8][1][-1] < 1e-5, "tanh, scale 0.8: the gradient vanishes")

    spiral = sd.models.resnet_block([-a * x - b * y, b * x - a * y], [x, y], h)
    bound = sd.step_bound(spiral, step=h)
    gallery.identical(bound.upper, 2 * a / (a**2 + b**2), "ResNet block: h < 2a/(a² + b²)")
    limit = sd.continuous_limit(spiral, h=h)
    X, Y = limit.functions[x], limit.functions[y]
    gallery.claim(
        limit.ode[0].rhs == -a * X - b * Y and limit.ode[1].rhs == b * X - a * Y,
        "its limit is the neural ODE x' = −ax − by, y' = bx − ay",
    )
    limit_stability = sd.routh_hurwitz(limit)
    gallery.claim(limit_stability.region is sp.true, "the ODE is stable for every a > 0")
    values = {a: 1.0, b: 3.0}
    edge = float(bound.upper.subs(values))
    below = sd.simulate(
        spiral, {x: 1.0, y: 0.0}, {h: 0.9 * edge, **values}, 600, record=True, tol=0
    )
    above = sd.simulate(
        spiral, {x: 1.0, y: 0.0}, {h: 1.1 * edge, **values}, 600, record=True, tol=0
    )
    gallery.claim(
        np.hypot(below.final[x], below.final[y]) < 1e-2, "10% below the bound: the features decay"
    )
    gallery.claim(np.hypot(above.final[x], above.final[y]) > 1e2, "10% above: they explode")

    derivation = Derivation("RNNs and ResNets as iterated maps")
    derivation = derivation.then(
        "Backpropagation through $T$ steps multiplies $T$ step Jacobians; for a linear RNN "
        "they are all $W$."
    )
    derivation = derivation + scalar.derivation + tanh.derivation
    derivation = derivation.then(
        "A residual block $x \\leftarrow x + h f(x)$ is one forward-Euler step of the neural "
        "ODE $x' = f(x)$. For the spiral field:"
    )
    derivation = derivation + limit_stability.derivation + bound.derivation  # it holds the limit's
    derivation = derivation.then(
        "So the ODE is stable for every $a > 0$, but the network only for",
        sp.Lt(h, bound.upper),
    )
    derivation = derivation.then(
        "a rotation $b$ much larger than the decay $a$ forces a small step: deep residual "
        f"networks need $h \\to 0$. Check at $a = 1$, $b = 3$ ($h < {edge:g}$): 10% below "
        "the bound the features decay over 600 blocks, 10% above they explode."
    )

    fig, (left, right) = gallery.figure(ncols=2, size=(10, 4.0))
    steps = np.arange(1, depth + 1)
    for i, (scale, (linear, bounded)) in enumerate(norms.items()):
        left.semilogy(steps, linear, color=f"C{i}", label=rf"linear, $\rho(W) = {scale}$")
        left.semilogy(steps, bounded, "--", color=f"C{i}", label=rf"tanh, $\|W\|_2 = {scale}$")
    left.set_xlabel(r"steps back in time $t$")
    left.set_ylabel(r"$\|\partial h_t / \partial h_0\|_2$")
    left.legend(fontsize=7)
    left.set_title("vanishing and exploding gradients", fontsize=10)
    ts = np.linspace(0, 3, 400)
    right.plot(
        np.exp(-ts) * np.cos(3 * ts), np.exp(-ts) * np.sin(3 * ts), "k", lw=1, label="neural ODE"
    )
    right.plot(
        below.trajectory[x][:40],
        below.trajectory[y][:40],
        "o-",
        ms=2.5,
        lw=0.8,
        label=r"ResNet, $h = 0.9 \cdot 2a/(a^2+b^2)$",
    )
    right.plot(
        above.trajectory[x][:40],
        above.trajectory[y][:40],
        "s-",
        ms=2.5,
        lw=0.8,
        label=r"ResNet, $h = 1.1 \cdot 2a/(a^2+b^2)$",
    )
    right.set_xlim(-1.6, 1.6)
    right.set_ylim(-1.6, 1.6)
    right.set_aspect("equal")
    right.set_xlabel(r"$x$")
    right.set_ylabel(r"$y$")
    right.set_title(r"spiral $a = 1$, $b = 3$: first 40 blocks", fontsize=10)
    right.legend(fontsize=7, loc="lower left")
    figure_path = gallery.save_figure(fig, NAME)
    gallery.save(derivation, NAME, figures=[figure_path])


if __name__ == "__main__":
    main()
