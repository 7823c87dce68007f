"""Spectra of matrix-free operators: top singular values, effective rank, traces, reduced views.

Everything here needs only matvecs (and rmatvecs): Lanczos (``eigsh``) for
operators symmetric by construction, ``svds`` otherwise, Hutchinson's
estimator for traces. Small operators are made dense and decomposed exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh, svds

from symdyn.errors import ShapeError

from .model import OperatorError, SpectrumSizeError
from .tangent import TensorOperator

__all__ = ["SVDResult", "TraceEstimate", "average", "effective_rank", "svd", "trace"]

# Below this size an operator is made dense (one matvec per column) and
# decomposed by LAPACK: exact, and ARPACK needs k < n anyway.
DENSE_LIMIT = 64
# An operator that builds its matrix at once (batched JVPs, jacrev: NTKs and
# Grams of small models) is made dense up to this many entries.
FAST_DENSE_ENTRIES = 2**20

AXES = {"batch": 0, "time": 1, "hidden": 2}


@dataclass(frozen=True, eq=False)
class SVDResult:
    """The top-k singular triplets of an operator.

    Attributes
    ----------
    values : ndarray, shape [k]
        Singular values, descending.
    left : ndarray, shape [k, *out_shape]
        Left singular functions u_i (op v_i = σ_i u_i).
    right : ndarray, shape [k, *in_shape]
        Right singular functions v_i.
    """

    values: np.ndarray
    left: np.ndarray
    right: np.ndarray


def _shapes(op):
    if isinstance(op, TensorOperator):
        return op.in_shape, op.out_shape
    return (op.shape[1],), (op.shape[0],)


def _dense(op):
    if isinstance(op, TensorOperator):
        return op.to_matrix()
    return op @ np.eye(op.shape[1])


def _small(op, k):
    if max(op.shape) <= DENSE_LIMIT or k >= min(op.shape) - 1:
        return True
    fast = getattr(op, "dense", None) is not None
    return fast and op.shape[0] * op.shape[1] <= FAST_DENSE_ENTRIES


def _dense_svd(matrix):
    """LAPACK's divide and conquer (gesdd), or the QR iteration (gesvd) where it fails.

    gesdd can fail to converge on a well-conditioned matrix (OpenBLAS 0.3.31 did on a
    480 x 480 kernel of the K-P flow gallery experiment); gesvd is slower and robust.
    """
    try:
        return np.linalg.svd(matrix)
    except np.linalg.LinAlgError:
        import scipy.linalg

        return scipy.linalg.svd(matrix, lapack_driver="gesvd")


def svd(op: LinearOperator, k: int = 6, tol: float = 0.0, seed: int = 0) -> SVDResult:
    """Top-``k`` singular values and functions of a LinearOperator, matrix-free.

    An operator that is symmetric positive semidefinite by construction
    (``op.symmetric``: Θ, Φ, K and their reduced views) goes to Lanczos on
    its eigenvalues (``eigsh``), which needs half the matvecs of ``svds``;
    any other goes to ``svds``. At most ``DENSE_LIMIT`` columns, or when k
    is the full dimension, it is made dense and decomposed exactly; so is
    an operator that builds its matrix at once (``TensorOperator.dense``:
    an NTK or Gram of a small model, from batched JVPs or ``jacrev``) of at
    most ``FAST_DENSE_ENTRIES`` entries.

    Parameters
    ----------
    op : LinearOperator
    k : int
        1 ≤ k ≤ min(op.shape).
    tol : float
        ARPACK's relative tolerance (0: machine precision).
    seed : int
        Seeds ARPACK's starting vector, for reproducible results.

    Raises
    ------
    SpectrumSizeError
        k is not between 1 and the dimension.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse.linalg import aslinearoperator
    >>> svd(aslinearoperator(np.diag([1.0, 5.0, 3.0])), k=2).values
    array([5., 3.])
    """
    n = min(op.shape)
    if not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise SpectrumSizeError(
            f"svd: asked for k = {k!r} singular values of an operator of shape {op.shape}; "
            f"k must be an integer between 1 and {n}"
        )
    in_shape, out_shape = _shapes(op)
    symmetric = getattr(op, "symmetric", False)
    if _small(op, k):
        u, s, vt = _dense_svd(_dense(op))
        left, values, right = u[:, :k].T, s[:k], vt[:k]
    elif symmetric:
        v0 = np.random.default_rng(seed).standard_normal(n)
        eig, vectors = eigsh(op, k=k, which="LA", tol=tol, v0=v0)
        order = np.argsort(eig)[::-1]
        # PSD by construction: tiny negative round-off is zero.
        values = np.clip(eig[order], 0.0, None)
        left = right = vectors[:, order].T
    else:
        v0 = np.random.default_rng(seed).standard_normal(n)
        u, s, vt = svds(op, k=k, tol=tol, v0=v0)
        order = np.argsort(s)[::-1]
        left, values, right = u[:, order].T, s[order], vt[order]
    return SVDResult(values, np.reshape(left, (k, *out_shape)), np.reshape(right, (k, *in_shape)))


def effective_rank(values, method: str = "entropy") -> float:
    """Effective rank of a spectrum (singular values, or eigenvalues of a PSD operator).

    ``"entropy"``: exp(−Σ pᵢ log pᵢ) with pᵢ = σᵢ/Σσ (Roy & Vetterli, 2007).
    ``"participation"``: (Σσᵢ)² / Σσᵢ². Both equal r for r equal nonzero
    values and lie between 1 and the number of nonzero values. From the top-k
    values of :func:`svd` they are the effective rank of that truncation.

    Examples
    --------
    >>> effective_rank([2.0, 2.0, 0.0])
    2.0
    >>> round(effective_rank([3.0, 1.0], "participation"), 6)
    1.6
    """
    values = np.abs(np.asarray(values, dtype=float).ravel())
    if values.size == 0 or not np.all(np.isfinite(values)) or values.sum() == 0:
        raise SpectrumSizeError(
            "effective_rank: need a finite spectrum with at least one nonzero value"
        )
    if method == "entropy":
        p = values[values > 0] / values.sum()
        return float(np.exp(-np.sum(p * np.log(p))))
    if method == "participation":
        return float(values.sum() ** 2 / np.sum(values**2))
    raise OperatorError(
        f"effective_rank: method must be 'entropy' or 'participation', got {method!r}"
    )


@dataclass(frozen=True)
class TraceEstimate:
    """An estimate of a trace: ``value ± stderr`` from ``samples`` matvecs by ``method``."""

    value: float
    stderr: float
    samples: int
    method: str = "hutchinson"


def _rademacher(rng, n, count):
    return rng.choice([-1.0, 1.0], size=(n, count))


def _hutchinson(op, samples, rng):
    z = _rademacher(rng, op.shape[1], samples)
    estimates = np.sum(z * (op @ z), axis=0)
    return 0.0, estimates


def _hutch_plus_plus(op, samples, rng):
    """tr(QᵀAQ) exactly on the range Q of A S, Hutchinson on the rest (a third each)."""
    n = op.shape[1]
    sketch = min(samples // 3, n)
    q, _ = np.linalg.qr(op @ _rademacher(rng, n, sketch))
    exact = float(np.trace(q.T @ (op @ q)))
    g = _rademacher(rng, n, samples - 2 * sketch)
    g = g - q @ (q.T @ g)
    return exact, np.sum(g * (op @ g), axis=0)


ESTIMATORS = {"hutchinson": _hutchinson, "hutch++": _hutch_plus_plus}


def trace(
    op: LinearOperator, samples: int = 64, seed: int = 0, method: str = "hutchinson"
) -> TraceEstimate:
    """A randomised estimate of tr A from ``samples`` matvecs, with its standard error.

    ``"hutchinson"``: the mean of zᵀ A z over Rademacher probes z.
    ``"hutch++"``: a third of the matvecs sketch the range of A (Q from
    A S), a third give tr(QᵀAQ) exactly, and Hutchinson's estimator runs on
    the deflated rest (I − QQᵀ) A (I − QQᵀ). For a spectrum that decays the
    error falls as 1/samples instead of 1/√samples. The error bar is the
    standard error of the Hutchinson part (sample standard deviation / √probes).

    References
    ----------
    Hutchinson (1990); Avron & Toledo (2011) for the variance; Meyer, Musco,
    Musco & Woodruff (2021) for Hutch++.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.sparse.linalg import aslinearoperator
    >>> est = trace(aslinearoperator(np.diag([1.0, 2.0, 3.0])), samples=8)
    >>> est.value, est.stderr
    (6.0, 0.0)
    >>> A = aslinearoperator(np.diag(0.5 ** np.arange(40)) + 0.01)
    >>> plain, plus = trace(A, 30, seed=1), trace(A, 30, seed=1, method="hutch++")
    >>> bool(plus.stderr < plain.stderr / 5)
    True
    """
    if op.shape[0] != op.shape[1]:
        raise ShapeError(f"trace: the operator must be square, got shape {op.shape}")
    if method not in ESTIMATORS:
        raise OperatorError(f"trace: method must be one of {sorted(ESTIMATORS)}, got {method!r}")
    least = 2 if method == "hutchinson" else 4
    if not isinstance(samples, (int, np.integer)) or samples < least:
        raise SpectrumSizeError(
            f"trace: {method} needs at least {least} matvecs for an error bar, got {samples!r}"
        )
    exact, estimates = ESTIMATORS[method](op, samples, np.random.default_rng(seed))
    return TraceEstimate(
        value=float(exact + estimates.mean()),
        stderr=float(estimates.std(ddof=1) / np.sqrt(estimates.size)),
        samples=int(samples),
        method=method,
    )


def average(op: TensorOperator, over=("time",)) -> TensorOperator:
    """The reduced view ⟨op⟩ on the axes not in ``over``.

    A tensor on the remaining axes is copied along the averaged ones, the
    operator is applied, and the result is averaged over them again:
    ⟨op⟩ = R op E with E the copy and R the mean (Mehta et al., averaged
    operators). A symmetric PSD operator stays symmetric PSD.

    Parameters
    ----------
    op : TensorOperator
        On [B, T, H] tensors (``nto``, ``K``, ``P``).
    over : sequence of {"batch", "time", "hidden"}

    Examples
    --------
    >>> import numpy as np
    >>> ident = TensorOperator(lambda v: v, lambda v: v, (2, 3, 4), (2, 3, 4), True, "I")
    >>> avg = average(ident, over=("time",))
    >>> avg.in_shape, float(avg.apply(np.ones((2, 4)))[0, 0])
    ((2, 4), 1.0)
    """
    if not isinstance(op, TensorOperator) or len(op.in_shape) != 3 or op.in_shape != op.out_shape:
        raise ShapeError("average: expects a TensorOperator on [B, T, H] tensors (nto, K, P)")
    over = (over,) if isinstance(over, str) else tuple(over)
    bad = [a for a in over if a not in AXES]
    if bad or not over or len(set(over)) != len(over):
        raise ShapeError(
            f"average: over must name distinct axes among {sorted(AXES)}, got {over!r}"
        )
    axes = tuple(sorted(AXES[a] for a in over))
    full = op.in_shape
    reduced = tuple(n for i, n in enumerate(full) if i not in axes)
    count = int(np.prod([full[i] for i in axes]))

    def copy(v):
        return np.broadcast_to(np.expand_dims(v, axes), full)

    def forward(v):
        return op.apply(copy(v)).mean(axis=axes)

    def backward(u):
        return (op.H @ (copy(u) / count).ravel()).reshape(full).sum(axis=axes)

    name = f"⟨{op.name}⟩_{','.join(over)}"
    return TensorOperator(forward, backward, reduced, reduced, op.symmetric, name)
