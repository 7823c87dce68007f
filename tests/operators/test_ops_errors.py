"""Bad input to the operators gets a SymdynError subclass that says what is wrong."""

import numpy as np
import pytest
import sympy as sp

import symdyn as sd
import symdyn.autodiff as ad
from symdyn import operators as ops
from symdyn.errors import ShapeError, SymdynError, UndecidedError


def step(h, x, theta):
    return ad.tanh(h * theta[0] + x)


def model(**overrides):
    kwargs = dict(step=step, theta=[0.5], h0=np.zeros((2, 3)), inputs=np.ones((2, 4, 3)))
    kwargs.update(overrides)
    return ops.Recurrence(**kwargs)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"h0": np.zeros(3)}, "h0 must have shape"),
        ({"inputs": np.ones((5, 4, 3))}, "B = 2"),
        ({"theta": np.ones((2, 2))}, "flat vector"),
        ({"inputs": None}, "steps"),
        ({"inputs": np.ones((2, 4, 3)), "steps": 5}, "steps=5"),
        ({"step": lambda h, x, th: ad.sum(h) * th[0]}, "returned shape"),
        ({"theta": ["a"]}, "numeric"),
    ],
)
def test_model_shapes(overrides, message):
    with pytest.raises(ShapeError, match=message):
        model(**overrides)


def test_vector_of_the_wrong_length():
    with pytest.raises(ShapeError, match=r"shape \(2, 4, 3\)"):
        ops.nto(model()) @ np.ones(7)


def test_model_without_parameters():
    frozen = model(step=lambda h, x, theta: ad.tanh(h + x), theta=np.zeros(0))
    for build in (ops.nto, ops.K, ops.ntk):
        with pytest.raises(ops.NoParametersError, match="no parameters"):
            build(frozen)
    ops.P(frozen)  # the propagator needs no parameters
    with pytest.raises(ops.NoParametersError):
        ops.sharpness(lambda w: ad.sum(w), np.zeros(0))


def test_k_larger_than_the_dimension():
    Phi = ops.nto(model())
    with pytest.raises(ops.SpectrumSizeError, match="between 1 and 24"):
        ops.svd(Phi, k=25)
    with pytest.raises(ops.SpectrumSizeError):
        ops.svd(Phi, k=0)
    with pytest.raises(ops.SpectrumSizeError, match="dimension 3"):
        ops.sharpness(lambda w: ad.sum(w**2), np.ones(3), k=4)
    with pytest.raises(ops.SpectrumSizeError, match="dimension 2"):
        ops.lyapunov_spectrum(lambda h: h, np.ones(2), steps=3, k=3)


def test_other_bad_input():
    with pytest.raises(ShapeError):
        ops.average(ops.nto(model()), over=("depth",))
    with pytest.raises(ShapeError):
        ops.lyapunov_spectrum(lambda h: ad.sum(h), np.ones(2), steps=3)
    with pytest.raises(ShapeError):
        ops.gradient_norms(lambda h: h, np.ones((2, 2)), steps=3)
    with pytest.raises(ops.OperatorError):
        ops.effective_rank([0.0, 0.0])
    with pytest.raises(ops.OperatorError):
        ops.effective_rank([1.0], method="nuclear")
    with pytest.raises(ShapeError):
        ops.nto("not a model")
    x = sp.Symbol("x", real=True)
    cubic = sd.UpdateRule([x], [(x, x**3)], [])
    with pytest.raises(UndecidedError):
        ops.gradient_through_time(cubic, 3)


def test_every_error_is_a_symdyn_error():
    for cls in (ops.OperatorError, ops.NoParametersError, ops.SpectrumSizeError):
        assert issubclass(cls, SymdynError)
