"""Bounded work: the inputs that used to run forever now end within their budget.

Each case runs in a fresh subprocess (so its peak memory is its own) under a time
budget of ``BUDGET`` seconds: as a rule file through ``symdyn analyze --timeout``, or
through the Python API with ``timeout=``. The table gives the time to the end (and the
ratio to the budget, measured in the same run: at most 1.1 is the target), the peak
resident memory (target < 1 GB) and how the case ended.

Run: ``python benchmarks/exhaustion.py [BUDGET]`` (default 5 s).
"""

import json
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

BUDGET = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0

HEADER = 'state = ["x"]\n[params]\neta = { positive = true }\n'


def _file(update_exprs, header=HEADER):
    text = header
    for target, expr in update_exprs:
        text += f'[[update]]\ntarget = "{target}"\nexpr = "{expr}"\n'
    return text


SQUARES = [("t1", "x**2 + eta")] + [(f"t{i}", f"t{i - 1}**2 + x") for i in range(2, 41)]
SQUARES += [("x", "x - eta*t40")]
FILES = {
    "(eta**1000)**1000": _file([("x", "x - (eta**1000)**1000*x")]),
    "exp(exp(exp(1000)))": _file([("x", "x - eta*exp(exp(exp(1000)))*x")]),
    "E**E**E**9": _file([("x", "x - eta*E**E**E**9*x")]),
    "(x+eta+1)**1000": _file([("x", "x - eta*(x + eta + 1)**1000")]),
    "1200-digit coefficient": _file([("x", "x - eta*" + "7" * 1200 + "*x + eta**2")]),
    "40 chained squared temporaries": _file(SQUARES),
}

PYTHON = {
    "(x+eta+1)**1000 (Python)": """
        rule = sd.UpdateRule([x], [(x, x - eta * (x + eta + 1) ** 1000)], [eta])
        sd.step_bound(rule, eta, timeout=BUDGET)
    """,
    "(eta**1000)**1000 (Python)": """
        rule = sd.UpdateRule([x], [(x, x - (eta**1000) ** 1000 * x)], [eta])
        sd.step_bound(rule, eta, timeout=BUDGET)
    """,
    "1200-digit coefficient (Python)": """
        c = sp.Integer(int("7" * 1200)) + 1
        rule = sd.UpdateRule([x], [(x, x - eta * c * x + eta**2 * x / c)], [eta])
        sd.step_bound(rule, eta, timeout=BUDGET)
    """,
    "30-state circulant": """
        s = sp.symbols("s0:30", real=True)
        b = sp.Symbol("b", positive=True)
        updates = [(s[i], s[i] - eta * (s[i] - s[(i + 1) % 30]) - b * s[(i + 7) % 30])
                   for i in range(30)]
        rule = sd.UpdateRule(list(s), updates, [eta, b], simultaneous=True)
        sd.step_bound(rule, eta, timeout=BUDGET)
    """,
}

CHILD = """
import json, resource, sys, time
start = time.perf_counter()
outcome = "finished"
try:
{body}
except SystemExit as stop:
    outcome = str(stop)
except BaseException as error:
    outcome = type(error).__name__ + ": " + str(error)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": time.perf_counter() - start, "peak_mb": peak, "outcome": outcome}}))
"""

PRELUDE = """
import sympy as sp
import symdyn as sd
BUDGET = {budget}
x = sp.Symbol("x", real=True)
eta = sp.Symbol("eta", positive=True)
start = time.perf_counter()  # the budget covers the analysis, not the imports
"""


def _run(body):
    code = CHILD.format(body=textwrap.indent(body, "    "))
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=20 * BUDGET + 60
    )
    if done.returncode != 0 or not done.stdout.strip():
        return {"seconds": float("nan"), "peak_mb": float("nan"), "outcome": done.stderr[-200:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, text in FILES.items():
            path = Path(folder) / "case.toml"
            path.write_text(text)
            body = (
                "from symdyn.cli import main\n"
                "start = time.perf_counter()\n"
                f"code = main(['analyze', {str(path)!r}, '--timeout', '{BUDGET}'])\n"
                "outcome = 'exit ' + str(code)\n"
            )
            rows.append((f"file: {name}", _run(body + "raise SystemExit(outcome)")))
    for name, snippet in PYTHON.items():
        body = PRELUDE.format(budget=BUDGET) + textwrap.dedent(snippet)
        rows.append((name, _run(body)))
    body = (
        "from symdyn.cli import main\n"
        "start = time.perf_counter()\n"
        "raise SystemExit('exit ' + str(main(['analyze', 'gd', '--param', 'eta=1e999999999'])))"
    )
    rows.append(("--param eta=1e999999999", _run(body)))

    print(f"budget {BUDGET:g} s; time / budget ≤ 1.1 and peak < 1024 MB are the targets\n")
    print(f"{'case':<40} {'time':>8} {'/budget':>8} {'peak MB':>8}  how it ended")
    for name, row in rows:
        ratio = row["seconds"] / BUDGET
        outcome = " ".join(row["outcome"].split())[:90]
        seconds, peak = row["seconds"], row["peak_mb"]
        print(f"{name:<40} {seconds:>7.2f}s {ratio:>8.2f} {peak:>8.0f}  {outcome}")
    worst = max(row["seconds"] / BUDGET for _, row in rows)
    heaviest = max(row["peak_mb"] for _, row in rows)
    print(f"\nworst time / budget: {worst:.2f}; largest peak: {heaviest:.0f} MB")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"(whole run {time.perf_counter() - start:.0f} s)")
