"""Adaptive methods with a frozen preconditioner: the adaptive edge-of-stability threshold.

Algorithm: Adam (Kingma & Ba 2015) near a minimum, its second moment frozen so that
P = diag(√v̂ + ε) is constant: m ← β₁m + (1 − β₁)∇L(θ), θ ← θ − ηP⁻¹m.
Guarantee: on θᵀHθ/2 − bᵀθ the method is stable iff β₁ < 1 and, for every eigenvalue λ of
the preconditioned Hessian P⁻¹H, ηλ(1 − β₁) < 2(1 + β₁): the preconditioned sharpness must
stay below (2 + 2β₁)/((1 − β₁)η), i.e. 38/η for β₁ = 0.9. RMSprop (no momentum) needs
ηλ < 2, λ an eigenvalue of P⁻¹H.
References: Cohen et al., "Adaptive gradient methods at the edge of stability" (2022).
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

NAME = "adaptive"


def main():
    eta, beta = sp.symbols("eta beta_1", positive=True)
    print("adaptive methods with a frozen preconditioner")
    q = sd.quadratic("theta", n=sp.Symbol("n"))
    lam = q.eigenvalue
    adam = sd.optimizers.adam(q.loss, [q.theta], lr=eta, beta1=beta)
    rmsprop = sd.optimizers.rmsprop(q.loss, [q.theta], lr=eta)
    adam_bound = sd.step_bound(adam, step=eta)
    rms_bound = sd.step_bound(rmsprop, step=eta)
    gallery.identical(
        adam_bound.upper,
        2 * (1 + beta) / (lam * (1 - beta)),
        "Adam: η < 2(1 + β₁)/((1 − β₁)λ), λ an eigenvalue of P⁻¹H",
    )
    gallery.claim(
        sd.stability(adam).region.subs(beta, 1) is sp.false, "Adam needs β₁ < 1 at every step"
    )
    gallery.identical(rms_bound.upper, 2 / lam, "RMSprop: η < 2/λ, λ an eigenvalue of P⁻¹H")
    threshold = (2 + 2 * beta) / (1 - beta)
    gallery.identical(
        (adam_bound.upper * lam).subs(beta, sp.Rational(9, 10)), 38, "β₁ = 0.9: sharpness < 38/η"
    )

    # Numbers: a scalar Adam with a frozen p, just below and just above the threshold.
    x = sp.Symbol("x", real=True)
    curvature = sp.Symbol("lambda", positive=True)
    scalar = sd.optimizers.adam(curvature * x**2 / 2, [x], lr=eta, beta1=beta)
    p = sp.Symbol("p_x", positive=True)
    step, b1, pval = 0.01, 0.9, 0.5
    edge = 38 * pval / step  # λ with λ/p = 38/η
    runs = {}
    for factor in (0.98, 1.02):
        runs[factor] = sd.simulate(
            scalar,
            init={x: 1.0, "m_x": 0.0},
            params={eta: step, beta: b1, curvature: factor * edge, p: pval},
            steps=1500,
            record=True,
            tol=0,
        )
    gallery.claim(
        abs(runs[0.98].final[x]) < 1e-3 and not runs[0.98].diverged,
        "2% below the threshold the iterates converge",
    )
    gallery.claim(
        runs[1.02].diverged or abs(runs[1.02].final[x]) > 1e3,
        "2% above the threshold they diverge",
    )

    derivation = Derivation("Adaptive methods at the edge of stability")
    derivation = derivation.then(
        "Near a minimum the second-moment estimate of Adam barely moves; freezing it makes "
        "the update linear, with a constant positive diagonal preconditioner $P$. Stability "
        "is then decided per eigenvalue $\\lambda$ of $P^{-1}H$ (the preconditioned sharpness)."
    )
    derivation = derivation + adam_bound.derivation
    derivation = derivation.then(
        "In words: Adam with a frozen preconditioner is stable exactly when the "
        "preconditioned sharpness stays below",
        sp.Eq(sp.Symbol(r"\lambda_{\max}(P^{-1}H)"), threshold / eta),
    )
    derivation = derivation.then(
        "which is $38/\\eta$ for the default $\\beta_1 = 0.9$ (Cohen et al. 2022). Without "
        "momentum (RMSprop) the threshold is $2/\\eta$, the same as gradient descent's on the "
        "preconditioned Hessian:",
        sp.Eq(sp.Symbol(r"\eta_{\max}"), rms_bound.upper),
    )
    derivation = derivation.then(
        f"Check: with $\\eta = {step}$, $\\beta_1 = {b1}$ and $p = {pval}$, a curvature 2% "
        "below $38p/\\eta$ converges and 2% above diverges."
    )

    fig = plot.stability_figure(
        scalar.subs({p: 1}),
        sd.step_bound(scalar.subs({p: 1}), step=eta),
        other=beta,
        fixed={curvature: 1.0},
        ranges={beta: (0.0, 0.9), eta: (0.0, 45.0)},
        resolution=200,
    )
    fig.axes[0].set_title(r"Adam, frozen $P$: $\lambda(P^{-1}H) = 1$", fontsize=10)
    region_path = gallery.save_figure(fig, f"{NAME}_region")
    fig, ax = gallery.figure(size=(5.5, 3.6))
    for factor, run in runs.items():
        path = np.abs(run.trajectory[x])
        ax.semilogy(np.arange(path.size), path, label=rf"$\lambda/p = {factor:g} \times 38/\eta$")
    ax.set_xlabel(r"step $k$")
    ax.set_ylabel(r"$|\theta_k|$")
    ax.set_title(r"Adam, $\eta = 0.01$, $\beta_1 = 0.9$, frozen $p$", fontsize=10)
    ax.legend(fontsize=8)
    runs_path = gallery.save_figure(fig, f"{NAME}_edge")
    gallery.save(derivation, NAME, figures=[region_path, runs_path])


if __name__ == "__main__":
    main()
