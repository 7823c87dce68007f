"""Tests of symdyn.rules.rulefile: TOML rule files → RuleSpec → UpdateRule, and their errors."""

import dataclasses
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

import symdyn as sd
from symdyn.catalogue.named import CATALOGUE
from symdyn.errors import ParseError
from symdyn.rules.rulefile import MAX_FILE_BYTES, MAX_UPDATES, RuleSpec, load_spec, parse_spec
from tests.parsing_fixtures import GD, assert_error_names_file_and_line, bad, write

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "rules"
EXAMPLE_FILES = sorted(EXAMPLES.glob("*.toml"))

x, v, m, y, b, u, w = sp.symbols("x v m y b u w", real=True)
x_prev, y_prev = sp.symbols("x_prev y_prev", real=True)
eta, lam, h, a, beta, p = sp.symbols("eta lambda h a beta p", positive=True)
b_spiral = sp.Symbol("b", positive=True)  # resnet-block; the state `b` is a momentum buffer
tau = sp.Symbol("tau", nonnegative=True)


# -- the examples ------------------------------------------------------------------


def test_there_is_an_example_for_each_rule_of_the_issue():
    names = {path.stem for path in EXAMPLE_FILES}
    assert set(CATALOGUE) <= names


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_each_example_parses(path):
    spec = load_spec(path)
    assert isinstance(spec, RuleSpec)
    assert spec.source == str(path)
    assert spec.updates and spec.state


# What each example's update map must be, written by hand from its comments.
EXPECTED_MAPS = {
    "gd": [x - eta * lam * x],
    "heavy-ball": [x + beta * v - eta * lam * x, beta * v - eta * lam * x],
    "nesterov": [
        x + beta * v - eta * lam * (x + beta * v),
        beta * v - eta * lam * (x + beta * v),
    ],
    "ema-momentum": [
        x - eta * (beta * m + (1 - beta) * lam * x),
        beta * m + (1 - beta) * lam * x,
    ],
    "extragradient": [x - eta * a * (y + eta * a * x), y + eta * a * (x - eta * a * y)],
    "resnet-block": [x + h * (-a * x - b_spiral * y), y + h * (b_spiral * x - a * y)],
    "heavy-ball-torch": [
        x - eta * (beta * b + (1 - tau) * lam * x),
        beta * b + (1 - tau) * lam * x,
    ],
    "nesterov-torch": [
        x - eta * (lam * x + beta * (beta * b + lam * x)),
        beta * b + lam * x,
    ],
    "nesterov-y": [
        x + beta * (x - x_prev) - eta * lam * (x + beta * (x - x_prev)),
        x,
    ],
    "adam-frozen": [
        x - eta * (beta * m + (1 - beta) * lam * x) / p,
        beta * m + (1 - beta) * lam * x,
    ],
    "rmsprop-frozen": [x + beta * u - eta * lam * x / p, beta * u - eta * lam * x / p],
    "gda": [x - eta * a * y, y + eta * a * x],
    "gda-alternating": [x - eta * a * y, y + eta * a * (x - eta * a * y)],
    "optimistic-gda": [
        x - 2 * eta * a * y + eta * a * y_prev,
        y + 2 * eta * a * x - eta * a * x_prev,
        x,
        y,
    ],
    "linear-rnn": [w * x],
}


@pytest.mark.parametrize("stem", sorted(EXPECTED_MAPS))
def test_example_maps(stem):
    from symdyn.rules.rulefile import load_rule

    rule = load_rule(EXAMPLES / f"{stem}.toml")
    assert sp.simplify(rule.map - sp.Matrix(EXPECTED_MAPS[stem])) == sp.zeros(len(rule.state), 1)


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_example_matches_the_catalogue(name):
    """Issue 10: every catalogue rule has examples/rules/<name>.toml, and the file gives the
    same stability region and map as the Python catalogue (state matched by position)."""
    from symdyn.rules.rulefile import load_rule

    path = EXAMPLES / f"{name}.toml"
    assert path.is_file(), f"no example file for the catalogue rule {name}"
    entry = CATALOGUE[name]
    catalogue = entry.factory()
    rule = load_rule(path)
    # The same symbols, with the same assumptions, as the catalogue factory.
    assert set(rule.params) == set(catalogue.params)
    extra = set(rule.free) - set(catalogue.free)  # heavy-ball's gamma is only for [scaling]
    assert set(catalogue.free) <= set(rule.free) and not extra & rule.map.free_symbols
    assert load_spec(path).step == entry.step
    assert len(rule.state) == len(catalogue.state)
    rename = dict(zip(catalogue.state, rule.state, strict=True))
    assert sp.simplify(rule.map - catalogue.map.xreplace(rename)) == sp.zeros(len(rule.state), 1)
    ours, theirs = sd.stability(rule).region, sd.stability(catalogue).region.xreplace(rename)
    assert ours == theirs or sp.simplify(sp.Equivalent(ours, theirs)) is sp.true


