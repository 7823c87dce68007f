"""The ``symdyn`` command: list catalogue rules and analyse one.

Exit codes: 0 success, 1 a failed check, 2 bad input.

Examples
--------
>>> main(["analyze", "gd"])  # doctest: +ELLIPSIS
gradient descent
...
region:      η⋅λ < 2
...
0
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from fractions import Fraction

import sympy as sp

from symdyn.budget import DEFAULT_TIMEOUT, budget
from symdyn.catalogue.named import CATALOGUE, build
from symdyn.errors import (
    ArgumentError,
    BudgetExceededError,
    SymdynError,
    UndecidedError,
    UsageError,
)
from symdyn.escaping import safe_latex
from symdyn.frameworks.names import framework_rule, is_framework_name
from symdyn.linear.stability import stability
from symdyn.linear.step_bounds import step_bound
from symdyn.rules.printing import STYLES, beside, essential
from symdyn.rules.values import MAX_DIGITS, exact_number
from symdyn.terminal.checks import applicable_checks, run_checks, table
from symdyn.terminal.report import (
    LABEL,
    Analysis,
    as_json,
    labelled,
    region_pieces,
    report_lines,
)
from symdyn.terminal.status import Status

__all__ = ["main"]


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?(/\d+)?")


def _parse_number(text, name):
    """An exact number from the text of ``--param``: a decimal (``0.1``, ``1e-3``) or a
    fraction (``2/3``), read digit by digit (never evaluated), of bounded size."""
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        raise UsageError(
            f"--param {name}={text}: the value must be a number such as 0.5, 1e-3 or 2/3"
        )
    decimal, _, denominator = text.partition("/")
    if denominator and int(denominator) == 0:
        raise UsageError(f"--param {name}={text}: division by zero")
    exponent = re.search(r"[eE]([+-]?\d+)", decimal)
    if (exponent and abs(int(exponent.group(1))) > MAX_DIGITS) or len(text) > MAX_DIGITS:
        raise UsageError(
            f"--param {name}={text:.40}: the number is too large (at most {MAX_DIGITS} digits)"
        )
    value = sp.Rational(Fraction(decimal))
    return value / int(denominator) if denominator else value


def _substitutions(rule, assignments):
    by_name = {str(s): s for s in rule.free_symbols}
    values = {}
    for assignment in assignments or ():
        name, sep, text = assignment.partition("=")
        name = name.strip()
        if not sep:
            raise UsageError(f"--param {assignment!r}: write NAME=VALUE")
        if name not in by_name:
            known = ", ".join(sorted(by_name))
            raise UsageError(f"--param {name}: {rule.name} has no symbol {name!r}; it has {known}")
        if by_name[name] in values:
            raise UsageError(f"--param {name} is given twice; give each symbol one value")
        symbol, number = by_name[name], _parse_number(text, name)
        try:
            values[symbol] = exact_number(number, symbol, where="--param", closure=True)
        except ArgumentError as error:  # say the value as the user wrote it: -0.1, not -1/10
            written = str(error).replace(f"{symbol} = {number}", f"{symbol} = {text.strip()}")
            raise UsageError(written) from None
    return values


def _load(target, hyper=None):
    """A rule, its step symbol and, for a TOML rule file, the file's spec (else None)."""
    if is_framework_name(target):  # optax:NAME, torch:NAME (symdyn.frameworks.names)
        return (*framework_rule(target, hyper), None)
    if hyper:
        raise UsageError("--hyper applies to a framework optimizer such as optax:adam")
    if target.endswith(".toml"):
        from symdyn.rules.rulefile import load_spec, rule_from_spec

        spec = load_spec(target)
        rule = rule_from_spec(spec)
        step = spec.step if spec.step is not None else (rule.params[0] if rule.params else None)
        return rule, step, spec
    rule = build(target)
    return rule, CATALOGUE[target].step, None


def _analysis(target, params, status, hyper=None):
    rule, step, _ = _load(target, hyper)
    values = _substitutions(rule, params)
    if values:
        rule = rule.subs(values)
    given = tuple((str(symbol), text) for symbol, text in _as_written(params))
    with status.phase(f"{rule.name}: linear stability (Schur–Cohn–Jury conditions)"):
        result = stability(rule)
    if step is None or step not in rule.params or result.region is sp.false:
        return Analysis(rule, result, given=given)
    try:
        with status.phase(f"{rule.name}: the step bound in {step}"):
            return Analysis(rule, result, bound=step_bound(result, step), given=given)
    except UndecidedError as error:
        return Analysis(rule, result, undecided=str(error), given=given)


