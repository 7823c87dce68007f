"""Start-up time: ``import symdyn`` and ``symdyn list`` against ``import sympy``.

Each command runs in a fresh interpreter (``python -c``), several times; the median wall
time is compared with the median of ``import sympy`` measured in the same run. symdyn's
names load on first use (PEP 562), so ``import symdyn`` should cost at most about 1.3×
``import sympy``; the first analysis then pays for what it uses (NumPy, the kernel).

    python benchmarks/startup.py [REPEATS]
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = {
    "import sympy": "import sympy",
    "import symdyn": "import symdyn",
    "symdyn list": "from symdyn.cli import main; main(['list'], out=open('/dev/null', 'w'))",
    "import symdyn; first stability": (
        "import sympy as sp, symdyn as sd; x = sp.Symbol('x', real=True); "
        "sd.stability(sd.optimizers.gd(x**2 / 2, [x], lr=sp.Rational(1, 2)))"
    ),
}


def seconds(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - start


def main(repeats: int) -> None:
    for code in COMMANDS.values():  # warm the file cache
        seconds(code)
    medians = {
        name: statistics.median(seconds(code) for _ in range(repeats))
        for name, code in COMMANDS.items()
    }
    base = medians["import sympy"]
    print(f"start-up, median of {repeats} fresh interpreters each")
    for name, value in medians.items():
        print(f"  {name:32} {value * 1000:7.0f} ms   {value / base:5.2f}x import sympy")
    ratio = medians["import symdyn"] / base
    print(f"import symdyn / import sympy = {ratio:.2f} (target <= 1.30)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
