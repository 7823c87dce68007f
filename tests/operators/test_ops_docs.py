"""The examples of docs/operators.md run (doctest on the page), torch and JAX included."""

import doctest
from pathlib import Path

from tests.optional import require_module

PAGE = Path(__file__).resolve().parents[2] / "docs" / "operators.md"


def test_the_operators_page_examples_run():
    require_module("torch")
    require_module("jax")
    result = doctest.testfile(
        str(PAGE), module_relative=False, optionflags=doctest.ELLIPSIS, verbose=False
    )
    assert result.attempted > 20 and result.failed == 0, result
