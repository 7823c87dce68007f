"""A continuous-time rate network as a dynamical system: fixed points, their stability, the
gain at which the origin loses it, and training that moves a fixed point.

dh/dt = −h + g W₀ tanh(h) with two units. The origin is a fixed point for every gain g
(tanh 0 = 0) and its Jacobian there is −I + g W₀ (tanh′(0) = 1), so it is stable exactly
while g max Re λ(W₀) < 1: it loses stability at g* = 1/max Re λ(W₀), here in a pitchfork
that creates two stable fixed points ±h*. The exact g* comes from the Routh–Hurwitz region
of the continuous limit of the network's Euler step, and is checked against numeric
eigenvalues; the other fixed points are found numerically and classified by the
eigenvalues of the symbolic Jacobian, checked by finite differences; the flow's Lyapunov
spectrum is checked against them; the largest stable Euler step against spectral radii.
Training the bias by gradient descent through the fixed point (implicit differentiation)
moves a stable fixed point onto a target, checked against the exact bias that puts it
there and against finite differences of the fixed point.
"""

import sys
import time
from pathlib import Path

import numpy as np
import sympy as sp
from scipy.optimize import root

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import _gallery as gallery

import symdyn as sd
import symdyn.autodiff as ad
from symdyn import operators as ops
from symdyn.derivation import Derivation, TeX

NAME = "rate_network"
W0 = sp.Matrix([[1, sp.Rational(1, 2)], [sp.Rational(1, 2), sp.Rational(-1, 2)]])
GAIN = 1.5  # past the bifurcation: three fixed points
TARGET = np.array([1.5, 0.0])
TRAIN_STEPS, TRAIN_RATE = 100, 0.6


def numeric_field(net, values=None):
    """f(h) and its Jacobian as NumPy functions of h (symbols of ``values`` substituted)."""
    field = sp.Matrix(net.vector_field).subs(values or {})
    jac = net.jacobian().subs(values or {})
    f = sp.lambdify([list(net.state)], list(field), "numpy")
    J = sp.lambdify([list(net.state)], jac, "numpy")
    return (lambda h: np.array(f(h), dtype=float)), (lambda h: np.array(J(h), dtype=float))


def kind(eigenvalues):
    re = eigenvalues.real
    if np.all(re < 0):
        return "stable focus" if np.any(eigenvalues.imag != 0) else "stable node"
    if np.all(re > 0):
        return "unstable"
    return "saddle"


def fixed_points(f, J, box=2.0, grid=7):
    """Roots of f from a grid of starts, refined and deduplicated."""
    found = []
    for a in np.linspace(-box, box, grid):
        for b in np.linspace(-box, box, grid):
            done = root(f, [a, b], jac=J, tol=1e-14)
            new = all(np.max(np.abs(done.x - p)) > 1e-8 for p in found)
            if done.success and np.max(np.abs(f(done.x))) < 1e-12 and new:
                found.append(done.x)
    return sorted(found, key=lambda p: (p[0], p[1]))


def bifurcation(g, h1, h2):
    """The exact critical gain from Routh–Hurwitz of the limit ODE, vs eigenvalues."""
    net = sd.models.rate_network(g * W0, [h1, h2])
    limit = sd.continuous_limit(net.euler, h=net.step)
    gallery.identical(
        limit.ode[0].rhs - net.vector_field[0].subs(limit.functions),
        0,
        "continuous_limit of the Euler step is the network's ODE",
    )
    stability = sd.routh_hurwitz(limit, at={h1: 0, h2: 0})
    critical = sp.solve(sp.Eq(stability.charpoly.as_expr().subs(sp.Symbol("s"), 0), 0), g)
    critical = [c for c in critical if c.is_positive]
    largest = max(sp.re(v) for v in W0.eigenvals())
    (g_star,) = critical
    gallery.identical(g_star, 1 / largest, "the origin loses stability at g* = 1/max Re λ(W₀)")
    numeric = 1 / max(np.linalg.eigvals(np.array(W0, dtype=float)).real)
    gallery.claim(abs(float(g_star) - numeric) < 1e-12, f"g* = {float(g_star):.6f} numerically")
    for gain in (0.9 * float(g_star), 1.1 * float(g_star)):
        eig = np.linalg.eigvals(gain * np.array(W0, dtype=float) - np.eye(2))
        holds = bool(stability.region.subs(g, sp.Rational(gain)))
        gallery.claim(holds == bool(np.all(eig.real < 0)), f"Routh–Hurwitz at g = {gain:.3f}")
    return g_star, stability, limit


