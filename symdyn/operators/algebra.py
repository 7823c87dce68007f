"""Operator algebra that keeps tensor shapes, and how close two operators are.

:func:`compose`, :func:`add`, :func:`scale`, :func:`adjoint` and
:func:`symmetric_part` build :class:`~symdyn.operators.TensorOperator`s from
others, keeping ``in_shape`` and ``out_shape`` (``A @ B``, ``A + B``,
``c * A`` and ``A.H`` on TensorOperators call them). :func:`alignment` and
:func:`compare` say how alike two operators are, from matvecs only:

- principal angles between the top-k left singular subspaces,
  cos θᵢ = σᵢ(U_Aᵀ U_B) (Björck & Golub, 1973);
- the kernel alignment ⟨A, B⟩_F / (‖A‖_F ‖B‖_F) (Cristianini et al., 2002),
  estimated with Rademacher probes z: ⟨A, B⟩_F = E[(Az)·(Bz)] and
  ‖A‖²_F = E[‖Az‖²], one probe feeding all three; the ratio's standard
  error is the jackknife's;
- the relative Frobenius distance ‖A − B‖_F / ‖B‖_F, estimated alike.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symdyn.errors import ShapeError

from .model import SpectrumSizeError
from .tangent import TensorOperator

__all__ = [
    "Alignment",
    "Comparison",
    "add",
    "adjoint",
    "alignment",
    "compare",
    "compose",
    "kernel_alignment",
    "scale",
    "symmetric_part",
]


def _tensor(op, what):
    if not isinstance(op, TensorOperator):
        raise ShapeError(f"{what}: expected a TensorOperator, got {type(op).__name__}")
    return op


def _both_dense(a, b, combine):
    if a.dense is None or b.dense is None:
        return None
    return lambda: combine(a.to_matrix(), b.to_matrix())


def compose(a: TensorOperator, b: TensorOperator) -> TensorOperator:
    """A ∘ B (B first): from B's ``in_shape`` to A's ``out_shape``.

    Examples
    --------
    >>> import numpy as np
    >>> double = TensorOperator(lambda v: 2 * v, lambda v: 2 * v, (2, 3), (2, 3), True, "2I")
    >>> (double @ double).apply(np.ones((2, 3)))[0]
    array([4., 4., 4.])
    """
    a, b = _tensor(a, "compose"), _tensor(b, "compose")
    if a.in_shape != b.out_shape:
        raise ShapeError(
            f"compose: {a.name} takes tensors of shape {a.in_shape}, but {b.name} gives "
            f"{b.out_shape}"
        )
    return TensorOperator(
        lambda v: a.apply(b.apply(v)),
        lambda u: b.H.apply(a.H.apply(u)),
        b.in_shape,
        a.out_shape,
        False,
        f"{a.name}{b.name}",
        np.result_type(a.dtype, b.dtype),
        _both_dense(a, b, np.matmul),
    )


def add(a: TensorOperator, b: TensorOperator) -> TensorOperator:
    """A + B, for operators between the same tensor spaces."""
    a, b = _tensor(a, "add"), _tensor(b, "add")
    if (a.in_shape, a.out_shape) != (b.in_shape, b.out_shape):
        raise ShapeError(
            f"add: {a.name} maps {a.in_shape} -> {a.out_shape}, {b.name} maps "
            f"{b.in_shape} -> {b.out_shape}"
        )
    return TensorOperator(
        lambda v: a.apply(v) + b.apply(v),
        lambda u: a.H.apply(u) + b.H.apply(u),
        a.in_shape,
        a.out_shape,
        a.symmetric and b.symmetric,
        f"({a.name} + {b.name})",
        np.result_type(a.dtype, b.dtype),
        _both_dense(a, b, np.add),
    )


def scale(a: TensorOperator, factor: float) -> TensorOperator:
    """c A; a PSD operator stays PSD for c ≥ 0."""
    a = _tensor(a, "scale")
    factor = float(factor)
    dense = None if a.dense is None else (lambda: factor * a.to_matrix())
    return TensorOperator(
        lambda v: factor * a.apply(v),
        lambda u: factor * a.H.apply(u),
        a.in_shape,
        a.out_shape,
        a.symmetric and factor >= 0,
        f"{factor:g}·{a.name}",
        a.dtype,
        dense,
    )


def adjoint(a: TensorOperator) -> TensorOperator:
    """A*, from ``out_shape`` to ``in_shape`` (the same as ``a.H``)."""
    return _tensor(a, "adjoint").H


def symmetric_part(a: TensorOperator) -> TensorOperator:
    """(A + A*)/2 for an operator on one tensor space (symmetric, not PSD in general).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse.linalg import aslinearoperator
    >>> M = np.array([[0.0, 2.0], [0.0, 0.0]])
    >>> op = TensorOperator(lambda v: M @ v, lambda u: M.T @ u, (2,), (2,), False, "M")
    >>> symmetric_part(op).to_matrix()
    array([[0., 1.],
           [1., 0.]])
    """
    a = _tensor(a, "symmetric_part")
    if a.in_shape != a.out_shape:
        raise ShapeError(
            f"symmetric_part: {a.name} maps {a.in_shape} -> {a.out_shape}; it must be square"
        )
    part = scale(add(a, a.H), 0.5)
    part.symmetric = a.symmetric
    part.name = f"sym({a.name})"
    return part


@dataclass(frozen=True)
class Alignment:
    """How alike two operators are.

    Attributes
    ----------
    angles : tuple of float
        Principal angles (radians, ascending) between the top-k left
        singular subspaces: 0 where they share a direction, π/2 where orthogonal.
    kernel : float
        ⟨A, B⟩_F / (‖A‖_F ‖B‖_F), estimated: 1 for B = cA (c > 0).
    stderr : float
        The jackknife standard error of ``kernel``.
    samples : int
        Rademacher probes used.
    """

    angles: tuple
    kernel: float
    stderr: float
    samples: int


@dataclass(frozen=True)
class Comparison:
    """The relative Frobenius distance ‖A − B‖_F / ‖B‖_F, estimated: ``distance ± stderr``."""

    distance: float
    stderr: float
    samples: int


def _probes(a, b, samples, seed, what):
    if a.shape != b.shape:
        raise ShapeError(f"{what}: operators of shapes {a.shape} and {b.shape}")
    if not isinstance(samples, (int, np.integer)) or samples < 2:
        raise SpectrumSizeError(f"{what}: need at least 2 probes, got {samples!r}")
    rng = np.random.default_rng(seed)
    z = rng.choice([-1.0, 1.0], size=(a.shape[1], samples))
    return a @ z, b @ z


def _jackknife(statistic, *columns):
    """The statistic of the column means, and its jackknife standard error."""
    n = len(columns[0])
    totals = [c.sum() for c in columns]
    value = statistic(*[t / n for t in totals])
    means_without = [(t - c) / (n - 1) for t, c in zip(totals, columns, strict=True)]
    leave_one_out = np.array([statistic(*[m[i] for m in means_without]) for i in range(n)])
    spread = (n - 1) / n * np.sum((leave_one_out - leave_one_out.mean()) ** 2)
    return float(value), float(np.sqrt(spread))


def _subspace(op, k, seed):
    from .spectra import svd

    return svd(op, k=k, seed=seed).left.reshape(k, -1).T


def kernel_alignment(a, b, samples: int = 64, seed: int = 0) -> tuple:
    """⟨A, B⟩_F / (‖A‖_F ‖B‖_F) from ``samples`` Rademacher probes: (value, stderr).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse.linalg import aslinearoperator
    >>> A, B = aslinearoperator(np.eye(3)), aslinearoperator(2 * np.eye(3))
    >>> value, stderr = kernel_alignment(A, B)
    >>> round(value, 12), stderr
    (1.0, 0.0)
    """
    av, bv = _probes(a, b, samples, seed, "alignment")
    return _jackknife(
        lambda ab, aa, bb: ab / np.sqrt(aa * bb),
        np.sum(av * bv, axis=0),
        np.sum(av * av, axis=0),
        np.sum(bv * bv, axis=0),
    )


def alignment(a, b, k: int = 5, samples: int = 64, seed: int = 0) -> Alignment:
    """Principal angles between the top-``k`` singular subspaces, and the kernel alignment.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse.linalg import aslinearoperator
    >>> A = aslinearoperator(np.diag([3.0, 2.0, 1.0, 0.5]))
    >>> result = alignment(A, A, k=2)
    >>> np.round(result.angles, 8).tolist(), round(result.kernel, 12), result.stderr
    ([0.0, 0.0], 1.0, 0.0)
    """
    kernel, stderr = kernel_alignment(a, b, samples, seed)
    cosines = np.linalg.svd(_subspace(a, k, seed).T @ _subspace(b, k, seed), compute_uv=False)
    angles = np.sort(np.arccos(np.clip(cosines, -1.0, 1.0)))
    return Alignment(
        angles=tuple(float(x) for x in angles),
        kernel=kernel,
        stderr=stderr,
        samples=int(samples),
    )


def compare(a, b, samples: int = 64, seed: int = 0) -> Comparison:
    """‖A − B‖_F / ‖B‖_F from Rademacher probes, with its jackknife standard error.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse.linalg import aslinearoperator
    >>> A = aslinearoperator(np.diag([1.0, 2.0]))
    >>> compare(A, A).distance
    0.0
    """
    av, bv = _probes(a, b, samples, seed, "compare")
    distance, stderr = _jackknife(
        lambda dd, bb: np.sqrt(dd / bb),
        np.sum((av - bv) ** 2, axis=0),
        np.sum(bv * bv, axis=0),
    )
    return Comparison(distance=distance, stderr=stderr, samples=int(samples))
