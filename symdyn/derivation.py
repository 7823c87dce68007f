"""Derivations: the steps a person would write on paper, rendered as LaTeX or Markdown.

A :class:`Derivation` is an immutable sequence of :class:`Step`s, each a
sentence followed (optionally) by a displayed equation or relation. Analyses
build their derivation as they run, so what is shown is what was computed.
Equations are kept as sympy objects (``sp.Eq``, relations, matrices) so that
they can be checked numerically later; raw LaTeX is accepted through
:class:`TeX` for notation sympy has no object for (assignments, ``\\forall``).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp
from sympy.printing.latex import greek_letters_set
from sympy.printing.precedence import PRECEDENCE

from symdyn.errors import LatexError, SymdynError
from symdyn.escaping import SafeLatexPrinter, latex_text, markdown_text, plain_pieces, unmark

__all__ = ["Derivation", "LatexError", "Presented", "Step", "TeX", "latex"]


class TeX(str):
    """A string that is already LaTeX math (rendered as is, never parsed)."""


@dataclass(frozen=True)
class Step:
    """One step: a sentence, then (optionally) displayed math.

    ``text`` is prose; ``$...$`` segments in it are inline math. ``math`` is a
    sympy object, a :class:`TeX` string, or a tuple of them shown aligned. ``again``
    is the short sentence that replaces ``text`` when a document (analyses joined with
    ``+``) has already given the same explanation: it is said once, then referred to.
    """

    text: str
    math: object = None
    again: str | None = None  # what to say instead when ``text`` was already said above

    def math_items(self):
        if self.math is None:
            return ()
        if isinstance(self.math, tuple):
            return self.math
        return (self.math,)


# The variables of the polynomials derivations show: z of a characteristic polynomial,
# s of its Möbius transform or of a continuous limit's.
_POLYNOMIAL_VARIABLES = frozenset({"z", "s"})
_WORD_INDEX = re.compile(r"([_^])\{([A-Za-z]{2,})\}")


class _ReadingLatexPrinter(SafeLatexPrinter):
    """:class:`~symdyn.escaping.SafeLatexPrinter` as a person writes mathematics:
    polynomials in z or s in descending powers, word subscripts upright."""

    def _print_Add(self, expr, order=None):
        variables = [
            v for v in expr.free_symbols if getattr(v, "name", None) in _POLYNOMIAL_VARIABLES
        ]
        if len(variables) != 1 or not expr.is_polynomial(variables[0]):
            return super()._print_Add(expr, order=order)
        poly = sp.Poly(expr, variables[0])
        if poly.degree() < 2 or len(poly.terms()) < 2:  # 1 - s reads better as it is
            return super()._print_Add(expr, order=order)
        pieces = []
        for (k,), coefficient in poly.terms():
            negative = coefficient.could_extract_minus_sign()
            size = -coefficient if negative else coefficient
            power = self._print(poly.gen**k) if k else ""
            if k and size == 1:
                body = power
            elif k:
                body = self.parenthesize(size, PRECEDENCE["Mul"]) + " " + power
            else:
                body = self._print(size)
            pieces.append(("- " if negative else "+ ") + body)
        text = " ".join(pieces)
        return text[2:] if text.startswith("+ ") else text

    def _deal_with_super_sub(self, string, style="plain"):
        # x_half is x with the index "half", not the product h·a·l·f: set the word upright.
        return _WORD_INDEX.sub(_upright, super()._deal_with_super_sub(string, style=style))


def _upright(match):
    mark, word = match.groups()
    if word.lower() in greek_letters_set:
        return match.group(0)
    return mark + "{\\mathrm{" + word + "}}"


def latex(expr, **settings):
    """LaTeX of ``expr`` for a reader: :func:`~symdyn.escaping.safe_latex` (no name can
    reach TeX as a command) with polynomials in ``z`` or ``s`` in descending powers, word
    subscripts upright (``x_{\\mathrm{half}}``), and no ``+ -`` in sums of matrix terms.

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.MatrixSymbol("a", 2, 1), sp.MatrixSymbol("b", 2, 1)
    >>> latex(a - 2 * b)
    'a - 2 b'
    >>> z, beta = sp.Symbol("z"), sp.Symbol("beta")
    >>> print(latex(beta + z**2 - (1 + beta) * z))
    z^{2} - \\left(\\beta + 1\\right) z + \\beta
    >>> print(latex(sp.Symbol("x_half") + sp.Symbol("v_x") + sp.Symbol("x_alpha")))
    v_{x} + x_{\\alpha} + x_{\\mathrm{half}}
    """
    return re.sub(r"\+\s*-\s*", "- ", _ReadingLatexPrinter(settings).doprint(expr))


def _math_latex(item):
    if isinstance(item, TeX):
        return str(item)
    if isinstance(item, str):
        raise TypeError("plain strings are not math; wrap LaTeX in symdyn.derivation.TeX")
    if item is sp.true or item is sp.false:  # a displayed "True" says nothing to a reader
        return r"\text{holds for every admissible value}" if item else r"\text{never holds}"
    if isinstance(item, sp.core.relational.Relational) and not item.free_symbols:
        verdict = sp.simplify(item.func(item.lhs, item.rhs))  # e.g. 0 > 0: a condition
        if verdict in (sp.true, sp.false):  # that cannot hold, as the reader should see
            return latex(item) + r" \quad \text{(%s true)}" % ("always" if verdict else "never")
    return latex(item)


def _texts(steps):
    """Each step's prose, with a repeated explanation replaced by its ``again`` form."""
    said = set()
    for step in steps:
        if step.again is not None and step.text in said:
            yield step.again
        else:
            said.add(step.text)
            yield step.text


