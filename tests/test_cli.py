"""The symdyn command: list, analyze (text, JSON, files) and exit codes."""

import io
import json
import re
from pathlib import Path

import jsonschema
import numpy as np
import pytest
import sympy as sp

from symdyn.catalogue.named import CATALOGUE
from symdyn.cli import main


def run(*argv):
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_list_names_every_catalogue_rule():
    code, text = run("list")
    assert code == 0
    for name in CATALOGUE:
        assert name in text


def test_analyze_prints_region_and_bound():
    code, text = run("analyze", "heavy-ball", "--format", "plain")
    assert code == 0
    assert "region:      (beta < 1) & (eta*lambda < 2 + 2*beta)" in text
    assert "0 < eta < 2*(1 + beta)/lambda   if beta < 1" in text


def _line(text, label):
    return next(line for line in text.splitlines() if line.startswith(label))[13:]


def test_charpoly_is_printed_in_descending_powers_of_z():
    """The printed polynomial reads back as det(zI − J) of the rule's own Jacobian."""
    code, text = run("analyze", "nesterov", "--format", "plain")
    assert code == 0
    printed = _line(text, "charpoly:")
    powers = [int(k or 1) for k in re.findall(r"z(?:\*\*(\d+))?", printed)]
    assert powers == sorted(powers, reverse=True) == [2, 1]
    from symdyn.catalogue.named import build

    rule = build("nesterov")
    z = sp.Symbol("z")
    names = {s.name: s for s in rule.free_symbols}
    names |= {"z": z, "lam": names["lambda"]}  # "lambda" is a Python keyword
    read = sp.sympify(printed.replace("lambda", "lam"), locals=names)
    jacobian = rule.jacobian()
    assert sp.expand(read - (z * sp.eye(2) - jacobian).det()) == 0


def test_unicode_is_the_default_and_latex_is_offered():
    unicode = run("analyze", "heavy-ball")[1]
    assert "η⋅λ" in unicode and "β < 1" in unicode and "eta" not in unicode
    latex = run("analyze", "heavy-ball", "--format", "latex")[1]
    assert r"z^{2} - \left(1 + \beta - \eta \lambda\right) z + \beta" in latex


def test_region_is_stated_in_its_simplest_form():
    """Optimistic GDA: a²η² < 1/3 for positive a, η is aη < 1/√3."""
    code, text = run("analyze", "optimistic-gda", "--format", "plain")
    assert code == 0 and _line(text, "region:") == "a*eta < sqrt(3)/3"


def test_qhm_step_bound_requires_only_what_is_not_implied(tmp_path):
    qhm = tmp_path / "qhm.toml"
    qhm.write_text(
        'name = "QHM"\nstate = ["x", "m"]\n'
        "[params]\neta = { positive = true }\nbeta = { positive = true }\n"
        "nu = { positive = true }\n[free]\nlambda = { positive = true }\n"
        '[[update]]\ntarget = "g"\nexpr = "lambda*x"\n'
        '[[update]]\ntarget = "m"\nexpr = "beta*m + (1 - beta)*g"\n'
        '[[update]]\ntarget = "x"\nexpr = "x - eta*((1 - nu)*g + nu*m)"\n'
    )
    code, text = run("analyze", str(qhm), "--format", "plain")
    assert code == 0, text
    assert _line(text, "step bound:").endswith("   if beta < 1")


def test_a_factor_of_degree_four_prints_its_largest_root_modulus():
    """Optimistic GDA at a = 1, η = 1/3: the decimal is max |eig J| computed by NumPy."""
    code, text = run("analyze", "optimistic-gda", "--param", "a=1", "--param", "eta=1/3")
    assert code == 0
    rate = next(line for line in text.splitlines() if "largest |root| of" in line)
    from symdyn.catalogue.named import build

    rule = build("optimistic-gda")
    given = {"a": 1, "eta": sp.Rational(1, 3)}
    values = {s: given[s.name] for s in rule.free_symbols if s.name in given}
    jacobian = np.array(rule.jacobian().subs(values).evalf(), dtype=float)
    radius = max(abs(np.linalg.eigvals(jacobian)))
    assert abs(float(rate.split("≈")[1]) - radius) < 1e-5


def test_a_refused_param_is_named_as_written(capsys):
    assert run("analyze", "heavy-ball", "--param", "eta=-0.1")[0] == 2
    assert "eta = -0.1 breaks its declared assumption" in capsys.readouterr().err


def test_params_print_as_written():
    code, text = run("analyze", "heavy-ball", "--param", "beta=0.1", "--format", "plain")
    assert code == 0
    assert "at:          beta = 0.1" in text and "eta*lambda < 11/5" in text
    assert "3602879701896397" not in text


def test_progress_shows_on_a_terminal_only(tmp_path):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen, out = Terminal(), io.StringIO()
    assert main(["check", "gd", "--examples", "3"], out=out, err=screen) == 0
    assert "check 1/" in screen.getvalue() and "examples drawn so far" in screen.getvalue()
    assert "\x1b" not in out.getvalue()
    quiet = Terminal()
    assert main(["analyze", "gd", "--json"], out=io.StringIO(), err=quiet) == 0
    assert quiet.getvalue() == ""
    piped = io.StringIO()
    assert main(["check", "gd", "--examples", "3"], out=io.StringIO(), err=piped) == 0
    assert piped.getvalue() == ""


