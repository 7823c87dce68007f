"""The house rules of DESIGN.md: subpackages follow the data flow, privacy ends at a
subpackage's boundary, and the autodiff engine needs nothing but NumPy."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.import_graph import home, imports, is_private, modules

PACKAGE = Path(__file__).resolve().parents[1] / "symdyn"
ROOT = PACKAGE.parent


def private_crossings(package):
    """Every import of a private name or module from another subpackage, as text."""
    found = []
    for path, module in modules(package):
        for imported, name, line in imports(path, module):
            if not imported.startswith(package.name + ".") and imported != package.name:
                continue
            if is_private(imported, name) and home(imported) != home(module):
                found.append(f"{path.relative_to(package.parent)}:{line}: {imported} {name or ''}")
    return found


def test_no_private_name_crosses_a_subpackage():
    assert private_crossings(PACKAGE) == []


def test_the_privacy_check_finds_a_crossing(tmp_path):
    package = tmp_path / "house"
    (package / "linear").mkdir(parents=True)
    (package / "limits").mkdir()
    for init in (package, package / "linear", package / "limits"):
        (init / "__init__.py").write_text("")
    (package / "linear" / "_kernel.py").write_text("def charpoly(): pass\n")
    (package / "linear" / "stability.py").write_text("from house.linear._kernel import charpoly\n")
    (package / "limits" / "sde.py").write_text(
        "from house.linear import _kernel\nfrom house.linear.stability import _cache\n"
    )
    assert private_crossings(package) == [
        "house/limits/sde.py:1: house.linear _kernel",
        "house/limits/sde.py:2: house.linear.stability _cache",
    ]


def test_autodiff_imports_only_numpy():
    """The oracle shares no code with what it checks: NumPy, the standard library and
    the error classes (every exception lives in symdyn.errors)."""
    allowed = set(sys.stdlib_module_names) | {"numpy"}
    strays = [
        f"{path.name}:{line}: {imported}"
        for path, module in modules(PACKAGE / "autodiff")
        for imported, _, line in imports(path, f"symdyn.{module}")
        if not imported.startswith(("symdyn.autodiff", "symdyn.errors"))
        and imported.split(".")[0] not in allowed
    ]
    assert strays == []


def _lint_imports(config, cwd):
    linter = Path(sys.executable).with_name("lint-imports")
    if not linter.exists():
        pytest.fail("import-linter is a test dependency: pip install -e '.[test]'")
    return subprocess.run(
        [str(linter), "--config", str(config), "--no-cache"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_subpackages_follow_the_data_flow():
    """import-linter's layers contract in pyproject.toml: no import goes up, none is a cycle."""
    done = _lint_imports(ROOT / "pyproject.toml", ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_layers_contract_catches_an_import_upwards(tmp_path):
    package = tmp_path / "house"
    for sub in ("rules", "linear"):
        (package / sub).mkdir(parents=True)
        (package / sub / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "linear" / "stability.py").write_text("import house.rules.rule\n")
    (package / "rules" / "rule.py").write_text("import house.linear.stability\n")  # a cycle
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_package = "house"\n'
        '[[tool.importlinter.contracts]]\nname = "flow"\ntype = "layers"\n'
        'containers = ["house"]\nlayers = ["linear", "rules"]\n'
    )
    done = _lint_imports(config, tmp_path)
    assert done.returncode != 0 and "house.rules.rule -> house.linear.stability" in done.stdout
