"""Diffusion models with a Gaussian data distribution: forward SDE, reverse SDE, probability flow.

Algorithm: noise the data by the Ornstein–Uhlenbeck SDE dX = −(β/2)X dt + √β dW
(variance preserving, constant β) up to a time T; sample by running the reverse-time SDE
dX = [−(β/2)X − β∇log p_t(X)] dt + √β dW̄, or the probability-flow ODE
dx/dt = −(β/2)x − (β/2)∇log p_t(x), backwards from T to 0.
Guarantee: for data N(m, s²) every marginal is Gaussian, p_t = N(m e^{−βt/2},
1 + (s² − 1)e^{−βt}), so the score is exact and linear in x; p_t solves the Fokker–Planck
equation, the probability flow solves its continuity equation, and the flow map
x_0 = m + s (x_T − m_T)/√v_T carries p_T to the data distribution exactly.
References: Anderson, "Reverse-time diffusion equation models" (1982); Song et al.,
"Score-based generative modeling through SDEs" (ICLR 2021).
"""

import sys
from pathlib import Path

import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _gallery as gallery

import symdyn as sd
from symdyn.derivation import Derivation, TeX

NAME = "diffusion"
DATA_MEAN, DATA_STD, RATE, HORIZON = 2.0, 0.5, 1.0, 10.0
SAMPLES, STEPS = 20000, 2000


