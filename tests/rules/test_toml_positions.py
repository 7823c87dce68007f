"""Tests of symdyn.rules.toml_positions: rule-file errors found by scanning the raw TOML text
name the right line and column."""

import pytest

from symdyn.errors import ParseError
from symdyn.rules.rulefile import load_spec
from tests.parsing_fixtures import GD, assert_error_names_file_and_line, bad, write

TOML_ERRORS = [
    ("duplicated key", bad("eta = { positive = true }", "eta = {}\neta = {}"), 4, "twice"),
    ("duplicated table", GD + "[params]\nbeta = {}\n", 11, "twice"),
    ("toml syntax", bad("[loss]", "[loss"), 6, "invalid TOML"),
]


@pytest.mark.parametrize(
    ("why", "text", "line", "match"), TOML_ERRORS, ids=[b[0] for b in TOML_ERRORS]
)
def test_toml_errors_name_file_and_line(why, text, line, match, tmp_path):
    assert_error_names_file_and_line(tmp_path, text, line, match)


def test_expression_errors_carry_the_column(tmp_path):
    path = write(tmp_path, bad('"x - eta*grad(x)"', '"x - zeta*grad(x)"'))
    with pytest.raises(ParseError) as info:
        load_spec(path)
    assert (info.value.line, info.value.column) == (10, len('expr = "x - ') + 1)
