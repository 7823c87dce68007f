"""Figures are rendered with Agg and their artists inspected."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
import sympy as sp
from matplotlib.collections import PathCollection, QuadMesh
from matplotlib.figure import Figure

import symdyn as sd
from symdyn.catalogue.named import CATALOGUE, beta, eta, lam, x
from symdyn.cli import main
from symdyn.errors import ArgumentError
from symdyn.numeric import plot


def render(fig):
    fig.canvas.draw()  # Agg: fails loudly on bad LaTeX in labels
    return fig


def boundary_lines(ax):
    return [line for line in ax.get_lines() if line.get_label() == "exact boundary"]


def test_heavy_ball_region_has_the_exact_boundary_and_latex_labels():
    rule = CATALOGUE["heavy-ball"].factory()
    fig = render(plot.stability_figure(rule, sd.step_bound(rule, eta), resolution=48))
    ax = fig.axes[0]
    assert ax.get_xlabel() == r"$\eta$" and ax.get_ylabel() == r"$\beta$"
    assert any(isinstance(c, QuadMesh) for c in ax.collections)
    (line,) = boundary_lines(ax)
    # the drawn curve is eta = 2(1 + beta)/lambda with lambda fixed to 1, where beta < 1
    betas, etas = line.get_ydata(), line.get_xdata()
    inside = betas < 1
    np.testing.assert_allclose(etas[inside], 2 * (1 + betas[inside]))
    assert np.all(np.isnan(etas[~inside]))
    assert ax.get_xlim()[1] > 4.0


def test_stability_figures_draw_into_the_axes_they_are_given():
    """Two regions side by side: each boundary, title and legend lands on its own axes."""
    rule = CATALOGUE["heavy-ball"].factory()
    bound = sd.step_bound(rule, eta)
    fig = Figure()
    left, right = fig.subplots(1, 2)
    for ax, curvature in ((left, 1.0), (right, 2.0)):
        assert (
            plot.stability_figure(rule, bound, fixed={lam: curvature}, ax=ax, resolution=24) is fig
        )
    render(fig)
    for ax, curvature in ((left, 1.0), (right, 2.0)):
        (line,) = boundary_lines(ax)
        betas, etas = line.get_ydata(), line.get_xdata()
        inside = betas < 1
        # Polyak (1964): eta = 2(1 + beta)/lambda on this axes' own lambda
        np.testing.assert_allclose(etas[inside], 2 * (1 + betas[inside]) / curvature)
        assert ax.get_title() == f"Stability of {rule.name}"
        assert ax.get_legend() is not None
    assert fig.axes[0] is left and len(fig.axes) == 4  # two axes and their two colour bars


def test_region_without_a_second_symbol_is_one_dimensional():
    rule = CATALOGUE["linear-rnn"].factory()
    result = sd.stability(rule)
    fig = render(
        plot.stability_figure(result, sd.step_bound(result, CATALOGUE["linear-rnn"].step))
    )
    ax = fig.axes[0]
    assert ax.get_xlabel() == "$w$"
    assert [line.get_xdata()[0] for line in boundary_lines(ax)] == [-1.0, 1.0]


def test_stability_map_plot_labels_axes_with_symbols():
    rule = CATALOGUE["gd"].factory()
    smap = sd.stability_map(rule, {eta: np.linspace(0.15, 3, 20), lam: np.linspace(0.1, 2, 10)})
    ax = render(smap.plot()).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == (r"$\eta$", r"$\lambda$")
    assert len(ax.collections) >= 2  # the mesh and the edge of the stable set


def test_eigenvalue_figure_draws_the_unit_circle_and_every_eigenvalue():
    rule = CATALOGUE["heavy-ball"].factory()
    sweep = np.linspace(0.1, 3.0, 15)
    fig = render(plot.eigenvalue_figure(rule, (eta, sweep), fixed={beta: 0.5, lam: 1.0}))
    ax = fig.axes[0]
    (circle,) = [line for line in ax.get_lines() if line.get_label() == "unit circle"]
    np.testing.assert_allclose(np.hypot(circle.get_xdata(), circle.get_ydata()), 1.0)
    (dots,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    assert dots.get_offsets().shape == (2 * sweep.size, 2)
    assert fig.axes[1].get_ylabel() == r"$\eta$"


def test_trajectory_figure_has_one_panel_per_state_variable():
    rule = CATALOGUE["heavy-ball"].factory()
    run = sd.simulate(
        rule, {x: 1.0, "v_x": 0.0}, {eta: [0.1, 0.5], beta: 0.5, lam: 1.0}, steps=40, record=True
    )
    fig = render(plot.trajectory_figure(run))
    assert [ax.get_ylabel() for ax in fig.axes] == ["$x$", "$v_{x}$"]
    assert len(fig.axes[0].get_lines()) == 2
    with pytest.raises(ArgumentError, match="record=True"):
        plot.trajectory_figure(
            sd.simulate(rule, {x: 1.0, "v_x": 0.0}, {eta: 0.1, beta: 0.5, lam: 1.0}, steps=5)
        )


@pytest.mark.parametrize("name", ["heavy-ball", "gda", "resnet-block"])
def test_command_line_writes_the_figure(name, tmp_path, capsys):
    path = tmp_path / "region.png"
    assert main(["analyze", name, "--plot", str(path)]) == 0
    assert path.read_bytes().startswith(b"\x89PNG")
    assert f"wrote {path}" in capsys.readouterr().out


def test_latex_of_greek_and_subscripted_symbols():
    assert plot._tex(sp.Symbol("lambda")) == r"$\lambda$"


def test_landscape_figure_draws_contours_and_the_optimizer_path():
    y = sp.Symbol("y", real=True)
    loss = (x**2 + 10 * y**2) / 2
    rule = sd.optimizers.heavy_ball(loss, [x, y], lr=eta, momentum=beta)
    start = {x: [1.5, -1.0], y: [1.0, 0.5], "v_x": 0.0, "v_y": 0.0}
    run = sd.simulate(rule, start, {eta: 0.05, beta: 0.8}, steps=60, record=True)
    ax = render(plot.landscape_figure(loss, [x, y], run)).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("$x$", "$y$")
    assert ax.collections  # the contour lines
    paths = [line for line in ax.get_lines() if line.get_label() == rule.name]
    assert len(paths) == 2
    np.testing.assert_allclose(paths[0].get_xydata()[0], [1.5, 1.0])
    one = render(plot.landscape_figure(x**4 - x**2, [x], ranges={x: (-1.5, 1.5)})).axes[0]
    assert one.get_xlim()[0] < -1.4 and one.get_ylabel() == "$L$"
