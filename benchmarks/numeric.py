"""Time symdyn.numeric.codegen against hand-written NumPy on heavy ball; print a table of ratios.

Every ratio is measured in this run, on this machine:

- the lambdified heavy-ball step over 10^6 points (per-point η and β)
  against the same step written by hand in NumPy (target: ≥ 0.9× its speed);
- the analytic stability map of a 1024×1024 (η, β) grid against simulating
  500 steps on the same grid, both through ``sd.stability_map`` and as a
  plain NumPy loop without early stopping (target: ≥ 100× faster); from a
  rule, once as a first call (the exact derivation and the code generation
  included) and once with the derivation cached, as every later map of the
  same rule finds it;
- ``simulate`` with the NumPy backend against a hand-written NumPy loop of the same
  steps (target: ≥ 0.5× its speed) and an in-place one, on points that all run
  every step (η < 1, β < 0.9, ``tol=0``) and on the mixed grid above, where most
  points diverge and leave early;
- with numba installed, the fused time loop of ``simulate(backend="numba")``
  against the hand-written NumPy loop (target: ≥ 3×);
- each simulate backend's nanoseconds per point-step next to the memory-bandwidth
  floor of this machine, measured in the same run with a NumPy triad
  ``a = b + s*c`` on arrays of 2·10^7 doubles: a loop that streams the batch
  through memory once per step reads x, v, η, β and writes x, v, 48 bytes per
  point-step, so it cannot beat 48 B / bandwidth once the batch is larger than
  the caches. (The blocked loops keep a slab of points in cache for several
  steps, so they may.)
"""

import importlib.util
import subprocess
import sys
import time

import numpy as np

import symdyn as sd
from symdyn.catalogue.named import CATALOGUE, beta, eta, lam, x
from symdyn.linear.stability import _stability_of_rule
from symdyn.numeric.codegen import _generate

POINTS = 10**6
STEPS = 20
FUSED_STEPS = 100
GRID = 1024
MAP_STEPS = 500


def best(f, repeats=3):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
    return min(times)


def hand_step(x_, v_, lr, momentum, curvature):
    v_ = momentum * v_ - lr * curvature * x_
    return x_ + v_, v_


def loop(step, lr, momentum, steps):
    x_, v_ = np.ones_like(lr), np.zeros_like(lr)
    for _ in range(steps):
        x_, v_ = step(x_, v_, lr, momentum)
    return x_, v_


TRIAD = 2 * 10**7


def triad_floor():
    """Nanoseconds per point-step that streaming 48 bytes costs at this machine's bandwidth.

    The bandwidth is that of the triad a = b + s*c, which NumPy runs as two passes,
    a = s*c (read c, write a) then a = b + a (read a and b, write a): 40 bytes per
    element move, and that is what is divided by the time.
    """
    b, c, a = np.ones(TRIAD), np.full(TRIAD, 2.0), np.empty(TRIAD)

    def triad():
        np.multiply(c, 3.0, out=a)
        np.add(b, a, out=a)

    seconds = best(triad, repeats=5)
    return 48 * seconds / (40 * TRIAD) * 1e9


def in_place_loop(lr, momentum, steps):
    x_, v_, t = np.ones_like(lr), np.zeros_like(lr), np.empty_like(lr)
    for _ in range(steps):
        np.multiply(momentum, v_, out=v_)
        np.multiply(lr, x_, out=t)
        np.subtract(v_, t, out=v_)
        np.add(x_, v_, out=x_)
    return x_, v_


