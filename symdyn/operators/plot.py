"""Figures of a :class:`~symdyn.operators.Tracking`: spectra over training, ⟨K⟩ eigenfunctions.

Each function builds a :class:`matplotlib.figure.Figure` directly (no
``pyplot``: nothing opens a window, any backend works).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from symdyn.errors import ShapeError

from .tracking import Tracking

__all__ = ["eigenfunctions_figure", "tracking_figure"]


def tracking_figure(tracking: Tracking) -> Figure:
    """Loss, top-k spectra, effective ranks and alignments over training (2 × 2 panels).

    Examples
    --------
    >>> import numpy as np
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> import symdyn.autodiff as ad
    >>> from symdyn import operators as ops
    >>> x, eta = sp.Symbol("x", real=True), sp.Symbol("eta", positive=True)
    >>> gd = sd.as_optimizer(sd.optimizers.gd(x**2 / 2, [x], lr=eta), {eta: 0.1})
    >>> model = ops.Recurrence(lambda h, u, w: ad.tanh(h * w[0] + u * w[1]), [0.5, 0.5],
    ...                        np.zeros((2, 1)), np.ones((2, 3, 1)))
    >>> run = ops.track(model, lambda y: ad.sum((y - 0.2) ** 2), gd, steps=4, every=2)
    >>> [ax.get_title() for ax in tracking_figure(run).axes]
    ['loss', 'top singular values', 'effective rank', 'kernel alignment']
    """
    figure = Figure(figsize=(10, 7), layout="constrained")
    loss, spectra, ranks, aligned = figure.subplots(2, 2).ravel()
    steps = np.asarray(tracking.steps)
    loss.semilogy(np.arange(len(tracking.history)), tracking.history, color="black")
    loss.semilogy(steps, tracking.loss, "o", color="black", label="checkpoints")
    loss.set(title="loss", xlabel="step")
    loss.legend()
    for i, (name, values) in enumerate(tracking.spectra.items()):
        color = f"C{i}"
        lines = spectra.semilogy(steps, values, color=color, alpha=0.8)
        lines[0].set_label(name)
        ranks.plot(steps, tracking.ranks[name], "o-", color=color, label=name)
        aligned.plot(steps, tracking.drift[name], "o-", color=color, label=f"{name} vs previous")
    for j, (pair, values) in enumerate(tracking.alignments.items()):
        aligned.plot(steps, values, "s--", color=f"C{len(tracking.spectra) + j}", label=pair)
    spectra.set(title="top singular values", xlabel="step")
    ranks.set(title="effective rank", xlabel="step")
    aligned.set(title="kernel alignment", xlabel="step", ylim=(-0.05, 1.05))
    for ax in (spectra, ranks, aligned):
        ax.legend(fontsize="small")
    return figure


def eigenfunctions_figure(
    tracking: Tracking, measure: str = "<K>_hidden", index: int = 0, panels: int = 4
) -> Figure:
    """The ``index``-th eigenfunction of a hidden-averaged operator at several checkpoints.

    For ⟨K⟩ averaged over hidden units the eigenfunctions live on [B, T]:
    each panel draws one curve per batch trial over time (as in the K–P
    flow's Fig. 5). An eigenfunction's sign is arbitrary; each is flipped to
    correlate positively with the one drawn before it.
    """
    if measure not in tracking.functions:
        raise ShapeError(
            f"eigenfunctions_figure: {measure!r} was not tracked; tracked: "
            f"{sorted(tracking.functions)}"
        )
    functions = tracking.functions[measure]
    if functions.ndim != 4:
        raise ShapeError(
            f"eigenfunctions_figure: {measure!r} has functions on {functions.shape[2:]}; "
            "need [B, T] (an operator averaged over hidden units, e.g. '<K>_hidden')"
        )
    chosen = np.unique(np.linspace(0, len(tracking.steps) - 1, panels).round().astype(int))
    figure = Figure(figsize=(3.2 * len(chosen), 3), layout="constrained")
    axes = np.atleast_1d(figure.subplots(1, len(chosen), sharey=True))
    previous = None
    for ax, c in zip(axes, chosen, strict=True):
        f = functions[c, index]
        if previous is not None and np.sum(f * previous) < 0:
            f = -f
        previous = f
        for b, curve in enumerate(f):
            ax.plot(np.arange(1, len(curve) + 1), curve, label=f"trial {b}")
        ax.set(title=f"step {tracking.steps[c]}", xlabel="t")
    axes[0].set_ylabel(f"{measure} eigenfunction {index}")
    axes[0].legend(fontsize="small")
    return figure
