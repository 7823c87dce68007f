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

import dataclasses
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import sympy as sp

from symdyn.errors import ParseError, RuleError
from symdyn.rules.expansion import size_of
from symdyn.rules.parsing import DEFAULT_CONSTANTS, DEFAULT_FUNCTIONS, parse_expression
from symdyn.rules.toml_positions import _Locator, _toml_error

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["MAX_FILE_BYTES", "MAX_UPDATES", "RuleSpec", "load_rule", "load_spec", "parse_spec"]

MAX_FILE_BYTES = 64 * 1024
"""Largest accepted rule file."""
MAX_UPDATES = 256
"""Most ``[[update]]`` entries in one file."""
MAX_NAMES = 256
"""Most declared names (state, parameters, free symbols, temporaries)."""

ASSUMPTIONS = ("positive", "nonnegative", "real", "integer")
RESERVED = frozenset(DEFAULT_FUNCTIONS) | frozenset(DEFAULT_CONSTANTS) | {"loss"}
SYMPY_CONSTANTS = frozenset({"I", "E", "oo", "zoo", "nan", "pi", "S", "N", "True", "False"})
"""Names sympy gives its constants (and ``S``, ``N``): a symbol of that name is refused."""
_TOP_KEYS = ("name", "state", "counter", "simultaneous", "params", "free", "loss", "update")
_TOP_KEYS += ("scaling", "limit")


@dataclass(frozen=True)
class RuleSpec:
    """A rule file, read into sympy objects (the data :class:`UpdateRule` is built from).

    Attributes
    ----------
    name : str
    state, params, free : tuple of sympy.Symbol
        State symbols are real; parameters and free symbols carry the
        assumptions declared in the file (``real`` when none is given).
    loss : sympy.Expr or None
    updates : tuple of (sympy.Symbol, sympy.Expr)
        In file order; targets outside ``state`` are temporaries (real).
    simultaneous : bool
    counter : sympy.Symbol or None
        An integer, nonnegative step counter.
    scaling : tuple of (sympy.Symbol, sympy.Expr)
        Parameter scalings for continuous limits, e.g. β = 1 − γ√η.
    source : str
        The file the spec was read from.
    intervals : tuple of (sympy.Symbol, (sympy.Rational, sympy.Rational))
        Declared ranges of parameters and free symbols (metadata).
    step, time_step : sympy.Expr or None
        From the optional ``[limit]`` table: the step-size parameter ``h``
        and the time step of the continuous limit.
    """

    name: str
    state: tuple
    params: tuple
    free: tuple
    loss: sp.Expr | None
    updates: tuple
    simultaneous: bool
    counter: sp.Symbol | None
    scaling: tuple
    source: str
    intervals: tuple = ()
    step: sp.Expr | None = None
    time_step: sp.Expr | None = None
    lines: tuple = field(default=(), compare=False, repr=False)
    """Line of each update in the file (for error messages)."""


