"""The trust boundary: no caller's string is ever evaluated, anywhere in the package.

Two independent checks. The first walks the package's source and refuses any call
to ``sympify``/``S``/``parse_expr``/``eval``/``exec`` on something other than a
literal, unless an allow-list entry says why it is safe. The second calls every
public entry point that takes a mapping, a symbol or an expression with strings
that would run code if evaluated, and checks that a SymdynError is raised and that
the code did not run (no file appeared).
"""

import ast
import io
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import symdyn as sd
from symdyn import testing
from symdyn.cli import main

PACKAGE = Path(sd.__file__).parent
EVALUATORS = {"sympify", "S", "parse_expr", "eval", "exec"}

# file (relative to the package) and function name -> why the call is safe
ALLOWED = {
    # The numba loop is generated from our own template: names a0, o0 ... and the
    # compiled map, never text from a rule or a caller.
    ("numeric/numba_backend.py", "exec"): "our own template",
}


def _calls(tree):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in EVALUATORS:
                yield name, node


def _literal(node):
    return all(isinstance(a, ast.Constant) for a in node.args) and not node.keywords


def test_no_evaluator_is_called_on_anything_but_a_literal():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        for name, node in _calls(ast.parse(path.read_text(), str(path))):
            if not _literal(node) and (relative, name) not in ALLOWED:
                found.append(f"{relative}:{node.lineno}: {name}(...)")
    assert found == [], "\n".join(found)


def test_the_source_walk_finds_a_planted_call():
    """The walk above must be able to fail: it sees sympify of a variable."""
    planted = ast.parse("import sympy as sp\ndef f(text):\n    return sp.sympify(text)\n")
    assert [(name, _literal(node)) for name, node in _calls(planted)] == [("sympify", False)]


# -- hostile strings at every public entry point ---------------------------------------

TEMPLATES = [
    "__import__('os').system('touch {path}')",
    "open('{path}', 'w').write('x')",
    "().__class__.__base__.__subclasses__()[0]('{path}')",
    "[open('{path}', 'w') for _ in 'a']",
    "(lambda: open('{path}', 'w'))()",
]

x, v, y = sp.symbols("x v y", real=True)
eta, beta, lam, a, gamma = sp.symbols("eta beta lambda a gamma", positive=True)
z = sp.Symbol("z")
GD = sd.optimizers.gd(lam * x**2 / 2, [x], lr=eta)
HB = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
RESULT = sd.stability(HB)
LIMIT = sd.continuous_limit(GD, h=eta)
QUAD = sd.quadratic("theta", n=sp.Symbol("n"))
GD_Q = sd.optimizers.gd(QUAD.loss, [QUAD.theta], lr=eta)


