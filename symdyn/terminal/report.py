"""The report of ``symdyn analyze``: text for a person, or JSON for a program.

The text is mathematics, not sympy's ``str``: characteristic polynomials in descending
powers of z, regions and step-bound requirements in their simplest form for the
symbols' assumptions, and, for a factor of degree ≥ 3, its rate as "largest |root| of
p(z)" with a decimal value when every symbol has one.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symdyn.escaping import safe_latex
from symdyn.linear.stability import StabilityResult
from symdyn.linear.step_bounds import StepBound
from symdyn.rules.printing import (
    beside,
    descending,
    essential,
    show,
    simplest,
    without_double_minus,
)
from symdyn.rules.rule import UpdateRule

__all__ = ["Analysis", "as_json", "labelled", "region_pieces", "report_lines"]

LABEL = 13  # the width of "step bound:  "


@dataclass(frozen=True)
class Analysis:
    """What ``symdyn analyze`` found: the rule's stability, and its step bound or why not.

    ``given`` holds the ``--param`` values as the user wrote them (``("beta", "0.1")``).
    """

    rule: UpdateRule
    result: StabilityResult
    bound: StepBound | None = None
    undecided: str | None = None  # why no step bound could be derived
    given: tuple = ()

    @property
    def derivation(self):
        return self.bound.derivation if self.bound is not None else self.result.derivation


def labelled(label: str, lines_and_base) -> list[str]:
    """Lines with ``label`` on the baseline and the other lines indented to match."""
    lines, base = lines_and_base
    pad = " " * LABEL
    return [(f"{label:<{LABEL}}" if i == base else pad) + line for i, line in enumerate(lines)]


def report_lines(analysis: Analysis, style: str = "unicode") -> list[str]:
    """The text report of ``analysis`` in ``style`` (see :data:`symdyn.rules.printing.STYLES`)."""
    rule, result, bound = analysis.rule, analysis.result, analysis.bound
    lines = [rule.name]
    if analysis.given:
        lines.append("at:".ljust(LABEL) + ", ".join(f"{n} = {v}" for n, v in analysis.given))
    if rule.free_inferred:  # a typo (etaa for eta) shows here
        lines.append("free:".ljust(LABEL) + ", ".join(map(str, rule.free)) + "  (inferred)")
    lines += labelled("charpoly:", beside(descending(result.charpoly), style=style))
    lines += labelled("region:", beside(*region_pieces(result.region), style=style))
    if analysis.undecided is not None:
        lines.append("step bound:".ljust(LABEL) + f"undecided ({analysis.undecided})")
    elif bound is not None:
        lines += labelled("step bound:", _bound(bound, style))
    rate = _rate(result, style)
    if rate is not None:
        lines += labelled("rate:", rate)
    if result.marginal not in (None, sp.false):
        lines += labelled("marginal:", beside(simplest(result.marginal), style=style))
    return lines


def region_pieces(region) -> tuple:
    """A region for :func:`~symdyn.rules.printing.beside`: its simplest form, or words
    when it is every value or none."""
    if region is sp.true:
        return ("every admissible value",)
    if region is sp.false:
        return ("empty: no parameter values are stable",)
    return (simplest(region),)


def _bound(bound, style):
    lower, upper = without_double_minus(bound.lower), without_double_minus(bound.upper)
    pieces = [lower, " < ", bound.step, " < ", upper]
    if bound.lower == -sp.oo:
        pieces = pieces[2:]
    if bound.upper == sp.oo:
        pieces = pieces[:-2] if bound.lower != -sp.oo else [bound.step, " unbounded"]
    requires = essential(bound.requires)
    if requires:
        pieces.append("   if ")
        for i, requirement in enumerate(requires):
            pieces += [", "] * (i > 0) + [requirement]
    return beside(*pieces, style=style)


def _rate(result, style):
    """The spectral radius; for a factor of degree ≥ 3, "largest |root| of p(z)" and its
    decimal value when the polynomial has no symbol left."""
    high = [f for f in result.factors if f.degree() >= 3]
    radius = result.spectral_radius
    if not high:
        return None if radius is None else beside(radius, style=style)
    poly = sp.Poly(sp.Mul(*(f.as_expr() for f in high)), result.charpoly.gen)
    pieces = ["largest |root| of ", descending(poly)]
    value = _decimal(result.charpoly)
    if radius is not None and len(show(radius, "plain")) <= 60:
        pieces += [" = ", radius]
    if value is not None:
        pieces.append(f" ≈ {value}")
    elif radius is None:
        pieces.append("   (a number once --param fixes every symbol)")
    return beside(*pieces, style=style)


def _decimal(poly):
    """The largest root modulus of a polynomial with numbers for coefficients, to six
    significant digits (for reading; the exact claims are the region's)."""
    if poly.free_symbols - {poly.gen}:
        return None
    return f"{max(abs(root) for root in poly.nroots(n=15)):.6g}"


def as_json(analysis: Analysis) -> dict:
    """The analysis as the JSON of ``docs/schema/analyze.schema.json``."""
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