class _Reader:
    """Turns the TOML document into a :class:`RuleSpec`, raising positioned errors."""

    def __init__(self, document: dict, text: str, source: str):
        self.document = document
        self.text = text
        self.source = source
        self.where = _Locator(text)

    def error(self, message, table="", index=0, key=None) -> ParseError:
        line, column = self.where.find(table, index, key)
        return ParseError(message, self.source, line, column)

    def expression(self, value, symbols, functions, table, index=0, key="expr", sizes=None):
        where = f"[{table}] {key}" if table else key
        if not isinstance(value, str):
            raise self.error(f"{where} must be a string holding an expression", table, index, key)
        line, column = self.where.find(table, index, key)
        offset = 0
        if column is not None:
            raw = self.text.split("\n")[line - 1]
            opening = raw[column - 1 : column + 2]
            quote = 3 if opening in ('"""', "'''") else 1
            offset = column - 1 + quote
            if quote == 3 and not raw[column + 2 :].strip():
                line, offset = line + 1, 0  # TOML drops a newline right after """
        return parse_expression(
            value,
            symbols,
            functions,
            source=self.source,
            line=line,
            column_offset=offset,
            sizes=sizes,
        )

    # -- declarations ----------------------------------------------------------

    def check_keys(self, mapping, allowed, table="", index=0, at=None):
        for key in mapping:
            if key not in allowed:
                shown = ", ".join(allowed)
                where = f"in [{table}]" if table else "at the top level"
                raise self.error(
                    f"unknown key `{key}` {where}; expected one of {shown}",
                    table,
                    index,
                    at or key,
                )

    def check_name(self, name, role, declared, table="", index=0, key=None):
        if not isinstance(name, str) or not name.isidentifier():
            raise self.error(f"{role} name {name!r} is not an identifier", table, index, key)
        if unicodedata.normalize("NFKC", name) != name:
            raise self.error(f"{role} name {name!r} is not in NFKC normal form", table, index, key)
        if name in SYMPY_CONSTANTS:
            raise self.error(
                f"`{name}` is reserved for a sympy constant; choose another {role} name",
                table,
                index,
                key,
            )
        if name in RESERVED:
            raise self.error(
                f"`{name}` is reserved (a function, constant or `loss`); "
                f"choose another {role} name",
                table,
                index,
                key,
            )
        if name in declared:
            raise self.error(
                f"`{name}` is declared twice (as {declared[name]} and as {role})",
                table,
                index,
                key,
            )
        if len(declared) >= MAX_NAMES:
            raise self.error(f"more than {MAX_NAMES} names declared", table, index, key)
        declared[name] = role

    def symbols_table(self, table, declared):
        entries = self.document.get(table, {})
        if not isinstance(entries, dict):
            raise self.error(f"[{table}] must be a table of name = {{ assumptions }}", key=table)
        symbols, intervals = [], []
        for name, options in entries.items():
            role = {"params": "parameter", "free": "free symbol"}[table]
            self.check_name(name, role, declared, table, 0, name)
            if not isinstance(options, dict):
                raise self.error(
                    f"[{table}] {name} must be an inline table such as {{ positive = true }}",
                    table,
                    0,
                    name,
                )
            self.check_keys(options, (*ASSUMPTIONS, "interval"), table, 0, name)
            assumptions = {}
            for key, value in options.items():
                if key == "interval":
                    intervals.append((name, self.interval(value, table, name)))
                elif not isinstance(value, bool):
                    raise self.error(
                        f"[{table}] {name}: {key} must be true or false", table, 0, name
                    )
                else:
                    assumptions[key] = value
            if not assumptions:
                assumptions = {"real": True}
            try:
                symbols.append(sp.Symbol(name, **assumptions))
            except ValueError as exc:  # inconsistent assumptions, e.g. positive and not real
                raise self.error(f"[{table}] {name}: {exc}", table, 0, name) from None
        return symbols, intervals

    def interval(self, value, table, name):
        numbers = (int, float)
        if (
            not isinstance(value, list)
            or len(value) != 2
            or not all(isinstance(v, numbers) and not isinstance(v, bool) for v in value)
        ):
            raise self.error(f"[{table}] {name}: interval must be [low, high]", table, 0, name)
        low, high = (
            sp.Rational(repr(v)) if isinstance(v, float) else sp.Integer(v) for v in value
        )
        if not low < high:
            raise self.error(f"[{table}] {name}: interval needs low < high", table, 0, name)
        return low, high

    # -- the whole file ----------------------------------------------------------

    def read(self) -> RuleSpec:
        document = self.document
        self.check_keys(document, _TOP_KEYS)
        name = document.get("name", Path(self.source).stem)
        if not isinstance(name, str):
            raise self.error("name must be a string", key="name")
        simultaneous = document.get("simultaneous", False)
        if not isinstance(simultaneous, bool):
            raise self.error("simultaneous must be true or false", key="simultaneous")

        declared: dict[str, str] = {}
        state_names = document.get("state")
        if not isinstance(state_names, list) or not state_names:
            raise self.error(
                'state must be a non-empty list of names, e.g. ["x", "v"]', key="state"
            )
        for item in state_names:
            self.check_name(item, "state", declared, key="state")
        state = [sp.Symbol(item, real=True) for item in state_names]
        params, intervals = self.symbols_table("params", declared)
        free, free_intervals = self.symbols_table("free", declared)
        counter = None
        if "counter" in document:
            self.check_name(document["counter"], "counter", declared, key="counter")
            counter = sp.Symbol(document["counter"], integer=True, nonnegative=True)

        symbols = {s.name: s for s in (*state, *params, *free)}
        if counter is not None:
            symbols[counter.name] = counter
        loss = self.loss(symbols)
        updates, lines = self.updates(symbols, declared, loss, simultaneous)
        scaling = self.scaling(symbols, params, free)
        step, time_step = self.limit(symbols, params)
        by_name = {s.name: s for s in (*params, *free)}
        return RuleSpec(
            name=name,
            state=tuple(state),
            params=tuple(params),
            free=tuple(free),
            loss=loss,
            updates=tuple(updates),
            simultaneous=simultaneous,
            counter=counter,
            scaling=scaling,
            source=self.source,
            intervals=tuple((by_name[n], iv) for n, iv in (*intervals, *free_intervals)),
            step=step,
            time_step=time_step,
            lines=tuple(lines),
        )

    def loss(self, symbols):
        table = self.document.get("loss")
        if table is None:
            return None
        if not isinstance(table, dict):
            raise self.error('loss must be a table: [loss] expr = "..."', key="loss")
        self.check_keys(table, ("expr",), "loss")
        if "expr" not in table:
            raise self.error('[loss] needs expr = "..."', "loss")
        return self.expression(table["expr"], symbols, DEFAULT_FUNCTIONS, "loss")

    def updates(self, symbols, declared, loss, simultaneous):
        entries = self.document.get("update")
        if not isinstance(entries, list) or not entries:
            raise self.error("no [[update]] entries; a rule needs at least one", key="update")
        if len(entries) > MAX_UPDATES:
            raise self.error(
                f"{len(entries)} updates; at most {MAX_UPDATES} are allowed", "update", MAX_UPDATES
            )
        functions = {**DEFAULT_FUNCTIONS, "grad": _file_gradient(loss, symbols)}
        visible = dict(symbols)
        if loss is not None:
            visible["loss"] = loss
        updates, lines = [], []
        sizes: dict = {}  # what each temporary (or updated state) stands for, in bounds
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise self.error("each [[update]] must be a table", "update", index)
            self.check_keys(entry, ("target", "expr"), "update", index)
            for key in ("target", "expr"):
                if key not in entry:
                    raise self.error(
                        f"[[update]] number {index + 1} has no {key}", "update", index
                    )
            target_name = entry["target"]
            if target_name in declared and declared[target_name] != "state":
                raise self.error(
                    f"update {index + 1} assigns to `{target_name}`, which is declared as "
                    f"{declared[target_name]}; only state and temporaries can be assigned",
                    "update",
                    index,
                    "target",
                )
            value = self.expression(
                entry["expr"], visible, functions, "update", index, sizes=sizes
            )
            if target_name not in visible:
                self.check_name(target_name, "temporary", declared, "update", index, "target")
                visible[target_name] = sp.Symbol(target_name, real=True)
            if not (simultaneous and declared[target_name] == "state"):
                sizes[visible[target_name]] = _stands_for(value, sizes)
            updates.append((visible[target_name], value))
            lines.append(self.where.find("update", index, "target")[0])
        return updates, lines

    def scaling(self, symbols, params, free):
        table = self.document.get("scaling", {})
        if not isinstance(table, dict):
            raise self.error('scaling must be a table of name = "expression"', key="scaling")
        allowed = {s.name for s in (*params, *free)}
        result = []
        for name, text in table.items():
            if name not in allowed:
                raise self.error(
                    f"[scaling] {name}: only declared parameters or free symbols can be scaled",
                    "scaling",
                    0,
                    name,
                )
            value = self.expression(text, symbols, DEFAULT_FUNCTIONS, "scaling", 0, name)
            result.append((symbols[name], value))
        return tuple(result)

    def limit(self, symbols, params):
        table = self.document.get("limit", {})
        if not isinstance(table, dict):
            raise self.error('limit must be a table: step = "eta"', key="limit")
        self.check_keys(table, ("step", "time_step"), "limit")
        step = time_step = None
        if "step" in table:
            step = self.expression(table["step"], symbols, DEFAULT_FUNCTIONS, "limit", 0, "step")
            if step not in params:
                raise self.error("[limit] step must name a parameter", "limit", 0, "step")
        if "time_step" in table:
            time_step = self.expression(
                table["time_step"], symbols, DEFAULT_FUNCTIONS, "limit", 0, "time_step"
            )
        return step, time_step


