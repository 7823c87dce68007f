"""Escaping user text (rule, symbol and file names) in derivations.

A derivation's prose is written by symdyn and may hold ``$...$`` math, so it
cannot be escaped wholesale. Text that comes from a user (a rule's name, a
file name) is marked with :func:`plain` instead; the marks survive f-strings
and concatenation, and the LaTeX and Markdown writers escape what is inside
them. Names inside math go through :func:`safe_latex`, whose printer writes a
symbol name that is not a plain identifier as escaped upright text, so no
name can reach TeX as a command (``\\input``, ``\\write18``, ``\\openout``).
"""

from __future__ import annotations

import re

from sympy.printing.latex import (
    LatexPrinter,
    greek_letters_set,
    modifier_dict,
    other_symbols,
    tex_greek_dictionary,
    translate,
)

__all__ = [
    "latex_text",
    "markdown_text",
    "plain",
    "plain_pieces",
    "safe_latex",
    "unmark",
]

_OPEN, _CLOSE = "\ue000", "\ue001"
_MARKED = re.compile(f"{_OPEN}([^{_OPEN}{_CLOSE}]*){_CLOSE}")

_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_LATEX_UNICODE = {
    "≤": r"$\le$",
    "≥": r"$\ge$",
    "−": "-",
    "×": r"$\times$",
    "←": r"$\leftarrow$",
    "—": "---",
    "–": "--",
    "’": "'",
    "λ": r"$\lambda$",
    "η": r"$\eta$",
    "β": r"$\beta$",
    "μ": r"$\mu$",
    "ρ": r"$\rho$",
    "∇": r"$\nabla$",
}
_MATH_SPECIAL = {
    "\\": r"\backslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "%": r"\%",
    "#": r"\#",
    "&": r"\&",
    "_": r"\_",
    "^": r"\hat{}",
    "~": r"\tilde{}",
}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#!|&$~^])")
_CONTROL_WORD = re.compile(r"\\([A-Za-z]+)")
_NAME_TOKEN = re.compile(r"\\[A-Za-z]+|\\.?|.", re.DOTALL)
_NAME_WORDS = frozenset(
    {"mathrm", "backslash", "operatorname"}
    | {
        word
        for name in (*greek_letters_set, *tex_greek_dictionary, *other_symbols)
        for word in _CONTROL_WORD.findall(translate(name))
    }
    | {word for modify in modifier_dict.values() for word in _CONTROL_WORD.findall(modify("x"))}
)
_NAME_SYMBOLS = frozenset("{}$%#&_,;:! ")


def plain(text):
    """Mark user text for escaping by the LaTeX and Markdown writers.

    Parameters
    ----------
    text : object
        A rule name, file name or other text a user chose; ``str(text)`` is used.

    Returns
    -------
    str
        ``text`` on one line (each whitespace character a space, any marks
        inside it dropped) between private-use marks, which survive f-strings
        and concatenation.

    Examples
    --------
    >>> latex_text(f"The rule {plain('a_b $x$')}.")
    'The rule a\\\\_b \\\\$x\\\\$.'
    """
    cleaned = _one_line(str(text).replace(_OPEN, "").replace(_CLOSE, ""))
    return f"{_OPEN}{cleaned}{_CLOSE}"


def unmark(text):
    """``text`` without the marks of :func:`plain` (for messages and plain output).

    Examples
    --------
    >>> unmark("Modes of " + plain("heavy ball"))
    'Modes of heavy ball'
    """
    return _MARKED.sub(r"\1", text).replace(_OPEN, "").replace(_CLOSE, "")


def plain_pieces(text):
    """Split ``text`` into ``(is_user_text, piece)`` pairs, in order.

    Examples
    --------
    >>> plain_pieces("Modes of " + plain("gd"))
    [(False, 'Modes of '), (True, 'gd')]
    """
    pieces, start = [], 0
    for match in _MARKED.finditer(text):
        pieces.append((False, text[start : match.start()]))
        pieces.append((True, match.group(1)))
        start = match.end()
    pieces.append((False, text[start:]))
    return [(marked, piece) for marked, piece in pieces if piece]


def _one_line(text):
    return re.sub(r"\s", " ", text)


def latex_text(text):
    """Escape ``text`` for LaTeX's text mode: no character of it acts as markup.

    Marks of :func:`plain` are dropped; their contents are escaped like the rest.

    Examples
    --------
    >>> print(latex_text("x $\\\\input{/etc/hostname}$"))
    x \\$\\textbackslash{}input\\{/etc/hostname\\}\\$
    """
    return "".join(
        _LATEX_SPECIAL.get(char) or _LATEX_UNICODE.get(char) or char for char in unmark(text)
    )


def markdown_text(text):
    """Backslash-escape Markdown, HTML and ``$`` specials in ``text``.

    Examples
    --------
    >>> print(markdown_text("<b>$x$</b>"))
    \\<b\\>\\$x\\$\\</b\\>
    """
    return _MARKDOWN_SPECIAL.sub(r"\\\1", unmark(text))


def _harmless_name(name):
    """Whether a symbol name is safe to print as sympy does: its only commands
    are the ones sympy writes for names (greek letters, accents), and its braces balance."""
    if "^^" in name:
        return False
    depth = 0
    for token in _NAME_TOKEN.findall(name):
        if token.startswith("\\"):
            word = token[1:]
            if word not in _NAME_WORDS and not (len(word) == 1 and word in _NAME_SYMBOLS):
                return False
        elif token in "%#&~$" or not token.isprintable():
            return False
        elif token in "{}":
            depth += 1 if token == "{" else -1
            if depth < 0:
                return False
    return depth == 0


def _math_name(name):
    return r"\mathrm{" + "".join(_MATH_SPECIAL.get(c, c) for c in _one_line(name)) + "}"


class SafeLatexPrinter(LatexPrinter):
    """sympy's LaTeX printer, writing a name that is not harmless as escaped upright text.

    Names sympy knows how to write (``eta``, ``beta_1``, ``x_{t}``, ``\\theta^{+}``)
    print exactly as with :func:`sympy.latex`.
    """

    def _deal_with_super_sub(self, string, style="plain"):
        if _harmless_name(string):
            return super()._deal_with_super_sub(string, style=style)
        name = _math_name(string)
        return r"\mathbf{" + name + "}" if style == "bold" else name

    def _print_Str(self, s):
        return s.name if _harmless_name(s.name) else _math_name(s.name)


def safe_latex(expr, **settings):
    """:func:`sympy.latex` through :class:`SafeLatexPrinter`.

    Examples
    --------
    >>> import sympy as sp
    >>> print(safe_latex(sp.Symbol("beta_1")), safe_latex(sp.Symbol("\\\\input{x}")))
    \\beta_{1} \\mathrm{\\backslash{}input\\{x\\}}
    """
    return SafeLatexPrinter(settings).doprint(expr)
