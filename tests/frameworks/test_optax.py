"""Rules traced from optax equal the catalogue's conventions, exactly."""

import pytest
import sympy as sp

import symdyn as sd
from symdyn.catalogue.named import QUADRATIC, x
from symdyn.errors import UnsupportedPrimitiveError
from symdyn.frameworks.optax import from_optax, trace_optax
from tests.frameworks.maps import same_map
from tests.optional import require_module

optax = require_module("optax")

eta, beta, beta1, beta2, eps = sp.symbols("eta beta beta1 beta2 epsilon", positive=True)


def test_sgd_momentum_is_torch_heavy_ball_without_dampening():
    """optax.trace is t ← βt + g, x ← x − ηt: PyTorch's convention with τ = 0."""
    rule = from_optax(optax.sgd, learning_rate=eta, momentum=beta)
    hb = sd.optimizers.heavy_ball(QUADRATIC, [x], eta, beta, convention="torch")
    assert rule.state == (x, sp.Symbol("trace", real=True))
    assert same_map(rule, hb)
    assert not same_map(rule, sd.optimizers.heavy_ball(QUADRATIC, [x], eta, beta))


def test_sgd_nesterov_is_the_torch_nesterov_form():
    """optax.sgd(nesterov=True) implements b ← βb + g, x ← x − η(g + βb): the form
    catalogued as nesterov(convention="torch"), not Sutskever's look-ahead form."""
    rule = from_optax(optax.sgd, learning_rate=eta, momentum=beta, nesterov=True)
    torch_form = sd.optimizers.nesterov(QUADRATIC, [x], eta, beta, convention="torch")
    assert same_map(rule, torch_form)
    assert not same_map(rule, sd.optimizers.nesterov(QUADRATIC, [x], eta, beta))


def test_numbers_stay_exact_and_defaults_are_traced():
    """b2 = 0.999 (optax's default) enters as 999/1000, not the float 1 − 0.999."""
    traced = trace_optax(optax.adam, learning_rate=eta, b1=beta1)
    nu = sp.Symbol("nu", real=True)
    g = sp.Symbol("g_x", real=True)
    update = dict(traced.rule.updates)[nu]
    assert sp.expand(update - (sp.Rational(999, 1000) * nu + g**2 / 1000)) == 0
    assert traced.symbolic == ("learning_rate", "b1")
    assert traced.rule.counter is not None


def test_undefined_loss():
    f = sp.Function("f")
    rule = from_optax(optax.sgd, loss=f(x), params=[x], learning_rate=eta)
    assert sp.simplify(rule.map[0] - (x - eta * sp.Derivative(f(x), x))) == 0


def test_lion_is_refused_naming_sign():
    with pytest.raises(UnsupportedPrimitiveError, match="sign") as caught:
        from_optax(optax.lion, learning_rate=eta)
    assert caught.value.primitive == "sign"
    assert "optax.lion" in caught.value.call
