"""The public path of :mod:`symdyn.catalogue.models` (one definition there, re-exported here)."""

from symdyn.catalogue.models import *  # noqa: F403
from symdyn.catalogue.models import __all__  # noqa: F401
