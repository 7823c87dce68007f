"""Framework optimizers by name on the command line (symdyn/frameworks/names.py)."""

import sys

import pytest
import sympy as sp

from symdyn.cli import main
from symdyn.errors import FrameworkError
from symdyn.frameworks.names import framework_rule, is_framework_name
from tests.optional import require_module

require_module("optax")
require_module("torch")


def test_names():
    assert is_framework_name("optax:adam") and is_framework_name("torch:SGD")
    assert not is_framework_name("heavy-ball") and not is_framework_name("optax:a.b")


def test_optax_adam_is_analysed_frozen(capsys):
    assert (
        main(["analyze", "optax:adam", "--hyper", "b1=beta1", "--hyper", "learning_rate=eta"]) == 0
    )
    out = capsys.readouterr().out
    assert "frozen preconditioner" in out and "step bound" in out


def test_torch_sgd_by_name_is_the_torch_heavy_ball():
    import symdyn as sd
    from symdyn.catalogue.named import QUADRATIC, x
    from tests.frameworks.maps import same_map

    rule, step = framework_rule("torch:SGD", ["lr=eta", "momentum=mu", "dampening=0"])
    eta, mu = sp.symbols("eta mu", positive=True)
    assert step == eta
    assert same_map(rule, sd.optimizers.heavy_ball(QUADRATIC, [x], eta, mu, convention="torch"))


def test_numbers_and_lists():
    rule, _ = framework_rule("torch:Adam", ["lr=eta", "betas=beta1,0.999"])
    assert sp.Symbol("beta1", positive=True) in rule.params


@pytest.mark.parametrize("bad", ["lr=1+1", "lr", "lr=__import__"])
def test_bad_values_are_refused(bad):
    with pytest.raises(FrameworkError):
        framework_rule("torch:SGD", ["lr=1", bad] if bad != "lr" else [bad])


@pytest.mark.parametrize(
    ("target", "module", "extra"),
    [("optax:adam", "optax", "symdyn[optax]"), ("torch:SGD", "torch", "symdyn[torch]")],
)
def test_missing_framework_exits_2_naming_the_extra(monkeypatch, capsys, target, module, extra):
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    assert main(["analyze", target, "--hyper", "lr=eta"]) == 2
    assert extra in capsys.readouterr().err
