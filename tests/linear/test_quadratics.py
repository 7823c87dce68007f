"""Quadratic objectives of any dimension: the gradient uses the Hessian's symmetry, and bad
dimensions are refused."""

import pytest
import sympy as sp

import symdyn as sd

lam = sp.Symbol("lambda", positive=True)


def test_quadratic_gradient_uses_symmetry():
    q = sd.quadratic("theta", n=4)
    assert sd.grad(q.loss, q.theta) == q.H * q.theta - q.b
    assert q.gradient == q.H * q.theta - q.b
    assert q.theta.shape == (4, 1) and q.n == 4
    assert q.H.as_explicit()[2, 1] == q.H.as_explicit()[1, 2]
    assert q.eigenvalue == lam


@pytest.mark.parametrize("n", [0, -2, 1.5, "n", None])
def test_quadratic_refuses_bad_dimensions(n):
    with pytest.raises(sd.ShapeError):
        sd.quadratic("theta", n=n)
