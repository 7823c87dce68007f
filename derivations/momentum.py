"""Heavy ball and Nesterov on a quadratic: regions, step bounds, optimal tuning, eigenvalues.

Algorithm: heavy ball v ← βv − η∇L(x), x ← x + v; Nesterov (Sutskever's form)
v ← βv − η∇L(x + βv), x ← x + v; on θᵀHθ/2 − bᵀθ, per eigenvalue λ of H.
Guarantee: heavy ball is stable iff β < 1 and ηλ < 2(1 + β) (Polyak 1964); its optimal
tuning over [μ, L] is η = 4/(√L + √μ)², β = ((√L − √μ)/(√L + √μ))², rate (√κ − 1)/(√κ + 1).
Nesterov is stable iff ηλ < 2(1 + β)/(1 + 2β) and β(1 − ηλ) < 1; its optimal tuning is
η = 4/(3L + μ), β = (√(3κ + 1) − 2)/(√(3κ + 1) + 2), rate 1 − 2/√(3κ + 1).
References: Polyak (1964); Sutskever et al. (2013); Lessard, Recht & Packard (2016), §3.
"""

import sys
from pathlib import Path

import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _gallery as gallery

import symdyn as sd
from symdyn.derivation import Derivation
from symdyn.numeric import plot

NAME = "momentum"