def test_a_long_phase_is_announced_after_its_delay():
    import time

    from symdyn.terminal.status import Status

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    status = Status(screen, delay=0.05)
    with status.phase("step bound"):
        time.sleep(0.3)
    with status.phase("quick"):
        pass
    assert "step bound …" in screen.getvalue() and "quick" not in screen.getvalue()
    with status.ticking("check 1/1: jacobian", every=0.05):
        time.sleep(0.3)
    assert re.search(r"check 1/1: jacobian, \d+ s", screen.getvalue())


def test_analyze_json_is_parseable_and_exact():
    code, text = run("analyze", "nesterov", "--json")
    assert code == 0
    data = json.loads(text)
    # "lambda" is a Python keyword, so rename it before sympy reads the text.
    lam, beta = sp.symbols("lam beta")
    upper = sp.sympify(
        data["step_bound"]["upper"].replace("lambda", "lam"), locals={"lam": lam, "beta": beta}
    )
    assert sp.simplify(upper - 2 * (1 + beta) / ((1 + 2 * beta) * lam)) == 0
    assert data["state"] == ["x", "v_x"]


def test_param_substitutes_exact_values():
    code, text = run(
        "analyze", "heavy-ball", "--param", "beta=1/2", "--param", "lambda=2", "--format", "plain"
    )
    assert code == 0
    assert "eta < 3/2" in text


def test_files_are_written(tmp_path):
    tex, md = tmp_path / "hb.tex", tmp_path / "hb.md"
    code, _ = run("analyze", "gd", "--latex", str(tex), "--markdown", str(md))
    assert code == 0
    assert r"\documentclass" in tex.read_text()
    assert "## Linear stability" in md.read_text()


def test_bad_input_exits_2_with_a_message(capsys):
    assert run("analyze", "no-such-rule")[0] == 2
    assert "known rules" in capsys.readouterr().err
    assert run("analyze", "gd", "--param", "mu=1")[0] == 2
    assert "has no symbol 'mu'" in capsys.readouterr().err
    assert run("analyze", "gd", "--param", "eta=__import__('os')")[0] == 2
    assert "must be a number" in capsys.readouterr().err
    assert run("frobnicate")[0] == 2


def test_analyze_accepts_a_rule_file():
    code, text = run("analyze", "examples/rules/heavy-ball.toml", "--format", "plain")
    assert code == 0
    assert "0 < eta < 2*(1 + beta)/lambda" in text


def test_bad_rule_file_exits_2_naming_file_and_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nstate = ["x"]\n[[update]]\ntarget = "x"\nexpr = "x.__class__"\n')
    assert run("analyze", str(bad))[0] == 2
    err = capsys.readouterr().err
    assert "bad.toml:5" in err


def test_check_runs_every_applicable_check():
    code, text = run("check", "heavy-ball", "--examples", "10")
    assert code == 0
    for name in (
        "jacobian",
        "fixed points",
        "derivation",
        "stability",
        "step bound",
        "continuous limit",
        "hamiltonian",
    ):
        assert re.search(rf"^{name} +\d+ +pass", text, re.MULTILINE), (name, text)


def test_check_exits_1_with_the_counterexample(monkeypatch):
    from symdyn import cli, testing

    def wrong(rule, step, examples, scaling=None, time_step=None):
        region = sp.Symbol("eta", positive=True) * sp.Symbol("lambda", positive=True) < 3
        return [("stability", lambda: testing.check_stability(rule, region=region, examples=200))]

    monkeypatch.setattr(cli, "applicable_checks", wrong)
    code, text = run("check", "gd")
    assert code == 1
    assert "FAIL" in text and "spectral radius" in text


def test_check_accepts_a_rule_file():
    code, text = run("check", "examples/rules/gd.toml", "--examples", "10")
    assert code == 0 and "pass" in text


def test_check_runs_the_limit_a_rule_file_scales():
    """heavy-ball.toml scales β = 1 − γ√η with time step √η: the damped oscillator."""
    code, text = run("check", "examples/rules/heavy-ball.toml", "--examples", "10")
    assert code == 0 and re.search(r"^continuous limit +\d+ +pass", text, re.MULTILINE)


def test_check_says_why_a_rule_has_no_limit_to_check():
    code, text = run("check", "linear-rnn", "--examples", "10")
    assert code == 0 and re.search(r"^continuous limit +0 +skipped +linear RNN", text, re.M)


SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "schema"


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_analyze_json_matches_its_documented_schema(name):
    schema = json.loads((SCHEMAS / "analyze.schema.json").read_text())
    code, text = run("analyze", name, "--json")
    assert code == 0
    jsonschema.validate(json.loads(text), schema)


@pytest.mark.parametrize("target", ["gd", "heavy-ball", "examples/rules/heavy-ball.toml"])
def test_limit_prints_the_ode_and_matches_its_schema(target):
    schema = json.loads((SCHEMAS / "limit.schema.json").read_text())
    code, text = run("limit", target, "--json")
    assert code == 0
    data = json.loads(text)
    jsonschema.validate(data, schema)
    assert data["ode"]


def test_limit_of_the_heavy_ball_file_is_the_damped_oscillator():
    code, text = run("limit", "examples/rules/heavy-ball.toml", "--format", "plain")
    assert code == 0
    assert "limit ODE:   X'' + gamma*X' + lambda*X = 0" in text  # as a paper writes it


def test_limit_without_a_step_exits_2(tmp_path, capsys):
    rule = tmp_path / "no-step.toml"
    rule.write_text(
        'name = "x"\nstate = ["x"]\n[params]\neta = { positive = true }\n'
        '[[update]]\ntarget = "x"\nexpr = "x - eta*x"\n'
    )
    assert run("limit", str(rule))[0] == 2
    assert "no step symbol" in capsys.readouterr().err
