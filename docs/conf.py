"""Sphinx configuration: MyST pages and notebooks (myst-nb, executed), numpydoc, autodoc, furo.

Build with ``make docs`` (``sphinx-build -W``: warnings are errors) into build/docs. The
gallery page is generated at build time from the docstrings of ``derivations/*.py`` and
embeds the figures of ``make derivations`` when build/derivations holds them.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
# The kernels that execute the notebooks import this checkout's symdyn too.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

import symdyn  # noqa: E402

project = "symdyn"
author = "the symdyn developers"
copyright = "the symdyn developers, MIT licence"
release = version = symdyn.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}
# The tutorial (a MyST notebook) and notebook.ipynb run at every build: their outputs are
# what symdyn printed, and an error in them fails the build.
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_timeout = 300
nb_render_markdown_format = "myst"  # a result's Markdown output has $...$ math in it
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute"]
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
# Every documented object as a toctree entry made furo copy a tree of thousands of nodes for
# each of the ~90 pages (a third of the build); the API page's sections still list them.
toc_object_entries = False
autodoc_typehints = "none"
napoleon_google_docstring = False
napoleon_numpy_docstring = True
# The catalogue states what it implements and what it guarantees, PEPit-style.
napoleon_custom_sections = ["Guarantee", "Algorithm"]
# The guides link to repository files outside docs/ (examples/rules/): valid on a
# repository browser, not targets of this site. Parameter types are prose ("array
# [B, H]"), whose words may name several attributes (H of a Quadratic and of a
# HamiltonianForm): such ambiguous links are left unresolved rather than guessed.
suppress_warnings = ["myst.xref_missing", "ref.python"]

html_theme = "furo"
html_title = f"symdyn {release}"

# MathJax from the machine (Debian's libjs-mathjax, MathJax 2), served with the site, so
# pages render their mathematics offline; without it, Sphinx's default (a CDN) is used.
LOCAL_MATHJAX = Path("/usr/share/javascript/mathjax")
MATHJAX_PARTS = ("MathJax.js", "config", "extensions", "jax", "fonts")
STATIC = ROOT / "build" / "docs-static"
if (LOCAL_MATHJAX / "MathJax.js").exists():
    html_static_path = [str(STATIC)]
    _mathjax = STATIC / "mathjax"  # copied now: Sphinx checks the static path before any event
    if not (_mathjax / "MathJax.js").exists():
        _mathjax.mkdir(parents=True, exist_ok=True)
        for _part in MATHJAX_PARTS:
            _source = LOCAL_MATHJAX / _part
            if _source.is_dir():
                shutil.copytree(_source, _mathjax / _part, dirs_exist_ok=True)
            else:
                shutil.copy2(_source, _mathjax / _part)
    mathjax_path = "mathjax/MathJax.js?config=TeX-AMS_CHTML"
    # myst-nb marks its pages tex2jax_ignore and its maths by class: process those classes.
    mathjax2_config = {
        "messageStyle": "none",
        "tex2jax": {"processClass": "tex2jax_process|mathjax_process|math|output_area"},
    }

# Generated at build time, outside the source tree (build/ is not tracked).
GENERATED = ROOT / "build" / "docs-gallery"
BUILD = ROOT / "build" / "derivations"


def _escape(text: str) -> str:
    for char in "\\*_`<>[]|#$":
        text = text.replace(char, "\\" + char)
    return text


def _gallery_entries() -> str:
    """Markdown for every gallery script: its docstring, how to run it, its figures."""
    scripts = sorted((ROOT / "derivations").glob("*.py")) + sorted(
        (ROOT / "derivations" / "experiments").glob("*.py")
    )
    parts = []
    for script in scripts:
        if script.name.startswith("_") or script.name == "build.py":
            continue
        doc = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8"))) or script.stem
        title, _, body = doc.partition("\n")
        kind = "experiment" if script.parent.name == "experiments" else "derivation"
        relative = script.relative_to(ROOT).as_posix()
        parts.append(f"## {_escape(title.rstrip('.'))}\n")
        parts.append(f"*{kind}* `{relative}`\n")
        parts.extend(_escape(p.replace("\n", " ")) + "\n" for p in body.strip().split("\n\n") if p)
        for figure in sorted(BUILD.glob(f"{script.stem}*.png")):
            shutil.copyfile(figure, GENERATED / figure.name)
            parts.append(f"![{figure.stem}]({figure.name})\n")
    return "\n".join(parts)


def _plain_text(lines):
    """Escape ``|`` and lone ``*`` in prose, which docstrings use as maths (|x|, a*b).

    reST reads them as substitutions and emphasis; literal blocks (after ``::``), doctest
    blocks and directives are left alone.
    """
    literal_indent = None
    in_doctest = False
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if literal_indent is not None:
            if stripped and indent <= literal_indent:
                literal_indent = None
            else:
                continue
        if stripped.startswith(">>>"):
            in_doctest = True
        if in_doctest:
            in_doctest = bool(stripped)
            continue
        if not stripped.startswith(".."):
            escaped = stripped.replace("|", r"\|")
            escaped = re.sub(r"(?<![*\\])\*(?!\*)", r"\\*", escaped)
            # ``MatrixSymbol``s: an inline literal must not run into a word.
            escaped = re.sub(r"(?<=\S)``(?=\w)", r"``\\ ", escaped)
            lines[i] = line[:indent] + escaped
        if stripped.endswith("::"):
            literal_indent = indent


def _docstring(app, what, name, obj, options, lines):
    _plain_text(lines)


def _generate(app):
    GENERATED.mkdir(parents=True, exist_ok=True)
    for old in GENERATED.glob("*.png"):
        old.unlink()
    (GENERATED / "gallery.md").write_text(_gallery_entries(), encoding="utf-8")


def setup(app):
    app.connect("builder-inited", _generate)
    # After napoleon (priority 500) has turned the numpydoc sections into reST.
    app.connect("autodoc-process-docstring", _docstring, priority=600)
