"""The operators of a model tracked while it trains: ``track``.

The K–P flow is about how Θ, Φ, K and P change as the parameters move.
:func:`track` runs an optimizer on L(θ) = loss(outputs(θ)) and, every
``every`` steps, records for each chosen operator its top-k spectrum and
singular functions, its effective rank, its kernel alignment with the same
operator at the previous checkpoint (how far the kernel moved) and with the
other chosen operators of the same shape.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from symdyn.errors import OperatorError, ShapeError
from symdyn.frozen import FrozenMapping
from symdyn.numeric.progress import progress_bar

from .algebra import kernel_alignment
from .model import Recurrence
from .sharpness import training_loss
from .spectra import average, effective_rank, svd
from .tangent import K, ntk, nto

__all__ = ["MEASURES", "Tracking", "track"]


def _averaged(build, axes):
    def measure(model):
        return average(build(model), over=axes)

    return measure


MEASURES = {"ntk": ntk, "nto": nto, "K": K}
for _name, _build in (("nto", nto), ("K", K)):
    for _axes in ("time", "hidden", "batch"):
        MEASURES[f"<{_name}>_{_axes}"] = _averaged(_build, _axes)


@dataclass(frozen=True, eq=False)
class Tracking:
    """What :func:`track` recorded, one row per checkpoint.

    Attributes
    ----------
    steps : tuple of int
        The optimizer steps of the checkpoints (0 is before training).
    loss : ndarray [C]
        The loss at each checkpoint.
    history : ndarray [steps + 1]
        The loss at every step.
    spectra : FrozenMapping of str to ndarray [C, k]
        Top-k singular values of each measure.
    functions : FrozenMapping of str to ndarray [C, k, *shape]
        Their singular functions (left), on the operator's tensor shape.
    ranks : FrozenMapping of str to ndarray [C]
        Effective rank (entropy) of the top-k values.
    drift : FrozenMapping of str to ndarray [C]
        Kernel alignment with the same measure at the previous checkpoint
        (NaN at the first).
    alignments : FrozenMapping of str to ndarray [C]
        ``"A|B"``: kernel alignment between two measures of the same shape.
    theta : ndarray [M]
        The parameters after training.
    """

    steps: tuple
    loss: np.ndarray
    history: np.ndarray
    spectra: FrozenMapping
    functions: FrozenMapping
    ranks: FrozenMapping
    drift: FrozenMapping
    alignments: FrozenMapping
    theta: np.ndarray


def _measures(measures):
    out = {}
    for item in measures:
        if isinstance(item, str):
            if item not in MEASURES:
                raise OperatorError(
                    f"track: unknown measure {item!r}; use one of {sorted(MEASURES)} "
                    "or a (label, callable model -> operator) pair"
                )
            out[item] = MEASURES[item]
        else:
            label, build = item
            out[str(label)] = build
    if not out:
        raise OperatorError("track: measures is empty")
    return out


def _stepper(optimizer, theta):
    """theta ↦ next theta given the gradient, for optax-style rules or a torch optimizer."""
    if hasattr(optimizer, "init") and hasattr(optimizer, "update"):
        state = [optimizer.init({"theta": theta})]

        def step(theta, gradient):
            updates, state[0] = optimizer.update({"theta": gradient}, state[0], {"theta": theta})
            return theta + np.asarray(updates["theta"], dtype=theta.dtype)

        return step
    if callable(optimizer):  # a torch optimizer class or factory: optimizer([parameter])
        import torch

        parameter = torch.tensor(theta, requires_grad=True)
        torch_optimizer = optimizer([parameter])

        def step(theta, gradient):
            parameter.grad = torch.tensor(gradient)
            torch_optimizer.step()
            return parameter.detach().numpy().copy()

        return step
    raise OperatorError(
        "track: optimizer must have init/update (symdyn as_optimizer, optax) or be a "
        f"torch optimizer factory (e.g. functools.partial(torch.optim.SGD, lr=0.1)); got "
        f"{type(optimizer).__name__}"
    )


def _checkpoint(model, builds, k, previous, samples, seed):
    """Spectra, functions, ranks, drift and cross-alignments of every measure at ``model``."""
    operators = {name: build(model) for name, build in builds.items()}
    row = {"spectra": {}, "functions": {}, "ranks": {}, "drift": {}, "alignments": {}}
    for name, op in operators.items():
        result = svd(op, k=min(k, min(op.shape)), seed=seed)
        row["spectra"][name] = result.values
        row["functions"][name] = result.left
        row["ranks"][name] = effective_rank(result.values)
        before = previous.get(name)
        row["drift"][name] = (
            np.nan if before is None else kernel_alignment(op, before, samples, seed)[0]
        )
    names = list(operators)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if operators[a].shape == operators[b].shape:
                value = kernel_alignment(operators[a], operators[b], samples, seed)[0]
                row["alignments"][f"{a}|{b}"] = value
    return row, operators


def track(
    model: Recurrence,
    loss: Callable,
    optimizer,
    steps: int,
    every: int,
    measures: Sequence = ("K",),
    k: int = 5,
    samples: int = 32,
    seed: int = 0,
    progress: bool | None = None,
) -> Tracking:
    """Train ``model`` on loss(outputs) and record its operators every ``every`` steps.

    Parameters
    ----------
    model : Recurrence
        Any backend; θ is trained.
    loss : callable
        Maps the model's outputs (its framework's arrays) to a scalar.
    optimizer
        ``symdyn.as_optimizer(rule, ...)`` or an optax transformation (anything
        with ``init``/``update``, applied to ``{"theta": θ}``), or a torch
        optimizer factory called with ``[parameter]``.
    steps, every : int
        Optimizer steps, and the spacing of checkpoints (step 0 and the last
        step are always checkpoints).
    measures : sequence
        Names from :data:`MEASURES` (``"ntk"``, ``"nto"``, ``"K"``,
        ``"<K>_hidden"``, ...) or (label, callable model → operator) pairs.
    k : int
        Singular values kept per measure.
    samples, seed : int
        Probes of the kernel alignments, and the seed of probes and Lanczos.
    progress : bool or None
        A progress bar over the steps (None: only on a terminal).

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
    >>> run = ops.track(model, lambda y: ad.sum((y - 0.2) ** 2), gd, steps=20, every=10)
    >>> run.steps, bool(run.loss[-1] < run.loss[0]), run.spectra["K"].shape
    ((0, 10, 20), True, (3, 5))
    """
    if not isinstance(model, Recurrence):
        raise ShapeError(f"track: expected a Recurrence, got {type(model).__name__}")
    for name, value in (("steps", steps), ("every", every)):
        if not isinstance(value, (int, np.integer)) or value < (0 if name == "steps" else 1):
            raise ShapeError(f"track: {name} must be a positive integer, got {value!r}")
    builds = _measures(measures)
    f, theta, backend = training_loss(loss, model)
    step = _stepper(optimizer, theta)
    history, rows, previous, marks = [], [], {}, []
    with progress_bar(progress, steps, "track", "step") as bar:
        for n in range(steps + 1):
            value, gradient = backend.value_and_grad(f, theta)
            history.append(value)
            if n % every == 0 or n == steps:
                current = dataclasses.replace(model, theta=theta)
                row, previous = _checkpoint(current, builds, k, previous, samples, seed)
                rows.append(row)
                marks.append(n)
            if n < steps:
                theta = step(theta, gradient)
                bar.update(1)
    history = np.array(history)

    def stacked(key):
        return FrozenMapping(
            {name: np.stack([r[key][name] for r in rows]) for name in rows[0][key]}
        )

    return Tracking(
        steps=tuple(marks),
        loss=history[list(marks)],
        history=history,
        spectra=stacked("spectra"),
        functions=stacked("functions"),
        ranks=stacked("ranks"),
        drift=stacked("drift"),
        alignments=stacked("alignments"),
        theta=np.asarray(theta),
    )
