"""Every bad input is a SymdynError that names where: the cases that were raw tracebacks."""

import io

import pytest
import sympy as sp

import symdyn as sd
from symdyn.cli import main

x, y = sp.symbols("x y", real=True)
eta, beta, lam, a = sp.symbols("eta beta lambda a", positive=True)
HB = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)


@pytest.mark.parametrize("bad", ["x", None, 3, object()])
def test_stability_of_something_that_is_not_a_rule(bad):
    with pytest.raises(sd.RuleError, match="UpdateRule or a square sympy Matrix"):
        sd.stability(bad)


def test_a_bare_symbol_as_the_state_says_to_use_a_list():
    with pytest.raises(sd.RuleError, match=r"in a list, e\.g\. \[x\]"):
        sd.UpdateRule(x, [(x, x - eta * x)], [eta])


def test_players_may_be_single_symbols():
    rule = sd.games.extragradient(a * x * y, x, y, lr=eta)
    assert rule.state[:2] == (x, y)
    with pytest.raises(sd.RuleError, match="player x"):
        sd.games.gda(a * x * y, "x", [y], eta)


def test_update_errors_carry_the_update_number():
    with pytest.raises(sd.UnknownSymbolError) as info:
        sd.UpdateRule([x], [(y, 2 * x), (x, x - eta * sp.Symbol("etaa"))], [eta], free=[])
    assert info.value.update_index == 2
    assert info.value.symbol == sp.Symbol("etaa")


def test_inferred_free_symbols_are_shown_so_a_typo_is_visible():
    typo = sd.UpdateRule([x], [(x, x - sp.Symbol("etaa", positive=True) * eta * x)], [eta])
    assert "free:   etaa (inferred" in repr(typo)
    declared = sd.UpdateRule([x], [(x, x - eta * lam * x)], [eta], free=[lam])
    assert "inferred" not in repr(declared)
    opening = [step.text for step in sd.stability(typo).derivation.steps[:3]]
    assert any(
        "inferred" in text and r"$\eta\eta$" not in text and "etaa" in text for text in opening
    ), opening
    assert not any("inferred" in step.text for step in sd.stability(declared).derivation.steps)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["check", "gd", "--examples", "-1"], "at least 1 example"),
        (["analyze", "gd", "--param", "eta=0.1", "--param", "eta=0.2"], "given twice"),
        (["analyze", "gd", "--param", "eta=1e999999999"], "too large"),
        (["analyze", "gd", "--param", "eta=-5"], "breaks its declared assumption"),
        (["analyze", "gd", "--param", "eta=nan"], "must be a number"),
        (["analyze", "gd", "--timeout", "0"], "positive, finite number of seconds"),
    ],
)
def test_bad_command_lines_exit_2_with_a_usage_message(argv, message, capsys):
    assert main(argv, out=io.StringIO()) == 2
    assert message in capsys.readouterr().err


def test_a_boundary_param_on_the_command_line_is_a_new_rule(capsys):
    out = io.StringIO()
    assert main(["analyze", "heavy-ball", "--param", "beta=0", "--format", "plain"], out=out) == 0
    assert "region:      eta*lambda < 2" in out.getvalue()
