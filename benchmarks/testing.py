"""`symdyn check heavy-ball` under the fast profile, and the examples per second of each check.

Baseline, measured in the same run: the Jacobian check done the way one
would by hand with sympy alone (exact ``subs`` of the symbolic Jacobian and
central differences of the map through ``subs``), for the same number of points.

Run: ``.venv/bin/python benchmarks/testing.py``
"""

import io
import time

import numpy as np
import sympy as sp

import symdyn as sd
from symdyn import testing
from symdyn.catalogue.named import build
from symdyn.cli import main

EXAMPLES = 30  # the fast profile


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def sympy_jacobian_check(rule, points):
    """The by-hand baseline: symbolic Jacobian vs central differences, all through subs."""
    jac = rule.jacobian()
    symbols = sorted(rule.free_symbols, key=str)
    rng = np.random.default_rng(0)
    for _ in range(points):
        values = {s: sp.Float(rng.uniform(0.1, 2)) for s in symbols}
        state = {s: sp.Float(rng.uniform(-1, 1)) for s in rule.state}
        exact = np.array(jac.subs({**values, **state}).evalf(), dtype=float)
        columns = []
        for s in rule.state:
            plus = rule.map.subs({**values, **state, s: state[s] + 1e-6})
            minus = rule.map.subs({**values, **state, s: state[s] - 1e-6})
            columns.append(np.array(((plus - minus) / 2e-6).evalf(), dtype=float).ravel())
        assert np.allclose(exact, np.column_stack(columns), atol=1e-5)


def main_table():
    rule = build("heavy-ball")
    result = sd.stability(rule)
    eta = rule.params[0]
    form = sd.hamiltonian_form(rule)
    checks = {
        "check_jacobian": lambda: testing.check_jacobian(rule, examples=EXAMPLES),
        "check_fixed_points": lambda: testing.check_fixed_points(rule, examples=EXAMPLES),
        "check_derivation": lambda: testing.check_derivation(result, examples=EXAMPLES),
        "check_stability": lambda: testing.check_stability(result, examples=EXAMPLES),
        "check_step_bound": lambda: testing.check_step_bound(rule, eta, examples=EXAMPLES),
        "check_hamiltonian": lambda: testing.check_hamiltonian(form, examples=EXAMPLES),
    }
    print(f"{'check':<20} {'examples':>8} {'seconds':>8} {'examples/s':>11}")
    for name, run in checks.items():
        seconds, report = timed(run)
        print(f"{name:<20} {report.examples:>8} {seconds:8.3f} {report.examples / seconds:11.1f}")
    ours, _ = timed(lambda: testing.check_jacobian(rule, examples=EXAMPLES))
    baseline, _ = timed(lambda: sympy_jacobian_check(rule, EXAMPLES))
    print(
        f"\ncheck_jacobian, {EXAMPLES} points: symdyn {ours:.3f} s, sympy subs by hand "
        f"{baseline:.3f} s, ratio {baseline / ours:.1f}x faster"
    )
    seconds, code = timed(
        lambda: main(["check", "heavy-ball", "--examples", str(EXAMPLES)], out=io.StringIO())
    )
    print(
        f"symdyn check heavy-ball (fast profile, {EXAMPLES} examples per check): "
        f"{seconds:.2f} s (target < 20 s), exit code {code}"
    )


if __name__ == "__main__":
    main_table()
