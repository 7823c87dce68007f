"""Fuzzing exact stability against NumPy's spectral radius: how often symdyn is right.

Draws random 2–4-state linear rules (``tests/stability_fuzzing.py``: small
rational coefficients times one or two parameters, each declared positive or
only real) and checks ``is_stable``, ``spectral_radius`` and ``step_bound``
of each against eigenvalues of the numeric Jacobian. It prints how many rules
were tried, and how many came out exact, undecided (``UndecidedError``, or
the budget ran out), wrong, or with a raw error (not a ``SymdynError``), then
the first few wrong and raw-error cases as Python that reproduces them. The
goal is 0 wrong and 0 raw errors.

Run: ``PYTHONPATH=$PWD .venv/bin/python benchmarks/fuzz_stability.py [N] [--seed S]``
(``--thorough`` for 10⁴ rules; ``--budget`` seconds per rule, default 10).
"""

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's tests, symdyn

from hypothesis import HealthCheck, Phase, given, seed, settings

from tests.stability_fuzzing import examine, linear_cases

KINDS = ("exact", "undecided", "wrong", "raw error")


def run(count, seed_value, seconds, progress):
    """Examine ``count`` drawn rules; returns ``[(case, outcome, seconds), ...]``."""
    found = []
    start = time.perf_counter()

    @seed(seed_value)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(linear_cases())
    def examine_one(case):
        began = time.perf_counter()
        found.append((case, examine(case, seconds), time.perf_counter() - began))
        if progress and len(found) % progress == 0:
            counts = collections.Counter(outcome.kind for _, outcome, _ in found)
            elapsed = time.perf_counter() - start
            print(
                f"  {len(found)} rules in {elapsed:.0f} s ({len(found) / elapsed:.2f}/s): "
                + ", ".join(f"{counts[k]} {k}" for k in KINDS),
                file=sys.stderr,
                flush=True,
            )

    examine_one()
    return found


def report(found, elapsed, shown):
    counts = collections.Counter(outcome.kind for _, outcome, _ in found)
    print(f"tried {len(found)} rules in {elapsed:.0f} s ({len(found) / elapsed:.2f} rules/s)")
    for kind in KINDS:
        print(f"  {kind:<10} {counts[kind]:>6}")
    degrees = collections.Counter(outcome.degree for _, outcome, _ in found)
    bounds = collections.Counter(outcome.bound for _, outcome, _ in found if outcome.bound)
    print("largest factor degree: " + ", ".join(f"{d}: {degrees[d]}" for d in sorted(degrees)))
    print("step bounds: " + ", ".join(f"{bounds[b]} {b}" for b in sorted(bounds)))
    slowest = max(seconds for _, _, seconds in found)
    print(f"slowest rule: {slowest:.1f} s")
    for kind in ("wrong", "raw error"):
        cases = [(case, outcome) for case, outcome, _ in found if outcome.kind == kind]
        for case, outcome in cases[:shown]:
            print(f"\n--- {kind}: {outcome.detail.strip()[-2000:]}\n{case.code()}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=2000, help="rules to draw")
    parser.add_argument("--thorough", action="store_true", help="draw 10^4 rules")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed")
    parser.add_argument("--budget", type=float, default=10.0, help="seconds per rule")
    parser.add_argument("--show", type=int, default=5, help="cases of each failure printed")
    parser.add_argument("--progress", type=int, default=500, help="report every N rules")
    args = parser.parse_args()
    count = max(args.count, 10_000) if args.thorough else args.count
    start = time.perf_counter()
    found = run(count, args.seed, args.budget, args.progress)
    report(found, time.perf_counter() - start, args.show)
    failures = sum(outcome.kind in ("wrong", "raw error") for _, outcome, _ in found)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