def classify(net, h1, h2):
    f, J = numeric_field(net)
    points = fixed_points(f, J)
    gallery.claim(len(points) == 3, f"three fixed points at g = {GAIN}")
    kinds = []
    for p in points:
        fd = np.column_stack([(f(p + 1e-6 * e) - f(p - 1e-6 * e)) / 2e-6 for e in np.eye(2)])
        gallery.claim(np.allclose(fd, J(p), atol=1e-7), "symbolic Jacobian = finite differences")
        kinds.append(kind(np.linalg.eigvals(J(p))))
    gallery.claim(
        kinds == ["stable node", "saddle", "stable node"], f"classified: {', '.join(kinds)}"
    )
    gallery.claim(
        np.allclose(points[0], -points[2]), "the two stable points are ±h* (tanh is odd)"
    )
    return f, J, points, kinds


def flow_lyapunov(net, point):
    field = sp.lambdify([list(net.state)], list(net.vector_field), modules=[ad.namespace])

    def f(h):
        return ad.stack(field([h[0], h[1]]))

    delta = 0.05

    def flow(h):
        k1 = f(h)
        k2 = f(h + delta / 2 * k1)
        k3 = f(h + delta / 2 * k2)
        return h + delta / 6 * (k1 + 2 * k2 + 2 * k3 + f(h + delta * k3))

    return ops.lyapunov_spectrum(flow, point + 0.05, steps=300) / delta


def euler_step_bound(net, point, J):
    at = dict(zip(net.state, (sp.Rational(0), sp.Rational(0)), strict=True))
    result = sd.stability(net.euler, at=at)
    bound = sp.reduce_inequalities(list(result.conditions), net.step)
    largest = max(rel.rhs for rel in sp.And.make_args(bound) if rel.lhs == net.step)
    mu = np.linalg.eigvals(J(point))
    numeric = min(-2 * mu.real / abs(mu) ** 2)
    gallery.claim(
        abs(float(largest) - numeric) < 1e-9,
        f"largest stable Euler step at the origin {sp.nsimplify(largest)} = {numeric:.6f}",
    )
    for dt, stable in ((0.99 * numeric, True), (1.01 * numeric, False)):
        radius = max(abs(np.linalg.eigvals(np.eye(2) + dt * J(point))))
        gallery.claim((radius < 1) == stable, f"spectral radius {radius:.4f} at Δt = {dt:.4f}")
    return largest


def train(W, start):
    """GD on the bias b of dh/dt = −h + W tanh h + b, loss ‖h*(b) − target‖²/2, with
    dh*/db = −J⁻¹ (implicit function theorem; ∂f/∂b = I)."""

    def field(h, b):
        return -h + W @ np.tanh(h) + b

    def jac(h):
        return -np.eye(2) + W * (1 - np.tanh(h) ** 2)

    def settle(b, h):
        return root(lambda z: field(z, b), h, jac=jac, tol=1e-14).x

    b, h = np.zeros(2), start
    path, losses, slowest = [h], [], -np.inf
    for step in range(TRAIN_STEPS):
        h = settle(b, h)
        slowest = max(slowest, max(np.linalg.eigvals(jac(h)).real))
        gradient = -np.linalg.solve(jac(h), np.eye(2)).T @ (h - TARGET)
        if step == 0:
            fd = np.array(
                [
                    (
                        np.sum((settle(b + 1e-6 * e, h) - TARGET) ** 2) / 2
                        - np.sum((settle(b - 1e-6 * e, h) - TARGET) ** 2) / 2
                    )
                    / 2e-6
                    for e in np.eye(2)
                ]
            )
            gallery.claim(
                np.allclose(gradient, fd, atol=1e-7), "IFT gradient = finite differences"
            )
        losses.append(np.sum((h - TARGET) ** 2) / 2)
        b = b - TRAIN_RATE * gradient
        path.append(h)
    h = settle(b, h)
    path.append(h)
    exact = TARGET - W @ np.tanh(TARGET)
    gallery.claim(np.max(np.abs(h - TARGET)) < 1e-6, f"the fixed point moved onto {TARGET}")
    gallery.claim(np.allclose(b, exact, atol=1e-5), "and b is the exact b = h − W tanh h")
    gallery.claim(slowest < 0, f"stable all the way (max Re μ ≤ {slowest:.3f})")
    return np.array(path), np.array(losses), b


