"""The Python examples of the guides run as a reader would run them.

Every ```python block of a page runs, in order, in one namespace, in a fresh directory
that sees the repository's ``examples/`` (an exception fails the test). A block right
after a ``% not run: <why>`` line (a MyST comment, invisible on the page) is skipped:
only the block that starts a four-process dask cluster carries one. After a page has
run, a few of the values its comments promise are checked in its namespace. A page
that needs an optional module or program skips locally without it (never under CI).
"""

import re
from pathlib import Path

import pytest
import sympy as sp

from tests.optional import require_module, require_program

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

NEEDS = {
    "autodiff.md": {"modules": ("graphviz",), "programs": ("dot",)},
    "frameworks.md": {"modules": ("torch", "jax", "optax")},
    "function-classes.md": {"modules": ("cvxpy", "clarabel", "PEPit")},
    "numerics.md": {"modules": ("dask",)},
    "testing.md": {"modules": ("hypothesis",)},
}

PROMISES = {
    "autodiff.md": lambda ns: (
        ns["ad"].grad(ns["ad"].grad(ns["cube"]))(2.0) == 12.0
        and Path("loss.svg").stat().st_size > 0
    ),
    "continuous.md": lambda ns: (
        abs(ns["res"].order - ns["res"].predicted) < 0.15 and ns["form"].contraction == ns["beta"]
    ),
    "function-classes.md": lambda ns: (
        abs(float(ns["best"].rate) - 0.7368) < 1e-3
        and ns["tuned"].certificate.verified
        and sp.Rational(4, 5) <= ns["tuned"].rate <= sp.Rational(4, 5) + 2e-6
        and list(ns["tuned"].params.values()) == [sp.Rational(8, 15), sp.Rational(8, 27)]
    ),
    "numerics.md": lambda ns: (
        abs(float(ns["big"].stable.mean().compute()) - 0.5) < 1e-3
        and ns["exact"].agreement(ns["sim"]) > 0.99
    ),
}

PAGES = sorted(
    page.name for page in DOCS.glob("*.md") if "```python" in page.read_text(encoding="utf-8")
)


def python_blocks(text):
    found = re.findall(r"(^% not run[^\n]*\n\n)?^```python\n(.*?)^```", text, re.S | re.M)
    return [block for not_run, block in found if not not_run]


def run(blocks, name):
    namespace = {"__name__": "__docs__"}
    for number, block in enumerate(blocks):
        exec(compile(block, f"{name} (python block {number})", "exec"), namespace)
    return namespace


def test_blocks_are_found_not_run_is_honoured_and_a_failing_block_fails():
    page = (
        "```python\nx = 1\n```\n% not run: why\n\n```python\nx = 2\n```\n"
        "```python\nraise ValueError('no')\n```\n"
    )
    blocks = python_blocks(page)
    assert blocks == ["x = 1\n", "raise ValueError('no')\n"]
    with pytest.raises(ValueError):
        run(blocks, "page")


def test_every_page_with_python_examples_is_covered():
    assert {"autodiff.md", "continuous.md", "frameworks.md", "numerics.md", "trust.md"} <= set(
        PAGES
    )


@pytest.mark.parametrize("page", PAGES)
def test_the_page_examples_run(page, tmp_path, monkeypatch):
    for module in NEEDS.get(page, {}).get("modules", ()):
        require_module(module)
    for program in NEEDS.get(page, {}).get("programs", ()):
        require_program(program)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    namespace = run(python_blocks((DOCS / page).read_text(encoding="utf-8")), page)
    assert PROMISES.get(page, lambda ns: True)(namespace), page
