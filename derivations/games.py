"""Games on the bilinear problem min_x max_y xy: which method cycles, diverges or converges.

Algorithm: simultaneous GDA, alternating GDA, extragradient (Korpelevich 1976) and
optimistic GDA (Daskalakis et al. 2018) with step η on f(x, y) = xy (a·xy for extragradient).
Guarantee: simultaneous GDA has |z| = √(1 + η²) > 1 and diverges for every η > 0;
alternating GDA keeps both eigenvalues on the unit circle for η ≤ 2 and cycles;
extragradient converges iff aη < 1; optimistic GDA converges iff η < 1/√3.
References: Gidel et al., "Negative momentum for improved game dynamics" (2019);
Mokhtari, Ozdaglar & Pattathil (2020); Daskalakis et al. (2018).
"""

import sys
from pathlib import Path

import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _gallery as gallery

import symdyn as sd
from symdyn.derivation import Derivation

NAME = "games"


def ogda_radius(step):
    """ρ of optimistic GDA on xy via u = x + iy: roots of z² − (1 + 2iη)z + iη (and conjugates)."""
    return max(abs(np.roots([1, -(1 + 2j * step), 1j * step])))


def main():
    x, y = sp.symbols("x y", real=True)
    eta, a = sp.symbols("eta a", positive=True)
    print("bilinear games")
    simultaneous = sd.games.gda(x * y, [x], [y], lr=eta)
    alternating = sd.games.gda(x * y, [x], [y], lr=eta, mode="alternating")
    extragradient = sd.games.extragradient(a * x * y, [x], [y], lr=eta)
    optimistic = sd.games.optimistic_gda(x * y, [x], [y], lr=eta)
    results = {
        name: sd.stability(rule)
        for name, rule in [
            ("simultaneous", simultaneous),
            ("alternating", alternating),
            ("extragradient", extragradient),
            ("optimistic", optimistic),
        ]
    }
    gallery.claim(results["simultaneous"].region is sp.false, "simultaneous GDA: never stable")
    gallery.identical(
        results["simultaneous"].spectral_radius,
        sp.sqrt(1 + eta**2),
        "simultaneous GDA: ρ = √(1 + η²) > 1",
    )
    gallery.claim(
        results["alternating"].region is sp.false, "alternating GDA: never asymptotically stable"
    )
    gallery.claim(
        results["alternating"].marginal == (eta <= 2),
        "alternating GDA: both eigenvalues on the unit circle for η ≤ 2 (it cycles)",
    )
    gallery.claim(
        results["extragradient"].region == (a * eta < 1), "extragradient: stable iff aη < 1"
    )
    gallery.claim(
        sp.simplify(results["optimistic"].region.lhs - eta**2) == 0
        and results["optimistic"].region.rhs == sp.Rational(1, 3),
        "optimistic GDA: stable iff η² < 1/3",
    )
    grid = np.linspace(0.01, 1.0, 397)
    numeric = np.array([ogda_radius(s) < 1 for s in grid])
    gallery.claim(
        np.array_equal(numeric, grid < 1 / np.sqrt(3)),
        "optimistic GDA: the exact region matches the complex reduction's roots on a grid",
    )

    step = 0.2
    init = {x: 1.0, y: 0.0}
    runs = {
        "simultaneous GDA": sd.simulate(simultaneous, init, {eta: step}, 200, record=True, tol=0),
        "alternating GDA": sd.simulate(alternating, init, {eta: step}, 200, record=True, tol=0),
        "extragradient": sd.simulate(
            extragradient, init, {eta: step, a: 1.0}, 200, record=True, tol=0
        ),
        "optimistic GDA": sd.simulate(
            optimistic,
            {**init, "x_prev": 1.0, "y_prev": 0.0},
            {eta: step},
            200,
            record=True,
            tol=0,
        ),
    }
    radius = {k: np.hypot(r.trajectory[x], r.trajectory[y]) for k, r in runs.items()}
    gallery.claim(radius["simultaneous GDA"][-1] > 10, "simulated: simultaneous GDA spirals out")
    alt = radius["alternating GDA"]
    gallery.claim(
        alt.min() > 0.8 and alt.max() < 1.25, "simulated: alternating GDA stays on a closed orbit"
    )
    gallery.claim(radius["extragradient"][-1] < 0.05, "simulated: extragradient converges")
    gallery.claim(radius["optimistic GDA"][-1] < 0.05, "simulated: optimistic GDA converges")

    derivation = Derivation("Bilinear games: cycling, divergence and convergence")
    derivation = derivation.then(
        "On $f(x, y) = xy$ the equilibrium is $(0, 0)$; each method is a linear map, and its "
        "eigenvalues decide. The four analyses follow."
    )
    for result in results.values():
        derivation = derivation + result.derivation
    derivation = derivation.then(
        "Summary: simultaneous GDA diverges for every step ($\\rho = \\sqrt{1 + \\eta^2}$); "
        "alternating GDA has both eigenvalues on the unit circle for $\\eta \\le 2$, so it "
        "neither converges nor diverges: it cycles; extragradient converges for $a\\eta < 1$; "
        "optimistic GDA converges for $\\eta < 1/\\sqrt{3}$.",
    )
    derivation = derivation.then(
        "Check: for optimistic GDA, $u = x + iy$ follows "
        "$u^+ = (1 + 2i\\eta)u - i\\eta u_{\\mathrm{prev}}$; the roots of "
        "$z^2 - (1 + 2i\\eta)z + i\\eta$ lie inside the circle exactly for "
        "$\\eta < 1/\\sqrt{3}$ on a grid of 397 steps. Simulating from $(1, 0)$ with "
        f"$\\eta = {step}$ reproduces all four behaviours."
    )

    fig, (left, right) = gallery.figure(ncols=2, size=(10, 4.2))
    for i, (label, run) in enumerate(runs.items()):
        left.plot(run.trajectory[x], run.trajectory[y], lw=0.9, color=f"C{i}", label=label)
        right.semilogy(radius[label], color=f"C{i}", label=label)
    left.plot([0], [0], "k*", ms=9, label="equilibrium")
    left.set_xlim(-2.5, 2.5)
    left.set_ylim(-2.5, 2.5)
    left.set_aspect("equal")
    left.set_xlabel(r"$x$ (minimising player)")
    left.set_ylabel(r"$y$ (maximising player)")
    left.set_title(rf"$f(x, y) = xy$, $\eta = {step}$", fontsize=10)
    left.legend(fontsize=7, loc="lower left")
    right.set_xlabel(r"step $k$")
    right.set_ylabel(r"$\sqrt{x_k^2 + y_k^2}$")
    right.legend(fontsize=7)
    figure_path = gallery.save_figure(fig, NAME)
    gallery.save(derivation, NAME, figures=[figure_path])


if __name__ == "__main__":
    main()
