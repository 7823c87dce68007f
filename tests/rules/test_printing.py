"""Tests of symdyn.rules.printing: print_expression writes what parse_expression reads back."""

from fractions import Fraction

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


# --- mathematics as a person reads it (the terminal's printing) ---------------------------

_A, _ETA, _NU = sp.symbols("a eta nu", positive=True)


@given(
    st.fractions(min_value=Fraction(1, 50), max_value=5),
    st.fractions(min_value=Fraction(1, 50), max_value=5),
    st.sampled_from([2, 3, 4]),
    st.fractions(min_value=Fraction(1, 20), max_value=3),
)
def test_simplest_is_equivalent_at_every_positive_point(a, eta, power, bound):
    """a^k η^k < c and its root hold at the same points (checked in exact arithmetic)."""
    from symdyn.rules.printing import simplest

    relation = _A**power * _ETA**power < sp.Rational(bound)
    simpler = simplest(relation)
    assert sp.Pow not in {type(arg) for arg in sp.Mul.make_args(simpler.lhs)}
    point = {_A: sp.Rational(a), _ETA: sp.Rational(eta)}
    assert bool(simpler.subs(point)) == bool(relation.subs(point))


def test_simplest_leaves_what_it_cannot_prove_alone():
    from symdyn.rules.printing import simplest

    x = sp.Symbol("x", real=True)  # not positive: x² < 1 is not x < 1
    assert simplest(x**2 < 1) == (x**2 < 1)
    assert simplest(_A**2 * _ETA**2 < -1) == (_A**2 * _ETA**2 < -1)


def test_essential_drops_what_another_requirement_implies():
    from symdyn.rules.printing import essential

    beta = sp.Symbol("beta", positive=True)
    assert essential((beta < 1, (_NU > 1) | (beta < 1) | (_NU < 1), sp.true)) == (beta < 1,)
    assert essential(((_NU > 1) | (_NU < 1),)) == ((_NU > 1) | (_NU < 1),)


def test_descending_prints_powers_of_z_from_the_highest():
    from symdyn.rules.printing import descending, show

    z, beta, lam = sp.Symbol("z"), sp.Symbol("beta", positive=True), sp.Symbol("lambda")
    poly = sp.Poly(z**3 + beta + z * (lam - beta - 1), z)
    text = show(descending(poly), "plain")
    assert text == "z**3 - (1 + beta - lambda)*z + beta"
    assert sp.expand(descending(poly) - poly.as_expr()) == 0


def test_without_double_minus_keeps_the_value_and_drops_the_signs():
    from symdyn.rules.printing import show, without_double_minus

    beta, lam, nu, tau = sp.symbols("beta lambda nu tau", positive=True)
    for expr in (
        -2 * (beta + 1) / (lam * (2 * beta * nu - beta - 1)),
        -2 * (beta + 1) / (lam * (tau - 1)),
        -10 * (1 + beta) / (lam * (2 * beta - 5)),
        2 * (beta + 1) / lam,
        sp.Piecewise((-1 / (beta - 1), beta < 1), (sp.oo, True)),
    ):
        tidy = without_double_minus(expr)
        assert sp.simplify(tidy.doit() - expr) == 0 or tidy == expr
        assert not show(tidy, "plain").startswith("-"), show(tidy, "plain")