def test_the_documented_example_parses():
    docs = Path(__file__).resolve().parents[2] / "docs" / "rule-files.md"
    text = docs.read_text(encoding="utf-8").split("```toml\n")[1].split("```")[0]
    spec = parse_spec(text, "rule-files.md")
    assert spec.counter == sp.Symbol("k", integer=True, nonnegative=True)
    beta_real = sp.Symbol("beta", real=True)
    assert dict(spec.scaling) == {beta_real: 1 - sp.Symbol("gamma", positive=True) * sp.sqrt(eta)}


def test_heavy_ball_spec_fields():
    spec = load_spec(EXAMPLES / "heavy-ball.toml")
    gamma = sp.Symbol("gamma", positive=True)
    assert spec.name == "heavy ball"
    assert spec.state == (x, v)
    assert spec.params == (eta, beta)
    assert spec.free == (lam, gamma)
    assert spec.loss == lam * x**2 / 2
    assert [target.name for target, _ in spec.updates] == ["g", "v", "x"]
    assert spec.updates[0][1] == lam * x
    assert spec.scaling == ((beta, 1 - gamma * sp.sqrt(eta)),)
    assert spec.intervals == ((beta, (0, 1)),)
    assert (spec.step, spec.time_step) == (eta, sp.sqrt(eta))
    assert spec.simultaneous is False and spec.counter is None
    assert spec.lines == (17, 21, 25)


def test_counter_and_default_assumptions():
    spec = parse_spec(
        """\
name = "nesterov, time-varying"
state = ["x", "v"]
counter = "k"
[params]
eta = {}
[[update]]
target = "v"
expr = "(k - 1)/(k + 2)*v - eta*x"
[[update]]
target = "x"
expr = "x + v"
"""
    )
    k = sp.Symbol("k", integer=True, nonnegative=True)
    assert spec.counter == k
    assert spec.params == (sp.Symbol("eta", real=True),)
    assert spec.updates[0][1].has(k)


def test_name_defaults_to_the_file_stem(tmp_path):
    assert load_spec(write(tmp_path, GD, "my-gd.toml")).name == "my-gd"


def test_grad_forms():
    spec = parse_spec(
        GD.replace('"x - eta*grad(x)"', '"grad(x) + grad(loss, x) + grad(x**3, x, 2)"')
    )
    assert spec.updates[0][1] == 2 * lam * x + 12


# -- bad files ---------------------------------------------------------------------


