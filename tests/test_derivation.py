"""Derivations: structure, Markdown, and LaTeX compiled for real by pdflatex."""

import subprocess

import pytest
import sympy as sp

import symdyn as sd
from symdyn.catalogue.named import CATALOGUE, build
from symdyn.derivation import Derivation, TeX

x = sp.Symbol("x", real=True)
eta, lam = sp.symbols("eta lambda", positive=True)


def compile_latex(source, tmp_path, pdflatex):
    tex = tmp_path / "doc.tex"
    tex.write_text(source, encoding="utf-8")
    done = subprocess.run(
        [pdflatex, "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000


def test_steps_are_immutable_and_ordered():
    base = Derivation("t")
    longer = base.then("one", sp.Eq(x, 1)).then("two")
    assert base.steps == ()
    assert [s.text for s in longer.steps] == ["one", "two"]
    assert longer.equations == (sp.Eq(x, 1),)


def test_prose_is_escaped_but_inline_math_is_kept():
    body = Derivation("50% & more_").then("cost $x_1$ is 5% of #2").to_latex(standalone=False)
    assert r"50\% \& more\_" in body
    assert r"$x_1$ is 5\% of \#2" in body


def test_plain_strings_are_not_math():
    with pytest.raises(TypeError, match="TeX"):
        Derivation("t").then("a", "x + 1").to_latex()


def test_markdown_has_display_math_for_every_equation():
    result = sd.stability(sd.optimizers.gd(lam * x**2 / 2, [x], eta))
    markdown = result.derivation.to_markdown()
    assert markdown.startswith("## Linear stability of gradient descent")
    assert r"\eta \lambda < 2" in markdown
    assert markdown.count("$$") >= 10


def test_stability_derivation_reads_like_a_paper():
    result = sd.stability(
        sd.optimizers.heavy_ball(lam * x**2 / 2, [x], eta, sp.Symbol("beta", positive=True))
    )
    texts = " ".join(step.text for step in result.derivation.steps)
    for phrase in (
        "assignments",
        "update map",
        "Jacobian",
        "characteristic polynomial",
        "Schur–Cohn–Jury",
        "stability region",
        "spectral radius",
    ):
        assert phrase in texts


@pytest.mark.latex
@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_catalogue_derivation_compiles(name, tmp_path, pdflatex):
    rule = build(name)
    result = sd.stability(rule)
    derivation = result.derivation
    step = CATALOGUE[name].step
    if result.region is not sp.false:
        derivation = sd.step_bound(result, step).derivation
    compile_latex(derivation.to_latex(), tmp_path, pdflatex)


@pytest.mark.latex
def test_piecewise_step_bound_derivation_compiles(tmp_path, pdflatex):
    """Nesterov with β only known real: slopes of either sign, cases in the bound."""
    rule = sd.optimizers.nesterov(lam * x**2 / 2, [x], eta, sp.Symbol("beta", real=True))
    derivation = sd.step_bound(rule, eta).derivation
    assert "either sign" in " ".join(step.text for step in derivation.steps)
    compile_latex(derivation.to_latex(), tmp_path, pdflatex)


@pytest.mark.latex
def test_save_writes_every_format(tmp_path, pdflatex):
    derivation = Derivation("Saving").then("A relation", TeX(r"\forall x:\ x^2 \ge 0"))
    for suffix in (".tex", ".md", ".pdf"):
        path = derivation.save(tmp_path / f"out{suffix}")
        assert path.stat().st_size > 0
    assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF")


def test_save_refuses_unknown_suffix(tmp_path):
    with pytest.raises(sd.SymdynError, match=r"\.docx"):
        Derivation("t").save(tmp_path / "out.docx")


def test_missing_pdflatex_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(sd.LatexError, match="pdflatex is not installed"):
        Derivation("t").save(tmp_path / "out.pdf")


def _result_classes():
    """Every dataclass in symdyn with a ``derivation`` field (an analysis result)."""
    import dataclasses
    import importlib
    import pkgutil

    import symdyn

    found = set()
    for info in pkgutil.walk_packages(symdyn.__path__, "symdyn."):
        if info.name.startswith(("symdyn.frameworks", "symdyn.cli")):
            continue  # optional extras; the command has no results of its own
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and value.__module__ == info.name
                and dataclasses.is_dataclass(value)
                and "derivation" in {f.name for f in dataclasses.fields(value)}
            ):
                found.add(value)
    return found


def test_every_analysis_result_shows_itself_in_a_notebook():
    from symdyn.derivation import Presented

    classes = _result_classes()
    assert len(classes) >= 12
    assert sorted(c.__name__ for c in classes if not issubclass(c, Presented)) == []


def test_notebook_reprs_hold_the_derivation():
    """_repr_markdown_ is the derivation's text and equations; _repr_latex_ its equations."""
    import symdyn as sd
    from symdyn.derivation import latex

    x = sp.Symbol("x", real=True)
    eta, beta, lam, mu, big = sp.symbols("eta beta lambda mu L", positive=True)
    rule = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
    gd = sd.optimizers.gd(lam * x**2 / 2, [x], lr=eta)
    results = [
        sd.step_bound(rule, step=eta),
        sd.continuous_limit(gd, h=eta),
        sd.hamiltonian_form(rule),
        sd.worst_case_rate(gd, spectrum={lam: (mu, big)}),
    ]
    for result in results:
        markdown, math = result._repr_markdown_(), result._repr_latex_()
        assert markdown.startswith("## ") and "$$" in markdown, type(result)
        assert math.startswith("$$") and math.endswith("$$"), type(result)
        for equation in result.derivation.equations:
            shown = latex(equation)
            assert shown in math and shown in markdown, (type(result), equation)
