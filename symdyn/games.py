"""The public path of :mod:`symdyn.catalogue.games` (one definition there, re-exported here)."""

from symdyn.catalogue.games import *  # noqa: F403
from symdyn.catalogue.games import __all__  # noqa: F401
