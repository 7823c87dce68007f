"""Shared pieces of the parsing and rule-file tests: the symbols an expression is parsed
against, a ``parse`` shorthand, and a small gradient-descent rule file with helpers to
write and mutate it.

Imported as ``tests.parsing_fixtures`` (its asserts rewritten by pytest, as
registered in conftest.py): pytest's ``--import-mode=importlib`` (set in
pyproject.toml) imports ``tests`` as a namespace package from the rootdir, wherever pytest
is started from.
"""

import pytest
import sympy as sp

from symdyn.errors import ParseError
from symdyn.rules.parsing import parse_expression
from symdyn.rules.rulefile import load_spec

# -- expressions -----------------------------------------------------------------

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", positive=True)
eta = sp.Symbol("eta", positive=True)
lam = sp.Symbol("lambda", positive=True)
A = sp.MatrixSymbol("A", 2, 2)
B = sp.MatrixSymbol("B", 2, 3)
SYMBOLS = {"x": x, "y": y, "eta": eta, "lambda": lam, "A": A, "B": B}


def parse(text, **options):
    return parse_expression(text, SYMBOLS, **options)


# -- rule files ------------------------------------------------------------------

GD = """\
state = ["x"]
[params]
eta = { positive = true }
[free]
lambda = { positive = true }
[loss]
expr = "lambda * x**2 / 2"
[[update]]
target = "x"
expr = "x - eta*grad(x)"
"""


def write(tmp_path, text, name="rule.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def bad(old, new, text=GD):
    assert old in text, f"{old!r} is not in the rule file"
    return text.replace(old, new)


def assert_error_names_file_and_line(tmp_path, text, line, match):
    """Loading ``text`` from a file raises a ParseError matching ``match`` at ``line``."""
    path = write(tmp_path, text)
    with pytest.raises(ParseError, match=match) as info:
        load_spec(path)
    error = info.value
    assert error.source == str(path)
    assert error.line == line, str(error)
    assert str(error).startswith(f"{path}:{line}")
