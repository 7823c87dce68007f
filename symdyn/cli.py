"""The ``symdyn`` command: list catalogue rules and analyse one.

Exit codes: 0 success, 1 a failed check, 2 bad input.

Examples
--------
>>> main(["analyze", "gd"])  # doctest: +ELLIPSIS
gradient descent
...
region:      eta*lambda < 2
...
0
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from symdyn.budget import DEFAULT_TIMEOUT, budget
from symdyn.catalogue.named import CATALOGUE, build
from symdyn.errors import BudgetExceededError, SymdynError, UndecidedError, UsageError
from symdyn.escaping import safe_latex
from symdyn.frameworks.names import framework_rule, is_framework_name
from symdyn.linear.stability import StabilityResult, stability
from symdyn.linear.step_bounds import StepBound, step_bound
from symdyn.rules.rule import UpdateRule
from symdyn.rules.values import MAX_DIGITS, exact_number

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
        symbol = by_name[name]
        values[symbol] = exact_number(
            _parse_number(text, name), symbol, where="--param", closure=True
        )
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


@dataclass(frozen=True)
class _Analysis:
    """What ``symdyn analyze`` found: the rule's stability, and its step bound or why not."""

    rule: UpdateRule
    result: StabilityResult
    bound: StepBound | None = None
    undecided: str | None = None  # why no step bound could be derived

    @property
    def derivation(self):
        return self.bound.derivation if self.bound is not None else self.result.derivation


def _analysis(target, params, hyper=None):
    rule, step, _ = _load(target, hyper)
    values = _substitutions(rule, params)
    if values:
        rule = rule.subs(values)
    result = stability(rule)
    if step is None or step not in rule.params or result.region is sp.false:
        return _Analysis(rule, result)
    try:
        return _Analysis(rule, result, bound=step_bound(result, step))
    except UndecidedError as error:
        return _Analysis(rule, result, undecided=str(error))


def _as_json(analysis):
    rule, result, bound = analysis.rule, analysis.result, analysis.bound

    def text(value):
        return None if value is None else str(value)

    data = {
        "rule": rule.name,
        "state": [str(s) for s in rule.state],
        "params": [str(p) for p in rule.params],
        "free": [str(f) for f in rule.free],
        "jacobian": [[str(v) for v in row] for row in result.jacobian.tolist()],
        "charpoly": str(result.charpoly.as_expr()),
        "conditions": [str(c) for c in result.conditions],
        "region": str(result.region),
        "region_latex": safe_latex(result.region),
        "spectral_radius": text(result.spectral_radius),
        "marginal": text(result.marginal),
        "step_bound": None,
    }
    if bound is not None:
        data["step_bound"] = {
            "step": str(bound.step),
            "lower": str(bound.lower),
            "upper": str(bound.upper),
            "requires": [str(r) for r in bound.requires],
        }
    return data


def _print_report(analysis, out):
    rule, result, bound = analysis.rule, analysis.result, analysis.bound
    print(rule.name, file=out)
    if rule.free_inferred:  # a typo (etaa for eta) shows here
        print(f"free:        {', '.join(map(str, rule.free))}  (inferred)", file=out)
    print(f"charpoly:    {result.charpoly.as_expr()}", file=out)
    print(f"region:      {result.region}", file=out)
    if analysis.undecided is not None:
        print(f"step bound:  undecided ({analysis.undecided})", file=out)
    elif bound is not None:
        requires = f"   if {', '.join(map(str, bound.requires))}" if bound.requires else ""
        print(f"step bound:  {bound.lower} < {bound.step} < {bound.upper}{requires}", file=out)
    if result.spectral_radius is not None:
        print(f"rate:        {result.spectral_radius}", file=out)
    if result.marginal not in (None, sp.false):
        print(f"marginal:    {result.marginal}", file=out)


def _cmd_list(args, out):
    width = max(map(len, CATALOGUE))
    for name, entry in CATALOGUE.items():
        print(f"{name:<{width}}  {entry.summary}", file=out)
    return 0


def _cmd_analyze(args, out):
    analysis = _analysis(args.rule, args.param, args.hyper)
    derivation = analysis.derivation
    if args.json:
        json.dump(_as_json(analysis), out, indent=2)
        print(file=out)
    else:
        _print_report(analysis, out)
    for path in (args.latex, args.markdown, args.pdf):
        if path:
            derivation.save(path)
            if not args.json:
                print(f"wrote {path}", file=out)
    if args.plot:
        from symdyn.numeric import plot  # matplotlib only when a figure is asked for

        plot.stability_figure(analysis.result, analysis.bound).savefig(args.plot, dpi=150)
        if not args.json:
            print(f"wrote {args.plot}", file=out)
    return 0


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


