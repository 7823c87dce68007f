"""Shared test configuration: hypothesis profiles and optional-tool handling.

Profiles: ``fast`` (default) keeps the suite quick; ``thorough`` draws many
more examples. Choose with ``HYPOTHESIS_PROFILE=thorough make test``.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

# Shared helpers that assert: pytest rewrites their asserts as it does in test modules.
pytest.register_assert_rewrite("tests.parsing_fixtures")

from tests.optional import require_program  # noqa: E402

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


@pytest.fixture
def pdflatex():
    """Path to pdflatex; the test skips locally without it and fails when ``CI=true``."""
    return require_program("pdflatex")