BAD_FILES = [
    (
        "undeclared symbol",
        bad('"x - eta*grad(x)"', '"x - zeta*grad(x)"'),
        10,
        "undeclared name `zeta`",
    ),
    ("assign to a parameter", bad('target = "x"', 'target = "eta"'), 9, "declared as parameter"),
    (
        "assign to a free symbol",
        bad('target = "x"', 'target = "lambda"'),
        9,
        "declared as free symbol",
    ),
    ("expression syntax", bad('"x - eta*grad(x)"', '"x - * eta"'), 10, "invalid syntax"),
    (
        "__import__",
        bad('"x - eta*grad(x)"', "\"__import__('os')\""),
        10,
        "call to `__import__` is not allowed",
    ),
    ("attribute", bad('"x - eta*grad(x)"', '"x.__class__"'), 10, "attribute access"),
    ("unknown key", "nme = 'x'\n" + GD, 1, "unknown key `nme`"),
    (
        "unknown assumption",
        bad("positive = true }", "postive = true }"),
        3,
        "unknown key `postive`",
    ),
    (
        "assumption not a bool",
        bad("eta = { positive = true }", 'eta = { positive = "yes" }'),
        3,
        "true or false",
    ),
    (
        "bad interval",
        bad("eta = { positive = true }", "eta = { interval = [1, 0] }"),
        3,
        "low < high",
    ),
    ("reserved name", bad("eta = {", "sqrt = {"), 3, "reserved"),
    ("declared twice", bad("lambda = {", "x = {"), 5, "declared twice"),
    ("keyword name", bad("[free]\nlambda", "[free]\n'not an identifier'"), 5, "not an identifier"),
    ("empty state", bad('state = ["x"]', "state = []"), 1, "non-empty list"),
    ("no updates", GD.split("[[update]]")[0], 1, r"no \[\[update\]\]"),
    (
        "grad(x) without a loss",
        bad('[loss]\nexpr = "lambda * x**2 / 2"\n', ""),
        8,
        r"there is no \[loss\]",
    ),
    ("grad of an expression", bad('"x - eta*grad(x)"', '"grad(x + 1)"'), 10, "declared name"),
    ("temporary read first", bad('"x - eta*grad(x)"', '"x - g"'), 10, "undeclared name `g`"),
    ("huge exponent", bad('"x - eta*grad(x)"', '"9**9**9"'), 10, "at most 1000"),
    ("nan literal", bad('"x - eta*grad(x)"', '"x*1e999"'), 10, "not a finite number"),
    ("scaling an undeclared name", GD + '[scaling]\nbeta = "1 - eta"\n', 12, "can be scaled"),
    ("limit step not a parameter", GD + '[limit]\nstep = "x"\n', 12, "must name a parameter"),
    ("expr not a string", bad('"x - eta*grad(x)"', "3"), 10, "must be a string"),
    ("update without expr", bad('expr = "x - eta*grad(x)"', ""), 8, "has no expr"),
    (
        "too many updates",
        GD + '[[update]]\ntarget = "x"\nexpr = "x"\n' * MAX_UPDATES,
        11 + 3 * (MAX_UPDATES - 1),
        "at most",
    ),
    ("too long", GD + "#" * MAX_FILE_BYTES, 1, "larger than"),
]


@pytest.mark.parametrize(
    ("why", "text", "line", "match"), BAD_FILES, ids=[b[0] for b in BAD_FILES]
)
def test_bad_files_name_file_and_line(why, text, line, match, tmp_path):
    assert_error_names_file_and_line(tmp_path, text, line, match)


def test_nothing_in_a_file_is_executed(tmp_path):
    sentinel = tmp_path / "sentinel"
    hostile = [
        f"\"__import__('os').system('touch {sentinel}')\"",
        f"\"open('{sentinel}', 'w')\"",
        f"\"[open('{sentinel}', 'w') for _ in 'a']\"",
    ]
    for expr in hostile:
        with pytest.raises(ParseError):
            parse_spec(bad('"x - eta*grad(x)"', expr))
    assert not sentinel.exists()


@pytest.mark.parametrize(
    "text", ["a = " + "[" * 20000 + "]" * 20000, "a = " + "{b = " * 5000 + "1" + "}" * 5000]
)
def test_deeply_nested_toml(text):
    with pytest.raises(ParseError, match="nested too deeply"):
        parse_spec(text)


def test_file_that_is_not_utf8(tmp_path):
    path = tmp_path / "rule.toml"
    path.write_bytes(GD.encode() + b"\n# \xff\n")
    with pytest.raises(ParseError, match="UTF-8") as info:
        load_spec(path)
    assert info.value.line == 12


def test_missing_file(tmp_path):
    with pytest.raises(ParseError, match="cannot read") as info:
        load_spec(tmp_path / "missing.toml")
    assert info.value.line == 1


def test_rule_errors_become_parse_errors_at_the_update_line():
    from symdyn.rules.rulefile import rule_from_spec

    spec = parse_spec(GD)
    broken = dataclasses.replace(spec, updates=((eta, x),), lines=(9,))
    with pytest.raises(ParseError) as info:
        rule_from_spec(broken)
    assert (info.value.source, info.value.line) == ("<string>", 9)


# -- fuzzing -----------------------------------------------------------------------


def _spec_or_refusal(text):
    try:
        spec = parse_spec(text)
    except ParseError as error:
        assert error.line is not None
    else:
        assert isinstance(spec, RuleSpec)


@given(st.data())
def test_mutated_example_gives_a_spec_or_a_parse_error(data):
    text = EXAMPLE_FILES[data.draw(st.integers(0, len(EXAMPLE_FILES) - 1))].read_text()
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, min(len(text), start + 20)))
    insert = data.draw(st.text(alphabet="xv=\"'[]{}()*+-/.,#\n aeglmrtu_0123456789", max_size=10))
    _spec_or_refusal(text[:start] + insert + text[end:])


@given(
    st.one_of(
        st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode("utf-8", "replace"))
    )
)
def test_random_text_gives_a_spec_or_a_parse_error(text):
    _spec_or_refusal(text)