def main():
    eta, beta, mu, L = sp.symbols("eta beta mu L", positive=True)
    print("heavy ball and Nesterov")
    q = sd.quadratic("theta", n=sp.Symbol("n"))
    lam = q.eigenvalue
    hb = sd.optimizers.heavy_ball(q.loss, [q.theta], lr=eta, momentum=beta)
    nag = sd.optimizers.nesterov(q.loss, [q.theta], lr=eta, momentum=beta)

    hb_bound = sd.step_bound(hb, step=eta)
    gallery.identical(hb_bound.upper, 2 * (1 + beta) / lam, "heavy ball: η < 2(1 + β)/λ")
    gallery.claim(
        sd.stability(hb).region == ((beta < 1) & (eta * lam < 2 * beta + 2)),
        "heavy ball region: β < 1 and ηλ < 2 + 2β (Polyak 1964)",
    )
    nag_result = sd.stability(nag)
    nag_bound = sd.step_bound(nag, step=eta)
    gallery.identical(
        nag_bound.upper,
        2 * (1 + beta) / (lam * (1 + 2 * beta)),
        "Nesterov: ηλ < 2(1 + β)/(1 + 2β)",
    )
    published = [2 * (1 + beta) - eta * lam * (1 + 2 * beta), 1 - beta * (1 - eta * lam)]
    derived = [c.lhs - c.rhs if c.rel_op == ">" else c.rhs - c.lhs for c in nag_result.conditions]
    gallery.claim(
        all(any(sp.simplify(d - p) == 0 for d in derived) for p in published),
        "Nesterov region: ηλ(1 + 2β) < 2(1 + β) and β(1 − ηλ) < 1",
    )

    tuned = sd.tune(hb, (mu, L))
    gallery.claim(tuned.exact, "heavy-ball tuning is exact")
    root_l, root_mu = sp.sqrt(L), sp.sqrt(mu)
    gallery.identical(tuned.params[eta], 4 / (root_l + root_mu) ** 2, "η* = 4/(√L + √μ)²")
    gallery.identical(
        tuned.params[beta],
        ((root_l - root_mu) / (root_l + root_mu)) ** 2,
        "β* = ((√L − √μ)/(√L + √μ))²",
    )
    gallery.identical(
        tuned.rate, (root_l - root_mu) / (root_l + root_mu), "rate (√κ − 1)/(√κ + 1)"
    )

    kappa = 100
    nag_tuned = sd.tune(nag, (1, kappa))
    expected = {
        eta: 4 / (3 * kappa + 1),
        beta: (np.sqrt(3 * kappa + 1) - 2) / (np.sqrt(3 * kappa + 1) + 2),
    }
    gallery.claim(
        all(abs(float(nag_tuned.params[s]) - v) < 1e-8 for s, v in expected.items())
        and abs(float(nag_tuned.rate) - (1 - 2 / np.sqrt(3 * kappa + 1))) < 1e-8,
        "Nesterov's tuning on [1, 100] matches Lessard et al. (2016) to 1e-8",
    )

    # Simulation agrees with the exact region on a grid (λ = 1).
    lam1 = sp.Symbol("lambda", positive=True)
    x = sp.Symbol("x", real=True)
    scalar = sd.optimizers.heavy_ball(lam1 * x**2 / 2, [x], lr=eta, momentum=beta)
    grid = {eta: np.linspace(0.01, 4.5, 120), beta: np.linspace(0.01, 1.1, 90)}
    exact = sd.stability_map(scalar, grid, fixed={lam1: 1.0})
    simulated = sd.stability_map(scalar, grid, fixed={lam1: 1.0}, method="simulate", steps=400)
    agreement = exact.agreement(simulated)
    gallery.claim(
        agreement > 0.98, f"simulated and exact heavy-ball maps agree on {agreement:.1%}"
    )

    derivation = Derivation("Heavy ball and Nesterov on a quadratic")
    derivation = derivation.then(
        "Both methods keep one velocity per coordinate; on a quadratic each eigen-direction "
        "of $H$ is a two-dimensional linear system. The analyses below are those of symdyn, "
        "verbatim."
    )
    derivation = derivation + hb_bound.derivation + tuned.derivation + nag_bound.derivation
    nesterov_tuning = (
        "Nesterov's optimal tuning on $[\\mu, L] = [1, 100]$ is found in closed form, as in "
        "Lessard, Recht and Packard (2016):"
        if nag_tuned.exact
        else "Nesterov is tuned numerically on $[\\mu, L] = [1, 100]$; the optimum agrees "
        "with Lessard, Recht and Packard (2016) to $10^{-8}$:"
    )
    derivation = derivation.then(
        nesterov_tuning,
        (
            sp.Eq(sp.Symbol(r"\eta^*"), nag_tuned.params[eta]),
            sp.Eq(sp.Symbol(r"\beta^*"), sp.radsimp(nag_tuned.params[beta])),
            sp.Eq(sp.Symbol(r"\rho^*"), nag_tuned.rate),
        ),
    )
    derivation = derivation.then(
        f"Check: the simulated heavy-ball map (400 steps, $\\lambda = 1$) agrees with the exact "
        f"region on {agreement:.1%} of a $120 \\times 90$ grid; the rest lie at the boundary."
    )

    # stability_figure draws its boundary on the figure's first axes, so each gets its own figure.
    x1 = sp.Symbol("x", real=True)
    nag_scalar = sd.optimizers.nesterov(lam1 * x1**2 / 2, [x1], lr=eta, momentum=beta)
    figures = []
    for rule, tag in ((scalar, "heavy_ball"), (nag_scalar, "nesterov")):
        fig = plot.stability_figure(
            rule,
            sd.step_bound(rule, step=eta),
            fixed={lam1: 1.0},
            ranges={beta: (0.0, 1.2)},
            resolution=200,
        )
        fig.axes[0].set_title(f"{rule.name}, $\\lambda = 1$", fontsize=10)
        figures.append(gallery.save_figure(fig, f"{NAME}_{tag}_region"))
    fig, axes = gallery.figure(ncols=2, size=(10, 4.2))
    sweep = (eta, np.linspace(0.01, 4.2, 200))
    for ax, rule, label in ((axes[0], scalar, "heavy ball"), (axes[1], nag_scalar, "Nesterov")):
        plot.eigenvalue_figure(rule, sweep, fixed={beta: 0.5, lam1: 1.0}, ax=ax)
        ax.set_title(f"{label} eigenvalues, $\\beta = 0.5$, $\\eta \\in (0, 4.2]$", fontsize=10)
    figures.append(gallery.save_figure(fig, f"{NAME}_eigenvalues"))
    gallery.save(derivation, NAME, figures=figures)


if __name__ == "__main__":
    main()
