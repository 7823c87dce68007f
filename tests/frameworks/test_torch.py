"""Rules traced from torch.optim equal the catalogue's conventions and run like torch."""

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import symdyn as sd
from symdyn.catalogue.named import QUADRATIC, lam, x
from symdyn.frameworks.preconditioner import freeze_preconditioner
from symdyn.testing import check_against_torch
from tests.frameworks.maps import same_map
from tests.optional import require_module

torch = require_module("torch")

eta, mu, beta1, beta2, eps, omega, alpha = sp.symbols(
    "eta mu beta1 beta2 epsilon omega alpha", positive=True
)
tau = sp.Symbol("tau", nonnegative=True)
unit = st.floats(0.05, 0.9)
# Adaptive steps are drawn small: where an adaptive method reaches its equilibrium it
# divides tiny numbers by tiny numbers, and rounding (torch's lerp against β m + (1 − β) g)
# is amplified past 1e-12; away from it the agreement is to the last digits.
small = st.floats(0.001, 0.01)


def test_sgd_momentum_dampening_is_the_torch_heavy_ball():
    rule = sd.from_torch(torch.optim.SGD, lr=eta, momentum=mu, dampening=tau)
    catalogue = sd.optimizers.heavy_ball(
        QUADRATIC, [x], eta, mu, convention="torch", dampening=tau
    )
    assert rule.state[1].name == "momentum_buffer"
    assert same_map(rule, catalogue)
    assert not same_map(rule, sd.optimizers.heavy_ball(QUADRATIC, [x], eta, mu, convention="ema"))


def test_sgd_nesterov_is_the_torch_nesterov_rule():
    rule = sd.from_torch(torch.optim.SGD, lr=eta, momentum=mu, nesterov=True)
    assert same_map(rule, sd.optimizers.nesterov(QUADRATIC, [x], eta, mu, convention="torch"))
    assert "symbolic: lr, momentum" in rule.name


@pytest.mark.parametrize("decay", [0, omega])
def test_adam_frozen_is_the_catalogue_adam(decay):
    rule = sd.from_torch(
        torch.optim.Adam, lr=eta, betas=(beta1, beta2), eps=eps, weight_decay=decay
    )
    frozen = freeze_preconditioner(rule)
    catalogue = sd.optimizers.adam(
        QUADRATIC, [x], eta, beta1, weight_decay=decay, bias_correction=True, convention="torch"
    )
    assert same_map(frozen.rule, catalogue)
    (denominator,) = frozen.preconditioners.values()
    v = sp.Symbol("exp_avg_sq", real=True)
    k = rule.counter
    # torch: ε outside the root, √v/√(1 − β₂ᵏ) + ε.
    assert sp.simplify(denominator - (sp.sqrt(v) / sp.sqrt(1 - beta2**k) + eps)) == 0


def test_adamw_frozen_is_the_catalogue_adamw():
    rule = sd.from_torch(torch.optim.AdamW, lr=eta, betas=(beta1, beta2), weight_decay=omega)
    frozen = freeze_preconditioner(rule)
    catalogue = sd.optimizers.adamw(QUADRATIC, [x], eta, beta1, omega, bias_correction=True)
    assert same_map(frozen.rule, catalogue)


def test_adam_step_bound_from_torch_code():
    """The late frozen step bound is the catalogue's 2p(1 + β₁)/(λ(1 − β₁))."""
    from symdyn.frameworks.preconditioner import frozen_step_bound

    rule = sd.from_torch(torch.optim.Adam, lr=eta, betas=(beta1, beta2), eps=eps)
    bound = frozen_step_bound(rule, step=eta)
    p = sp.Symbol("p_x", positive=True)
    assert sp.simplify(bound.upper - 2 * p * (1 + beta1) / (lam * (1 - beta1))) == 0
    v = sp.Symbol("exp_avg_sq", real=True)
    placed = sp.Eq(p, sp.sqrt(v) / sp.sqrt(1 - beta2**rule.counter) + eps)
    assert bound.derivation.equations[0] == placed  # torch: ε added after the root


def _run(rule, factory, values, from_torch_state=False):
    return check_against_torch(
        rule,
        factory,
        QUADRATIC,
        [x],
        values,
        steps=100,
        rtol=1e-12,
        from_torch_state=from_torch_state,
    )


def _run_adaptive(rule, factory, values):
    """Adaptive steps divide small numbers near the minimum, so free-running float64 codes
    drift apart in their last bits; each of the 100 steps is compared from torch's state."""
    return _run(rule, factory, values, from_torch_state=True)


@settings(max_examples=4, deadline=None)
@given(lr=unit, momentum=unit, dampening=st.floats(0, 0.9), curvature=st.floats(0.1, 2))
def test_sgd_runs_like_torch(lr, momentum, dampening, curvature):
    rule = sd.from_torch(torch.optim.SGD, lr=eta, momentum=mu, dampening=tau)
    values = {eta: lr, mu: momentum, tau: dampening, lam: curvature}

    def factory(p):
        return torch.optim.SGD(p, lr=lr, momentum=momentum, dampening=dampening, foreach=False)

    assert _run(rule, factory, values).passed