def plot(net, f, points, kinds, g_star, path):
    fig, (portrait, branch, moved) = gallery.figure(ncols=3, size=(15, 4.4))
    grid = np.linspace(-2, 2, 41)
    H1, H2 = np.meshgrid(grid, grid)
    F = np.array([f([a, b]) for a, b in zip(H1.ravel(), H2.ravel(), strict=True)])
    U, V = F[:, 0].reshape(H1.shape), F[:, 1].reshape(H1.shape)
    portrait.streamplot(H1, H2, U, V, density=1.0, color="0.6", linewidth=0.7)
    portrait.contour(H1, H2, U, levels=[0], colors="C0")
    portrait.contour(H1, H2, V, levels=[0], colors="C1")
    for p, k in zip(points, kinds, strict=True):
        portrait.plot(*p, "o" if k.startswith("stable") else "x", color="k", ms=7)
    portrait.set_title(rf"$g = {GAIN}$: nullclines $\dot h_1 = 0$, $\dot h_2 = 0$")
    portrait.set_xlabel(r"$h_1$")
    portrait.set_ylabel(r"$h_2$")
    gains = np.linspace(0.3, 2.0, 60)
    lam = max(np.linalg.eigvals(np.array(W0, dtype=float)).real)
    branch.plot(gains, gains * lam - 1, label=r"max Re $\mu$ at $h = 0$")
    norms, start = [], np.array([2.0, 0.5])
    for gain in gains[::-1]:  # followed down from g = 2, where the branch is far from 0
        W = gain * np.array(W0, dtype=float)
        start = root(lambda z, W=W: -z + W @ np.tanh(z), start, tol=1e-14).x
        norms.append(np.linalg.norm(start))
    norms = norms[::-1]
    branch.plot(gains, norms, label=r"$\|h^*\|$, nonzero branch")
    branch.axvline(float(g_star), color="k", ls=":", label=rf"$g^* = {float(g_star):.3f}$")
    branch.axhline(0, color="0.8", lw=0.8)
    branch.set_xlabel(r"gain $g$")
    branch.legend(fontsize=8)
    moved.plot(path[:, 0], path[:, 1], ".-", ms=3, label="fixed point over training")
    moved.plot(*TARGET, "*", ms=12, color="C3", label="target")
    moved.set_xlabel(r"$h_1^*$")
    moved.set_ylabel(r"$h_2^*$")
    moved.legend(fontsize=8)
    return gallery.save_figure(fig, NAME)


def main():
    started = time.perf_counter()
    print("a continuous-time rate network")
    h1, h2 = sp.symbols("h1 h2", real=True)
    g = sp.Symbol("g", positive=True)
    g_star, stability, limit = bifurcation(g, h1, h2)
    net = sd.models.rate_network(sp.Rational(3, 2) * W0, [h1, h2])
    gallery.identical(
        sp.Matrix(net.vector_field).subs({h1: 0, h2: 0}).norm(), 0, "h = 0 is a fixed point"
    )
    f, J, points, kinds = classify(net, h1, h2)
    exponents = flow_lyapunov(net, points[2])
    expected = np.sort(np.linalg.eigvals(J(points[2])).real)[::-1]
    gallery.claim(
        np.allclose(exponents, expected, atol=0.02),
        f"flow Lyapunov exponents {np.round(exponents, 3)} = Re μ at h* {np.round(expected, 3)}",
    )
    below = sd.models.rate_network(sp.Rational(1, 2) * W0, [h1, h2])
    _, J_below = numeric_field(below)
    largest = euler_step_bound(below, np.zeros(2), J_below)
    path, losses, b = train(GAIN * np.array(W0, dtype=float), points[2])
    figure_path = plot(net, f, points, kinds, g_star, path)
    listed = ", ".join(
        f"({p[0]:.4f}, {p[1]:.4f}) ({k})" for p, k in zip(points, kinds, strict=True)
    )
    report = (
        Derivation("A continuous-time rate network")
        .then(
            "Two units, $\\dot h = -h + g W_0 \\tanh h$, with $W_0$ below; its Euler step "
            "$h \\leftarrow h + \\Delta t\\, \\dot h$ has the continuous limit",
            (TeX("W_0 = " + sp.latex(W0)), *limit.ode),
        )
        .then(
            "At the origin the linearisation is $-I + g W_0$; Routh-Hurwitz of the limit "
            "gives the characteristic polynomial and the region",
            (stability.charpoly.as_expr(), stability.region),
        )
        .then(
            "so the origin loses stability at $g^* = 1/\\max \\operatorname{Re} \\lambda(W_0)$, "
            "checked against numeric eigenvalues:",
            sp.Eq(sp.Symbol("g^*"), g_star),
        )
        .then(
            f"At $g = {GAIN}$ root finding from a grid of starts finds {len(points)} fixed "
            f"points: {listed}. "
            "Each is classified by the eigenvalues of the exact Jacobian (checked by finite "
            "differences); the Lyapunov exponents of the flow near the stable point are "
            f"{np.round(exponents, 3).tolist()}, its Jacobian's real parts."
        )
        .then(
            "At $g = 1/2$ the Euler step is stable at the origin for $\\Delta t$ below",
            largest,
        )
        .then(
            f"Gradient descent on the bias ({TRAIN_STEPS} steps, rate {TRAIN_RATE}) through "
            "the fixed point, $\\partial h^*/\\partial b = -J^{-1}$, moves the stable point "
            f"from ({points[2][0]:.3f}, {points[2][1]:.3f}) onto the target "
            f"({TARGET[0]}, {TARGET[1]}); the loss falls from {losses[0]:.2e} to "
            f"{losses[-1]:.2e}, and $b$ = ({b[0]:.4f}, {b[1]:.4f}) is the exact "
            "$b = h - W \\tanh h$."
        )
    )
    gallery.save(report, NAME, figures=[figure_path])
    print(f"  {NAME} ran in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
