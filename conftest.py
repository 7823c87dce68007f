"""Doctests of modules built on an optional extra run only where the extra is installed.

Locally, a module that imports torch, JAX/optax, cvxpy or PEPit at its top or in its
examples (or whose examples call into one, listed in ``INDIRECT``) is not collected for
doctests when that library is missing; its tests in ``tests/`` skip the same way, through
``tests/optional.py``. Under ``CI=true`` every module is collected, so a missing extra
fails instead of skipping.
"""

import importlib.util
import os
import re
from pathlib import Path

OPTIONAL = ("torch", "jax", "optax", "cvxpy", "clarabel", "PEPit")
INDIRECT = {
    "classes/certificates.py": ("cvxpy", "clarabel"),  # sd.certify_rate solves an SDP
    "classes/design.py": ("cvxpy", "clarabel"),  # sd.tune over a class certifies its result
    "frameworks/names.py": ("torch",),  # framework_rule("torch:SGD", ...)
}
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PACKAGE = Path(__file__).resolve().parent / "symdyn"


def needs(path):
    """The optional libraries the doctests of the module at ``path`` need."""
    text = path.read_text(encoding="utf-8")
    line = r"^(\s*>>> )?(import ([^\n#]*[ ,])?{}\b|from {}\b)"
    found = {m for m in OPTIONAL if re.search(line.format(m, m), text, re.M)}
    return found | set(INDIRECT.get(path.relative_to(PACKAGE).as_posix(), ()))


def pytest_ignore_collect(collection_path, config):
    path = Path(collection_path)
    if IN_CI or path.suffix != ".py" or PACKAGE not in path.parents:
        return None
    return True if any(importlib.util.find_spec(m) is None for m in needs(path)) else None