@settings(max_examples=4, deadline=None)
@given(lr=unit, b1=unit, b2=st.floats(0.5, 0.999), decay=st.floats(0.01, 0.5))
def test_adam_and_adamw_run_like_torch(lr, b1, b2, decay):
    values = {eta: lr, beta1: b1, beta2: b2, omega: decay, lam: 1.5}
    for optimizer in (torch.optim.Adam, torch.optim.AdamW):
        rule = sd.from_torch(optimizer, lr=eta, betas=(beta1, beta2), weight_decay=omega)

        def factory(p, optimizer=optimizer):
            return optimizer(p, lr=lr, betas=(b1, b2), weight_decay=decay, foreach=False)

        assert _run_adaptive(rule, factory, values).passed


@settings(max_examples=4, deadline=None)
@given(lr=unit, a=st.floats(0.5, 0.99), momentum=unit)
def test_rmsprop_and_adagrad_run_like_torch(lr, a, momentum):
    rule = sd.from_torch(torch.optim.RMSprop, lr=eta, alpha=alpha, momentum=mu)
    values = {eta: lr, alpha: a, mu: momentum, lam: 1.0}

    def rmsprop(p):
        return torch.optim.RMSprop(p, lr=lr, alpha=a, momentum=momentum, foreach=False)

    assert _run_adaptive(rule, rmsprop, values).passed
    rule = sd.from_torch(torch.optim.Adagrad, lr=eta)
    assert _run_adaptive(
        rule, lambda p: torch.optim.Adagrad(p, lr=lr, foreach=False), {eta: lr, lam: 1.0}
    ).passed


def test_a_wrong_adaptive_rule_fails_step_by_step_from_torchs_state():
    adam = sd.from_torch(torch.optim.Adam, lr=eta, betas=(beta1, beta2), weight_decay=omega)
    values = {eta: 0.1, beta1: 0.9, beta2: 0.99, omega: 0.1, lam: 1.5}
    with pytest.raises(AssertionError):  # AdamW decays the weights apart from the gradient
        _run_adaptive(
            adam,
            lambda p: torch.optim.AdamW(p, lr=0.1, betas=(0.9, 0.99), weight_decay=0.1),
            values,
        )


def test_a_negative_symbolic_hyperparameter_is_refused_as_torch_refuses_a_negative_number():
    with pytest.raises(sd.FrameworkError, match="Invalid learning rate"):
        sd.from_torch(torch.optim.SGD, lr=-eta)
    with pytest.raises(sd.FrameworkError, match="Invalid momentum"):
        sd.from_torch(torch.optim.SGD, lr=eta, momentum=-mu)


def test_a_wrong_rule_fails_against_torch():
    rule = sd.optimizers.heavy_ball(QUADRATIC, [x], eta, mu, convention="ema")
    with pytest.raises(AssertionError):
        _run(
            rule,
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5, foreach=False),
            {eta: 0.1, mu: 0.5, lam: 1.0},
        )


def test_rmsprop_momentum_and_adagrad_frozen_are_the_catalogue_rules():
    rule = sd.from_torch(torch.optim.RMSprop, lr=eta, alpha=alpha, momentum=mu)
    catalogue = sd.optimizers.rmsprop(QUADRATIC, [x], eta, momentum=mu, convention="torch")
    assert same_map(freeze_preconditioner(rule).rule, catalogue)
    adagrad = freeze_preconditioner(sd.from_torch(torch.optim.Adagrad, lr=eta, weight_decay=omega))
    assert same_map(adagrad.rule, sd.optimizers.adagrad(QUADRATIC, [x], eta, weight_decay=omega))


def test_rprop_is_refused_naming_sign():
    from symdyn.errors import UnsupportedPrimitiveError

    with pytest.raises(UnsupportedPrimitiveError, match="sign") as caught:
        sd.from_torch(torch.optim.Rprop, lr=eta)
    assert caught.value.primitive == "sign" and "torch.optim.Rprop" in caught.value.call


def test_an_unknown_sign_is_refused_where_torch_branches():
    from symdyn.errors import UndecidedError

    with pytest.raises(UndecidedError, match="m > 0"):
        sd.from_torch(torch.optim.RMSprop, lr=eta, momentum=sp.Symbol("m"))


def test_adamax_writes_through_out_and_radam_names_its_branch_on_the_counter():
    rule = sd.from_torch(torch.optim.Adamax, lr=eta, betas=(beta1, beta2), eps=eps)
    assert [s.name for s in rule.state] == ["x", "exp_avg", "exp_inf"]
    assert _run(
        rule,
        lambda p: torch.optim.Adamax(p, lr=0.01, betas=(0.8, 0.9), eps=1e-8, foreach=False),
        {eta: 0.01, beta1: 0.8, beta2: 0.9, eps: sp.Rational(1, 10**8), lam: 1.0},
    ).passed
    from symdyn.errors import UndecidedError

    with pytest.raises(UndecidedError, match=r"RAdam.*k") as caught:
        sd.from_torch(torch.optim.RAdam, lr=eta)
    assert "999/1000" in str(caught.value)  # the default β₂, not a placeholder


def test_the_frozen_step_bound_derivation_compiles(pdflatex, tmp_path):
    from symdyn.frameworks.preconditioner import frozen_step_bound

    rule = sd.from_torch(torch.optim.Adam, lr=eta, betas=(beta1, beta2), eps=eps)
    path = tmp_path / "adam.pdf"
    frozen_step_bound(rule, step=eta).derivation.save(str(path))
    assert path.read_bytes()[:5] == b"%PDF-"
