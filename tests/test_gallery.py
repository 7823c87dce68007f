"""Every gallery script runs, asserts its claims, and writes its outputs, which read well.

Each script of ``derivations/`` and ``derivations/experiments/`` runs once, in a subprocess
with ``SYMDYN_BUILD_DIR`` pointing at a temporary folder (the module's ``built`` fixture); it
must exit 0 (its own assertions passed) and leave ``NAME.tex``, ``NAME.md``, at least one
``NAME*.png`` and, when pdflatex is installed, ``NAME.pdf`` with no displayed equation
running past the margin. The PDF is then read as a reader would (``pdftotext``): no sympy
leaking through (``Max(``, ``Piecewise(``, ``None``, a lone ``True``, ``0 > 0``, ...), and
the symbols a derivation creates defined before they are used; page 1 of two PDFs is
rendered (``pdftoppm``) and must be neither blank nor inked beyond the margins. Without
pdflatex or poppler these checks skip locally and fail when ``CI=true``.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.optional import require_module, require_program

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "derivations"
# Optional libraries a script needs (the certificate solves an SDP).
NEEDS = {"nesterov_certificate": ("cvxpy", "clarabel")}
# Scripts that take more than a few seconds; CI runs them all the same.
SLOW = {"momentum", "diffusion", "edge_of_stability", "rate_network", "nesterov_certificate"}


def _scripts():
    found = sorted(GALLERY.glob("*.py")) + sorted((GALLERY / "experiments").glob("*.py"))
    return [p for p in found if not p.name.startswith("_") and p.name != "build.py"]


def _run(args, out):
    env = {**os.environ, "MPLBACKEND": "Agg", "SYMDYN_BUILD_DIR": str(out)}
    return subprocess.run(
        [sys.executable, *args], cwd=out, env=env, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``build(script)``: the output folder and the finished process of one run of the script
    (each script runs once for all the tests of this module)."""
    runs = {}

    def build(script):
        for module in NEEDS.get(script.stem, ()):
            require_module(module)  # skips locally, fails under CI=true
        if script not in runs:
            out = tmp_path_factory.mktemp(script.stem)
            runs[script] = (out, _run([str(script)], out))
        return runs[script]

    return build


SCRIPTS = [
    pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in SLOW else [])
    for p in _scripts()
]


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_derives_and_writes(script, built):
    tmp_path, done = built(script)
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


# What sympy's str() or a template leaves in a document, and no reader should see.
LEAKS = re.compile(
    r"Max\(|Min\(|Piecewise\(|Derivative\(|Subs\(|\bNone\b|\bzoo\b|[a-z]{2,}\(s\)|"
    r"^\s*True\s*$|^\s*False\s*$|\b0\s*>\s*0\b(?!\s*\(never)",
    re.MULTILINE,
)


def _built_pdf(script, built):
    out, done = built(script)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    require_program("pdflatex")
    return out / f"{script.stem}.pdf"


def reader_leaks(text):
    """The pieces of sympy (or of a template) in the text of a document."""
    return [match.group(0).strip() or "(blank)" for match in LEAKS.finditer(text)]


def test_the_reader_check_finds_leaks():
    text = "the bound Max(0, x)\n  True\nholds 1 time(s); 0 > 0\n0 > 0 (never true)\nTrue."
    assert reader_leaks(text) == ["Max(", "True", "time(s)", "0 > 0"]
    assert reader_leaks("p(s) = s^2 + 1") == []


@pytest.mark.parametrize("script", SCRIPTS)
def test_pdf_text_has_no_sympy_leaking_through(script, built):
    pdf = _built_pdf(script, built)
    require_program("pdftotext")
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert reader_leaks(text) == [], pdf.name


# Symbols derivations create, as LaTeX tokens: each must be defined (``Ω = ...``,
# ``V(q) = ...``, in prose or on a displayed line) before any equation uses it.
CREATED = {"Omega": r"\\Omega(?![A-Za-z])", "V": r"(?<![A-Za-z\\])V(?![A-Za-z])"}


def undefined_before_use(tex):
    """The created symbols some math uses before the text defines them."""
    body = tex.split("\\begin{document}", 1)[-1]
    math = re.findall(r"\$[^$]+\$|\\begin\{(?:equation|gather)\*\}.*?\\end\{", body, re.DOTALL)
    found = []
    for name, token in CREATED.items():
        uses = [i for i, m in enumerate(math) if re.search(token, m)]
        definitions = [
            i for i, m in enumerate(math) if re.search(token + r"\s*(\([^()=]*\))?\s*=", m)
        ]
        if uses and (not definitions or definitions[0] > uses[0]):
            found.append(name)
    return found


def test_the_definition_check_finds_a_symbol_used_first():
    assert undefined_before_use(r"\begin{document} $J^T \Omega J$ with $\Omega = I$") == ["Omega"]
    assert undefined_before_use(r"\begin{document} $V(q) = q^2$, so $\nabla V$") == []
    assert undefined_before_use(r"\begin{document} $\nabla V$ is fine $Vx$") == ["V"]


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(
            p,
            id=p.stem,
            marks=[pytest.mark.slow] * (p.stem in SLOW),
        )
        for p in _scripts()
    ],
)
def test_created_symbols_are_defined_before_use(script, built):
    out, done = built(script)
    assert done.returncode == 0
    tex = (out / f"{script.stem}.tex").read_text(encoding="utf-8")
    assert undefined_before_use(tex) == []


def _page_one(pdf, dpi=40):
    """Page 1 of ``pdf`` as a grey-level array (0 black, 255 white), via pdftoppm."""
    import numpy as np
    from matplotlib.image import imread

    require_program("pdftoppm")
    stem = pdf.with_name(pdf.stem + "-page")
    subprocess.run(
        [
            "pdftoppm",
            "-f",
            "1",
            "-l",
            "1",
            "-r",
            str(dpi),
            "-gray",
            "-png",
            "-singlefile",
            str(pdf),
            str(stem),
        ],
        check=True,
        timeout=60,
    )
    image = imread(stem.with_suffix(".png"))
    return np.asarray(image if image.ndim == 2 else image[..., 0]) * 255, dpi


def inked_outside_margins(page, dpi, margin_cm=1.5):
    """Whether any dark pixel lies within ``margin_cm`` of the page's edge (the text block
    leaves 2.5 cm)."""
    edge = round(margin_cm / 2.54 * dpi)
    dark = page < 128
    inside = dark[edge:-edge, edge:-edge].sum()
    return int(dark.sum() - inside)


@pytest.mark.parametrize("name", ["gd_quadratic", "games"])
def test_page_one_is_inked_inside_the_margins(name, built):
    pdf = _built_pdf(GALLERY / f"{name}.py", built)
    page, dpi = _page_one(pdf)
    assert (page < 128).mean() > 0.005, f"{pdf.name}: page 1 is blank"
    assert inked_outside_margins(page, dpi) == 0, f"{pdf.name}: ink beyond the margins"


def test_the_margin_check_sees_ink_at_the_edge():
    import numpy as np

    page = np.full((400, 300), 255.0)
    page[200, 100:150] = 0
    assert inked_outside_margins(page, 40) == 0
    page[200, 295:] = 0
    assert inked_outside_margins(page, 40) == 5
