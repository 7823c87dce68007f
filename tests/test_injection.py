"""Documents cannot be injected into: user text is escaped, and pdflatex runs paranoid."""

import re
import subprocess
from pathlib import Path

import pytest
import sympy as sp

import symdyn as sd
from symdyn.derivation import Derivation, _run_pdflatex
from symdyn.escaping import plain, safe_latex
from symdyn.rules.rulefile import load_rule
from tests.optional import require_program

HOSTILE = (
    r"x $\input{/etc/hostname}$ \input{/etc/passwd} \write18{touch /tmp/pwned} "
    r"\openout5=leak.tex #1 & 50% ~ ^^5c_x"
)
TEX_TREES = ("/usr/share/tex", "/var/lib/tex", "/etc/texmf")


def tex_trees():
    """The TeX installation, with the font caches kpathsea writes (TEXMFVAR)."""
    caches = subprocess.run(
        ["kpsewhich", "-var-value=TEXMFVAR"], capture_output=True, text=True, check=False
    ).stdout.split()
    return (*TEX_TREES, *caches)


RULE_FILE = """\
name = '{name}'
state = ["x"]

[params]
eta = {{ positive = true }}

[loss]
expr = "x**2 / 2"

[[update]]
target = "x"
expr = "x - eta * grad(loss, x)"
"""


def hostile_rule(tmp_path):
    path = tmp_path / "hostile.toml"
    path.write_text(RULE_FILE.format(name=HOSTILE), encoding="utf-8")
    return load_rule(path)


def hostile_symbols_rule():
    """A rule built in Python, whose state and step are named with TeX commands."""
    x = sp.Symbol(r"\input{/etc/hostname}", real=True)
    eta = sp.Symbol(r"x$}\write18{touch /tmp/pwned}\openout", positive=True)
    return sd.UpdateRule([x], [(x, x - eta * x)], [eta], name=HOSTILE)


def assert_no_command(latex):
    for command in (r"\input", r"\write", r"\openout", "^^5c"):
        assert command not in latex, command


def assert_no_markdown_command(markdown):
    """No unescaped backslash starts a command (``\\\\input`` is an escaped backslash)."""
    assert not re.search(r"(?<!\\)(?:\\\\)*\\(input|write|openout)", markdown)


def test_rule_file_name_is_text_in_latex(tmp_path):
    rule = hostile_rule(tmp_path)
    assert rule.name == HOSTILE
    latex = sd.stability(rule).derivation.to_latex()
    assert_no_command(latex)
    assert r"x \$\textbackslash{}input\{/etc/hostname\}\$" in latex


def test_symbol_names_print_harmlessly():
    derivation = sd.stability(hostile_symbols_rule()).derivation
    assert_no_command(derivation.to_latex())
    assert_no_markdown_command(derivation.to_markdown())
    assert r"\mathrm{\backslash{}input\{/etc/hostname\}}" in derivation.to_latex()


@pytest.mark.parametrize("name", ["eta", "beta_1", "x_{t}", "lambda_max", r"\theta^{+}", "m^2"])
def test_ordinary_names_print_as_sympy_prints_them(name):
    assert safe_latex(sp.Symbol(name)) == sp.latex(sp.Symbol(name))


def test_markdown_escapes_user_text():
    markdown = Derivation("Modes of " + plain("<b>$\\input{x}$</b> # *a*")).to_markdown()
    assert markdown.startswith(r"## Modes of \<b\>\$\\input\{x\}\$\</b\> \# \*a\*")


def test_library_math_is_kept_around_user_text():
    text = f"The rule {plain('a$b$')} has $x_1$"
    latex = Derivation("t").then(text).to_latex(standalone=False)
    assert r"The rule a\$b\$ has $x_1$" in latex


def test_file_stem_is_escaped(tmp_path):
    path = tmp_path / "$\\input{x}$.toml"
    path.write_text(RULE_FILE.format(name="").split("\n", 1)[1], encoding="utf-8")
    latex = sd.stability(load_rule(path)).derivation.to_latex()
    assert_no_command(latex)


def files_read(fls, build):
    """Every file pdflatex's recorder lists as read, resolved."""
    names = re.findall(r"^INPUT (.+)$", fls.read_text(), re.MULTILINE)
    return {Path(build, name).resolve() for name in names}


@pytest.mark.latex
@pytest.mark.parametrize("make", ["file", "symbols"])
def test_hostile_pdf_reads_nothing_outside(make, tmp_path, pdflatex):
    pdftotext = require_program("pdftotext")
    rule = hostile_rule(tmp_path) if make == "file" else hostile_symbols_rule()
    derivation = sd.stability(rule).derivation
    build = tmp_path / "build"
    build.mkdir()
    source = build / "derivation.tex"
    source.write_text(derivation.to_latex(), encoding="utf-8")
    done = _run_pdflatex(pdflatex, source)
    assert done.returncode == 0, done.stdout[-3000:]
    trees = tex_trees()
    outside = {
        path
        for path in files_read(build / "derivation.fls", build)
        if not path.is_relative_to(build.resolve()) and not str(path).startswith(trees)
    }
    assert not outside
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    log = (build / "derivation.log").read_text(errors="replace")
    assert "/etc/hostname" not in (build / "derivation.fls").read_text()
    assert not Path("/tmp/pwned").exists() and not (build / "leak.tex").exists()
    pdf = derivation.to_pdf(tmp_path / "hostile.pdf")
    text = subprocess.run(
        [pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    if hostname:
        assert hostname not in text.replace(HOSTILE, "") and hostname not in log
    assert HOSTILE in " ".join(text.split())
