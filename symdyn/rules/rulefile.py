"""Rule files: an update rule written in TOML, read without executing anything.

The format is documented in ``docs/rule-files.md``; in short::

    name = "heavy ball"
    state = ["x", "v"]
    [params]
    eta = { positive = true }
    beta = { real = true, interval = [0, 1] }
    [free]
    lambda = { positive = true }
    [loss]
    expr = "lambda * x**2 / 2"
    [[update]]
    target = "v"
    expr = "beta*v - eta*grad(x)"
    [[update]]
    target = "x"
    expr = "x + v"

TOML is read by :mod:`tomllib`; every expression by
:func:`symdyn.rules.parsing.parse_expression`. Every error is a
:class:`~symdyn.errors.ParseError` carrying the file and the line (and,
best effort, the column) of the offending value: tomllib reports no
positions for values, so they are found by scanning the raw text
(:mod:`symdyn.rules.toml_positions`).
"""

from __future__ import annotations

from symdyn.errors import ParseError, RuleError
from symdyn.rules._spec_reader import SpecReader
from symdyn.rules.rule import UpdateRule
from symdyn.rules.rulespec import MAX_FILE_BYTES, MAX_UPDATES, RuleSpec
from symdyn.rules.toml_positions import _Locator, _toml_error

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["MAX_FILE_BYTES", "MAX_UPDATES", "RuleSpec", "load_rule", "load_spec", "parse_spec"]


def parse_spec(text: str, source: str = "<string>") -> RuleSpec:
    """Read the TOML text of a rule file into a :class:`RuleSpec`.

    Examples
    --------
    >>> spec = parse_spec('''
    ... state = ["x"]
    ... params = { eta = { positive = true } }
    ... [[update]]
    ... target = "x"
    ... expr = "x - eta*grad(x**2/2, x)"
    ... ''')
    >>> spec.updates
    ((x, -eta*x + x),)
    """
    if len(text.encode("utf-8", errors="surrogatepass")) > MAX_FILE_BYTES:
        raise ParseError(f"the file is larger than {MAX_FILE_BYTES} bytes", source, 1)
    locator = _Locator(text)
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_error(exc, locator, source) from None
    except (RecursionError, MemoryError):  # tomllib recurses on nested arrays and tables
        raise ParseError("invalid TOML: arrays or tables nested too deeply", source, 1) from None
    return SpecReader(document, text, source).read()


def load_spec(path) -> RuleSpec:
    """Read the rule file at ``path`` into a :class:`RuleSpec` (nothing in it is executed).

    Raises
    ------
    ParseError
        Naming the file, the line and (best effort) the column of the problem.
    """
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ParseError(f"cannot read the file: {exc.strerror}", source, 1) from None
    if len(data) > MAX_FILE_BYTES:
        raise ParseError(f"the file is larger than {MAX_FILE_BYTES} bytes", source, 1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParseError("the file is not valid UTF-8", source, line) from None
    return parse_spec(text, source)


def rule_from_spec(spec: RuleSpec):
    """Build the :class:`~symdyn.rules.rule.UpdateRule` a :class:`RuleSpec` describes.

    A :class:`~symdyn.errors.RuleError` from the rule becomes a
    :class:`ParseError` at the file line of the update it names.
    """
    try:
        return UpdateRule(
            state=spec.state,
            updates=spec.updates,
            params=spec.params,
            name=spec.name,
            simultaneous=spec.simultaneous,
            counter=spec.counter,
            free=spec.free,
        )
    except RuleError as exc:
        number = exc.update_index  # 1-based, set by the rule on every update's error
        line = spec.lines[number - 1] if number and 0 < number <= len(spec.lines) else 1
        raise ParseError(str(exc), spec.source, line) from exc


def load_rule(path):
    """Read the rule file at ``path`` into an :class:`~symdyn.rules.rule.UpdateRule`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "gd.toml"
    >>> _ = path.write_text('''
    ... state = ["x"]
    ... [params]
    ... eta = { positive = true }
    ... [free]
    ... lambda = { positive = true }
    ... [loss]
    ... expr = "lambda * x**2 / 2"
    ... [[update]]
    ... target = "x"
    ... expr = "x - eta*grad(x)"
    ... ''')
    >>> load_rule(path).map
    Matrix([[-eta*lambda*x + x]])
    """
    return rule_from_spec(load_spec(path))