def main():
    x = sp.Symbol("x", real=True)
    t = sp.Symbol("t", nonnegative=True)
    beta, s, T = sp.symbols("beta s T", positive=True)
    m = sp.Symbol("m", real=True)
    print("diffusion with Gaussian data")
    drift = -beta * x / 2
    diffusion = sp.sqrt(beta)

    # Moments of the linear SDE: m' = f(m), v' = 2(∂f/∂x)v + g².
    mean, var = sp.Function("mu"), sp.Function("v")
    mean_ode = sp.Eq(mean(t).diff(t), drift.subs(x, mean(t)))
    var_ode = sp.Eq(var(t).diff(t), 2 * sp.diff(drift, x) * var(t) + diffusion**2)
    m_t = sp.dsolve(mean_ode, mean(t), ics={mean(0): m}).rhs
    v_t = sp.dsolve(var_ode, var(t), ics={var(0): s**2}).rhs
    gallery.identical(m_t, m * sp.exp(-beta * t / 2), "mean m_t = m e^{−βt/2}")
    gallery.identical(
        v_t, 1 + (s**2 - 1) * sp.exp(-beta * t), "variance v_t = 1 + (s² − 1)e^{−βt}"
    )

    density = sp.exp(-((x - m_t) ** 2) / (2 * v_t)) / sp.sqrt(2 * sp.pi * v_t)
    fokker_planck = density.diff(t) - (
        -sp.diff(drift * density, x) + diffusion**2 / 2 * sp.diff(density, x, 2)
    )
    gallery.identical(
        sp.expand(fokker_planck / density), 0, "p_t solves the Fokker–Planck equation"
    )
    score = sp.simplify(sp.diff(sp.log(density), x))
    gallery.identical(score, -(x - m_t) / v_t, "score ∇log p_t = −(x − m_t)/v_t")
    reverse_drift = drift - diffusion**2 * score
    flow = sp.simplify(drift - diffusion**2 / 2 * score)
    continuity = density.diff(t) + sp.diff(flow * density, x)
    gallery.identical(
        sp.expand(continuity / density), 0, "the probability flow solves the continuity equation"
    )
    x_T = sp.Symbol("x_T", real=True)
    path = m_t + sp.sqrt(v_t) / sp.sqrt(v_t.subs(t, T)) * (x_T - m_t.subs(t, T))
    gallery.identical(
        path.diff(t) - flow.subs(x, path),
        0,
        "x(t) = m_t + √(v_t/v_T)(x_T − m_T) solves the flow ODE",
    )
    gallery.identical(
        path.subs(t, 0),
        m + s * (x_T - m_t.subs(t, T)) / sp.sqrt(v_t.subs(t, T)),
        "so x(0) = m + s(x_T − m_T)/√v_T: the data distribution, exactly",
    )

    # Simulation, from the prior N(0, 1) at T = 10: the flow ODE as an update rule (Euler,
    # backwards in time, counter k), and the reverse SDE by Euler–Maruyama.
    k = sp.Symbol("k", integer=True, positive=True)
    dt = sp.Symbol("Delta", positive=True)
    now = T - (k - 1) * dt
    ode_rule = sd.UpdateRule(
        [x],
        [(x, x - dt * flow.subs(t, now))],
        [dt],
        name="probability flow (Euler, backwards)",
        counter=k,
    )
    values = {beta: RATE, s: DATA_STD, m: DATA_MEAN, T: HORIZON}
    rng = np.random.default_rng(0)
    prior = rng.standard_normal(SAMPLES)
    step = HORIZON / STEPS
    ode_run = sd.simulate(
        ode_rule, init={x: prior}, params={dt: step, **values}, steps=STEPS, tol=0
    )
    ode_samples = np.asarray(ode_run.final[x])
    drift_f = sp.lambdify((x, t), reverse_drift.subs(values), "numpy")
    sde_samples = prior.copy()
    keep = [sde_samples[:8].copy()]
    for i in range(STEPS):
        now_v = HORIZON - i * step
        noise = rng.standard_normal(SAMPLES)
        sde_samples = (
            sde_samples - step * drift_f(sde_samples, now_v) + np.sqrt(RATE * step) * noise
        )
        if i % 20 == 19:
            keep.append(sde_samples[:8].copy())
    for label, samples in (("probability-flow ODE", ode_samples), ("reverse SDE", sde_samples)):
        gallery.claim(
            abs(samples.mean() - DATA_MEAN) < 0.03 and abs(samples.var() - DATA_STD**2) < 0.03,
            f"{label}: mean {samples.mean():.3f} ≈ {DATA_MEAN}, "
            f"variance {samples.var():.3f} ≈ {DATA_STD**2}",
        )
    exact_map = sp.lambdify(x_T, path.subs(t, 0).subs(values), "numpy")
    gallery.claim(
        np.max(np.abs(ode_samples - exact_map(prior))) < 0.02,
        "each ODE sample lands within 0.02 of the exact flow map's image",
    )

    derivation = Derivation("Diffusion with Gaussian data: forward, reverse and probability flow")
    derivation = derivation.then(
        "Forward (noising) process, an Ornstein–Uhlenbeck SDE with data $X_0 \\sim N(m, s^2)$:",
        TeX(r"dX_t = -\tfrac{\beta}{2} X_t\,dt + \sqrt{\beta}\,dW_t"),
    )
    derivation = derivation.then(
        "The SDE is linear, so $X_t$ stays Gaussian; its mean and variance solve",
        (mean_ode, var_ode),
    )
    derivation = derivation.then(
        "and sympy's dsolve gives",
        (sp.Eq(mean(t), m_t), sp.Eq(var(t), v_t)),
    )
    derivation = derivation.then(
        "The Gaussian density $p_t = N(m_t, v_t)$ satisfies the Fokker–Planck equation "
        "(checked symbolically, the residual divided by $p_t$ expands to 0):",
        TeX(
            r"\partial_t p = -\partial_x\!\left(-\tfrac{\beta}{2} x\,p\right) + "
            r"\tfrac{\beta}{2}\,\partial_x^2 p"
        ),
    )
    derivation = derivation.then(
        "Its score is exact and linear in $x$, with $m_t = \\mu(t)$ and $v_t = v(t)$:",
        (
            TeX(r"\nabla_x \log p_t(x) = -\frac{x - m_t}{v_t}"),
            TeX(r"\nabla_x \log p_t(x) = " + sp.latex(score)),
        ),
    )
    derivation = derivation.then(
        "Reverse-time SDE (Anderson 1982), run from $T$ down to 0 with $\\bar W$ a "
        "reverse-time Brownian motion, $f = -\\beta x/2$ and $g = \\sqrt\\beta$:",
        (
            TeX(r"dX_t = \left[f - g^2 \nabla_x \log p_t\right] dt + g\, d\bar W_t"),
            TeX(r"f - g^2 \nabla_x \log p_t = " + sp.latex(sp.factor(reverse_drift))),
        ),
    )
    derivation = derivation.then(
        "Probability-flow ODE (Song et al. 2021), whose velocity $u = f - \\tfrac12 g^2 "
        "\\nabla_x\\log p_t$ moves $p_t$ by the continuity equation "
        "$\\partial_t p + \\partial_x(u p) = 0$ (checked symbolically):",
        TeX("u(x, t) = " + sp.latex(sp.factor(flow))),
    )
    derivation = derivation.then(
        "The ODE is linear in $x$; its solution through $x_T$ at time $T$ is",
        sp.Eq(
            sp.Symbol("x(t)"),
            sp.Symbol("m_t")
            + sp.sqrt(sp.Symbol("v_t") / sp.Symbol("v_T")) * (x_T - sp.Symbol("m_T")),
        ),
    )
    derivation = derivation.then(
        "so at $t = 0$ it is an affine map sending $N(m_T, v_T)$ to $N(m, s^2)$ exactly:",
        sp.Eq(sp.Symbol("x(0)"), m + s * (x_T - sp.Symbol("m_T")) / sp.sqrt(sp.Symbol("v_T"))),
    )
    derivation = derivation.then(
        f"Check by simulation: {SAMPLES} samples of the prior $N(0, 1)$ at $T = {HORIZON:g}$ "
        f"($\\beta = {RATE:g}$), {STEPS} steps backwards. The probability flow (Euler, as a "
        f"symdyn update rule with a step counter) ends with mean {ode_samples.mean():.4f} and "
        f"variance {ode_samples.var():.4f}; the reverse SDE (Euler–Maruyama) with mean "
        f"{sde_samples.mean():.4f} and variance {sde_samples.var():.4f}; the data has mean "
        f"{DATA_MEAN:g} and variance {DATA_STD**2:g}."
    )

    fig, (left, right) = gallery.figure(ncols=2, size=(10, 4.0))
    grid = np.linspace(-0.5, 4.0, 400)
    bins = np.linspace(-0.5, 4.0, 80)
    left.hist(ode_samples, bins=bins, density=True, alpha=0.5, label="probability-flow ODE")
    left.hist(sde_samples, bins=bins, density=True, alpha=0.5, label="reverse SDE")
    left.plot(
        grid,
        np.exp(-((grid - DATA_MEAN) ** 2) / (2 * DATA_STD**2)) / np.sqrt(2 * np.pi * DATA_STD**2),
        "k",
        lw=1.2,
        label=r"data $N(m, s^2)$",
    )
    left.set_xlabel(r"$x_0$")
    left.set_ylabel(r"density $p_0(x)$")
    left.legend(fontsize=8)
    times = HORIZON - np.arange(STEPS + 1) * step
    paths = [prior[:8]]
    current = prior[:8].copy()
    u = sp.lambdify((x, t), flow.subs(values), "numpy")
    for i in range(STEPS):
        current = current - step * u(current, times[i])
        paths.append(current.copy())
    paths = np.array(paths)
    right.plot(times, paths, color="C0", lw=0.9)
    right.plot(
        HORIZON - np.arange(len(keep)) * 20 * step,
        np.array(keep)[:, :8],
        color="C1",
        lw=0.5,
        alpha=0.7,
    )
    right.plot([], [], color="C0", label="probability-flow ODE")
    right.plot([], [], color="C1", label="reverse SDE")
    right.set_xlim(HORIZON, 0)
    right.set_xlabel(r"time $t$ (run from $T$ to $0$)")
    right.set_ylabel(r"$x_t$")
    right.legend(fontsize=8)
    figure_path = gallery.save_figure(fig, NAME)
    gallery.save(derivation, NAME, figures=[figure_path])


if __name__ == "__main__":
    main()