def _entry_points(p):
    """(name, call) for every public entry point, with the payload ``p`` in each role."""
    return [
        ("is_stable key", lambda: RESULT.is_stable({p: 1})),
        ("is_stable value", lambda: RESULT.is_stable({eta: p, beta: 0.5, lam: 1})),
        ("is_stable mapping", lambda: RESULT.is_stable(p)),
        ("subs key", lambda: HB.subs({p: 1})),
        ("subs value", lambda: HB.subs({eta: p})),
        ("jacobian at", lambda: HB.jacobian(at={p: 1})),
        ("UpdateRule state", lambda: sd.UpdateRule([p], [(x, x)], [eta])),
        ("UpdateRule value", lambda: sd.UpdateRule([x], [(x, p)], [eta])),
        ("grad loss", lambda: sd.grad(p, x)),
        ("grad wrt", lambda: sd.grad(x**2, p)),
        ("stability rule", lambda: sd.stability(p)),
        ("stability matrix", lambda: sd.stability([[p]])),
        ("stability at", lambda: sd.stability(HB, at={p: 0})),
        ("charpoly", lambda: sd.charpoly([[p]])),
        ("schur_conditions", lambda: sd.schur_conditions(p, z)),
        ("hurwitz_conditions", lambda: sd.hurwitz_conditions(p, z)),
        ("step_bound step", lambda: sd.step_bound(HB, p)),
        ("continuous_limit h", lambda: sd.continuous_limit(HB, h=p)),
        ("continuous_limit scaling key", lambda: sd.continuous_limit(HB, h=eta, scaling={p: 1})),
        ("continuous_limit scaling", lambda: sd.continuous_limit(HB, h=eta, scaling={beta: p})),
        ("continuous_limit time_step", lambda: sd.continuous_limit(HB, h=eta, time_step=p)),
        ("modified_equation h", lambda: sd.modified_equation(GD, h=p)),
        ("hamiltonian_form q", lambda: sd.hamiltonian_form(HB, q=[p], p=[v])),
        ("hamiltonian_form p", lambda: sd.hamiltonian_form(HB, q=[x], p=[p])),
        ("routh_hurwitz at", lambda: sd.routh_hurwitz(LIMIT, at={p: 0})),
        ("integrate init", lambda: sd.integrate(LIMIT, {p: 1.0}, (0, 1))),
        ("integrate values", lambda: sd.integrate(LIMIT, {x: 1.0}, (0, 1), values={p: 1})),
        ("convergence values", lambda: sd.convergence(LIMIT, {x: 1.0}, 1.0, 4, values={p: 1})),
        ("worst_case_rate spectrum", lambda: sd.worst_case_rate(GD_Q, (p, 1))),
        ("worst_case_rate params", lambda: sd.worst_case_rate(GD_Q, (1, 2), params={p: 1})),
        ("worst_case_rate init", lambda: sd.worst_case_rate(GD_Q, (1, 2), steps=2, init={p: 0})),
        ("tune params", lambda: sd.tune(GD_Q, (1, 2), params={p: 1})),
        ("stationary_covariance noise", lambda: sd.stationary_covariance(GD_Q, noise={p: 1})),
        ("stationary_covariance value", lambda: sd.stationary_covariance(GD_Q, noise=p)),
        ("sde_limit h", lambda: sd.sde_limit(GD, h=p, noise={sp.Symbol("g_x", real=True): 1})),
        ("modes eigenvalue", lambda: sd.modes(GD_Q, eigenvalue=p)),
        ("quadratic n", lambda: sd.quadratic("theta", n=p)),
        ("stability_map grid", lambda: sd.stability_map(GD, {p: [0.1]})),
        ("stability_map values", lambda: sd.stability_map(GD, {eta: [p]}, fixed={lam: 1})),
        ("stability_map fixed", lambda: sd.stability_map(GD, {eta: [0.1]}, fixed={p: 1})),
        ("simulate init", lambda: sd.simulate(GD, {p: 1.0}, {eta: 0.1, lam: 1.0}, steps=2)),
        ("simulate params", lambda: sd.simulate(GD, {x: 1.0}, {eta: p, lam: 1.0}, steps=2)),
        ("lambdify keyword", lambda: sd.lambdify(GD)(1.0, **{p: 1.0})),
        ("as_optimizer", lambda: sd.as_optimizer(GD, hyperparams={p: 1.0})),
        ("critical_points loss", lambda: sd.critical_points(p, [x])),
        ("critical_points vars", lambda: sd.critical_points(x**2, [p])),
        ("response_jacobian", lambda: sd.response_jacobian(p, params=[x], hyper=[a])),
        ("gauss_newton", lambda: sd.gauss_newton(p, {y: x}, [x])),
        ("gd loss", lambda: sd.optimizers.gd(p, [x], lr=eta)),
        ("gd lr", lambda: sd.optimizers.gd(x**2, [x], lr=p)),
        ("heavy_ball momentum", lambda: sd.optimizers.heavy_ball(x**2, [x], lr=eta, momentum=p)),
        ("nesterov momentum", lambda: sd.optimizers.nesterov(x**2, [x], lr=eta, momentum=p)),
        (
            "adam preconditioner",
            lambda: sd.optimizers.adam(x**2, [x], eta, beta, preconditioner=p),
        ),
        ("gda objective", lambda: sd.games.gda(p, [x], [y], eta)),
        ("gda lr", lambda: sd.games.gda(a * x * y, [x], [y], p)),
        ("resnet_block", lambda: sd.models.resnet_block([p], [x], eta)),
        ("linear_rnn", lambda: sd.models.linear_rnn([[p]], [x])),
        ("check_stability region", lambda: testing.check_stability(GD, region=p, examples=2)),
        ("check_step_bound bound", lambda: testing.check_step_bound(GD, eta, bound=p, examples=2)),
        ("check_jacobian params", lambda: testing.check_jacobian(GD, params={p: 1}, examples=2)),
    ]


@pytest.mark.parametrize("template", TEMPLATES)
def test_no_entry_point_evaluates_a_string(template, tmp_path):
    sentinel = tmp_path / "pwned"
    payload = template.format(path=sentinel)
    raw = []
    for name, call in _entry_points(payload):
        try:
            call()
        except sd.SymdynError:
            pass
        except Exception as error:
            raw.append(f"{name}: {type(error).__name__}: {error}")
        else:
            raw.append(f"{name}: accepted the string")
        if sentinel.exists():
            raw.append(f"{name}: RAN THE PAYLOAD")
            sentinel.unlink()
    assert raw == []


@pytest.mark.parametrize("template", TEMPLATES[:1])
def test_the_command_line_evaluates_no_string(template, tmp_path):
    sentinel = tmp_path / "pwned"
    payload = template.format(path=sentinel)
    for argv in (
        ["analyze", "gd", "--param", f"eta={payload}"],
        ["analyze", "gd", "--param", f"{payload}=1"],
        ["limit", "gd", "--param", f"eta={payload}"],
        ["analyze", payload],
    ):
        assert main(argv, out=io.StringIO()) == 2, argv
        assert not sentinel.exists()


def test_an_evaluating_entry_point_would_be_caught(tmp_path):
    """The check above can fail: sympy's own Matrix would run the payload."""
    sentinel = tmp_path / "pwned"
    sp.Matrix([[f"__import__('os').system('touch {sentinel}')"]])
    assert sentinel.exists()


def test_generated_code_never_holds_a_function_name_that_is_code(tmp_path):
    sentinel = tmp_path / "pwned"
    evil = sp.Function(f"__import__('os').system('touch {sentinel}') or abs")
    rule = sd.UpdateRule([x], [(x, evil(x))], [], free=[])
    with pytest.raises(sd.ExpressionTypeError, match="not an identifier"):
        sd.lambdify(rule)(1.0)
    assert not sentinel.exists()


def test_numeric_grids_refuse_text():
    with pytest.raises(sd.ArgumentError, match="not an array of real numbers"):
        sd.stability_map(GD, {eta: np.array(["0.1"])}, fixed={lam: 1.0})
