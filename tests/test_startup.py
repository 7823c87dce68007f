"""Start-up loads only what is used: ``import symdyn`` and ``symdyn list`` import none of
matplotlib, SciPy, dask, numba or tqdm (benchmarks/startup.py times it)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("matplotlib", "scipy", "dask", "numba", "tqdm")


def _loaded_after(code):
    """The heavy modules in ``sys.modules`` after ``code`` runs in a fresh interpreter."""
    probe = (
        f"{code}\nimport sys, json\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.mark.parametrize(
    "code",
    [
        "import symdyn",
        "import io, symdyn as sd; from symdyn.cli import main; main(['list'], out=io.StringIO())"
        "; sd.stability, sd.simulate, sd.lambdify, sd.stability_map",
    ],
    ids=["import", "list"],
)
def test_start_up_loads_no_heavy_module(code):
    assert _loaded_after(code) == []


def test_the_probe_sees_a_heavy_module_once_used():
    bar = "from symdyn.numeric.progress import progress_bar; progress_bar(False, 1, 'x', 'u')"
    assert _loaded_after(bar) == ["tqdm"]


def test_every_public_name_resolves():
    import symdyn

    for name in symdyn.__all__:
        assert getattr(symdyn, name) is not None, name
    with pytest.raises(AttributeError):
        symdyn.no_such_name  # noqa: B018
