"""Tests of symdyn.rules.syntax_tree: the walk refuses everything outside the grammar, executes
nothing, and builds long sums without nesting."""

import builtins

import pytest

from symdyn.errors import ParseError
from tests.parsing_fixtures import parse, x

# -- hostile input ---------------------------------------------------------------

HOSTILE = [
    "().__class__",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__",
    "x[0]",
    "lambda: 0",
    "(lambda: 0)()",
    "[c for c in 'ab']",
    "{c: 1 for c in 'ab'}",
    "(c for c in 'ab')",
    "f'{x}'",
    "'text'",
    "b'bytes'",
    "True",
    "None",
    "...",
    "x < y",
    "x and y",
    "not x",
    "x if y else eta",
    "sqrt(x=1)",
    "sqrt(*x)",
    "Max(**x)",
    "foo(x)",
    "eval('1')",
    "exec('1')",
    "__import__('os')",
    "x(1)",
    "sqrt",
    "z",
    "nan",
    "inf",
    "1e999",
    "-1e999",
    "1j",
    "import os",
    "from os import system",
    "x = 1",
    "x += 1",
    "(x := 1)",
    "(yield x)",
    "9**9**9",
    "2**(10**6)",
    "exp(10**1000*log(2))",
    "(9**1000*x)**1000",
    "x**(2**100)",
    "x // y",
    "x % y",
    "x ^ y",
    "~x",
    "x @ y",
    "A + x",
    "A @ A @ B @ B",
    "x / 0",
    "0**-1",
    "log(0)",
    "sqrt(-1)",
    "grad(x**2, x + 1)",
    "(" * 100 + "x" + ")" * 100,
    "-" * 3000 + "x",
    "x**" * 1300 + "x",
    "+".join(["x"] * 1900),
    "x" * 5000,
    "",
    "   ",
    "x\x00",
    "\udc80",
]


@pytest.mark.parametrize("text", HOSTILE, ids=lambda t: repr(t[:30]))
def test_hostile_input_is_refused(text, tmp_path, monkeypatch):
    sentinel = tmp_path / "sentinel"
    calls = []

    def forbidden(*args, **kwargs):
        calls.append(args)
        raise AssertionError("eval/exec must never be called")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    with pytest.raises(ParseError) as info:
        parse(text)
    assert info.value.source == "<string>"
    assert info.value.line is not None
    assert calls == []
    assert not sentinel.exists()


@pytest.mark.parametrize(
    "template",
    [
        "__import__('os').system('touch {path}')",
        "open('{path}', 'w').write('x')",
        "().__class__.__base__.__subclasses__()[0]('{path}')",
        "[open('{path}', 'w') for _ in 'a']",
        "(lambda: open('{path}', 'w'))()",
    ],
)
def test_nothing_is_executed(template, tmp_path):
    sentinel = tmp_path / "sentinel"
    with pytest.raises(ParseError):
        parse(template.format(path=sentinel))
    assert not sentinel.exists()


def test_long_sums_are_not_deep():
    """A sum of many terms is a long chain in the syntax tree but not nested."""
    text = " + ".join(f"{i}*x**{i}" for i in range(1, 80))
    assert parse(text) == sum(i * x**i for i in range(1, 80))
