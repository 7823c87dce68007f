"""Every gallery script runs, asserts its claims, and writes its outputs.

Each script of ``derivations/`` and ``derivations/experiments/`` runs in a subprocess with
``SYMDYN_BUILD_DIR`` pointing at a temporary folder; it must exit 0 (its own assertions
passed) and leave ``NAME.tex``, ``NAME.md``, at least one ``NAME*.png`` and, when pdflatex
is installed, ``NAME.pdf`` with no displayed equation running past the margin. Without
pdflatex the PDF checks skip locally and fail when ``CI=true``.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.optional import require_program

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "derivations"
# Scripts that take more than a few seconds; CI runs them all the same.
SLOW = {"momentum", "diffusion", "edge_of_stability", "nesterov_certificate"}


def _scripts():
    found = sorted(GALLERY.glob("*.py")) + sorted((GALLERY / "experiments").glob("*.py"))
    return [p for p in found if not p.name.startswith("_") and p.name != "build.py"]


def _run(args, out):
    env = {**os.environ, "MPLBACKEND": "Agg", "SYMDYN_BUILD_DIR": str(out)}
    return subprocess.run(
        [sys.executable, *args], cwd=out, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in SLOW else [])
        for p in _scripts()
    ],
)
def test_script_derives_and_writes(script, tmp_path):
    done = _run([str(script)], tmp_path)
    assert done.returncode == 0, (
        f"{script.name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    assert "✓" in done.stdout, f"{script.name} checked no claim"
    name = script.stem
    for suffix in (".tex", ".md"):
        assert (tmp_path / f"{name}{suffix}").stat().st_size > 0
    assert "\\documentclass" in (tmp_path / f"{name}.tex").read_text(encoding="utf-8")
    figures = list(tmp_path.glob(f"{name}*.png"))
    assert figures, f"{name} saved no figure"
    assert all(f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for f in figures)
    require_program("pdflatex")  # without it the PDF is not built
    assert (tmp_path / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
    assert _overflowing_displays(tmp_path / f"{name}.tex") == [], "equations wider than the page"


def _overflowing_displays(tex):
    """Displayed equations more than 20pt wider than the text, from pdflatex's log."""
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tex.parent,
        capture_output=True,
        timeout=120,
        check=False,
    )
    log = tex.with_suffix(".log").read_text(encoding="utf-8", errors="replace")
    found = re.findall(r"Overfull \\hbox \(([0-9.]+)pt too wide\) detected at line (\d+)", log)
    return [(float(pt), line) for pt, line in found if float(pt) > 20]


def test_build_writes_an_index(tmp_path):
    done = _run([str(GALLERY / "build.py"), "gd_quadratic", "xor"], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    index = (tmp_path / "index.md").read_text(encoding="utf-8")
    assert "Gradient descent on a quadratic" in index and "XOR" in index
    assert "(gd_quadratic.md)" in index and "gd_quadratic.png" in index
    assert '<a href="xor.md">' in (tmp_path / "index.html").read_text(encoding="utf-8")
