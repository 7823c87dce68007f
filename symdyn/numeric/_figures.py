"""What every figure of the numeric floor shares: symbol labels, a fresh or given Axes, and
the line that states what was held fixed ("λ = 1", "500 steps")."""

from __future__ import annotations

import numpy as np
import sympy as sp

from symdyn.escaping import safe_latex

# The annotation that states a figure's fixed parameters (tests find it by this gid).
FIXED_GID = "fixed-parameters"


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


def count(number, unit):
    """``"1 step"``, ``"10 steps"``: a count with its unit in the right number."""
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


def number_text(value):
    """A float as a reader writes it in mathtext: 1, 0.25, 1.5 \\times 10^{-8}."""
    text = f"{float(value):.4g}"
    if "e" not in text:
        return text
    mantissa, power = text.split("e")
    power = int(power)
    return f"10^{{{power}}}" if mantissa == "1" else rf"{mantissa} \times 10^{{{power}}}"


def value_text(symbol, value):
    """``$\\lambda = 1$`` for one value; ``$\\eta$ from 0.1 to 2 (5 values)`` for an array."""
    name = safe_latex(symbol)
    if isinstance(value, sp.Basic):
        return f"${name} = {safe_latex(value)}$"
    values = np.asarray(value, dtype=float)
    if values.size == 1:
        return f"${name} = {number_text(values.ravel()[0])}$"
    low, high = np.nanmin(values), np.nanmax(values)
    return (
        f"${name}$ from ${number_text(low)}$ to ${number_text(high)}$ "
        f"({count(values.size, 'value')})"
    )


def state_fixed(ax, values, *extra):
    """Write the fixed values (a ``{Symbol: value}`` mapping) and ``extra`` phrases on ``ax``.

    One small box in the upper-left corner, e.g. ``λ = 1 · 500 steps``; nothing
    when there is nothing to state. Returns the text artist (or None).
    """
    parts = [*extra, *(value_text(s, v) for s, v in values.items())]
    if not parts:
        return None
    return ax.text(
        0.02,
        0.98,
        " · ".join(parts),
        transform=ax.transAxes,
        ha="left",
        va="top",
        fontsize="small",
        bbox={"boxstyle": "round,pad=0.3", "facecolor": "white", "alpha": 0.8, "linewidth": 0},
        gid=FIXED_GID,
        zorder=5,
    )
