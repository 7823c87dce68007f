"""Every figure states what it held fixed (issue 21): the artists' texts are read back."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import sympy as sp

import symdyn as sd
from symdyn.catalogue.named import CATALOGUE, beta, eta, lam, x
from symdyn.numeric import plot

RULE = CATALOGUE["heavy-ball"].factory()
GD = CATALOGUE["gd"].factory()


def texts(fig):
    """Every text a reader sees: titles, annotations, labels and legends, after drawing."""
    fig.canvas.draw()  # Agg: fails loudly on bad mathtext
    seen = [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_visible()]
    return [t for t in seen if t]


def test_region_figure_states_the_fixed_curvature_whatever_it_is():
    for curvature, shown in ((1.0, r"$\lambda = 1$"), (2.5, r"$\lambda = 2.5$")):
        bound = sd.step_bound(RULE, eta)
        fig = plot.stability_figure(RULE, bound, fixed={lam: curvature}, resolution=16)
        assert shown in " ".join(texts(fig))


def test_map_figure_states_its_fixed_values_and_not_its_axes():
    smap = sd.stability_map(RULE, {eta: np.linspace(0.1, 4, 8)}, fixed={lam: 1.0, beta: 1e-8})
    seen = " ".join(texts(smap.plot()))
    assert r"$\lambda = 1$" in seen and r"$\beta = 10^{-8}$" in seen
    assert r"$\eta =" not in seen  # the swept symbol is an axis, not a fixed value


def test_eigenvalue_figure_states_the_values_held_fixed():
    fig = plot.eigenvalue_figure(RULE, (eta, np.linspace(0, 3, 5)), fixed={beta: 0.5, lam: 1.0})
    seen = " ".join(texts(fig))
    assert r"$\beta = 0.5$" in seen and r"$\lambda = 1$" in seen


def test_trajectory_figure_counts_steps_and_points_in_the_right_number():
    for steps, points, phrases in (
        (1, 1, ["1 step", "1 point"]),
        (10, 3, ["10 steps", "3 points"]),
    ):
        run = sd.simulate(
            GD, {x: 1.0}, {eta: np.linspace(0.1, 0.3, points), lam: 2.0}, steps=steps,
            record=True,
        )  # fmt: skip
        seen = " ".join(texts(plot.trajectory_figure(run)))
        for phrase in phrases:
            assert phrase in seen
        assert "1 steps" not in seen and "1 points" not in seen
        assert r"$\lambda = 2$" in seen
        if points > 1:
            assert r"$\eta$ from $0.1$ to $0.3$ (3 values)" in seen


def test_landscape_figure_states_the_loss_parameters_it_fixed():
    a = sp.Symbol("a", positive=True)
    fig = plot.landscape_figure(a * x**4 - x**2, [x], fixed={a: sp.Rational(1, 2)})
    assert r"$a = \frac{1}{2}$" in " ".join(texts(fig))
