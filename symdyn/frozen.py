"""Read-only mappings for the fields of results.

Results are frozen dataclasses, and some are cached and handed to several
callers, so a mapping field must not be changeable through one of them.
:class:`FrozenMapping` is a read-only, hashable and picklable mapping
(``types.MappingProxyType`` is neither hashable nor picklable).

Examples
--------
>>> point = FrozenMapping({"x": 0})
>>> point["x"], dict(point), point == {"x": 0}
(0, {'x': 0}, True)
>>> point["x"] = 1
Traceback (most recent call last):
...
TypeError: 'FrozenMapping' object does not support item assignment
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["FrozenMapping", "freeze_fields", "frozen"]


class FrozenMapping(Mapping):
    """A mapping whose items are fixed when it is made."""

    __slots__ = ("_items",)

    def __init__(self, items=()):
        object.__setattr__(self, "_items", dict(items))

    def __getitem__(self, key):
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)

    def __hash__(self):
        return hash(frozenset(self._items.items()))

    def __repr__(self):
        return repr(self._items)

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __reduce__(self):
        return (FrozenMapping, (self._items,))

    def __or__(self, other):
        return {**self._items, **other}

    def __ror__(self, other):
        return {**other, **self._items}


def frozen(items):
    """``items`` as a :class:`FrozenMapping`; None stays None."""
    return None if items is None else FrozenMapping(items)


def freeze_fields(result, *names):
    """In a frozen dataclass's ``__post_init__``: make the mapping fields ``names`` read-only."""
    for name in names:
        object.__setattr__(result, name, frozen(getattr(result, name)))
