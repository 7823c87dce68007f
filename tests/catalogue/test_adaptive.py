"""Adaptive optimizers with frozen preconditioners: equations against torch.optim, regions
against the EMA-momentum region with curvature λ/p, and bad preconditioners refused."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given
from hypothesis import strategies as st

import symdyn as sd
from symdyn.catalogue.named import build
from symdyn.linear.modes import PositiveDiagonalMatrixSymbol
from tests.optional import require_module

eta, beta, lam, p, omega = sp.symbols("eta beta lambda p omega", positive=True)
x, x1, x2 = sp.symbols("x x1 x2", real=True)
k = sp.Symbol("k", integer=True, positive=True)
QUADRATIC = lam * x**2 / 2
A = np.array([[2.0, 0.6], [0.6, 0.8]])
LOSS = (A[0, 0] * x1**2 + 2 * A[0, 1] * x1 * x2 + A[1, 1] * x2**2) / 2


@pytest.fixture
def torch():
    """torch; skips locally without it, fails when CI=true."""
    return require_module("torch")


def same(left, right):
    return sp.simplify(left - right) == 0


def run_torch(torch, make, steps=4, seed=0):
    """(state before, state after, optimizer state after) for each of ``steps`` steps."""
    rng = np.random.default_rng(seed)
    param = torch.tensor(rng.normal(size=2), dtype=torch.float64, requires_grad=True)
    hessian = torch.tensor(A)
    opt = make([param])
    records = []
    for _ in range(steps):
        before = param.detach().clone().numpy()
        buffers = {k: v.clone().numpy() for k, v in opt.state[param].items() if v.ndim}
        opt.zero_grad()
        (param @ hessian @ param / 2).backward()
        opt.step()
        after = {k: v.clone().numpy() for k, v in opt.state[param].items()}
        records.append((before, buffers, param.detach().clone().numpy(), after))
    return records


def evaluate(rule, values):
    symbols = sorted(rule.free_symbols | set(rule.state), key=str)
    f = sp.lambdify(symbols, list(rule.next_state), "numpy")
    return np.array(f(*(values[s] for s in symbols)), dtype=float)


def test_adam_matches_torch(torch):
    b1, b2, lr, eps, wd = 0.8, 0.95, 0.05, 1e-3, 0.1
    rule = sd.optimizers.adam(
        LOSS,
        [x1, x2],
        eta,
        beta,
        weight_decay=omega,
        bias_correction=True,
        convention="torch",
        counter=k,
    )
    make = lambda ps: torch.optim.Adam(ps, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)  # noqa: E731
    for step, (before, buffers, after, state) in enumerate(run_torch(torch, make), start=1):
        m = buffers.get("exp_avg", np.zeros(2))
        v_hat = state["exp_avg_sq"] / (1 - b2**step)
        P = np.sqrt(v_hat) + eps
        values = {
            x1: before[0],
            x2: before[1],
            sp.Symbol("m_x1", real=True): m[0],
            sp.Symbol("m_x2", real=True): m[1],
            eta: lr,
            beta: b1,
            omega: wd,
            k: step,
            sp.Symbol("p_x1", positive=True): P[0],
            sp.Symbol("p_x2", positive=True): P[1],
        }
        expected = np.concatenate([after, state["exp_avg"]])
        assert np.allclose(evaluate(rule, values), expected, rtol=1e-12, atol=1e-14)


def test_adamw_matches_torch(torch):
    b1, b2, lr, eps, wd = 0.9, 0.99, 0.03, 1e-4, 0.2
    rule = sd.optimizers.adamw(LOSS, [x1, x2], eta, beta, omega, bias_correction=True, counter=k)
    make = lambda ps: torch.optim.AdamW(ps, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)  # noqa: E731
    for step, (before, buffers, after, state) in enumerate(run_torch(torch, make), start=1):
        m = buffers.get("exp_avg", np.zeros(2))
        P = np.sqrt(state["exp_avg_sq"] / (1 - b2**step)) + eps
        values = {
            x1: before[0],
            x2: before[1],
            sp.Symbol("m_x1", real=True): m[0],
            sp.Symbol("m_x2", real=True): m[1],
            eta: lr,
            beta: b1,
            omega: wd,
            k: step,
            sp.Symbol("p_x1", positive=True): P[0],
            sp.Symbol("p_x2", positive=True): P[1],
        }
        expected = np.concatenate([after, state["exp_avg"]])
        assert np.allclose(evaluate(rule, values), expected, rtol=1e-12, atol=1e-14)


def test_rmsprop_matches_torch(torch):
    alpha, mom, lr, eps, wd = 0.9, 0.7, 0.02, 1e-3, 0.05
    rule = sd.optimizers.rmsprop(LOSS, [x1, x2], eta, beta, weight_decay=omega, convention="torch")
    make = lambda ps: torch.optim.RMSprop(  # noqa: E731
        ps, lr=lr, alpha=alpha, eps=eps, momentum=mom, weight_decay=wd
    )
    for before, buffers, after, state in run_torch(torch, make):
        b = buffers.get("momentum_buffer", np.zeros(2))
        P = np.sqrt(state["square_avg"]) + eps
        values = {
            x1: before[0],
            x2: before[1],
            sp.Symbol("b_x1", real=True): b[0],
            sp.Symbol("b_x2", real=True): b[1],
            eta: lr,
            beta: mom,
            omega: wd,
            sp.Symbol("p_x1", positive=True): P[0],
            sp.Symbol("p_x2", positive=True): P[1],
        }
        expected = np.concatenate([after, state["momentum_buffer"]])
        assert np.allclose(evaluate(rule, values), expected, rtol=1e-12, atol=1e-14)


def test_adagrad_matches_torch(torch):
    lr, eps, wd = 0.1, 1e-6, 0.05
    rule = sd.optimizers.adagrad(LOSS, [x1, x2], eta, weight_decay=omega)
    make = lambda ps: torch.optim.Adagrad(ps, lr=lr, eps=eps, weight_decay=wd)  # noqa: E731
    for before, _, after, state in run_torch(torch, make):
        P = np.sqrt(state["sum"]) + eps
        values = {
            x1: before[0],
            x2: before[1],
            eta: lr,
            omega: wd,
            sp.Symbol("p_x1", positive=True): P[0],
            sp.Symbol("p_x2", positive=True): P[1],
        }
        assert np.allclose(evaluate(rule, values), after, rtol=1e-12, atol=1e-14)


def test_adam_region_is_ema_momentum_with_curvature_over_p():
    """Frozen Adam on λx²/2: β < 1 and ηλ(1 − β)/p < 2(1 + β)."""
    region = sd.stability(build("adam-frozen")).region
    bound = sd.step_bound(build("adam-frozen"), eta)
    assert same(bound.upper, 2 * p * (1 + beta) / ((1 - beta) * lam))
    assert (
        region
        == sd.stability(
            sd.optimizers.heavy_ball(lam / p * x**2 / 2, [x], eta, beta, convention="ema")
        ).region
    )
    rms = sd.step_bound(build("rmsprop-frozen"), eta)
    assert same(rms.upper, 2 * p * (1 + beta) / lam)


ADAM = sd.stability(build("adam-frozen"))


@given(st.floats(0.01, 3), st.floats(0.0, 0.99), st.floats(0.1, 5), st.floats(0.1, 3))
def test_adam_frozen_region_against_simulation_radius(e, b, curvature, pre):
    rule = ADAM.rule
    values = {eta: e, beta: b, lam: curvature, p: pre}
    jac = np.array(rule.jacobian().subs(values), dtype=float)
    radius = max(abs(np.linalg.eigvals(jac)))
    assume(abs(radius - 1) > 1e-6 and b > 0)
    exact = {s: sp.Rational(v) for s, v in values.items()}
    assert ADAM.is_stable(exact) == (radius < 1)


def test_bias_corrected_scalar_adam_is_time_varying():
    rule = sd.optimizers.adam(QUADRATIC, [x], eta, beta, bias_correction=True)
    assert rule.counter is not None and rule.is_time_varying
    with pytest.raises(sd.UndecidedError, match="counter"):
        sd.stability(rule)


@pytest.mark.parametrize(
    "preconditioner",
    [-1, 0, sp.Symbol("q", real=True), sp.Symbol("q", negative=True), "adaptive", [p, p, p]],
)
def test_bad_scalar_preconditioners_are_refused(preconditioner):
    with pytest.raises(sd.PreconditionerError):
        sd.optimizers.adam(QUADRATIC, [x], eta, beta, preconditioner=preconditioner)


def test_matrix_preconditioner_must_be_positive_diagonal():
    q = sd.quadratic("theta", n=3)
    with pytest.raises(sd.PreconditionerError, match="PositiveDiagonal"):
        sd.optimizers.rmsprop(q.loss, [q.theta], eta, preconditioner=sp.MatrixSymbol("P", 3, 3))
    P = PositiveDiagonalMatrixSymbol("D", 3)
    rule = sd.optimizers.adagrad(q.loss, [q.theta], eta, preconditioner=P)
    assert sd.modes(rule).matrix == sp.Inverse(P) * q.H


def test_conventions_and_weight_decay_are_checked():
    with pytest.raises(sd.RuleError, match="convention"):
        sd.optimizers.adam(QUADRATIC, [x], eta, beta, convention="keras")
    with pytest.raises(sd.RuleError, match="weight decay"):
        sd.optimizers.adam(QUADRATIC, [x], eta, beta, weight_decay=omega)
    with pytest.raises(sd.RuleError, match="convention"):
        sd.optimizers.rmsprop(QUADRATIC, [x], eta, beta, convention="keras")
    with pytest.raises(sd.RuleError, match="convention"):
        sd.optimizers.adamw(QUADRATIC, [x], eta, beta, omega, convention="keras")


def test_adamw_conventions_differ_only_in_how_decay_is_scaled():
    torch_form = sd.optimizers.adamw(QUADRATIC, [x], eta, beta, omega)
    paper = sd.optimizers.adamw(QUADRATIC, [x], eta, beta, omega, convention="loshchilov")
    assert same(torch_form.map[0] - paper.map[0], (1 - eta) * omega * x)
