"""The reader behind :func:`symdyn.rules.rulefile.parse_spec`: a TOML document into a
:class:`~symdyn.rules.rulespec.RuleSpec`, every error at its file line."""

from __future__ import annotations

import dataclasses
import unicodedata
from pathlib import Path

import sympy as sp

from symdyn.errors import ParseError
from symdyn.rules.expansion import size_of
from symdyn.rules.expressions import grad
from symdyn.rules.parsing import DEFAULT_FUNCTIONS, parse_expression
from symdyn.rules.rulespec import (
    ASSUMPTIONS,
    MAX_NAMES,
    MAX_UPDATES,
    RESERVED,
    SYMPY_CONSTANTS,
    TOP_KEYS,
    RuleSpec,
)
from symdyn.rules.toml_positions import _Locator


class SpecReader:
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
        self.check_keys(document, TOP_KEYS)
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
        result = grad(expr, wrt)
        return result.xreplace({wrt: args[2]}) if len(args) == 3 else result

    return file_grad
