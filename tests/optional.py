"""Optional tools in tests: skip locally when one is missing, fail when ``CI=true``.

Imported as ``tests.optional`` (pytest runs with ``--import-mode=importlib``), so a
test module, a fixture or a hypothesis test can call these directly.
"""

import importlib
import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require_module(name):
    """Import an optional module; skip locally when missing, fail when ``CI=true``."""
    try:
        return importlib.import_module(name)
    except ImportError:
        if IN_CI:
            pytest.fail(f"optional module {name!r} is required when CI=true")
        pytest.skip(f"optional module {name!r} is not installed", allow_module_level=True)


def require_program(name):
    """Path of an optional program; skip locally when missing, fail when ``CI=true``."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"program {name!r} is required when CI=true")
        pytest.skip(f"program {name!r} is not on PATH", allow_module_level=True)
    return path
