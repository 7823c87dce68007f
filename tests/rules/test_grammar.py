"""Tests of symdyn.rules.grammar: what the rule grammar accepts, its functions and constants,
and its limits on exponents and grad nesting."""

import pytest
import sympy as sp

from symdyn.errors import ParseError
from symdyn.rules.parsing import (
    DEFAULT_FUNCTIONS,
    MAX_EXPONENT,
    parse_expression,
)
from tests.parsing_fixtures import SYMBOLS, A, B, eta, lam, parse, x, y

# -- what the grammar accepts ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x - eta*grad(lambda*x**2/2, x)", x - eta * lam * x),
        ("0.1", sp.Rational(1, 10)),
        ("1e-3 + 2.5e2", sp.Rational(1, 1000) + 250),
        ("1_000", sp.Integer(1000)),
        ("-x + +y", -x + y),
        ("sqrt(y) * exp(x) / log(y)", sp.sqrt(y) * sp.exp(x) / sp.log(y)),
        ("tanh(x) + sin(x) - cos(x)", sp.tanh(x) + sp.sin(x) - sp.cos(x)),
        ("Abs(x) + Max(x, y, 1) - Min(x, eta)", sp.Abs(x) + sp.Max(x, y, 1) - sp.Min(x, eta)),
        ("x**(1/3)", x ** sp.Rational(1, 3)),
        ("2*pi*E", 2 * sp.pi * sp.E),
        ("  (x +\n   y)", x + y),
        ("T(B) @ A @ B", B.T * A * B),
        ("A**2 - A*A", sp.ZeroMatrix(2, 2)),
    ],
)
def test_accepts_the_grammar(text, expected):
    result = parse(text)
    assert result == expected or sp.simplify(result - expected) == 0


def test_decimal_literals_are_exact_rationals():
    """0.1 is read from its text, not through the binary float 0.1000000000000000055..."""
    result = parse("0.1 + 0.2")
    assert result == sp.Rational(3, 10)
    assert not result.atoms(sp.Float)


def test_declared_symbol_shadows_constant():
    e = sp.Symbol("E")
    assert parse_expression("E + 1", {"E": e}) == e + 1


def test_grad_is_injectable():
    calls = []

    def fake_grad(expr, wrt):
        calls.append((expr, wrt))
        return sp.Integer(7)

    functions = {**DEFAULT_FUNCTIONS, "grad": fake_grad}
    assert parse_expression("grad(x**2, x) + 1", SYMBOLS, functions) == 8
    assert calls == [(x**2, x)]


# -- limits ----------------------------------------------------------------------


def test_huge_exponent_is_refused_before_building():
    # Building 9**9**9 would not finish: reaching the error at all shows the refusal comes first.
    with pytest.raises(ParseError, match=f"at most {MAX_EXPONENT}"):
        parse("9**9**9")


def test_grad_nesting_is_bounded():
    assert parse("grad(grad(grad(x**5, x), x), x)") == 60 * x**2
    with pytest.raises(ParseError, match="grad nested more than 3"):
        parse("grad(grad(grad(grad(x**5, x), x), x), x)")
