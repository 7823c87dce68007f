"""Gradient flow vs gradient descent: the continuous limit, the modified loss, measured orders.

Algorithm: x ← x − η∇L(x), read as the time-η map of an ODE.
Guarantee: the iterates follow gradient flow X' = −∇L(X) with a global error O(η) at a fixed
time (a first-order method), and follow the modified flow X' = −∇L̃(X) with
L̃ = L + (η/4)|∇L|² to O(η²) (backward error analysis; implicit gradient regularisation).
References: Hairer, Lubich & Wanner, "Geometric Numerical Integration" (2006), ch. IX;
Barrett & Dherin, "Implicit gradient regularization" (ICLR 2021).
"""

import sys
from pathlib import Path

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _gallery as gallery

import symdyn as sd
from symdyn.derivation import Derivation, TeX

NAME = "gradient_flow"
HORIZON = 1.0
STEPS = (0.1, 0.05, 0.025, 0.0125, 0.00625)


def flow(field, x, x0):
    """X(HORIZON) of dX/dt = field(X), solved to 1e-13."""
    f = sp.lambdify(x, field, "numpy")
    done = solve_ivp(lambda t, s: [f(s[0])], (0, HORIZON), [x0], rtol=1e-13, atol=1e-14)
    return done.y[0, -1]


def main():
    x = sp.Symbol("x", real=True)
    eta = sp.Symbol("eta", positive=True)
    L = sp.Function("L")
    print("gradient flow vs gradient descent")
    rule = sd.optimizers.gd(L(x), [x], lr=eta)
    limit = sd.continuous_limit(rule, h=eta)
    (ode,) = limit.ode
    X = limit.functions[x]
    gallery.identical(ode.rhs, -sp.Subs(sp.Derivative(L(x), x), x, X).doit(), "limit: X' = −L'(X)")
    gallery.claim(limit.error_order == 1, "the iterates follow the limit to O(η)")
    modified = sd.modified_equation(rule, h=eta, order=2)
    published = L(x) + eta / 4 * sp.Derivative(L(x), x) ** 2
    gallery.identical(modified.modified_loss, published, "modified loss L + (η/4)L'²")

    # Measured orders on a concrete loss: L = x⁴/4 + x²/2 from x₀ = 1.5.
    concrete = x**4 / 4 + x**2 / 2
    on_loss = {L: sp.Lambda(x, concrete)}
    gradient_field = -sp.diff(concrete, x)
    modified_field = modified.vector_field[0].subs(on_loss).doit()
    scalar = sd.optimizers.gd(concrete, [x], lr=eta)
    x0 = 1.5
    errors_flow, errors_modified = [], []
    for h in STEPS:
        steps = round(HORIZON / h)
        run = sd.simulate(scalar, init={x: x0}, params={eta: h}, steps=steps, tol=0)
        xk = float(run.final[x])
        errors_flow.append(abs(xk - flow(gradient_field, x, x0)))
        errors_modified.append(abs(xk - flow(modified_field.subs(eta, h), x, x0)))
    order_flow = np.polyfit(np.log(STEPS), np.log(errors_flow), 1)[0]
    order_modified = np.polyfit(np.log(STEPS), np.log(errors_modified), 1)[0]
    gallery.claim(
        abs(order_flow - 1) < 0.1, f"measured order against gradient flow: {order_flow:.3f} ≈ 1"
    )
    gallery.claim(
        abs(order_modified - 2) < 0.15,
        f"measured order against the modified flow: {order_modified:.3f} ≈ 2",
    )

    derivation = Derivation("Gradient flow and gradient descent")
    derivation = derivation.then(
        "Reading the $k$-th iterate as $X(t_k)$, $t_k = k\\eta$, and expanding in $\\eta$ "
        "gives the continuous limit, gradient flow:",
        ode,
    )
    derivation = derivation + modified.derivation
    derivation = derivation.then(
        "So gradient descent follows, to second order, gradient flow on the modified loss "
        "$\\tilde L$, which penalises the squared gradient norm (implicit gradient "
        "regularisation)."
    )
    derivation = derivation.then(
        "Check on $L(x) = x^4/4 + x^2/2$ from $x_0 = 1.5$ to $t = 1$: the error of "
        "$x_{1/\\eta}$ against the exact flows, fitted over "
        f"$\\eta \\in [{STEPS[-1]}, {STEPS[0]}]$, has slopes",
        (
            TeX(rf"|x_k - X_{{\mathrm{{GF}}}}(1)| \propto \eta^{{{order_flow:.3f}}}"),
            TeX(rf"|x_k - X_{{\mathrm{{mod}}}}(1)| \propto \eta^{{{order_modified:.3f}}}"),
        ),
    )

    fig, (left, right) = gallery.figure(ncols=2, size=(9.5, 3.8))
    left.loglog(STEPS, errors_flow, "o-", label=rf"vs gradient flow (slope {order_flow:.2f})")
    left.loglog(
        STEPS, errors_modified, "s-", label=rf"vs modified flow (slope {order_modified:.2f})"
    )
    left.set_xlabel(r"step size $\eta$")
    left.set_ylabel(r"$|x_{1/\eta} - X(1)|$")
    left.legend(fontsize=8)
    left.set_title(r"$L(x) = x^4/4 + x^2/2$, $x_0 = 1.5$", fontsize=10)
    h = 0.1
    run = sd.simulate(scalar, init={x: x0}, params={eta: h}, steps=30, record=True, tol=0)
    ts = np.linspace(0, 30 * h, 300)
    f = sp.lambdify(x, gradient_field, "numpy")
    exact = solve_ivp(lambda _, s: [f(s[0])], (0, ts[-1]), [x0], t_eval=ts, rtol=1e-12).y[0]
    g = sp.lambdify(x, modified_field.subs(eta, h), "numpy")
    mod = solve_ivp(lambda _, s: [g(s[0])], (0, ts[-1]), [x0], t_eval=ts, rtol=1e-12).y[0]
    right.plot(ts, exact, label=r"gradient flow $X' = -L'(X)$")
    right.plot(ts, mod, "--", label=r"modified flow $X' = -\tilde L'(X)$")
    right.plot(
        np.arange(31) * h, run.trajectory[x], "ko", ms=3.5, label=rf"GD iterates, $\eta = {h}$"
    )
    right.set_xlabel(r"time $t = k\eta$")
    right.set_ylabel(r"$x$")
    right.legend(fontsize=8)
    figure_path = gallery.save_figure(fig, NAME)
    gallery.save(derivation, NAME, figures=[figure_path])


if __name__ == "__main__":
    main()
