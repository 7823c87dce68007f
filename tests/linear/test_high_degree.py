"""Exact answers at degree 5–8 against NumPy's eigenvalues, on hypothesis-drawn AggMo.

AggMo with K velocity buffers (v_i ← β_i v_i − λx, x ← x + η/K Σ v_i) has a
characteristic polynomial of degree K + 1: K = 4..7 gives degrees 5..8. Its
region (is_stable), spectral radius and step bound in η (found by exact real-root
isolation when a condition is of higher degree in η) are checked at points drawn
inside and outside against the largest eigenvalue modulus of the numeric Jacobian.
"""

from fractions import Fraction

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symdyn as sd

eta = sp.Symbol("eta", positive=True)
MARGIN = 1e-7  # points this close to the unit circle are not evidence either way


def aggmo_jacobian(betas, curvature):
    """Rows x, v_1..v_K of the Jacobian of x ← x + η/K Σ(β_i v_i − λx), v_i ← β_i v_i − λx."""
    k = len(betas)
    top = [1 - eta * curvature, *(eta * b / k for b in betas)]
    rows = [top]
    for i, b in enumerate(betas):
        rows.append([-curvature, *(b if j == i else 0 for j in range(k))])
    return sp.Matrix(rows)


def numeric_radius(jacobian, step):
    values = np.array(jacobian.subs(eta, step), dtype=float)
    return max(abs(np.linalg.eigvals(values)))


fractions = st.fractions(Fraction(1, 20), Fraction(19, 20), max_denominator=20)


@settings(max_examples=5, deadline=None)
@given(
    betas=st.lists(fractions, min_size=4, max_size=7, unique=True),
    curvature=st.fractions(Fraction(1, 4), Fraction(4), max_denominator=8),
    steps=st.lists(st.floats(0.01, 12), min_size=3, max_size=3),
)
def test_degree_five_to_eight_regions_and_step_bounds_agree_with_eigenvalues(
    betas, curvature, steps
):
    jacobian = aggmo_jacobian([sp.Rational(b) for b in betas], sp.Rational(curvature))
    result = sd.stability(jacobian)
    assert sum(f.degree() for f in result.factors) == len(betas) + 1
    for step in steps:
        radius = numeric_radius(jacobian, step)
        if abs(radius - 1) > MARGIN:
            assert result.is_stable({eta: step}) == (radius < 1), (step, radius)
    try:
        bound = sd.step_bound(result, eta)
    except sd.UndecidedError as error:
        assert "not one interval" in str(error)  # the honest answer; never a wrong one
        return
    lower, upper = float(bound.lower), float(bound.upper)
    inside = [lower + t * (upper - lower) for t in (0.01, 0.3, 0.7, 0.99)]
    outside = [upper * 1.01, upper * 1.5] if np.isfinite(upper) else []
    for step in inside + outside:
        radius = numeric_radius(jacobian, step)
        if abs(radius - 1) > MARGIN:
            assert (lower < step < upper) == (radius < 1), (step, radius, bound.upper)


@pytest.mark.parametrize("k", [4, 7])
def test_the_spectral_radius_at_degree_five_and_eight_is_exact_and_lambdifies(k):
    betas = [sp.Rational(1, 2), sp.Rational(9, 10), sp.Rational(3, 10), sp.Rational(7, 10)]
    betas += [sp.Rational(1, 10), sp.Rational(4, 5), sp.Rational(1, 5)]
    jacobian = aggmo_jacobian(betas[:k], 1)
    result = sd.stability(jacobian)
    compiled = sp.lambdify([eta], result.spectral_radius, "numpy")
    for step in (0.1, 1.0, 2.5):
        expected = numeric_radius(jacobian, step)
        assert compiled(step) == pytest.approx(expected, rel=1e-9)
        exact = result.spectral_radius.subs(eta, sp.Rational(step))
        assert float(sp.N(exact, 30)) == pytest.approx(expected, rel=1e-12)
