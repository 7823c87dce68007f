"""Gradient descent on a quadratic: per-axis closed form, the 2/λ threshold, the optimal step.

Algorithm: θ ← θ − η(Hθ − b) on L(θ) = θᵀHθ/2 − bᵀθ, H = SΛSᵀ symmetric.
Guarantee: along an eigen-direction with curvature λ > 0 the error is multiplied by
(1 − ηλ) each step, so GD converges iff 0 < η < 2/λ_max; along λ = 0 the iterate drifts by
ηbᵢ per step (and stays put when bᵢ = 0). Over a spectrum [μ, L] the best step is
η* = 2/(L + μ), with rate (L − μ)/(L + μ) = (κ − 1)/(κ + 1).
References: Polyak, "Introduction to Optimization" (1987), §1.4; Nesterov (2004), §2.1.
"""

import sys
from pathlib import Path

import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _gallery as gallery

import symdyn as sd
from symdyn.derivation import Derivation, TeX

NAME = "gd_quadratic"


def per_axis_closed_form():
    """The k-th iterate of one eigen-direction, for λ > 0 and λ = 0, solved by sympy's rsolve."""
    theta, b = sp.symbols("theta_i b_i", real=True)
    theta0 = sp.Symbol(r"\theta_{i,0}", real=True)
    eta, lam = sp.symbols("eta lambda", positive=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    f = sp.Function("theta_i")
    curved = sd.optimizers.gd(lam * theta**2 / 2 - b * theta, [theta], lr=eta)
    flat = sd.optimizers.gd(-b * theta, [theta], lr=eta)
    solutions = []
    for rule in (curved, flat):
        recurrence = f(k + 1) - rule.map[0].subs(theta, f(k))
        solutions.append(sp.rsolve(recurrence, f(k), {f(0): theta0}))
    curved_k, flat_k = solutions
    (fixed,) = curved.fixed_points()
    gallery.identical(
        curved_k,
        fixed[theta] + (1 - eta * lam) ** k * (theta0 - b / lam),
        "λ > 0: θ_k = θ* + (1 − ηλ)^k (θ_0 − θ*)",
    )
    gallery.identical(
        flat_k, theta0 + k * eta * b, "λ = 0: θ_k = θ_0 + kηb (no minimiser unless b = 0)"
    )
    gallery.identical(
        curved_k.subs(k, k + 1) - curved.map[0].subs(theta, curved_k),
        0,
        "the closed form satisfies one step of the rule",
    )
    star = sp.Symbol(r"\theta_i^{*}")
    steps = (
        Derivation("Gradient descent on a quadratic")
        .then(
            "On $L(\\theta) = \\theta^T H \\theta/2 - b^T\\theta$ with $H = S\\Lambda S^T$, the "
            "coordinates $\\theta_i = (S^T\\theta)_i$ decouple: each follows gradient descent on "
            "$\\lambda_i \\theta_i^2/2 - b_i\\theta_i$ with $b_i = (S^T b)_i$. One step reads",
            sp.Eq(sp.Symbol(r"\theta_i^{+}"), curved.map[0]),
        )
        .then(
            "Solving the linear recurrence from $\\theta_{i,0}$ (sympy's rsolve) gives, for "
            "$\\lambda_i > 0$, with $\\theta_i^* = b_i/\\lambda_i$,",
            sp.Eq(f(k), star + (1 - eta * lam) ** k * (theta0 - star)),
        )
        .then(
            "For a zero curvature $\\lambda_i = 0$ the gradient is the constant $-b_i$, and the "
            "iterate drifts linearly; it stays at $\\theta_{i,0}$ exactly when $b_i = 0$, i.e. "
            "when $b$ lies in the range of $H$:",
            sp.Eq(f(k), flat_k),
        )
        .then(
            "So the error along every curved direction is multiplied by $1 - \\eta\\lambda_i$ at "
            "each step: it shrinks iff $|1 - \\eta\\lambda_i| < 1$. The analysis below derives "
            "that threshold exactly, for every eigenvalue of $H$ and any dimension.",
            TeX(r"\theta_k - \theta^* = S\,(I - \eta\Lambda)^k\,S^T(\theta_0 - \theta^*)"),
        )
    )
    return steps


def main():
    eta, mu, L = sp.symbols("eta mu L", positive=True)
    print("gradient descent on a quadratic")
    derivation = per_axis_closed_form()

    q = sd.quadratic("theta", n=sp.Symbol("n"))
    rule = sd.optimizers.gd(q.loss, [q.theta], lr=eta)
    lam = q.eigenvalue
    bound = sd.step_bound(rule, step=eta)
    gallery.identical(bound.upper, 2 / lam, "step bound: η < 2/λ for every eigenvalue λ of H")
    tuned = sd.tune(rule, (mu, L))
    gallery.identical(tuned.params[eta], 2 / (L + mu), "optimal step η* = 2/(L + μ)")
    gallery.identical(tuned.rate, (L - mu) / (L + mu), "optimal rate (L − μ)/(L + μ)")
    gallery.claim(tuned.exact, "the tuning is exact (proved, not searched)")
    worst = sd.worst_case_rate(rule, (mu, L))
    gap = sp.Symbol("delta", positive=True)  # L = μ + δ > μ
    gallery.identical(
        worst.rate.subs(eta, tuned.params[eta]).subs(L, mu + gap),
        tuned.rate.subs(L, mu + gap),
        "the worst case at η* is the tuned rate (for L > μ)",
    )

    derivation = derivation + bound.derivation
    derivation = derivation.then(
        "Over a spectrum $[\\mu, L]$ the worst mode decides the rate:",
        sp.Eq(sp.Symbol(r"\rho_{\max}"), worst.rate),
    )
    derivation = derivation.then(
        "Balancing the two ends ($1 - \\eta\\mu = \\eta L - 1$) gives the optimal step and "
        "rate, with $\\kappa = L/\\mu$:",
        (
            sp.Eq(sp.Symbol(r"\eta^*"), tuned.params[eta]),
            sp.Eq(sp.Symbol(r"\rho^*"), tuned.rate),
            TeX(r"\rho^* = \frac{\kappa - 1}{\kappa + 1}"),
        ),
    )

    # Numbers: the closed form against simulation on a spectrum with a zero eigenvalue.
    theta, b = sp.symbols("theta b", real=True)
    lam_s = sp.Symbol("lambda", positive=True)
    scalar = sd.optimizers.gd(lam_s * theta**2 / 2 - b * theta, [theta], lr=eta)
    spectrum = np.array([0.5, 1.0, 2.0, 4.0])
    step = 2 / (spectrum[0] + spectrum[-1])
    run = sd.simulate(
        scalar,
        init={theta: 1.0},
        params={eta: step, lam_s: spectrum, b: 0.0},
        steps=40,
        record=True,
        tol=0,
    )
    ks = np.arange(41)
    exact = (1 - step * spectrum[None, :]) ** ks[:, None]
    gallery.claim(
        np.allclose(run.trajectory[theta], exact, atol=1e-12),
        "simulated iterates equal (1 − ηλ)^k to 1e-12",
    )
    above = sd.simulate(
        scalar, init={theta: 1.0}, params={eta: 1.01 * 2 / 4.0, lam_s: 4.0, b: 0.0}, steps=3000
    )
    gallery.claim(bool(above.diverged), "just above 2/λ the iterates diverge")

    fig, (left, right) = gallery.figure(ncols=2, size=(9.0, 3.6))
    etas = np.linspace(0, 2.2 / spectrum[-1] * 1.1, 400)
    for value in (spectrum[0], spectrum[-1]):
        left.plot(etas, np.abs(1 - etas * value), label=rf"$|1-\eta\lambda|$, $\lambda={value:g}$")
    left.plot(
        etas,
        np.maximum(np.abs(1 - etas * spectrum[0]), np.abs(1 - etas * spectrum[-1])),
        "k--",
        lw=1,
        label=r"worst case over $[\mu, L]$",
    )
    left.axvline(step, color="C2", lw=1)
    left.annotate(r"$\eta^*=2/(L+\mu)$ ", (step, 1.5), color="C2", ha="right")
    left.axvline(2 / spectrum[-1], color="C3", lw=1)
    left.annotate(r"$2/L$", (2 / spectrum[-1], 1.75), color="C3", ha="left")
    left.axhline(1, color="0.5", lw=0.8)
    left.set_xlabel(r"step size $\eta$")
    left.set_ylabel(r"rate per step $\rho$")
    left.set_ylim(0, 2)
    left.legend(fontsize=7, loc="lower left")
    for i, value in enumerate(spectrum):
        right.semilogy(
            ks, np.abs(run.trajectory[theta][:, i]) + 1e-300, "o", ms=2.5, color=f"C{i}"
        )
        right.semilogy(
            ks, np.abs(exact[:, i]), "-", lw=0.8, color=f"C{i}", label=rf"$\lambda={value:g}$"
        )
    right.set_xlabel(r"step $k$")
    right.set_ylabel(r"$|\theta_{i,k} - \theta_i^*|$")
    right.set_ylim(1e-16, 2)
    right.set_title(
        r"at $\eta^*$: dots simulated, lines $(1-\eta\lambda)^k$"
        "\n"
        r"($\lambda = 0.5$ and $4$ share the worst rate)",
        fontsize=9,
    )
    right.legend(fontsize=7)
    figure_path = gallery.save_figure(fig, NAME)
    derivation = derivation.then(
        "Check: on $\\lambda \\in \\{0.5, 1, 2, 4\\}$ at $\\eta^* = 2/(L + \\mu)$ the simulated "
        "iterates equal $(1 - \\eta\\lambda)^k$ to $10^{-12}$, and just above $\\eta = 2/L$ they "
        "diverge."
    )
    gallery.save(derivation, NAME, figures=[figure_path])


if __name__ == "__main__":
    main()
