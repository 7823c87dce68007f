"""Rule files that expand to astronomically large objects are refused while parsing.

Each case is small as text; once its powers are multiplied out, its sums expanded or
its temporaries substituted it would not be. The ParseError names the limit and the
file line, and is raised before sympy builds anything large.
"""

import pytest

from symdyn.rules.parsing import parse_expression
from symdyn.rules.rulefile import load_spec
from tests.parsing_fixtures import SYMBOLS, assert_error_names_file_and_line

HEADER = 'state = ["x"]\n[params]\neta = { positive = true }\n'


def _file(*updates):
    """A rule file with the given (target, expr) updates; update k's expr is on line 3k + 3."""
    text = HEADER
    for target, expr in updates:
        text += f'[[update]]\ntarget = "{target}"\nexpr = "{expr}"\n'
    return text


def _line(update):
    """The line of the expr of the 1-based ``update`` in a :func:`_file`."""
    return 3 * update + 3


CHAIN = [("t1", "x*x")] + [(f"t{i}", f"t{i - 1}*t{i - 1}") for i in range(2, 41)]

CASES = {
    "multiplied exponents": (
        _file(("x", "x - (eta**1000)**1000*x")),
        _line(1),
        "MAX_EXPANDED_EXPONENT",
    ),
    "nested powers": (_file(("x", "((x**50)**50)**50")), _line(1), "MAX_EXPANDED_EXPONENT"),
    "exp tower": (_file(("x", "x - eta*exp(exp(exp(1000)))*x")), _line(1), "MAX_NUMBER_BITS"),
    "E tower": (_file(("x", "x - eta*E**E**E**9*x")), _line(1), "MAX_NUMBER_BITS"),
    "exp of a symbolic tower with numbers": (
        _file(("x", "x - eta*exp(exp(exp(8)))*x")),
        _line(1),
        "MAX_NUMBER_BITS",
    ),
    "expanded terms": (
        _file(("x", "x - eta*(x + eta + 1)**1000")),
        _line(1),
        "MAX_EXPANDED_TERMS",
    ),
    "40 chained squared temporaries": (
        _file(*CHAIN, ("x", "x - eta*t40")),
        _line(10),  # t10 = t9*t9 is x**1024
        "MAX_EXPANDED_EXPONENT",
    ),
    "terms through temporaries": (
        _file(("t1", "(x + eta + 1)**100"), ("t2", "t1*t1"), ("x", "x - t2")),
        _line(2),
        "MAX_EXPANDED_TERMS",
    ),
    "digits through temporaries": (
        _file(("t1", "10**300"), ("t2", "t1**300"), ("x", "x - eta*t2*x")),
        _line(2),
        "MAX_NUMBER_BITS",
    ),
    "digits of a symbolic power through temporaries": (
        _file(("t1", "10**300*x"), ("t2", "t1**300"), ("x", "x - eta*t2")),
        _line(2),
        "MAX_NUMBER_BITS",
    ),
    "exp tower through temporaries": (
        _file(("t1", "exp(1000)"), ("t2", "exp(t1)"), ("x", "x - eta*t2*x")),
        _line(2),
        "MAX_NUMBER_BITS",
    ),
    "powers through an updated state": (
        _file(*[("x", "x*x")] * 11),
        _line(10),
        "MAX_EXPANDED_EXPONENT",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_expansion_limits_name_the_limit_and_the_line(case, tmp_path):
    text, line, limit = CASES[case]
    assert_error_names_file_and_line(tmp_path, text, line, limit)


UPDATE_X = '[[update]]\ntarget = "x"\nexpr = "x"\n'
DECLARATIONS = {  # role: (the file, with NAME where the name goes; the line it is on)
    "state": ('state = ["NAME"]\n[[update]]\ntarget = "NAME"\nexpr = "1"\n', 1),
    "parameter": ('state = ["x"]\n[params]\nNAME = { positive = true }\n' + UPDATE_X, 3),
    "free symbol": (HEADER + "[free]\nNAME = { real = true }\n" + UPDATE_X, 5),
    "temporary": (HEADER + '[[update]]\ntarget = "NAME"\nexpr = "x"\n' + UPDATE_X, 5),
}


@pytest.mark.parametrize("role", DECLARATIONS)
@pytest.mark.parametrize("name", ["I", "E", "oo", "zoo", "nan", "pi", "S", "N", "True", "False"])
def test_names_of_sympy_constants_are_refused(role, name, tmp_path):
    text, line = DECLARATIONS[role]
    match = rf"`{name}` is reserved for a sympy constant; choose another {role} name"
    assert_error_names_file_and_line(tmp_path, text.replace("NAME", name), line, match)


@pytest.mark.parametrize(
    "expr",
    [
        "x - eta*(x + eta + 1)**100",  # 5151 terms
        "x - eta*x**1000",
        "x - eta*exp(1000)*x",
        "x - eta*exp(exp(7))*x",  # e**1096.6: 1582 bits
        "x - eta*2**1000*3**1000*x",  # 2585 bits
        "x - eta*exp(x)**1000",
    ],
)
def test_expressions_within_the_limits_are_accepted(expr, tmp_path):
    path = tmp_path / "rule.toml"
    path.write_text(_file(("x", expr)))
    assert load_spec(path).updates


def test_chained_temporaries_within_the_limits_are_accepted(tmp_path):
    path = tmp_path / "rule.toml"
    chain = [("t1", "x*x")] + [(f"t{i}", f"t{i - 1}*t{i - 1}") for i in range(2, 10)]
    path.write_text(_file(*chain, ("x", "x - eta*t9")))  # x**512
    assert len(load_spec(path).updates) == 10


def test_a_simultaneous_state_is_not_its_new_value(tmp_path):
    # y reads the old x; the bound is not carried through x's update.
    text = 'state = ["x", "y"]\nsimultaneous = true\n'
    text += '[[update]]\ntarget = "x"\nexpr = "x**600"\n'
    text += '[[update]]\ntarget = "y"\nexpr = "x**600"\n'
    path = tmp_path / "rule.toml"
    path.write_text(text)
    assert len(load_spec(path).updates) == 2


@pytest.mark.parametrize(
    "text, limit",
    [
        ("(eta**1000)**1000", "MAX_EXPANDED_EXPONENT"),
        ("(x + eta + 1)**1000", "MAX_EXPANDED_TERMS"),
        ("exp(exp(exp(1000)))", "MAX_NUMBER_BITS"),
        ("2**exp(exp(7))", "MAX_NUMBER_BITS"),
    ],
)
def test_parse_expression_applies_the_limits(text, limit):
    with pytest.raises(ValueError, match=limit):
        parse_expression(text, SYMBOLS)
