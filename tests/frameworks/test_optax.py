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


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from symdyn.catalogue.named import lam  # noqa: E402
from symdyn.frameworks.preconditioner import freeze_preconditioner  # noqa: E402
from symdyn.testing import check_against_optax  # noqa: E402

unit = st.floats(0.05, 0.9)
small = st.floats(0.001, 0.01)  # adaptive steps: see tests/frameworks/test_torch.py


def test_adam_frozen_is_the_catalogue_adam_with_eps_outside_the_root():
    rule = from_optax(optax.adam, learning_rate=eta, b1=beta1, b2=beta2, eps=eps)
    frozen = freeze_preconditioner(rule)
    catalogue = sd.optimizers.adam(QUADRATIC, [x], eta, beta1, bias_correction=True)
    assert same_map(frozen.rule, catalogue)
    (denominator,) = frozen.preconditioners.values()
    nu = sp.Symbol("nu", real=True)
    # optax: ε outside the root, eps_root (0 by default) inside: √(ν/(1 − β₂ᵏ) + 0) + ε.
    assert sp.simplify(denominator - (sp.sqrt(nu / (1 - beta2**rule.counter)) + eps)) == 0
    root = sp.Symbol("epsilon_root", positive=True)
    inside = freeze_preconditioner(from_optax(optax.adam, learning_rate=eta, eps_root=root))
    assert root in next(iter(inside.preconditioners.values())).atoms(sp.Symbol)


def test_adam_step_bound_from_optax_code():
    """The late frozen bound 2p(1 + β₁)/(λ(1 − β₁)), its derivation opening with optax's P."""
    from symdyn.frameworks.preconditioner import frozen_step_bound

    rule = from_optax(optax.adam, learning_rate=eta, b1=beta1, b2=beta2, eps=eps)
    p = sp.Symbol("p_x", positive=True)
    bound = frozen_step_bound(rule, step=eta)
    assert sp.simplify(bound.upper - 2 * p * (1 + beta1) / (lam * (1 - beta1))) == 0
    nu = sp.Symbol("nu", real=True)
    placed = sp.Eq(p, sp.sqrt(nu / (1 - beta2**rule.counter)) + eps)
    assert bound.derivation.equations[0] == placed


@settings(max_examples=2, deadline=None)
@given(lr=unit, step=small, momentum=unit, b1=unit, b2=st.floats(0.5, 0.999))
def test_rules_run_like_optax(lr, step, momentum, b1, b2):
    cases = [
        (optax.sgd, {"learning_rate": lr, "momentum": momentum}),
        (optax.sgd, {"learning_rate": lr, "momentum": momentum, "nesterov": True}),
        (optax.adam, {"learning_rate": step, "b1": b1, "b2": b2}),
        (optax.rmsprop, {"learning_rate": step, "decay": b2}),
        (optax.adamw, {"learning_rate": step, "b1": b1, "b2": b2, "weight_decay": momentum}),
    ]
    symbols = {
        "learning_rate": eta,
        "momentum": beta,
        "b1": beta1,
        "b2": beta2,
        "decay": beta2,
        "weight_decay": beta,
    }
    for factory, numbers in cases:
        given_ = {n: symbols.get(n, v) for n, v in numbers.items()}
        rule = from_optax(factory, **given_)
        values = {symbols[n]: v for n, v in numbers.items() if n in symbols}
        values = {s: v for s, v in values.items() if s in rule.params}
        report = check_against_optax(rule, factory, numbers, {**values, lam: 1.5})
        assert report.passed


def test_a_wrong_rule_fails_against_optax():
    """EMA momentum is not optax's trace (Polyak's form is: v = −η·trace)."""
    rule = sd.optimizers.heavy_ball(QUADRATIC, [x], eta, beta, convention="ema")
    with pytest.raises(AssertionError):
        check_against_optax(
            rule,
            optax.sgd,
            {"learning_rate": 0.1, "momentum": 0.5},
            {eta: 0.1, beta: 0.5, lam: 1.5},
        )


