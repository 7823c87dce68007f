"""How exact linear stability scales with the degree: AggMo with K buffers, heavy ball in n-D.

AggMo (Lucas et al. 2019) keeps K velocity buffers v_i ← β_i v_i − λx and steps
x ← x + η/K Σ v_i: on a 1-D quadratic its characteristic polynomial has degree
K + 1. Each case runs in a fresh subprocess under a time budget, so caches do
not carry over and a case that does not answer is reported as stopped:

* symdyn: ``stability`` (η symbolic), ``step_bound`` in η, ``is_stable`` at a
  point, and the region with every coefficient numeric (η = 1/10);
* sympy's best route in the same run: the eigenvalues of the Jacobian, then
  ``reduce_inequalities`` on |z| < 1 in η (all a sympy user has; it needs
  radicals, so it stops at degree 5, and cannot take two symbols);
* β numeric (β_i from 1/2, 9/10, 3/10, ...) and symbolic (β_i = β^i);
* both again under python-flint ground types (``SYMPY_GROUND_TYPES=flint``).

Then heavy ball on ``sd.quadratic`` at n = 2, 10, 100, 1000 and symbolic n,
against sympy's characteristic polynomial of the explicit 2n×2n Jacobian
(H the tridiagonal (−1, 2, −1), the first step of any eigenvalue route).

Run: ``.venv/bin/python benchmarks/scaling.py [--budget SECONDS] [--quick]``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import sympy as sp

BETAS = [sp.Rational(1, 2), sp.Rational(9, 10), sp.Rational(3, 10), sp.Rational(7, 10)]
BETAS += [sp.Rational(1, 10), sp.Rational(4, 5), sp.Rational(1, 5)]


def aggmo(K, symbolic):
    import symdyn as sd

    x = sp.Symbol("x", real=True)
    eta, beta = sp.symbols("eta beta", positive=True)
    betas = [beta ** (i + 1) for i in range(K)] if symbolic else BETAS[:K]
    buffers = sp.symbols(f"v1:{K + 1}", real=True)
    updates = [(v, b * v - x) for v, b in zip(buffers, betas, strict=True)]
    updates.append((x, x + eta / K * sum(buffers)))
    return sd.UpdateRule([x, *buffers], updates, [eta]), eta, beta


def _timed(function):
    start = time.perf_counter()
    value = function()
    return time.perf_counter() - start, value


def case_symdyn(K, symbolic):
    import symdyn as sd

    rule, eta, beta = aggmo(K, symbolic)
    out = {}
    out["stability"], result = _timed(lambda: sd.stability(rule))
    try:
        out["step_bound"], bound = _timed(lambda: sd.step_bound(result, eta))
        out["upper"] = str(bound.upper)[:60]
    except sd.UndecidedError as error:
        out["step_bound"], out["upper"] = None, f"undecided: {str(error)[:50]}"
    point = {eta: sp.Rational(1, 10), **({beta: sp.Rational(1, 2)} if symbolic else {})}
    out["is_stable"], _ = _timed(lambda: result.is_stable(point))
    numeric = rule.subs(point)
    out["numeric"], region = _timed(lambda: sd.stability(numeric).region)
    out["region"] = str(region)
    return out


def case_sympy(K, symbolic):
    rule, eta, _ = aggmo(K, symbolic)
    start = time.perf_counter()
    try:
        roots = rule.jacobian().eigenvals()
        region = sp.reduce_inequalities([sp.Abs(r) < 1 for r in roots], [eta])
    except Exception as error:  # the baseline's failure is the finding
        return {"error": f"{type(error).__name__} after {time.perf_counter() - start:.1f} s"}
    return {"sympy": time.perf_counter() - start, "region": str(region)[:60]}


def case_sympy_numeric(K, symbolic):
    """sympy at a numeric point (η = 1/10, β = 1/2): exact eigenvalues, then |z| < 1."""
    rule, eta, beta = aggmo(K, symbolic)
    start = time.perf_counter()
    jacobian = rule.jacobian().subs({eta: sp.Rational(1, 10), beta: sp.Rational(1, 2)})
    try:
        stable = all(bool(sp.Abs(r) < 1) for r in jacobian.eigenvals())
    except Exception as error:  # the baseline's failure is the finding
        return {"error": f"{type(error).__name__} after {time.perf_counter() - start:.1f} s"}
    return {"sympy_numeric": time.perf_counter() - start, "sympy_stable": stable}


def case_quadratic(n, tool):
    import symdyn as sd

    eta, beta = sp.symbols("eta beta", positive=True)
    size = sp.Symbol("n", integer=True, positive=True) if n == "n" else int(n)
    start = time.perf_counter()
    if tool == "symdyn":
        q = sd.quadratic("theta", n=size)
        rule = sd.optimizers.heavy_ball(q.loss, [q.theta], lr=eta, momentum=beta)
        bound = sd.step_bound(rule, eta)
        return {"time": time.perf_counter() - start, "upper": str(bound.upper)}
    H = sp.Matrix(size, size, lambda i, j: 2 if i == j else (-1 if abs(i - j) == 1 else 0))
    J = sp.BlockMatrix(
        [[sp.eye(size) - eta * H, beta * sp.eye(size)], [-eta * H, beta * sp.eye(size)]]
    )
    sp.Matrix(J).charpoly()
    return {"time": time.perf_counter() - start}


CASES = {
    "symdyn": case_symdyn,
    "sympy": case_sympy,
    "sympy_numeric": case_sympy_numeric,
    "quadratic": case_quadratic,
}


def run(kind, args, budget, flint=False):
    """One case in a fresh interpreter: its JSON result, or None when over budget or failed."""
    env = dict(os.environ, SYMPY_GROUND_TYPES="flint" if flint else "python")
    command = [sys.executable, __file__, "--case", kind, *map(str, args)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=budget, env=env)
    except subprocess.TimeoutExpired:
        return None
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1][:70]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _s(value):
    return "   stop" if value is None else f"{value:7.3f}"


def aggmo_table(budget, degrees):
    print(f"AggMo, characteristic polynomial of degree K + 1; budget {budget:.0f} s per case")
    print(
        f"{'K':>2} {'beta':>8} {'stability':>9} {'bound':>7} {'is_stab':>7} {'numeric':>7} "
        f"{'flint':>7} {'ratio':>6} {'sympy':>7} {'sympy/us':>8} {'sy num':>7} {'/us':>6}"
        "  upper end of eta"
    )
    for symbolic in (False, True):
        for K in degrees:
            ours = run("symdyn", (K, int(symbolic)), budget) or {}
            fast = run("symdyn", (K, int(symbolic)), budget, flint=True) or {}
            theirs = run("sympy", (K, int(symbolic)), budget) or {}
            point = run("sympy_numeric", (K, int(symbolic)), budget) or {}
            theirs["sympy_numeric"] = point.get("sympy_numeric")
            ratio = (
                ours["stability"] / fast["stability"]
                if "stability" in ours and "stability" in fast
                else None
            )
            versus = (
                theirs["sympy"] / ours["stability"]
                if "sympy" in theirs and "stability" in ours
                else None
            )
            versus_numeric = (
                theirs["sympy_numeric"] / ours["numeric"]
                if theirs["sympy_numeric"] and "numeric" in ours
                else None
            )
            answer = ours.get("upper", ours.get("error", "stopped"))
            if "error" in theirs:
                answer += f"  [sympy: {theirs['error'][:40]}]"
            print(
                f"{K:>2} {'beta^i' if symbolic else 'numeric':>8} {_s(ours.get('stability')):>9} "
                f"{_s(ours.get('step_bound'))} {_s(ours.get('is_stable'))} "
                f"{_s(ours.get('numeric'))} {_s(fast.get('stability'))} "
                f"{'' if ratio is None else f'{ratio:5.2f}x':>6} {_s(theirs.get('sympy'))} "
                f"{'' if versus is None else f'{versus:7.1f}x':>8} "
                f"{_s(theirs.get('sympy_numeric'))} "
                f"{'' if versus_numeric is None else f'{versus_numeric:5.1f}x':>6}  {answer}",
                flush=True,
            )


def quadratic_table(budget):
    print(f"\nheavy ball on sd.quadratic (step bound in eta); budget {budget:.0f} s per case")
    print(f"{'n':>5} {'symdyn s':>9} {'sympy charpoly s':>17}")
    for n in (2, 10, 100, 1000, "n"):
        ours = run("quadratic", (n, "symdyn"), budget) or {}
        theirs = run("quadratic", (n, "sympy"), budget) if n != "n" else None
        shown = "n/a (symbolic n)" if n == "n" else _s((theirs or {}).get("time"))
        print(f"{n!s:>5} {_s(ours.get('time')):>9} {shown:>17}  {ours.get('upper', '')}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true", help="K = 1..4 only")
    parser.add_argument("--case", nargs="+")
    args = parser.parse_args()
    if args.case:
        kind, *rest = args.case
        if kind == "quadratic":
            out = case_quadratic(rest[0], rest[1])
        else:
            out = CASES[kind](int(rest[0]), bool(int(rest[1])))
        print(json.dumps(out))
        return
    aggmo_table(args.budget, range(1, 5) if args.quick else range(1, 8))
    quadratic_table(args.budget)


if __name__ == "__main__":
    main()
