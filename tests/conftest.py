"""Shared test configuration: hypothesis profiles and optional-tool handling.

Profiles: ``fast`` (default) keeps the suite quick; ``thorough`` draws many
more examples. Choose with ``HYPOTHESIS_PROFILE=thorough make test``.
"""

import importlib
import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "fast",
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))

pytest_plugins = ["pytester"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture
def pdflatex():
    """Path to pdflatex; the test skips locally without it and fails when ``CI=true``."""
    return require_program("pdflatex")


def require_module(name):
    """Import an optional module; skip locally when missing, fail when ``CI=true``."""
    try:
        return importlib.import_module(name)
    except ImportError:
        if IN_CI:
            pytest.fail(f"optional module {name!r} is required when CI=true")
        pytest.skip(f"optional module {name!r} is not installed")


def require_program(name):
    """Path of an optional program; skip locally when missing, fail when ``CI=true``."""
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"program {name!r} is required when CI=true")
        pytest.skip(f"program {name!r} is not on PATH")
    return path
