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

3. The NTK of an MLP 16 → 16 → 4 at batch 64 (a [256, 256] matrix) built at
   once (``ops.ntk(model).to_matrix()``), for the model written in torch
   (``Recurrence.from_torch``: jacrev, then J Jᵀ) and in symdyn autodiff
   (one batched JVP over the 340 parameter directions), against torch.func's
   own recipe (``jacrev`` of the network in its parameters, then ``einsum``).
   Targets: torch within 2×, the NumPy engine within 3× of the baseline.
4. ``ops.lyapunov_spectrum`` of h ↦ tanh(W h + b), H = 64, 400 steps,
   against a hand-written NumPy QR loop with the Jacobian written out
   (diag(1 − h'²) W). Target: within 3×.
5. kpflow's ``eigsh`` route on the same RNN as 1., if kpflow is installed
   (it is not a dependency); otherwise a message says it was skipped.

OpenBLAS is limited to one thread: on a shared 2-core machine its threads
contend with each other and a 100 × 100 matrix product runs 10–50× slower.
"""

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import itertools
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


def best_of(fn, repeats=5):
    fn()  # warm up (imports, caches)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def mlp_weights(rng, sizes=(16, 16, 4)):
    return [
        (rng.standard_normal((a, b)) / np.sqrt(a), 0.1 * rng.standard_normal(b))
        for a, b in itertools.pairwise(sizes)
    ]


def ntk_comparison(batch=64):
    import torch
    from torch.func import functional_call, jacrev

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    (W1, b1), (W2, b2) = mlp_weights(rng)
    X = rng.standard_normal((batch, 16))
    theta = np.concatenate([W1.ravel(), b1, W2.ravel(), b2])
    sizes = [W1.size, b1.size, W2.size]
    cut = np.cumsum(sizes)

    # torch.func's recipe: jacrev of the network in its parameters, then einsum
    net = torch.nn.Sequential(torch.nn.Linear(16, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4))
    net = net.double()
    params = {k: v.detach() for k, v in net.named_parameters()}
    x_t = torch.tensor(X)

    def baseline():
        jac = jacrev(lambda p: functional_call(net, p, (x_t,)))(params)
        flat = [j.reshape(batch * 4, -1) for j in jac.values()]
        return sum(torch.einsum("im,jm->ij", j, j) for j in flat)

    # the same MLP as a one-step recurrence: h_1 = tanh(x W1 + b1), y = h_1 W2 + b2
    def torch_step(h, x, th):
        return torch.tanh(x @ th[: cut[0]].reshape(16, 16) + th[cut[0] : cut[1]])

    def torch_readout(h, th):
        return h[:, 0] @ th[cut[1] : cut[2]].reshape(16, 4) + th[cut[2] :]

    def ad_step(h, x, th):
        return ad.tanh(x @ th[: cut[0]].reshape(16, 16) + th[cut[0] : cut[1]])

    def ad_readout(h, th):
        return h[:, 0] @ th[cut[1] : cut[2]].reshape(16, 4) + th[cut[2] :]

    h0, inputs = np.zeros((batch, 16)), X[:, None, :]
    torch_model = ops.Recurrence.from_torch(torch_step, theta, h0, inputs, readout=torch_readout)
    ad_model = ops.Recurrence(ad_step, theta, h0, inputs, readout=ad_readout)
    t_torch = best_of(lambda: ops.ntk(torch_model).to_matrix())
    t_ad = best_of(lambda: ops.ntk(ad_model).to_matrix())
    # the baseline network carries its own random weights: compare matrices on ours
    ours = ops.ntk(ad_model).to_matrix()
    agree = np.abs(ops.ntk(torch_model).to_matrix() - ours).max() / np.abs(ours).max()
    t_base = best_of(baseline)
    print(f"\n== NTK of an MLP 16 -> 16 -> 4 at batch {batch} ({batch * 4} x {batch * 4})")
    print(f"torch.func jacrev + einsum (baseline): {t_base * 1e3:7.2f} ms")
    print(
        f"ops.ntk, torch model                 : {t_torch * 1e3:7.2f} ms "
        f"(ratio {t_torch / t_base:.2f}x, target <= 2)"
    )
    print(
        f"ops.ntk, symdyn autodiff model       : {t_ad * 1e3:7.2f} ms "
        f"(ratio {t_ad / t_base:.2f}x, target <= 3)"
    )
    print(f"torch and autodiff NTKs agree to {agree:.1e} (relative)")


def hand_written_lyapunov(W, b, h, steps):
    q, total = np.eye(len(h)), np.zeros(len(h))
    for _ in range(steps):
        h = np.tanh(W @ h + b)
        q, r = np.linalg.qr((1 - h**2)[:, None] * W @ q)
        total += np.log(np.abs(np.diag(r)))
    return np.sort(total / steps)[::-1]


def lyapunov_comparison(hidden=64, steps=400):
    rng = np.random.default_rng(1)
    W = 1.5 * rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)
    b = 0.1 * rng.standard_normal(hidden)
    h0 = rng.standard_normal(hidden)
    ours = ops.lyapunov_spectrum(lambda h: ad.tanh(W @ h + b), h0, steps=steps)
    reference = hand_written_lyapunov(W, b, h0, steps)
    t_ours = best_of(
        lambda: ops.lyapunov_spectrum(lambda h: ad.tanh(W @ h + b), h0, steps=steps), 3
    )
    t_hand = best_of(lambda: hand_written_lyapunov(W, b, h0, steps), 3)
    print(f"\n== Lyapunov spectrum, H = {hidden}, {steps} steps")
    print(f"largest difference from the hand-written loop: {np.abs(ours - reference).max():.1e}")
    print(f"hand-written NumPy QR loop: {t_hand * 1e3:8.1f} ms")
    print(
        f"ops.lyapunov_spectrum     : {t_ours * 1e3:8.1f} ms "
        f"(ratio {t_ours / t_hand:.2f}x, target <= 3)"
    )


def kpflow_comparison():
    try:
        import kpflow  # noqa: F401
    except ImportError:
        print("\n== kpflow: not installed, comparison skipped (pip install kpflow to run it)")
        return
    print("\n== kpflow is installed, but its eigsh route is not wired into this benchmark yet")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100, help="B = T = H of the large run")
    parser.add_argument("--dense-size", type=int, default=16, help="B = T = H of the comparison")
    parser.add_argument("--tol", type=float, default=1e-6, help="ARPACK relative tolerance")
    args = parser.parse_args()
    large(args.size, args.tol)  # first, so the peak resident size is its own
    compare(args.dense_size, args.tol)
    ntk_comparison()
    lyapunov_comparison()
    kpflow_comparison()


if __name__ == "__main__":
    main()
