"""A pytest plugin: ``-p symdyn.testing.pytest_plugin`` (or ``pytest_plugins = [...]``).

It registers the hypothesis profiles ``fast`` and ``thorough``, loads the one
named by ``--symdyn-profile`` (default: ``$HYPOTHESIS_PROFILE`` or ``fast``),
and offers the fixture ``symdyn_check``, the :mod:`symdyn.testing` module.
"""

import os

import pytest

from symdyn import testing
from symdyn.testing.profiles import PROFILES, register_profiles


def pytest_addoption(parser):
    parser.addoption(
        "--symdyn-profile",
        choices=sorted(PROFILES),
        default=os.environ.get("HYPOTHESIS_PROFILE", "fast"),
        help="hypothesis profile for symdyn's property checks",
    )


def pytest_configure(config):
    register_profiles(load=config.getoption("--symdyn-profile"))


@pytest.fixture
def symdyn_check():
    """The :mod:`symdyn.testing` module, for ``symdyn_check.check_stability(rule)``."""
    return testing
