"""The shape of the package against a baseline revision, measured in one run (issue #16).

For this checkout and for ``--baseline`` (default: 05b696c, before the subpackages) it
prints the modules per package, the largest module and function, how many functions
exceed 80 lines (and function bodies, without their docstrings, over 60), how many calls
compute a determinant or characteristic polynomial, the private names imported across
package boundaries, and the import cycles between packages (a flat module counts as its
own package).

Run: ``.venv/bin/python benchmarks/structure.py [--baseline REV]``
"""

import argparse
import ast
import collections
import subprocess
import sys
import tarfile
import tempfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's tests

from tests.import_graph import home, imports, is_private, modules  # noqa: E402


def _tree(revision, into):
    """Extract ``symdyn/`` at ``revision`` into the folder ``into``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", revision, "symdyn"], capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return Path(into) / "symdyn"


def _cycles(edges):
    """Strongly connected components of more than one package (Tarjan)."""
    index, low, stack, on, found, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on.add(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in list(edges):
        if node not in index:
            visit(node)
    return found


_CHARPOLY = {"det", "charpoly", "berkowitz_det", "berkowitz_charpoly"}
"""Method calls that compute a characteristic polynomial or a determinant."""


def _body_lines(function):
    """Lines of a function without its docstring: the code a reader has to follow."""
    first = function.body[0]
    value = getattr(first, "value", None)
    docstring = isinstance(first, ast.Expr) and isinstance(value, ast.Constant)
    start = function.body[1].lineno if docstring and len(function.body) > 1 else function.lineno
    return function.end_lineno - start + 1


def measure(package):
    per_package = collections.Counter()
    modules_seen, functions, private, edges = [], [], 0, collections.defaultdict(set)
    bodies, charpolys = [], 0
    for path, module in modules(package):
        text = path.read_text()
        here = home(module)
        per_package["(top level)" if path.parent == package else here] += 1
        modules_seen.append((len(text.splitlines()), str(path.relative_to(package.parent))))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.append((node.end_lineno - node.lineno + 1, f"{module}.{node.name}"))
                bodies.append((_body_lines(node), f"{module}.{node.name}"))
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) in _CHARPOLY:
                charpolys += 1
        for imported, name, _ in imports(path, module):
            if (
                imported == "symdyn"
                and name
                and ((package / f"{name}.py").exists() or (package / name).is_dir())
            ):
                imported, name = f"symdyn.{name}", None  # from symdyn import plot
            if not imported.startswith("symdyn.") or module == "symdyn":
                continue
            target = home(imported)
            if target != here:
                edges[here].add(target)
                private += is_private(imported, name)
    functions.sort(reverse=True)
    bodies.sort(reverse=True)
    return {
        "packages": dict(sorted(per_package.items())),
        "largest module": max(modules_seen),
        "modules over 400 lines": sum(1 for lines, _ in modules_seen if lines > 400),
        "largest function": functions[0],
        "functions over 80 lines": sum(1 for lines, _ in functions if lines > 80),
        "largest function body": bodies[0],
        "bodies over 60 lines": sum(1 for lines, _ in bodies if lines > 60),
        "det/charpoly calls": charpolys,
        "private cross-imports": private,
        "cycles": _cycles(edges),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="05b696c")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        before = measure(_tree(args.baseline, folder))
        after = measure(ROOT / "symdyn")
    print(f"{'':26} {'baseline ' + args.baseline:>40}  {'this checkout':>40}")
    for key in before:
        if key == "packages":
            continue
        print(f"{key:26} {before[key]!s:>40}  {after[key]!s:>40}")
    packages = sorted(set(before["packages"]) | set(after["packages"]))
    print("modules per package:")
    for name in packages:
        counts = before["packages"].get(name, 0), after["packages"].get(name, 0)
        print(f"  {name:24} {counts[0]:>40}  {counts[1]:>40}")
    ratio = after["private cross-imports"] / max(before["private cross-imports"], 1)
    print(f"private cross-imports after / before: {ratio:.2f}")


if __name__ == "__main__":
    sys.exit(main())
