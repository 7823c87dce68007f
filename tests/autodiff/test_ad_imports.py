"""The autodiff engine depends on NumPy and the standard library only."""

import ast
import sys
from pathlib import Path

import symdyn.autodiff

PACKAGE = Path(symdyn.autodiff.__file__).parent
ALLOWED = {"numpy", "symdyn.errors"}


def _imported_modules(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            yield node.module


def test_engine_imports_only_numpy_the_standard_library_and_symdyn_errors():
    modules = sorted(PACKAGE.glob("*.py"))
    assert len(modules) >= 5
    for path in modules:
        for name in _imported_modules(path):
            top = name.split(".")[0]
            assert name in ALLOWED or top == "numpy" or top in sys.stdlib_module_names, (
                f"{path.name} imports {name}"
            )


def test_the_import_check_would_catch_a_third_party_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import sympy\nfrom scipy import linalg\nfrom . import core\n")
    assert list(_imported_modules(bad)) == ["sympy", "scipy"]