def _as_written(params):
    """The ``--param`` values as (name, text) pairs, as the user wrote them."""
    for assignment in params or ():
        name, _, text = assignment.partition("=")
        yield name.strip(), text.strip()


def _cmd_list(args, out, status):
    width = max(map(len, CATALOGUE))
    for name, entry in CATALOGUE.items():
        print(f"{name:<{width}}  {entry.summary}", file=out)
    return 0


def _cmd_analyze(args, out, status):
    analysis = _analysis(args.rule, args.param, status, args.hyper)
    if args.json:
        json.dump(as_json(analysis), out, indent=2)
        print(file=out)
    else:
        print("\n".join(report_lines(analysis, args.format)), file=out)
    _write_files(args, analysis.derivation, out, status)
    if args.plot:
        from symdyn.numeric import plot  # matplotlib only when a figure is asked for

        with status.phase(f"drawing {args.plot}"):
            figure = plot.stability_figure(analysis.result, analysis.bound)
            figure.savefig(args.plot, dpi=150)
        if not args.json:
            print(f"wrote {args.plot}", file=out)
    return 0


def _write_files(args, derivation, out, status):
    for path in (args.latex, args.markdown, args.pdf):
        if path:
            with status.phase(f"writing {path}"):
                derivation.save(path)
            if not args.json:
                print(f"wrote {path}", file=out)


def _limit_settings(spec):
    """The scaling and time step a rule file's spec gives its continuous limit (none for a
    catalogue name, whose spec is None)."""
    return ({}, None) if spec is None else (dict(spec.scaling or {}), spec.time_step)


def _limit_inputs(target, params):
    """The rule, step, scaling and time step for ``symdyn limit``."""
    rule, step, spec = _load(target)
    if spec is not None:
        step = spec.step  # a limit needs the file to name its step
    scaling, time_step = _limit_settings(spec)
    if step is None:
        raise UsageError(f'{target}: no step symbol; add [limit] step = "..." to the file')
    values = _substitutions(rule, params)
    if values:
        rule = rule.subs(values)
    return rule, step, scaling, time_step


def _limit_json(rule, limit, region):
    return {
        "rule": rule.name,
        "h": str(limit.h),
        "time_step": str(limit.time_step),
        "scaling": {str(k): str(v) for k, v in limit.scaling.items()},
        "functions": {str(k): str(v) for k, v in limit.functions.items()},
        "ode": [str(eq) for eq in limit.ode],
        "ode_latex": [safe_latex(eq) for eq in limit.ode],
        "order": limit.order,
        "error_order": limit.error_order,
        "requires": None if limit.requires is None else [str(r) for r in limit.requires],
        "hurwitz_region": None if region is None else str(region),
    }


def _unicode_equation(text):
    """A paper-form ODE line with primes, a centred dot and Greek letters: X″ + γ·X′ = 0."""
    from sympy.printing.pretty.pretty_symbology import pretty_symbol

    text = text.replace("''", "″").replace("'", "′").replace("*", "·")
    return re.sub(r"[A-Za-z]+", lambda word: pretty_symbol(word.group()), text)


def _limit_lines(rule, limit, region, style):
    lines = [rule.name]
    lines += labelled("time step:", beside(limit.time_step, "  (h = ", limit.h, ")", style=style))
    if style == "latex":
        shown = limit.ode_latex().split(" \\\\ ")
    else:
        shown = limit.ode_text().splitlines()
    for i, equation in enumerate(shown):
        text = _unicode_equation(equation) if style == "unicode" else equation
        lines.append(("limit ODE:" if i == 0 else "").ljust(LABEL) + text)
    lines.append("order:".ljust(LABEL) + f"{limit.order}; error {limit.error_text()}")
    if limit.requires:
        pieces = ["followed where "]
        for i, requirement in enumerate(essential(limit.requires)):
            pieces += [" and "] * (i > 0) + [requirement]
        lines += labelled("", beside(*pieces, "  (root condition at h = 0)", style=style))
    if region is not None:
        where = beside(
            *region_pieces(region), "  (Routh–Hurwitz of the linearised limit)", style=style
        )
        lines += labelled("stable:", where)
    return lines


