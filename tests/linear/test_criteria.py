"""Schur and Hurwitz criteria against numeric roots, on hypothesis-drawn polynomials."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

from symdyn import UndecidedError, hurwitz_conditions, schur_conditions
from symdyn.linear.criteria import sign_of, simplify_condition

z, s = sp.symbols("z s")
coefficient = st.floats(-3, 3, allow_nan=False).map(lambda c: round(c, 3))


def holds(conditions, values=None):
    return all(bool(sp.sympify(c).subs(values or {})) for c in conditions)


@given(st.lists(coefficient, min_size=1, max_size=5))
def test_schur_conditions_match_numeric_roots(tail):
    coeffs = [1.0, *tail]
    radius = max(abs(np.roots(coeffs)))
    assume(abs(radius - 1) > 1e-6)
    poly = sp.Poly([sp.Rational(str(c)) for c in coeffs], z)
    assert holds(schur_conditions(poly)) == (radius < 1)


@given(st.lists(coefficient, min_size=1, max_size=5))
def test_hurwitz_conditions_match_numeric_roots(tail):
    coeffs = [1.0, *tail]
    abscissa = max(np.roots(coeffs).real)
    assume(abs(abscissa) > 1e-6)
    poly = sp.Poly([sp.Rational(str(c)) for c in coeffs], s)
    assert holds(hurwitz_conditions(poly)) == (abscissa < 0)


a, b, c, d = sp.symbols("a b c d", real=True)
GENERAL_CUBIC = z**3 + a * z**2 + b * z + c


@given(coefficient, coefficient, coefficient)
def test_symbolic_cubic_conditions_agree_with_roots_at_every_point(a0, b0, c0):
    radius = max(abs(np.roots([1, a0, b0, c0])))
    assume(abs(radius - 1) > 1e-6)
    conditions = schur_conditions(GENERAL_CUBIC, z)
    values = {a: sp.Rational(str(a0)), b: sp.Rational(str(b0)), c: sp.Rational(str(c0))}
    assert holds(conditions, values) == (radius < 1)


@given(coefficient, coefficient, coefficient, coefficient)
def test_negative_leading_coefficient_of_unknown_sign(lead, a0, b0, c0):
    assume(abs(lead) > 1e-3)
    radius = max(abs(np.roots([lead, a0, b0])))
    assume(abs(radius - 1) > 1e-6)
    conditions = schur_conditions(d * z**2 + a * z + b, z)
    values = {d: sp.Rational(str(lead)), a: sp.Rational(str(a0)), b: sp.Rational(str(b0))}
    assert holds(conditions, values) == (radius < 1)


def test_known_forms():
    eta, lam = sp.symbols("eta lambda", positive=True)
    assert schur_conditions(z - (1 - eta * lam), z) == (sp.Lt(eta * lam, 2),)
    # Marginal: roots on the circle for every eta (alternating GDA on xy).
    assert schur_conditions(z**2 - (2 - eta**2) * z + 1, z) == (sp.false,)
    assert hurwitz_conditions(s**3 + a * s**2 + b * s + c, s) == (
        a > 0,
        b > 0,
        c > 0,
        sp.Lt(c, a * b),
    )


def test_coefficients_without_sign_information_are_undecided():
    beta = sp.Symbol("beta")
    with pytest.raises(UndecidedError, match="beta"):
        schur_conditions(z**2 - beta * z + beta / 2, z)


def test_sign_of_uses_assumptions_factoring_and_discriminants():
    h, p = sp.symbols("h p", positive=True)
    assert sign_of(h * p) == 1
    assert sign_of(-(h + 1) * (p + 2)) == -1
    assert sign_of(p**4 * h**4 - 3 * p**2 * h**2 + 4) == 1  # biquadratic, negative discriminant
    assert sign_of(h - p) is None
    assert simplify_condition(-(h + 1)) is sp.false


@pytest.mark.skipif(
    not hasattr(sp.Poly, "schur_conditions"),
    reason="this SymPy has no Poly.schur_conditions (added in 1.15)",
)
@given(st.lists(coefficient, min_size=2, max_size=4))
def test_agrees_with_sympy_schur_conditions(tail):
    poly = sp.Poly([1, *(sp.Rational(str(c)) for c in tail)], z)
    theirs = all(bool(cond) for cond in poly.schur_conditions())
    assert holds(schur_conditions(poly)) == theirs