def _prose_latex(text):
    """Escape prose for LaTeX: user text (:func:`~symdyn.escaping.plain`) entirely,
    the library's own text around its ``$...$`` inline math."""
    return "".join(
        latex_text(piece) if marked else _library_latex(piece)
        for marked, piece in plain_pieces(text)
    )


def _library_latex(text):
    parts = re.split(r"(\$(?:\\.|[^$\\])+\$)", text)  # an escaped \$ stays inside the math
    return "".join(
        p if p.startswith("$") and p.endswith("$") and len(p) > 1 else latex_text(p) for p in parts
    )


def _prose_markdown(text):
    """Markdown prose: user text backslash-escaped, the library's text as written."""
    pieces = plain_pieces(text)
    return "".join(markdown_text(piece) if marked else piece for marked, piece in pieces)


def _run_pdflatex(pdflatex, source):
    """Run pdflatex on ``source`` in its folder, with no shell escape and paranoid file access.

    ``openin_any=p`` and ``openout_any=p`` forbid reading and writing files
    outside the folder (absolute paths, ``..`` and dot files); ``-recorder``
    leaves in ``derivation.fls`` the list of every file read or written.
    """
    return subprocess.run(
        [
            pdflatex,
            "-no-shell-escape",
            "-recorder",
            "-interaction=nonstopmode",
            "-halt-on-error",
            source.name,
        ],
        cwd=source.parent,
        env={**os.environ, "openin_any": "p", "openout_any": "p"},
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        check=False,
    )