def _cmd_limit(args, out, status):
    from symdyn import continuous_limit, routh_hurwitz

    rule, step, scaling, time_step = _limit_inputs(args.rule, args.param)
    with status.phase(f"{rule.name}: the continuous limit in {step}"):
        limit = continuous_limit(rule, h=step, scaling=scaling or None, time_step=time_step)
    try:
        with status.phase(f"{rule.name}: Routh–Hurwitz conditions of the limit"):
            region = routh_hurwitz(limit).region
    except BudgetExceededError:
        raise
    except SymdynError:
        region = None
    if args.json:
        json.dump(_limit_json(rule, limit, region), out, indent=2)
        print(file=out)
    else:
        print("\n".join(_limit_lines(rule, limit, region, args.format)), file=out)
    _write_files(args, limit.derivation, out, status)
    return 0


def _cmd_check(args, out, status):
    rule, step, spec = _load(args.rule)
    values = _substitutions(rule, args.param)
    if values:
        rule = rule.subs(values)
    with status.phase(f"{rule.name}: deriving the claims to check"):
        checks = applicable_checks(rule, step, args.examples, *_limit_settings(spec))
    rows, failed = run_checks(checks, status)
    print(rule.name, file=out)
    print("\n".join(table(rows)), file=out)
    return 1 if failed else 0


def _add_param(parser):
    parser.add_argument(
        "--param",
        action="append",
        metavar="NAME=VALUE",
        help="fix a symbol to an exact number (repeatable, once per symbol)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"stop the analysis after this many seconds (default {DEFAULT_TIMEOUT:g})",
    )


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive, finite number of seconds")
    return value


def _count(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give at least 1 example")
    return value


def _add_outputs(parser):
    parser.add_argument(
        "--format",
        choices=STYLES,
        default="unicode",
        help="how mathematics is printed: unicode (2-D, the default), plain (one line), latex",
    )
    parser.add_argument("--latex", metavar="FILE", help="write the derivation as LaTeX")
    parser.add_argument("--markdown", metavar="FILE", help="write the derivation as Markdown")
    parser.add_argument("--pdf", metavar="FILE", help="compile the derivation with pdflatex")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")


def _parser():
    parser = argparse.ArgumentParser(
        prog="symdyn", description="Exact dynamics of learning-algorithm update rules."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="list the catalogue rules")
    analyze = commands.add_parser("analyze", help="derive stability region and step bound")
    analyze.add_argument(
        "rule", help="a catalogue name (see `symdyn list`), a FILE.toml, optax:NAME or torch:NAME"
    )
    analyze.add_argument(
        "--hyper",
        action="append",
        metavar="NAME=VALUE",
        help="a framework optimizer's hyperparameter: a symbol name or a number (repeatable)",
    )
    _add_param(analyze)
    _add_outputs(analyze)
    analyze.add_argument("--plot", metavar="FILE", help="draw the stability region (PNG, PDF)")
    limit = commands.add_parser("limit", help="derive the continuous-time limit (ODE)")
    limit.add_argument("rule", help="a catalogue name or a FILE.toml (its [scaling], [limit])")
    _add_param(limit)
    _add_outputs(limit)
    check = commands.add_parser("check", help="check every derived claim numerically")
    check.add_argument("rule", help="a catalogue name or a FILE.toml")
    _add_param(check)
    check.add_argument("--examples", type=_count, default=50, help="examples per check (≥ 1)")
    return parser


def main(argv=None, out=None, err=None):
    """Run the command line; returns the exit code.

    ``out`` receives the report (default stdout); ``err`` the errors and, when it is a
    terminal and the output is not ``--json``, the progress of long work (default stderr).
    """
    out, err = out or sys.stdout, err or sys.stderr
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)
    commands = {
        "list": _cmd_list,
        "analyze": _cmd_analyze,
        "limit": _cmd_limit,
        "check": _cmd_check,
    }
    try:
        with budget(getattr(args, "timeout", None), f"symdyn {args.command}"):
            status = Status(err, enabled=not getattr(args, "json", False))
            return commands[args.command](args, out, status)
    except SymdynError as error:
        print(f"symdyn: error: {error}", file=err)
        return 2


def entry_point():
    """Console-script entry point."""
    sys.exit(main())