def simulate_rows(rule, lr, momentum, hand):
    """simulate's backends against hand-written loops, and ns per point-step."""
    n = FUSED_STEPS
    init = {x: 1.0, "v_x": 0.0}
    calm_lr, calm_momentum = lr / 4, momentum * 0.9  # every point runs all n steps
    calm = {eta: calm_lr, beta: calm_momentum, lam: 1.0}
    mixed = {eta: lr, beta: momentum, lam: 1.0}
    check = sd.simulate(rule, init, calm, n, tol=0)
    assert not (check.diverged.any() or check.converged.any())
    np.testing.assert_array_equal(check.final[x], loop(hand, calm_lr, calm_momentum, n)[0])
    with np.errstate(all="ignore"):
        t_loop = best(lambda: loop(hand, calm_lr, calm_momentum, n), repeats=5)
        t_in_place = best(lambda: in_place_loop(calm_lr, calm_momentum, n), repeats=5)
        t_numpy = best(lambda: sd.simulate(rule, init, calm, n, tol=0), repeats=5)
        t_mixed = best(lambda: sd.simulate(rule, init, mixed, n, tol=0), repeats=5)
        t_mixed_loop = best(lambda: loop(hand, lr, momentum, n), repeats=5)
        t_mixed_tol = best(lambda: sd.simulate(rule, init, mixed, n), repeats=5)
    floor = triad_floor()
    name = f"simulate numpy, {POINTS:.0e} points × {n} steps"
    rows = [
        (
            name + ", all run",
            t_numpy,
            "hand-written NumPy loop",
            t_loop,
            t_loop / t_numpy,
            "≥ 0.5",
        ),
        (name + ", all run", t_numpy, "in-place NumPy loop", t_in_place, t_in_place / t_numpy, ""),
        (
            name + ", mixed",
            t_mixed,
            "hand-written NumPy loop",
            t_mixed_loop,
            t_mixed_loop / t_mixed,
            "",
        ),
        (
            name + ", mixed, tol 1e-12",
            t_mixed_tol,
            "hand-written NumPy loop",
            t_mixed_loop,
            t_mixed_loop / t_mixed_tol,
            "",
        ),
    ]
    per_point_step = [
        ("hand-written NumPy loop", t_loop / (POINTS * n) * 1e9),
        ("in-place NumPy loop", t_in_place / (POINTS * n) * 1e9),
        ("simulate numpy, all run", t_numpy / (POINTS * n) * 1e9),
    ]
    if importlib.util.find_spec("numba") is None:
        print("numba is not installed: the numba rows are skipped")
        return rows, per_point_step, floor
    sd.simulate(rule, init, {eta: lr[:10], beta: momentum[:10], lam: 1.0}, 2, backend="numba")
    t_numba = best(lambda: sd.simulate(rule, init, calm, n, tol=0, backend="numba"), repeats=5)
    name = f"simulate numba, {POINTS:.0e} points × {n} steps"
    rows += [
        (name + ", all run", t_numba, "hand-written NumPy loop", t_loop, t_loop / t_numba, "≥ 3"),
        (name + ", all run", t_numba, "simulate numpy", t_numpy, t_numpy / t_numba, ""),
    ]
    per_point_step.append(("simulate numba, all run", t_numba / (POINTS * n) * 1e9))
    return rows, per_point_step, floor


DASK_GRID = 20000
DASK_SCRIPT = """
import resource, sys, time
import numpy as np
import symdyn as sd
from symdyn.catalogue.named import CATALOGUE, beta, eta, lam
n = int(sys.argv[1])
result = sd.stability(CATALOGUE["heavy-ball"].factory())
grid = {eta: np.linspace(5 / n, 5, n), beta: np.linspace(1.2 / n, 1.2, n)}  # eta, beta > 0
start = time.perf_counter()
smap = sd.stability_map(result, grid, fixed={lam: 1.0}, chunks=1000)
fraction = float(smap.stable.mean().compute())
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(time.perf_counter() - start, fraction, peak)
"""


def dask_map(n):
    """Seconds, stable fraction and peak resident memory (MiB) of an n×n map in a fresh process."""
    if importlib.util.find_spec("dask") is None:
        return float("nan"), float("nan"), float("nan")
    out = subprocess.run(
        [sys.executable, "-c", DASK_SCRIPT, str(n)], capture_output=True, text=True, check=True
    )
    seconds, fraction, peak = map(float, out.stdout.split())
    return seconds, fraction, peak


