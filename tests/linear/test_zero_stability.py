"""The root condition of a rule at h = 0: against autodiff Jacobians, and where limits hold."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn as sd
from symdyn.linear.zero_stability import zero_stability
from symdyn.testing.oracle import numeric_rule

x, y = sp.symbols("x y", real=True)
eta, gamma, lam = sp.symbols("eta gamma lambda", positive=True)
beta = sp.Symbol("beta", real=True)
LOSS = lam * x**2 / 2


def fast_roots_inside(rule, values, slow):
    """From the autodiff Jacobian at h = 0: are the roots other than the slow 1s inside?"""
    jacobian = numeric_rule(rule).jacobian(np.zeros(len(rule.state)), {**values, eta: 0.0})
    roots = sorted(np.linalg.eigvals(jacobian), key=lambda r: abs(r - 1))
    return max(abs(r) for r in roots[slow:]) < 1


@pytest.mark.parametrize("make", [sd.optimizers.heavy_ball, sd.optimizers.nesterov])
@given(
    momentum=st.floats(-3, 3).filter(lambda b: abs(abs(b) - 1) > 1e-9), curvature=st.floats(0.1, 5)
)
def test_root_condition_matches_autodiff_eigenvalues(make, momentum, curvature):
    rule = make(LOSS, [x], eta, beta)
    roots = zero_stability(rule, eta, {}, slow=1)
    values = {beta: momentum, lam: curvature}
    holds = all(bool(c.subs(values)) for c in roots.conditions)
    assert holds == fast_roots_inside(rule, values, slow=1)


def test_momentum_at_fixed_beta_needs_it_below_one_and_the_limit_says_so():
    limit = sd.continuous_limit(sd.optimizers.heavy_ball(LOSS, [x], eta, beta), h=eta)
    assert limit.requires == (beta > -1, beta < 1)
    text = " ".join(step.text for step in limit.derivation.steps)
    assert "Dahlquist" in text


def test_scaled_momentum_and_gradient_flow_need_nothing():
    scaled = sd.continuous_limit(
        sd.optimizers.heavy_ball(LOSS, [x], eta, sp.Symbol("b", positive=True)),
        h=eta,
        scaling={sp.Symbol("b", positive=True): 1 - gamma * sp.sqrt(eta)},
        time_step=sp.sqrt(eta),
    )
    assert scaled.requires == ()
    assert sd.continuous_limit(sd.optimizers.gd(LOSS, [x], eta), h=eta).requires == ()


def test_fast_modes_at_zero_need_nothing_either():
    """Optimistic GDA's extra roots are at 0: always inside."""
    roots = zero_stability(sd.games.optimistic_gda(x * y, [x], [y], eta), eta, {}, slow=2)
    assert roots.fast.degree() == 2 and roots.conditions == ()


def test_state_dependent_linearisation_is_undecided():
    rule = sd.UpdateRule([x], [(x, x**2 - eta * x)], [eta])
    assert not zero_stability(rule, eta, {}, slow=1).applies


@pytest.mark.latex
def test_root_condition_derivation_compiles(tmp_path, pdflatex):
    limit = sd.continuous_limit(sd.optimizers.heavy_ball(LOSS, [x], eta, beta), h=eta)
    pdf = limit.derivation.to_pdf(tmp_path / "limit.pdf")  # LatexError if pdflatex fails
    assert pdf.read_bytes()[:5] == b"%PDF-"
