"""Function classes: exact constants, clear errors."""

import pytest
import sympy as sp

import symdyn as sd

fc = sd.function_classes


def test_constants_are_exact():
    cls = fc.SmoothStronglyConvex(mu=0.1, L=10)
    assert cls.mu == sp.Rational(1, 10) and cls.L == 10 and cls.condition_number == 100
    assert fc.SmoothConvex(L=2).mu == 0 and fc.SmoothConvex(L=2).condition_number == sp.oo
    assert fc.Quadratics(1, 4).quadratic_only and not fc.SmoothConvex(1).quadratic_only
    assert fc.SmoothStronglyConvex(1, 2) == fc.SmoothStronglyConvex(1, 2)
    assert fc.SmoothStronglyConvex(1, 2) != fc.Quadratics(1, 2)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: fc.SmoothStronglyConvex(2, 1), "exceeds"),
        (lambda: fc.SmoothStronglyConvex(0, 1), "SmoothConvex"),
        (lambda: fc.SmoothConvex(L=-1), "positive"),
        (lambda: fc.SmoothConvex(L=sp.sqrt(2)), "rational"),
        (lambda: fc.Quadratics(1, "10"), "L"),
        (lambda: fc.SmoothConvex(L=float("nan")), "L"),
    ],
)
def test_bad_constants_are_refused(make, match):
    with pytest.raises(sd.FunctionClassError, match=match):
        make()