@dataclass(frozen=True)
class Derivation:
    """An ordered, immutable list of steps with a title.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x")
    >>> fact = sp.Eq(sp.Derivative(x**2, x), 2 * x)
    >>> d = Derivation("A tiny fact").then("Differentiate $x^2$:", fact)
    >>> print(d.to_markdown())
    ## A tiny fact
    <BLANKLINE>
    Differentiate $x^2$:
    <BLANKLINE>
    $$\\frac{d}{d x} x^{2} = 2 x$$
    <BLANKLINE>
    >>> "\\\\documentclass" in d.to_latex()
    True
    """

    title: str
    steps: tuple = field(default=())

    def then(self, text, math=None, again=None):
        """A new derivation with one more step (``again``: see :class:`Step`)."""
        if isinstance(math, list):
            math = tuple(math)
        return Derivation(self.title, (*self.steps, Step(text, math, again)))

    def __add__(self, other):
        if not isinstance(other, Derivation):
            return NotImplemented
        return Derivation(self.title, self.steps + other.steps)

    @property
    def equations(self):
        """Every sympy equation or relation in the steps, in order (for numeric checks)."""
        found = []
        for step in self.steps:
            for item in step.math_items():
                if isinstance(item, sp.core.relational.Relational):
                    found.append(item)
        return tuple(found)

    def body_latex(self):
        """The steps as LaTeX paragraphs and displays, without a preamble."""
        chunks = []
        for step, text in zip(self.steps, _texts(self.steps), strict=True):
            chunks.append(_prose_latex(text))
            items = [_math_latex(m) for m in step.math_items()]
            if len(items) == 1:
                chunks.append("\\begin{equation*}\n" + items[0] + "\n\\end{equation*}")
            elif items:
                rows = " \\\\\n".join(items)
                chunks.append("\\begin{gather*}\n" + rows + "\n\\end{gather*}")
        return "\n\n".join(chunks)

    def to_latex(self, standalone=True):
        """LaTeX source; a complete ``article`` that pdflatex compiles when ``standalone``."""
        body = f"\\section*{{{_prose_latex(self.title)}}}\n\n" + self.body_latex()
        if not standalone:
            return body
        return (
            "\\documentclass[11pt]{article}\n"
            "\\usepackage[T1]{fontenc}\n"
            "\\usepackage[margin=2.5cm]{geometry}\n"
            "\\usepackage{amsmath,amssymb}\n"
            "\\allowdisplaybreaks\n"
            "\\begin{document}\n"
            f"{body}\n"
            "\\end{document}\n"
        )

    def to_markdown(self):
        """Markdown with ``$...$`` inline and ``$$...$$`` display math."""
        lines = [f"## {_prose_markdown(self.title)}", ""]
        for step, text in zip(self.steps, _texts(self.steps), strict=True):
            lines.extend([_prose_markdown(text), ""])
            for item in step.math_items():
                lines.extend([f"$${_math_latex(item)}$$", ""])
        return "\n".join(lines)

    def to_pdf(self, path):
        """Compile :meth:`to_latex` with pdflatex into ``path``.

        pdflatex runs without shell escape and in TeX's paranoid mode, reading
        and writing nothing outside its temporary build folder except the TeX
        installation (see :func:`_run_pdflatex`).

        Raises
        ------
        LatexError
            If pdflatex is not on ``PATH`` or the compilation fails (with the log's end).
        """
        pdflatex = shutil.which("pdflatex")
        if pdflatex is None:
            raise LatexError(
                "pdflatex is not installed; install texlive-latex-base and "
                "texlive-latex-recommended, or save as .tex"
            )
        path = Path(path)
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "derivation.tex"
            source.write_text(self.to_latex(), encoding="utf-8")
            done = _run_pdflatex(pdflatex, source)
            pdf = Path(tmp) / "derivation.pdf"
            if done.returncode != 0 or not pdf.exists():
                tail = "\n".join(done.stdout.splitlines()[-25:])
                raise LatexError(f"pdflatex failed on {unmark(self.title)!r}:\n{tail}")
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(pdf, path)
        return path

    def save(self, path):
        """Write ``.tex``, ``.md`` or ``.pdf``, chosen by the suffix of ``path``."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".pdf":
            return self.to_pdf(path)
        writers = {".tex": self.to_latex, ".md": self.to_markdown}
        if suffix not in writers:
            raise SymdynError(f"cannot save a derivation as {path.name!r}: use .tex, .md or .pdf")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(writers[suffix](), encoding="utf-8")
        return path

    def _repr_latex_(self):
        parts = []
        for step in self.steps:
            for item in step.math_items():
                parts.append(_math_latex(item))
        if not parts:
            return None
        return "$$\\begin{gathered} " + r" \\ ".join(parts) + r" \end{gathered}$$"

    def __str__(self):
        return self.to_markdown()


class Presented:
    """How a result with a ``.derivation`` shows itself in a notebook.

    Jupyter (and myst-nb, which executes the docs) calls ``_repr_markdown_``, the
    derivation's steps with their display math, or ``_repr_latex_``, its equations.
    Every analysis result derives from it.
    """

    __slots__ = ()

    def _repr_markdown_(self):
        return self.derivation.to_markdown()

    def _repr_latex_(self):
        return self.derivation._repr_latex_()
