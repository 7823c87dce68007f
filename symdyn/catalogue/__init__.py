"""The catalogue: optimizers, adaptive methods, games and models as update rules.

The named index (``CATALOGUE``, ``build``) is :mod:`symdyn.catalogue.named`; the
public modules ``symdyn.optimizers``, ``symdyn.games`` and ``symdyn.models``
re-export the builders. Every optimizer is a chain of the small pieces of
:mod:`symdyn.catalogue.pieces` (gradient, scale, trace, ema, debias, precondition, …).
"""

from symdyn.catalogue.named import CATALOGUE, Entry, UnknownRuleError, build

__all__ = ["CATALOGUE", "Entry", "UnknownRuleError", "build"]
