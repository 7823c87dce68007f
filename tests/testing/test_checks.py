"""symdyn.testing: the checks pass on true claims and catch wrong ones with a counterexample."""

import dataclasses
import io

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn as sd
from symdyn import testing
from symdyn.catalogue.named import CATALOGUE
from symdyn.cli import main
from symdyn.derivation import Derivation
from symdyn.testing import strategies
from tests.optional import require_module

x, y = sp.symbols("x y", real=True)
eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
GD = sd.optimizers.gd(lam * x**2 / 2, [x], eta)
HB = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], eta, beta)


# -- mutation tests: each wrong claim is caught ------------------------------------------


def test_wrong_region_is_caught():
    with pytest.raises(testing.CheckFailure, match=r"region says stable .* spectral radius"):
        testing.check_stability(GD, region=eta * lam < 3, examples=200)


def test_wrong_jacobian_is_caught():
    wrong = sp.Matrix([[1 - 2 * eta * lam]])
    with pytest.raises(testing.CheckFailure, match="autodiff gives"):
        testing.check_jacobian(GD, jacobian=wrong)


def test_wrong_step_bound_is_caught():
    with pytest.raises(testing.CheckFailure, match="below the bound"):
        testing.check_step_bound(GD, eta, bound=3 / lam)
    with pytest.raises(testing.CheckFailure, match="above the bound"):
        testing.check_step_bound(HB, eta, bound=(1 + beta) / lam)


def test_a_step_bound_at_the_edge_of_its_requires_is_undecided_not_failed():
    """Heavy ball's bound 2(1 + β)/λ requires β < 1; at β = 1 − 2⁻⁵² the radius is 1 to
    within rounding on both sides of the bound, so no draw decides (hypothesis once drew
    such a β and the check reported a counterexample to a true bound)."""
    with pytest.raises(sd.SymdynError, match="could not draw a single decisive example"):
        testing.check_step_bound(HB, eta, params={beta: 1 - 2.0**-52}, examples=20)
    assert testing.check_step_bound(HB, eta, params={beta: 0.999}, examples=20).passed


def test_wrong_fixed_point_is_caught():
    rule = sd.UpdateRule([x], [(x, x - eta * (x**2 - 1))], [eta])
    with pytest.raises(testing.CheckFailure, match="maps to"):
        testing.check_fixed_points(rule, points=[{x: 2}])


def test_wrong_derivation_is_caught():
    wrong = Derivation("wrong").then("A false identity", sp.Eq((x + eta) ** 2, x**2 + eta**2))
    result = sd.stability(GD)
    broken = dataclasses.replace(result, derivation=wrong)
    with pytest.raises(testing.CheckFailure, match="fails at"):
        testing.check_derivation(broken)


def test_failure_is_an_assertion_error_with_a_report():
    with pytest.raises(AssertionError) as caught:
        testing.check_stability(GD, region=eta * lam < 3, examples=200)
    report = caught.value.report
    assert not report.passed and report.examples >= 1 and "eta" in report.counterexample


# -- true claims pass, for every catalogue rule ---------------------------------------------


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_catalogue_rule_passes_symdyn_check(name):
    """`symdyn check NAME` runs every applicable check and exits 0."""
    out = io.StringIO()
    assert main(["check", name, "--examples", "10"], out=out) == 0, out.getvalue()
    table = out.getvalue()
    for check in ("jacobian", "fixed points", "derivation"):
        assert f"{check}" in table
    assert "FAIL" not in table


def test_nonlinear_rule_stability_at_a_fixed_point():
    rule = sd.UpdateRule([x], [(x, x - eta * (x**3 - x))], [eta])
    result = sd.stability(rule, at={x: 1})
    assert testing.check_stability(result, examples=15).passed
    assert testing.check_fixed_points(rule).passed


# -- strategies ------------------------------------------------------------------------------

NESTEROV = sd.stability(sd.optimizers.nesterov(lam * x**2 / 2, [x], eta, beta))


