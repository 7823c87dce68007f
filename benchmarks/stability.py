"""Deriving heavy-ball and Nesterov stability regions: symdyn vs sympy on |eigenvalue| < 1.

The baseline is what a sympy user would write: the eigenvalues of the
Jacobian, then ``reduce_inequalities`` (or ``solve``) on |z| < 1 for each.
Both are timed in the same run; correctness is checked on a grid against
numeric spectral radii.

Run: ``.venv/bin/python benchmarks/stability.py``
"""

import multiprocessing as mp
import time

import numpy as np
import sympy as sp

import symdyn as sd

x = sp.Symbol("x", real=True)
eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
RULES = {
    "heavy ball": lambda: sd.optimizers.heavy_ball(lam * x**2 / 2, [x], eta, beta),
    "Nesterov": lambda: sd.optimizers.nesterov(lam * x**2 / 2, [x], eta, beta),
}
TIMEOUT = 60.0
GRID = [(e, b) for e in np.linspace(0.05, 4.5, 25) for b in np.linspace(0.02, 1.3, 25)]


def numeric_stable(rule, e, b):
    jac = np.array(rule.jacobian().subs({eta: e, beta: b, lam: 1}), dtype=float)
    return max(abs(np.linalg.eigvals(jac))) < 1


def agreement(rule, decide):
    hits = total = 0
    for e, b in GRID:
        truth = numeric_stable(rule, e, b)
        try:
            got = decide(e, b)
        except Exception:
            got = None
        hits += got == truth
        total += 1
    return hits / total


def sympy_baseline(name, queue):
    """reduce_inequalities on |eigenvalue| < 1 for every eigenvalue, with lambda = 1."""
    rule = RULES[name]().subs({lam: 1})
    start = time.perf_counter()
    try:
        conditions = [sp.Abs(ev) < 1 for ev in rule.jacobian().eigenvals()]
        region = sp.reduce_inequalities(conditions, [eta])
        outcome = str(region)
    except Exception as error:  # the baseline's failure is the finding
        outcome = f"{type(error).__name__}: {str(error)[:60]}"
        region = None
    queue.put((time.perf_counter() - start, outcome, region))


def run_baseline(name):
    queue = mp.Queue()
    process = mp.Process(target=sympy_baseline, args=(name, queue))
    start = time.perf_counter()
    process.start()
    process.join(TIMEOUT)
    if process.is_alive():
        process.terminate()
        return time.perf_counter() - start, f"no answer within {TIMEOUT:.0f} s", None
    return queue.get()


def main():
    print(
        f"{'rule':<11} {'symdyn s':>9} {'sympy s':>9} {'ratio':>7}  "
        f"{'symdyn agrees':>13} {'sympy agrees':>12}  sympy outcome"
    )
    for name, make in RULES.items():
        rule = make()
        start = time.perf_counter()
        result = sd.stability(rule)
        bound = sd.step_bound(result, eta)
        ours = time.perf_counter() - start
        ours_ok = agreement(rule, lambda e, b, r=result: r.is_stable({eta: e, beta: b, lam: 1}))
        theirs, outcome, region = run_baseline(name)
        if region is not None:

            def decide(e, b, region=region):
                value = region.subs({beta: b}).subs({eta: e})
                return bool(value)

            theirs_ok = agreement(rule, decide)
        else:
            theirs_ok = float("nan")
        print(
            f"{name:<11} {ours:9.3f} {theirs:9.3f} {theirs / ours:6.1f}x  "
            f"{ours_ok:13.1%} {theirs_ok:12.1%}  {outcome[:70]}"
        )
        print(f"{'':<11} symdyn: {result.region};  {bound.lower} < eta < {bound.upper}")


if __name__ == "__main__":
    main()
