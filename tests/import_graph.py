"""The imports of a package's modules, read from their syntax trees (never imported).

Shared by ``tests/test_structure.py`` (the house rules) and
``benchmarks/structure.py`` (the figures before and after the subpackages).
"""

import ast


def modules(package):
    """(path, dotted module name) of every module under the folder ``package``."""
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        yield path, ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def home(module):
    """The subpackage (or top-level module) a dotted module name belongs to."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def imports(path, module):
    """(imported module, imported name or None, line) for every import in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                yield base, alias.name, node.lineno


def is_private(imported, name):
    """Whether importing ``name`` from ``imported`` reaches a private module or name."""
    hidden_module = any(part.startswith("_") for part in imported.split(".")[1:])
    hidden_name = name is not None and name.startswith("_") and not name.endswith("__")
    return hidden_module or hidden_name