@given(strategies.hyperparameters(NESTEROV, stable=True))
def test_stable_draws_are_inside_by_numeric_radius(values):
    from symdyn.testing.oracle import numeric_rule

    assert numeric_rule(NESTEROV.rule).spectral_radius(values) < 1


@given(strategies.hyperparameters(NESTEROV, stable=False))
def test_unstable_draws_are_outside_by_numeric_radius(values):
    from symdyn.testing.oracle import numeric_rule

    assert numeric_rule(NESTEROV.rule).spectral_radius(values) > 1


@given(strategies.spd_matrices(4, spectrum=(0.5, 3.0)))
def test_spd_matrices_have_the_requested_spectrum(H):
    assert np.allclose(H, H.T)
    eigenvalues = np.linalg.eigvalsh(H)
    assert eigenvalues.min() >= 0.5 - 1e-9 and eigenvalues.max() <= 3.0 + 1e-9


@given(strategies.rules(), st.lists(st.floats(-2, 2), min_size=2, max_size=2), st.floats(0.01, 2))
def test_fuzzed_rules_jacobians_agree_with_autodiff(rule, point, step):
    """The engine's symbolic Jacobian against autodiff, on random polynomial rules."""
    from symdyn.testing.oracle import numeric_rule

    state = point[: len(rule.state)]
    values = {sp.Symbol("eta", positive=True): step}
    symbolic = np.array(
        rule.jacobian(at={**dict(zip(rule.state, state, strict=True)), **values}), dtype=float
    )
    numeric = numeric_rule(rule).jacobian(state, values)
    np.testing.assert_allclose(symbolic, numeric, rtol=1e-9, atol=1e-9)


def test_pytest_plugin_loads_the_profile_and_offers_the_fixture(pytester):
    pytester.makepyfile(
        """
        from hypothesis import settings

        def test_inside(symdyn_check):
            assert settings.default.max_examples == 500
            assert hasattr(symdyn_check, "check_stability")
        """
    )
    # A subprocess keeps the loaded profile from leaking into this session.
    result = pytester.runpytest_subprocess(
        "-p",
        "symdyn.testing.pytest_plugin",
        "--symdyn-profile",
        "thorough",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=1)


# -- PyTorch conventions ------------------------------------------------------------------


def torch_or_skip():
    return require_module("torch")


def test_torch_sgd_momentum_with_dampening_matches():
    torch = torch_or_skip()
    tau = sp.Symbol("tau", nonnegative=True)
    rule = sd.optimizers.heavy_ball(
        lam * x**2 / 2 + x**4 / 4, [x], eta, beta, convention="torch", dampening=tau
    )
    # torch applies no dampening on its first step; with tau = 0 every step agrees.
    report = testing.check_against_torch(
        rule,
        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.0),
        loss=lam * x**2 / 2 + x**4 / 4,
        variables=[x],
        params={eta: 0.05, beta: 0.9, lam: 2.0, tau: 0.0},
        steps=60,
    )
    assert report.passed


def test_torch_nesterov_matches():
    torch = torch_or_skip()
    loss = lam * x**2 / 2 + x * y + y**2
    rule = sd.optimizers.nesterov(loss, [x, y], eta, beta, convention="torch")
    report = testing.check_against_torch(
        rule,
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8, nesterov=True),
        loss=loss,
        variables=[x, y],
        params={eta: 0.1, beta: 0.8, lam: 3.0},
        steps=60,
    )
    assert report.passed


def test_polyak_form_is_not_torch_form_with_dampening():
    torch = torch_or_skip()
    tau = sp.Symbol("tau", nonnegative=True)
    rule = sd.optimizers.heavy_ball(
        lam * x**2 / 2, [x], eta, beta, convention="torch", dampening=tau
    )
    with pytest.raises(testing.CheckFailure, match="step 1"):
        testing.check_against_torch(
            rule,
            lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5),
            loss=lam * x**2 / 2,
            variables=[x],
            params={eta: 0.1, beta: 0.9, lam: 1.0, tau: 0.5},
            steps=5,
        )
