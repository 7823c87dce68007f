"""Exact LDLᵀ definiteness against NumPy's eigenvalues on random rational matrices."""

import numpy as np
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from symdyn.classes.exact import semidefinite


@st.composite
def symmetric(draw):
    """A random symmetric integer matrix, often singular: B Bᵀ − s I with small entries."""
    size = draw(st.integers(1, 4))
    rank = draw(st.integers(1, size))
    entries = st.integers(-3, 3)
    factor = sp.Matrix(size, rank, lambda i, j: draw(entries))
    shift = draw(st.sampled_from([0, 0, 1, 2]))
    return factor * factor.T - shift * sp.eye(size)


@given(symmetric())
def test_semidefinite_agrees_with_the_eigenvalues(matrix):
    eigenvalues = np.linalg.eigvalsh(np.array(matrix.tolist(), dtype=float))
    exact = [sp.nsimplify(v) for v in matrix.eigenvals(multiple=True)]
    smallest = min(sp.re(sp.N(v, 50)) for v in exact)
    if abs(smallest) > 1e-30:
        assert semidefinite(matrix).holds == (smallest > 0)
        assert semidefinite(matrix, strict=True).holds == (smallest > 0)
    else:  # exactly singular: semidefinite iff no negative eigenvalue, never definite
        assert semidefinite(matrix).holds == bool(eigenvalues.min() > -1e-9)
        assert not semidefinite(matrix, strict=True).holds


def test_a_zero_pivot_with_a_nonzero_row_is_indefinite():
    check = semidefinite(sp.Matrix([[0, 1], [1, 5]]))
    assert not check.holds and "not zero" in check.reason


def test_tiny_negative_parts_are_seen():
    eps = sp.Rational(1, 10**40)
    assert semidefinite(sp.Matrix([[1, 1], [1, 1]])).holds
    assert not semidefinite(sp.Matrix([[1, 1], [1, 1 - eps]])).holds
