"""Tests of symdyn.rules.parsing: statements, configurable limits, error positions, and fuzzing
through parse_expression."""

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from symdyn.errors import ParseError
from symdyn.rules.parsing import parse_expression
from tests.parsing_fixtures import SYMBOLS, parse


def test_statement_message_says_only_expressions():
    with pytest.raises(ParseError, match="statement"):
        parse("import os")


def test_limits_are_configurable():
    with pytest.raises(ParseError, match="longer than the limit of 5"):
        parse("x + y + 1", max_length=5)
    with pytest.raises(ParseError, match="nested 3 deep"):
        parse("(((x)))", max_depth=2)
    with pytest.raises(ParseError, match="syntax nodes"):
        parse("x + y + x", max_nodes=4)
    with pytest.raises(ParseError, match="deeper than 3"):
        parse("-(-(-(-x)))", max_depth=3)


# -- error positions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("x + foo(y)", 1, 5),
        ("x + zz", 1, 5),
        ("lambda + q", 1, 10),
        ("λ + q", 1, 5),
        ("(x +\n  y.z)", 2, 3),
        ("\n  x + 'a'", 2, 7),
        ("x + 9**9**9", 1, 8),
        ("sqrt(x, y=1)", 1, 9),
        ("x + + ", 1, 7),
    ],
)
def test_error_points_at_the_offending_token(text, line, column):
    symbols = {**SYMBOLS, "λ": sp.Symbol("λ")}
    with pytest.raises(ParseError) as info:
        parse_expression(text, symbols)
    assert (info.value.line, info.value.column) == (line, column)


def test_error_position_is_relative_to_the_file():
    with pytest.raises(ParseError) as info:
        parse("x + zz", source="rule.toml", line=12, column_offset=8)
    error = info.value
    assert (error.source, error.line, error.column) == ("rule.toml", 12, 13)
    assert str(error).startswith("rule.toml:12:13: undeclared name `zz`")


# -- fuzzing ---------------------------------------------------------------------

TOKENS = [
    *"xy()+-*/.,@[]:=<>'\"~%^&| \n0123456789",
    "**",
    "eta",
    "lambda",
    "sqrt",
    "grad",
    "exp",
    "log",
    "Max",
    "T",
    "A",
    "B",
    "1e999",
    "9**9**9",
    "__class__",
    "__import__",
    "if",
    "for",
    "in",
    "not",
    "j",
    "nan",
]
grammar_text = st.lists(st.sampled_from(TOKENS), max_size=60).map("".join)
decoded_bytes = st.tuples(
    st.binary(max_size=200), st.sampled_from(["replace", "surrogateescape"])
).map(lambda pair: pair[0].decode("utf-8", errors=pair[1]))


def _parse_or_refuse(text):
    try:
        result = parse(text)
    except ParseError as error:
        assert error.source == "<string>" and error.line is not None
    else:
        assert isinstance(result, sp.Basic)


@given(st.one_of(st.text(max_size=200), grammar_text, decoded_bytes))
def test_fuzz_gives_an_expression_or_a_parse_error(text):
    _parse_or_refuse(text)


@given(grammar_text)
def test_fuzz_grammar_tokens(text):
    _parse_or_refuse(text)
