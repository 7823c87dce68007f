"""Tests of symdyn.rules.printing: print_expression writes what parse_expression reads back."""

import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

from symdyn.errors import ExpressionTypeError
from symdyn.rules.parsing import (
    parse_expression,
)
from symdyn.rules.printing import print_expression
from tests.parsing_fixtures import A, B, eta, lam, parse, x, y

# -- round trip ------------------------------------------------------------------

ROUND_TRIP_SYMBOLS = [x, y, eta, lam]
numbers = st.one_of(
    st.integers(-5, 5).map(sp.Integer),
    st.tuples(st.integers(-5, 5), st.integers(1, 5)).map(lambda pq: sp.Rational(*pq)),
)
FUNCTIONS = [sp.sqrt, sp.exp, sp.log, sp.tanh, sp.sin, sp.cos, sp.Abs]


def _max_min(fab):
    function, a, b = fab
    try:
        return function(a, b)
    except ValueError:  # sympy refuses Max(I, x): not comparable
        return a


def _extend(children):
    pairs = st.tuples(children, children)
    return st.one_of(
        pairs.map(lambda ab: ab[0] + ab[1]),
        pairs.map(lambda ab: ab[0] - ab[1]),
        pairs.map(lambda ab: ab[0] * ab[1]),
        pairs.map(lambda ab: ab[0] / ab[1] if ab[1] != 0 else ab[0]),
        st.tuples(children, st.integers(-3, 3)).map(lambda bn: bn[0] ** bn[1]),
        st.tuples(st.sampled_from(FUNCTIONS), children).map(lambda fa: fa[0](fa[1])),
        st.tuples(st.sampled_from([sp.Max, sp.Min]), children, children).map(_max_min),
        children.map(lambda a: -a),
    )


expressions = st.recursive(
    st.one_of(st.sampled_from(ROUND_TRIP_SYMBOLS), numbers), _extend, max_leaves=12
)


@given(expressions)
def test_round_trip(expr):
    assume(not expr.has(sp.zoo, sp.nan, sp.oo, -sp.oo, sp.I))
    text = print_expression(expr)
    parsed = parse_expression(text, {s.name: s for s in expr.free_symbols})
    assert parsed == expr or sp.simplify(parsed - expr) == 0, text


def test_round_trip_matrices_and_keywords():
    expr = B.T * A * B + sp.Integer(2) * (B.T * B)
    text = print_expression(expr)
    assert "T(B)" in text
    assert parse(text) == expr
    assert parse(print_expression(lam * x**2 / 2)) == lam * x**2 / 2


@pytest.mark.parametrize(
    "expr",
    [sp.Float("0.1") * x, sp.I * x, sp.Function("f")(x), sp.Dummy("d"), sp.Symbol("x'")],
    ids=str,
)
def test_print_refuses_what_the_grammar_cannot_spell(expr):
    with pytest.raises(ExpressionTypeError):
        print_expression(expr)
