"""Momentum as damped Hamiltonian mechanics: conformal symplecticity, why heavy ball oscillates.

Algorithm: heavy ball v ← βv − η∇L(x), x ← x + v. With p = v/√η it is the conformal
symplectic Euler method with step √η for H(q, p) = |p|²/2 + L(q): every step contracts
the symplectic form by β (JᵀΩJ = βΩ), whatever the loss.
Guarantee: on λx²/2 the eigenvalues are complex, of modulus √β, when (1 + β − ηλ)² < 4β:
the iterates oscillate, their envelope shrinks like β^(k/2), and β = 1 is exactly symplectic.
Nesterov's method is not conformal symplectic (det J depends on the state).
References: McLachlan & Perlmutter, "Conformal Hamiltonian systems" (2001);
França, Sulam, Robinson & Vidal, "Conformal symplectic and relativistic optimization" (2020).
"""

import sys
from pathlib import Path

import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _gallery as gallery

import symdyn as sd
from symdyn.derivation import Derivation, TeX

NAME = "hamiltonian"


def main():
    x = sp.Symbol("x", real=True)
    eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
    L = sp.Function("L")
    print("momentum as damped Hamiltonian mechanics")
    hb = sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=beta)
    form = sd.hamiltonian_form(hb)
    (p,) = form.p
    gallery.identical(form.H, p**2 / 2 + L(x), "H = p²/2 + L(x)")
    gallery.identical(form.contraction, beta, "contraction c = β (JᵀΩJ = βΩ)")
    gallery.identical(form.step, sp.sqrt(eta), "conformal symplectic Euler with step √η")
    gallery.claim(
        form.is_conformal_symplectic, "heavy ball is conformal symplectic for every loss"
    )
    J = hb.jacobian()
    omega = sp.Matrix([[0, 1], [-1, 0]])
    gallery.claim(
        sp.simplify(J.T * omega * J - beta * omega) == sp.zeros(2, 2),
        "independently: JᵀΩJ = βΩ from the rule's Jacobian, with L'' left symbolic",
    )
    nesterov = sd.hamiltonian_form(sd.optimizers.nesterov(x**4 / 4, [x], lr=eta, momentum=beta))
    gallery.claim(not nesterov.is_conformal_symplectic, "Nesterov is not conformal symplectic")

    quadratic = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
    charpoly = sd.stability(quadratic).charpoly
    discriminant = sp.factor(sp.discriminant(charpoly.as_expr(), charpoly.gen))
    gallery.identical(
        discriminant, (1 + beta - eta * lam) ** 2 - 4 * beta, "discriminant (1 + β − ηλ)² − 4β"
    )
    gallery.identical(
        charpoly.all_coeffs()[2], beta, "product of the eigenvalues = β, so |z| = √β when complex"
    )

    values = {eta: 0.1, beta: 0.9, lam: 1.0}
    run = sd.simulate(
        quadratic, init={x: 1.0, "v_x": 0.0}, params=values, steps=300, record=True, tol=0
    )
    path = run.trajectory[x]
    crossings = int(np.sum(np.signbit(path[1:]) != np.signbit(path[:-1])))
    gallery.claim(
        float(discriminant.subs(values)) < 0,
        "at η = 0.1, β = 0.9, λ = 1 the eigenvalues are complex",
    )
    gallery.claim(crossings >= 10, f"the iterate changes sign {crossings} times in 300 steps")
    # The envelope: the largest |x| over a late window against an early one, 200 steps apart.
    rate = (np.abs(path[250:300]).max() / np.abs(path[50:100]).max()) ** (1 / 200)
    gallery.claim(
        abs(rate - np.sqrt(0.9)) < 2e-3,
        f"measured rate {rate:.4f} ≈ √β = {np.sqrt(0.9):.4f}",
    )

    derivation = Derivation("Momentum as damped Hamiltonian mechanics")
    derivation = derivation.then(
        "Heavy ball on a general loss $L$ (left undefined), analysed by symdyn:"
    )
    derivation = derivation + form.derivation
    derivation = derivation.then(
        "Independently, with $\\Omega = \\begin{pmatrix} 0 & 1 \\\\ -1 & 0 \\end{pmatrix}$ and "
        "the Jacobian of the rule,",
        (sp.Eq(sp.Symbol("J"), J, evaluate=False), TeX(r"J^T \Omega J = \beta\,\Omega")),
    )
    derivation = derivation.then(
        "Why heavy ball oscillates: on $\\lambda x^2/2$ the characteristic polynomial is",
        TeX(
            "p(z) = z^2 + "
            + sp.latex(sp.collect(charpoly.all_coeffs()[1], eta * lam)).join(
                [r"\left(", r"\right)"]
            )
            + " z + "
            + sp.latex(charpoly.all_coeffs()[2])
        ),
    )
    derivation = derivation.then(
        "Its discriminant is negative, and the two eigenvalues complex conjugates of modulus "
        "$\\sqrt{\\beta}$ (their product is the constant term), exactly when",
        TeX(r"(1 + \beta - \eta\lambda)^2 - 4\beta < 0"),
    )
    derivation = derivation.then(
        "This is the underdamped regime of the damped oscillator: energy leaves at the rate "
        "set by the damping $-\\log\\beta/\\sqrt\\eta$, not by the curvature, so a large "
        "$\\beta$ keeps the iterate swinging across the minimum."
    )
    derivation = derivation.then(
        f"Check: at $\\eta = 0.1$, $\\beta = 0.9$, $\\lambda = 1$ the iterate changes sign "
        f"{crossings} times in 300 steps and contracts at the measured rate {rate:.4f} "
        f"$\\approx \\sqrt{{0.9}} = {np.sqrt(0.9):.4f}$."
    )

    fig, (left, right) = gallery.figure(ncols=2, size=(9.5, 4.0))
    for b, style in ((0.9, "-"), (1.0, "--")):
        values = {eta: 0.1, beta: b, lam: 1.0}
        run_b = sd.simulate(
            quadratic, init={x: 1.0, "v_x": 0.0}, params=values, steps=300, record=True, tol=0
        )
        q_path = run_b.trajectory[x]
        p_path = run_b.trajectory[sp.Symbol("v_x", real=True)] / np.sqrt(0.1)
        left.plot(q_path, p_path, style, lw=0.9, label=rf"$\beta = {b:g}$")
        energy = p_path**2 / 2 + q_path**2 / 2
        right.semilogy(energy, style, label=rf"$H_k$, $\beta = {b:g}$")
    right.semilogy(0.5 * 0.9 ** np.arange(301), ":", color="0.3", label=r"$H_0\,\beta^k$")
    left.set_xlabel(r"position $q = x$")
    left.set_ylabel(r"momentum $p = v/\sqrt{\eta}$")
    left.set_title(r"phase plane, $\eta = 0.1$, $\lambda = 1$", fontsize=10)
    left.set_aspect("equal")
    left.legend(fontsize=8)
    right.set_xlabel(r"step $k$")
    right.set_ylabel(r"$H = p^2/2 + \lambda q^2/2$")
    right.legend(fontsize=8)
    figure_path = gallery.save_figure(fig, NAME)
    gallery.save(derivation, NAME, figures=[figure_path])


if __name__ == "__main__":
    main()
