"""What every figure of the numeric floor shares: symbol labels and a fresh or given Axes."""

from __future__ import annotations

from symdyn.escaping import safe_latex


def tex(symbol):
    """A symbol as an axis label: its LaTeX, through the safe printer."""
    return f"${safe_latex(symbol)}$"


def axes_of(ax, **kwargs):
    """(figure, axes): those of ``ax``, or a new Figure (no pyplot, any backend) and its axes."""
    from matplotlib.figure import Figure  # matplotlib only when drawing

    if ax is not None:
        return ax.figure, ax
    fig = Figure(**kwargs)
    return fig, fig.add_subplot()
