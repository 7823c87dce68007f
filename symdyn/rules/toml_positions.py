"""Where keys and tables sit in the raw text of a TOML file.

:mod:`tomllib` reports a position for syntax errors only, not for values, so
a rule file's error messages find the line (and, best effort, the column) of
a key by scanning the text: :class:`_Locator` records where each key and
each table header appears, and the first key defined twice. :func:`_toml_error`
turns a :class:`tomllib.TOMLDecodeError` into a :class:`~symdyn.errors.ParseError`
at the position tomllib gives, or the locator's best guess.
"""

from __future__ import annotations

import re

from symdyn.errors import ParseError

__all__: list[str] = []

_KEY = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')"""
_KEY_LINE = re.compile(rf"\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*=\s*")
_TABLE_LINE = re.compile(rf"\s*(\[\[?)\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*\]\]?")
_TOML_POSITION = re.compile(r"\s*\(at (?:line (\d+), column (\d+)|end of document)\)$")


class _Locator:
    """Lines and columns of keys in raw TOML text, found by scanning it (best effort)."""

    def __init__(self, text: str):
        self.keys: dict[tuple, tuple[int, int]] = {}
        self.tables: dict[tuple, int] = {}
        self.duplicate: int | None = None
        self.last = 1
        counts: dict[str, int] = {}
        table = ("", 0)
        closing = None  # inside a multi-line string: its closing quotes
        for number, line in enumerate(text.split("\n"), start=1):
            if line.strip():
                self.last = number
            if closing is not None:
                if line.count(closing) % 2 == 1:
                    closing = None
                continue
            header = _TABLE_LINE.match(line)
            if header:
                name = _unquote(header.group(2))
                index = counts.get(name, -1) + 1 if header.group(1) == "[[" else 0
                counts[name] = index
                table = (name, index)
                self.tables.setdefault(table, number)
                continue
            match = _KEY_LINE.match(line)
            if match:
                where = (*table, _unquote(match.group(1)))
                if where in self.keys and self.duplicate is None:
                    self.duplicate = number
                self.keys.setdefault(where, (number, match.end() + 1))
                rest = line[match.end() :]
                for quotes in ('"""', "'''"):
                    if rest.startswith(quotes) and rest.count(quotes) == 1:
                        closing = quotes

    def find(self, table="", index=0, key=None) -> tuple[int, int | None]:
        if key is not None and (table, index, key) in self.keys:
            return self.keys[(table, index, key)]
        if key is not None and not table and (key, 0) in self.tables:
            return self.tables[(key, 0)], None
        return self.tables.get((table, index), 1), None


def _unquote(key: str) -> str:
    parts = [part.strip().strip("\"'") for part in key.split(".")]
    return ".".join(parts)


def _toml_error(exc, locator: _Locator, source: str) -> ParseError:
    message = str(exc)
    match = _TOML_POSITION.search(message)
    line, column = locator.last, None
    if match:
        message = message[: match.start()]
        if match.group(1):
            line, column = int(match.group(1)), int(match.group(2))
    if message.startswith(("Cannot overwrite", "Duplicate", "Cannot declare")):
        message += " (a key or table defined twice)"
        if locator.duplicate is not None and not match.group(1):
            line = locator.duplicate
    return ParseError(f"invalid TOML: {message}", source, line, column)