def main():
    rule = CATALOGUE["heavy-ball"].factory()
    rng = np.random.default_rng(0)
    lr, momentum = rng.uniform(0, 4, POINTS), rng.uniform(0, 1, POINTS)
    compiled = sd.lambdify(rule)
    ours = lambda a, b, e, m: compiled(a, b, eta=e, beta=m, **{"lambda": 1.0})  # noqa: E731
    hand = lambda a, b, e, m: hand_step(a, b, e, m, 1.0)  # noqa: E731
    np.testing.assert_allclose(loop(ours, lr, momentum, 3), loop(hand, lr, momentum, 3))
    t_ours = best(lambda: loop(ours, lr, momentum, STEPS))
    t_hand = best(lambda: loop(hand, lr, momentum, STEPS))
    rows = [
        (
            f"lambdified step, {POINTS:.0e} points × {STEPS} steps",
            t_ours,
            "hand-written NumPy",
            t_hand,
            t_hand / t_ours,
            "≥ 0.9",
        ),
    ]

    grid = {eta: np.linspace(5.0 / GRID, 5.0, GRID), beta: np.linspace(1.2 / GRID, 1.2, GRID)}

    def first_map():
        # As a fresh session would: no derivation or generated code cached yet.
        _stability_of_rule.cache_clear()
        _generate.cache_clear()
        return sd.stability_map(rule, grid, fixed={lam: 1.0})

    t_first = best(first_map)
    t_map = best(lambda: sd.stability_map(rule, grid, fixed={lam: 1.0}))
    result = sd.stability(rule)
    t_map_result = best(lambda: sd.stability_map(result, grid, fixed={lam: 1.0}))
    start = time.perf_counter()
    simulated = sd.stability_map(rule, grid, fixed={lam: 1.0}, method="simulate", steps=MAP_STEPS)
    t_sim = time.perf_counter() - start
    e, b = np.meshgrid(grid[eta], grid[beta], indexing="ij")
    t_plain = best(lambda: loop(hand, e.ravel(), b.ravel(), MAP_STEPS), repeats=1)
    agreement = sd.stability_map(result, grid, fixed={lam: 1.0}).agreement(simulated)
    name = f"analytic map {GRID}×{GRID}"
    rows += [
        (
            name + " (rule, first call)",
            t_first,
            f"stability_map simulate {MAP_STEPS}",
            t_sim,
            t_sim / t_first,
            "",
        ),
        (
            name + " (rule, derivation cached)",
            t_map,
            f"stability_map simulate {MAP_STEPS}",
            t_sim,
            t_sim / t_map,
            "≥ 100",
        ),
        (
            name + " (from a result)",
            t_map_result,
            f"stability_map simulate {MAP_STEPS}",
            t_sim,
            t_sim / t_map_result,
            "≥ 100",
        ),
        (
            name + " (from a result)",
            t_map_result,
            f"plain NumPy loop {MAP_STEPS} steps",
            t_plain,
            t_plain / t_map_result,
            "≥ 100",
        ),
    ]

    simulated_rows, per_point_step, floor = simulate_rows(rule, lr, momentum, hand)
    rows += simulated_rows

    seconds, fraction, peak = dask_map(DASK_GRID)
    print("benchmarks/numeric.py: heavy ball on λx²/2 (times are the best of 3 runs)")
    head = f"{'symdyn':<58} {'time':>9}   {'baseline':<34} {'time':>9}  {'speed-up':>8}  target"
    print(head)
    print("-" * len(head))
    for ours_name, ours_t, base_name, base_t, ratio, target in rows:
        print(
            f"{ours_name:<58} {ours_t:8.3f}s   {base_name:<34} {base_t:8.3f}s  "
            f"{ratio:7.2f}×  {target}"
        )
    print(f"analytic vs simulated map agreement on {GRID}×{GRID}: {agreement:.4%}")
    print(
        f"memory-bandwidth floor (NumPy triad a = b + s*c, {TRIAD:.0e} doubles): "
        f"{48 / floor:.1f} GB/s, so {floor:.3f} ns per point-step for 48 bytes "
        "(x, v, η, β in, x, v out; 10^6 points are 32 MB, about the L3 cache, "
        "so a loop over them may beat it)"
    )
    for name, ns in per_point_step:
        print(f"  {name:<46} {ns:7.3f} ns per point-step = {ns / floor:5.2f}× the floor")
    print(
        f"dask map {DASK_GRID}×{DASK_GRID} (chunks 1000): {seconds:.1f}s, "
        f"peak memory {peak:.0f} MiB (target < 2048), stable fraction {fraction:.6f} (exact 0.5)"
    )


if __name__ == "__main__":
    main()
