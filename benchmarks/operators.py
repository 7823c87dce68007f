"""Matrix-free operators at scale: top singular values of Φ for a 10⁶ × 10⁶ operator.

Run: ``.venv/bin/python benchmarks/operators.py [--size N] [--dense-size M]``

1. A tanh RNN h ← tanh(W h + U x + b) with B = T = H = N (default 100, so Φ
   acts on [100, 100, 100] tensors: a 10⁶ × 10⁶ matrix that would need 8 TB):
   the top-10 singular values of Φ = (dh/dθ)(dh/dθ)ᵀ by Lanczos on
   matvecs, each one VJP and one JVP through the unrolled model. Reports
   time, matvecs, and peak memory (the process's peak resident set size,
   which counts everything Python and NumPy hold).
2. At B = T = H = M (default 16), where the dense matrix fits, the same
   top-10 values from the dense route (the Jacobian dh/dθ by ``ad.jacobian``,
   Φ = J Jᵀ, LAPACK ``eigh``) against the matrix-free route, with time and
   peak traced allocations (``tracemalloc``) of each and their ratios.

OpenBLAS is limited to one thread: on a shared 2-core machine its threads
contend with each other and a 100 × 100 matrix product runs 10–50× slower.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import resource
import time
import tracemalloc

import numpy as np

import symdyn.autodiff as ad
from symdyn import operators as ops

INPUTS = 10
K = 10


def tanh_rnn(size, seed=0):
    B = T = H = size
    rng = np.random.default_rng(seed)

    def step(h, x, theta):
        W = theta[: H * H].reshape(H, H)
        U = theta[H * H : H * H + INPUTS * H].reshape(INPUTS, H)
        b = theta[H * H + INPUTS * H :]
        return ad.tanh(h @ W + x @ U + b)

    theta = np.concatenate(
        [
            0.9 * rng.standard_normal(H * H) / np.sqrt(H),
            rng.standard_normal(INPUTS * H) / np.sqrt(INPUTS),
            np.zeros(H),
        ]
    )
    return ops.Recurrence(step, theta, np.zeros((B, H)), rng.standard_normal((B, T, INPUTS)))


def counted(op):
    """``op`` with a count of its matvecs."""
    calls = [0]

    def apply(v):
        calls[0] += 1
        return op.apply(v)

    return ops.TensorOperator(apply, apply, op.in_shape, op.out_shape, True, op.name), calls


def large(size, tol):
    model = tanh_rnn(size)
    Phi, calls = counted(ops.nto(model))
    start = time.perf_counter()
    result = ops.svd(Phi, k=K, tol=tol)
    elapsed = time.perf_counter() - start
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB → MiB on Linux
    n = model.size
    print(f"== B = T = H = {size}: Φ is {n:,} × {n:,} (θ has {model.theta.size:,} entries)")
    print(f"top-{K} singular values: {np.array2string(result.values, precision=6)}")
    v = result.right[0]
    residual = np.linalg.norm(ops.nto(model).apply(v) - result.values[0] * v) / result.values[0]
    print(f"check: ‖Φv₁ − σ₁v₁‖ / σ₁ = {residual:.1e} (one more matvec)")
    print(f"time {elapsed:.1f} s, {calls[0]} matvecs ({elapsed / calls[0]:.3f} s each)")
    print(f"peak resident memory of the process: {peak_rss:.0f} MiB (limit 1024 MiB)")
    print(f"(dense Φ in float64 would take {n * n * 8 / 1e9:,.1f} GB)")


def measured(fn):
    tracemalloc.start()
    start = time.perf_counter()
    out = fn()
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, elapsed, peak


def dense_route(model):
    J = ad.jacobian(model.unroll)(model.theta).reshape(model.size, -1)
    Phi = J @ J.T
    return np.linalg.eigvalsh(Phi)[::-1][:K]


def compare(size, tol):
    model = tanh_rnn(size)
    dense, t_dense, m_dense = measured(lambda: dense_route(model))
    free, t_free, m_free = measured(lambda: ops.svd(ops.nto(model), k=K, tol=tol).values)
    n = model.size
    print(f"\n== B = T = H = {size}: Φ is {n:,} × {n:,}, dense vs matrix-free (top {K})")
    print(f"largest relative difference: {np.max(np.abs(dense - free) / dense[0]):.1e}")
    print(f"dense      : {t_dense:7.2f} s, peak {m_dense / 2**20:8.1f} MiB")
    print(f"matrix-free: {t_free:7.2f} s, peak {m_free / 2**20:8.1f} MiB")
    print(
        f"ratios dense / matrix-free: time {t_dense / t_free:.2f}×, memory {m_dense / m_free:.1f}×"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100, help="B = T = H of the large run")
    parser.add_argument("--dense-size", type=int, default=16, help="B = T = H of the comparison")
    parser.add_argument("--tol", type=float, default=1e-6, help="ARPACK relative tolerance")
    args = parser.parse_args()
    large(args.size, args.tol)  # first, so the peak resident size is its own
    compare(args.dense_size, args.tol)


if __name__ == "__main__":
    main()
