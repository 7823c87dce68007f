"""Where the gallery writes, and how each script states and checks its claims.

Every script in ``derivations/`` (and ``derivations/experiments/``) writes into
``$SYMDYN_BUILD_DIR`` (default ``build/derivations`` in the repository):
``NAME.tex``, ``NAME.md``, ``NAME.pdf`` when pdflatex is on the path, and its
figures as ``NAME*.png``. Claims are checked with :func:`claim` and
:func:`identical`, which raise ``AssertionError`` even under ``python -O``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import sympy as sp
from matplotlib.figure import Figure

from symdyn.derivation import Derivation, TeX

REPOSITORY = Path(__file__).resolve().parent.parent


def build_dir() -> Path:
    """The output folder, created on first use."""
    path = Path(os.environ.get("SYMDYN_BUILD_DIR", REPOSITORY / "build" / "derivations"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def claim(ok, text: str) -> None:
    """Print ``text`` as a checked claim; raise ``AssertionError`` when ``ok`` is false."""
    if not bool(ok):
        raise AssertionError(f"claim failed: {text}")
    print(f"  ✓ {text}")


def identical(derived, published, text: str) -> None:
    """Claim that two sympy expressions are equal: ``simplify(derived - published) == 0``."""
    difference = sp.simplify(sp.sympify(derived) - sp.sympify(published))
    if difference != 0:
        raise AssertionError(
            f"claim failed: {text}\n  derived:   {derived}\n  published: {published}\n"
            f"  difference: {difference}"
        )
    print(f"  ✓ {text}")


def count(number: int, noun: str) -> str:
    """``number`` and ``noun``, plural unless one: ``count(1, "time")`` is ``"1 time"``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def figure(ncols: int = 1, nrows: int = 1, size=(5.5, 4.0)):
    """A matplotlib Figure (no pyplot, any backend) and its axes."""
    fig = Figure(figsize=size, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes.ravel() if axes.size > 1 else axes[0, 0]


def save_figure(fig: Figure, name: str) -> Path:
    """Write ``name.png`` (150 dpi, tight bounding box) into the build folder."""
    path = build_dir() / f"{name}.png"
    # Library figures have no layout engine: a tight box keeps their axis labels inside.
    fig.savefig(path, dpi=150, bbox_inches="tight")
    print(f"  wrote {path}")
    return path


# About the width of a displayed line of the article class at 11pt with 2.5 cm margins,
# counted in visible characters of the LaTeX source (see :func:`visible_length`).
LINE = 62


def visible_length(latex: str) -> int:
    """A rough count of the characters a LaTeX formula shows: commands count as one."""
    text = re.sub(r"\\(left|right|big|Big|bigg|Bigg)\b", "", latex)
    text = re.sub(r"\\(frac|dfrac|tfrac|mathrm|operatorname|begin|end)\b", "", text)
    text = re.sub(r"\\[A-Za-z]+", "x", text)
    return len(re.sub(r"[{}^_\s]", "", text))


def _lines(expr) -> list[str]:
    """``expr`` as one or more LaTeX lines, each about a line wide (sums and max split)."""
    latex = sp.latex(expr)
    if visible_length(latex) <= LINE:
        return [latex]
    if isinstance(expr, sp.Add):
        lines, current = [], []
        for term in sp.Add.make_args(expr):
            candidate = sp.latex(sp.Add(*current, term, evaluate=False)) if current else ""
            if current and visible_length(candidate) > LINE:
                lines.append(sp.latex(sp.Add(*current, evaluate=False)))
                current = []
            current.append(term)
        lines.append(sp.latex(sp.Add(*current, evaluate=False)))
        return [line if i == 0 else "{}+ " + line for i, line in enumerate(lines)]
    return _split_max(latex)


def _split_max(latex: str) -> list[str]:
    r"""Break ``... \max\left(a, b, ...\right)`` between its arguments.

    The outer brackets become ``\Big(`` and ``\Big)``, as ``\left`` and ``\right`` cannot
    span lines. Anything else stays one line.
    """
    for name in (r"\max", r"\min"):
        opening = name + r"\left("
        start = latex.find(opening)
        if start < 0:
            continue
        args, depth, braces = [], 1, 0
        begin = i = start + len(opening)
        while i < len(latex):
            if latex.startswith(r"\left", i):
                depth += 1
                i += len(r"\left")
            elif latex.startswith(r"\right", i):
                depth -= 1
                if depth == 0:
                    args.append(latex[begin:i])
                    tail = latex[i + len(r"\right") + 1 :]
                    lines = [a + "," for a in args[:-1]] + [args[-1] + r"\Big)" + tail]
                    lines[0] = latex[:start] + name + r"\Big(" + lines[0]
                    return lines
                i += len(r"\right")
            else:
                braces += latex[i] == "{"
                braces -= latex[i] == "}"
                if latex[i] == "," and depth == 1 and braces == 0:
                    args.append(latex[begin:i])
                    begin = i + 1
                i += 1
    return [latex]


def fit(derivation: Derivation) -> Derivation:
    """The same derivation with equations wider than a line broken over several lines.

    An equation ``lhs = rhs`` too wide for the page becomes ``lhs =`` on one line and
    ``rhs`` below it, a long sum is split between its terms, and a long max between its
    arguments. A step identical to an earlier one (analyses joined with ``+`` each restate
    the rule) is kept once.
    """
    fitted, seen = Derivation(derivation.title), []
    for step in derivation.steps:
        if step in seen:  # joined analyses of one rule restate it: say it once
            continue
        seen.append(step)
        items = []
        for item in step.math_items():
            if isinstance(item, sp.Eq) and visible_length(sp.latex(item)) > LINE:
                items.append(TeX(sp.latex(item.lhs) + " ="))
                items.extend(TeX(line) for line in _lines(item.rhs))
            elif isinstance(item, sp.Expr) and visible_length(sp.latex(item)) > LINE:
                items.extend(TeX(line) for line in _lines(item))
            elif isinstance(item, TeX) and visible_length(item) > LINE:
                items.extend(TeX(line) for line in _split_max(item))
            else:
                items.append(item)
        math = None if not items else items[0] if len(items) == 1 else tuple(items)
        fitted = fitted.then(step.text, math, again=step.again)
    return fitted


def save(derivation, name: str, figures=()) -> list[Path]:
    """Write the derivation as .tex, .md (with links to ``figures``) and .pdf when possible.

    Equations wider than the page are broken over several lines first (:func:`fit`).
    """
    derivation = fit(derivation)
    out = build_dir()
    paths = [derivation.save(out / f"{name}.tex"), derivation.save(out / f"{name}.md")]
    if figures:
        links = "".join(f"\n![{Path(f).stem}]({Path(f).name})\n" for f in figures)
        with open(paths[1], "a", encoding="utf-8") as handle:
            handle.write(links)
    if shutil.which("pdflatex"):
        paths.append(derivation.save(out / f"{name}.pdf"))
    for path in paths:
        print(f"  wrote {path}")
    return paths