def _stands_for(value, sizes):
    """The bounds on ``value`` expanded, and its number when it is one, temporaries substituted."""
    size = size_of(value, sizes)
    numbers = {s: z.number for s, z in sizes.items() if z.number is not None}
    if not isinstance(value, sp.Expr) or not value.free_symbols <= numbers.keys():
        return size
    return dataclasses.replace(size, number=value.xreplace(numbers))


def _file_gradient(loss, symbols):
    """``grad`` as rule files use it: ``grad(x)``, ``grad(expr, x)``, ``grad(expr, x, at)``.

    ``grad(x)`` is the gradient of the file's loss; the three-argument form
    evaluates the gradient at ``x = at`` (Nesterov's look-ahead).
    """
    try:
        from symdyn.rules.rule import grad as gradient
    except ImportError:  # pragma: no cover - before the core landed
        gradient = sp.diff
    assignable = set(symbols.values())

    def file_grad(*args):
        if len(args) == 1:
            if loss is None:
                raise ValueError("grad(x) is the gradient of the loss, but there is no [loss]")
            args = (loss, *args)
        if not 2 <= len(args) <= 3:
            raise TypeError("grad takes grad(x), grad(expr, x) or grad(expr, x, point)")
        expr, wrt = args[:2]
        if wrt not in assignable:
            raise ValueError(f"grad is taken with respect to a declared symbol, not {wrt}")
        result = gradient(expr, wrt)
        return result.xreplace({wrt: args[2]}) if len(args) == 3 else result

    return file_grad


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
    return _Reader(document, text, source).read()


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
    from symdyn.rules.rule import UpdateRule  # the core may land after this module

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