def test_rmsprop_with_momentum_is_the_polyak_rmsprop():
    """optax.rmsprop(momentum=β) chains a trace after the step: t ← βt − ηP⁻¹g, x ← x + t,
    the catalogue's convention="polyak" (torch's RMSprop is convention="torch")."""
    alpha = sp.Symbol("alpha", positive=True)
    rule = from_optax(optax.rmsprop, learning_rate=eta, decay=alpha, momentum=beta)
    frozen = freeze_preconditioner(rule)
    polyak = sd.optimizers.rmsprop(QUADRATIC, [x], eta, momentum=beta, convention="polyak")
    assert same_map(frozen.rule, polyak)
    torch_form = sd.optimizers.rmsprop(QUADRATIC, [x], eta, momentum=beta, convention="torch")
    assert not same_map(frozen.rule, torch_form)
    # optax puts ε inside the root: P = √(ν + ε).
    nu = sp.Symbol("nu", real=True)
    (denominator,) = frozen.preconditioners.values()
    assert sp.simplify(denominator - sp.sqrt(nu + sp.Rational(1, 10**8))) == 0


def test_chains_of_factories():
    def chained(lr, b1):
        return optax.chain(optax.trace(decay=b1), optax.scale(-lr))

    rule = from_optax(chained, lr=eta, b1=beta)
    assert same_map(rule, from_optax(optax.sgd, learning_rate=eta, momentum=beta))
    ready = from_optax(optax.chain(optax.trace(decay=0.5), optax.scale(-0.1)))
    half = sd.optimizers.heavy_ball(
        QUADRATIC, [x], sp.Rational(1, 10), sp.Rational(1, 2), convention="torch"
    )
    assert same_map(ready, half)


def test_buffers_never_take_a_hyperparameter_name():
    mu = sp.Symbol("mu", positive=True)
    rule = from_optax(optax.adam, learning_rate=eta, b1=mu)
    assert mu in rule.params and sp.Symbol("mu_x", real=True) in rule.state


def test_several_parameters_run_like_optax():
    y = sp.Symbol("y", real=True)
    loss = x**2 + x * y + 2 * y**2
    rule = from_optax(optax.adam, loss=loss, params=[x, y], learning_rate=eta, b1=beta1)
    assert [s.name for s in rule.state] == ["x", "y", "mu_x", "mu_y", "nu_x", "nu_y"]
    hyper = {"learning_rate": 0.003, "b1": 0.8}
    assert check_against_optax(
        rule, optax.adam, hyper, {eta: 0.003, beta1: 0.8}, loss=loss, variables=[x, y]
    ).passed


def test_adagrad_guard_is_settled_by_its_positive_accumulator():
    """optax's Adagrad computes where(s + g² > 0, rsqrt(s + g² + ε), 0) from s₀ = 0.1: s
    never decreases, so the guard always passes and P = √(s + ε) (ε inside the root)."""
    rule = from_optax(optax.adagrad, learning_rate=eta, eps=eps)
    assert not rule.map.has(sp.Piecewise)
    frozen = freeze_preconditioner(rule)
    assert same_map(frozen.rule, sd.optimizers.adagrad(QUADRATIC, [x], eta))
    s = sp.Symbol("sum_of_squares", real=True)
    assert sp.simplify(next(iter(frozen.preconditioners.values())) - sp.sqrt(s + eps)) == 0
    guarded = from_optax(optax.adagrad, learning_rate=eta, initial_accumulator_value=0)
    assert guarded.map.has(sp.Piecewise)  # from s₀ = 0 the guard can fail
    hyper = {"learning_rate": 0.05}
    assert check_against_optax(
        rule.subs({eps: sp.Rational(1, 10**7)}), optax.adagrad, hyper, {eta: 0.05, lam: 1.5}
    ).passed


def test_adamw_frozen_is_the_torch_adamw_convention():
    """optax.adamw adds ωx to the step before scaling by −η: x − ηωx − η c_k P⁻¹m, the
    catalogue's adamw(convention="torch"), not Loshchilov & Hutter's unscaled decay."""
    omega = sp.Symbol("omega", positive=True)
    rule = from_optax(optax.adamw, learning_rate=eta, b1=beta1, weight_decay=omega)
    frozen = freeze_preconditioner(rule).rule
    torch_form = sd.optimizers.adamw(QUADRATIC, [x], eta, beta1, omega, bias_correction=True)
    assert same_map(frozen, torch_form)
    loshchilov = sd.optimizers.adamw(
        QUADRATIC, [x], eta, beta1, omega, bias_correction=True, convention="loshchilov"
    )
    assert not same_map(frozen, loshchilov)


def test_what_cannot_be_traced_is_a_framework_error():
    from symdyn.errors import FrameworkError

    with pytest.raises(FrameworkError, match=r"sm3.*scalar"):
        from_optax(optax.sm3, learning_rate=eta)  # optax's sm3 indexes axes a scalar lacks
    with pytest.raises(UnsupportedPrimitiveError, match="reduce_sum"):
        from_optax(optax.lamb, learning_rate=eta)  # a trust ratio of norms