def _cmd_limit(args, out):
    from symdyn import continuous_limit, routh_hurwitz

    rule, step, scaling, time_step = _limit_inputs(args.rule, args.param)
    limit = continuous_limit(rule, h=step, scaling=scaling or None, time_step=time_step)
    try:
        region = routh_hurwitz(limit).region
    except BudgetExceededError:
        raise
    except SymdynError:
        region = None
    if args.json:
        data = {
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
        json.dump(data, out, indent=2)
        print(file=out)
    else:
        print(rule.name, file=out)
        print(f"time step:   {limit.time_step}  (h = {limit.h})", file=out)
        for equation in limit.ode:
            print(f"limit ODE:   {equation}", file=out)
        print(f"order:       {limit.order}, error O(h^{limit.error_order})", file=out)
        if limit.requires:
            where = " and ".join(map(str, limit.requires))
            print(f"followed where: {where}  (root condition of the step at h = 0)", file=out)
        if region is not None:
            print(f"stable limit (Routh–Hurwitz of the linearisation): {region}", file=out)
    for path in (args.latex, args.markdown, args.pdf):
        if path:
            limit.derivation.save(path)
            if not args.json:
                print(f"wrote {path}", file=out)
    return 0


def _checks(rule, step, examples, scaling=None, time_step=None):
    """The checks that apply to ``rule``, as (name, thunk) pairs."""
    from symdyn import testing

    result = stability(rule)
    checks = [
        ("jacobian", lambda: testing.check_jacobian(rule, examples=examples)),
        ("fixed points", lambda: testing.check_fixed_points(rule, examples=examples)),
        ("derivation", lambda: testing.check_derivation(result, examples=examples)),
    ]
    if result.region is not sp.false or result.marginal is not None:
        checks.append(("stability", lambda: testing.check_stability(result, examples=examples)))
    if step is not None and result.region is not sp.false:
        checks.append(
            ("step bound", lambda: testing.check_step_bound(rule, step, examples=examples))
        )
    checks += _continuous_checks(rule, step, examples, scaling, time_step)
    return checks


def _continuous_checks(rule, step, examples, scaling, time_step):
    """The continuous limit in the step (a file's scaling and time step), and the
    Hamiltonian form's symplectic claims when the rule has one."""
    from symdyn import continuous_limit, hamiltonian_form, testing

    checks = []
    if step is not None:

        def limit_check():
            limit = continuous_limit(rule, h=step, scaling=scaling or None, time_step=time_step)
            return testing.check_continuous_limit(limit, examples=examples)

        checks.append(("continuous limit", limit_check))
    try:
        form = hamiltonian_form(rule)
    except BudgetExceededError:
        raise
    except SymdynError:
        return checks
    if not form.is_conformal_symplectic or form.contraction is None:
        return checks
    return [*checks, ("hamiltonian", lambda: testing.check_hamiltonian(form, examples=examples))]


def _cmd_check(args, out):
    from symdyn.testing import CheckFailure

    rule, step, spec = _load(args.rule)
    values = _substitutions(rule, args.param)
    if values:
        rule = rule.subs(values)
    rows, failed = [], False
    for name, run in _checks(rule, step, args.examples, *_limit_settings(spec)):
        try:
            report = run()
            rows.append((name, str(report.examples), "pass", ""))
        except BudgetExceededError:
            raise
        except CheckFailure as failure:
            failed = True
            report = failure.report
            rows.append((name, str(report.examples), "FAIL", report.counterexample))
        except SymdynError as error:
            rows.append((name, "0", "skipped", str(error)))
    print(rule.name, file=out)
    header = ("check", "examples", "result", "counterexample")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        cells = [row[i].ljust(widths[i]) for i in range(3)]
        print("  ".join([*cells, row[3]]).rstrip(), file=out)
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


def main(argv=None, out=None):
    """Run the command line; returns the exit code."""
    out = out or sys.stdout
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
            return commands[args.command](args, out)
    except SymdynError as error:
        print(f"symdyn: error: {error}", file=sys.stderr)
        return 2


def entry_point():
    """Console-script entry point."""
    sys.exit(main())
