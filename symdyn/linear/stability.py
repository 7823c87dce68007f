"""Exact linear stability of update rules: regions, spectral radii, step bounds.

The rule is linearised, its characteristic polynomial is split into
irreducible factors over the parameters, and each factor is tested with the
Schur–Cohn–Jury criterion (:mod:`symdyn.linear.criteria`). The conditions are
necessary and sufficient for every root to lie strictly inside the unit
circle, i.e. for the linearisation to contract.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from symdyn.budget import bounded, phase
from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import RuleError, ShapeError, UndecidedError
from symdyn.escaping import plain, safe_latex
from symdyn.frozen import freeze_fields
from symdyn.linear.criteria import sign_of
from symdyn.linear.kernel import (
    Z,
    as_jacobian,
    characteristic_polynomial,
    opening_steps,
    per_mode_jacobian,
)
from symdyn.linear.region import analyse, marginal_set
from symdyn.rules.rule import UpdateRule
from symdyn.rules.values import exact_values

__all__ = ["StabilityResult", "charpoly", "stability"]


def charpoly(matrix, z=Z):
    """Characteristic polynomial ``det(z I - J)`` of a square matrix, as a ``Poly`` in ``z``.

    Entries follow the exact-number policy (:func:`symdyn.linear.kernel.as_jacobian`);
    the polynomial is :func:`symdyn.linear.kernel.characteristic_polynomial`.

    Examples
    --------
    >>> import sympy as sp
    >>> a = sp.Symbol("a", real=True)
    >>> charpoly(sp.Matrix([[a, 1], [0, a]])).as_expr()
    a**2 - 2*a*z + z**2
    """
    return characteristic_polynomial(as_jacobian(matrix), z)


def _decide(relations, values, what):
    """Whether every relation holds at ``values``: False as soon as one is decided false,
    True when all are decided true, UndecidedError otherwise."""
    undecided = []
    for relation in (r.subs(values) for r in relations):
        if relation in (sp.true, sp.false):
            verdict = bool(relation)
        else:
            sign = sign_of(relation.lhs - relation.rhs) if relation.is_Relational else None
            if sign is None:
                undecided.append(relation)
                continue
            verdict = bool(relation.func(sign, 0))
        if not verdict:
            return False
    if undecided:
        missing = sorted({str(s) for r in undecided for s in r.free_symbols})
        raise UndecidedError(
            f"{what}: cannot decide {undecided[0]} without values for {', '.join(missing)}"
        )
    return True


@dataclass(frozen=True)
class StabilityResult(Presented):
    """Exact linear stability of an update rule at a point.

    Attributes
    ----------
    rule : UpdateRule or None
    point : dict
        Where the rule was linearised (state symbol → value).
    jacobian : sympy.ImmutableMatrix
    charpoly : sympy.Poly
        ``det(z I - J)`` in ``z``.
    factors : tuple of sympy.Poly
        Its distinct irreducible factors over the parameters.
    conditions : tuple of sympy relations
        Strict inequalities, necessary and sufficient for every root to lie
        strictly inside the unit circle; ``(False,)`` when that never happens.
    region : sympy.Boolean
        Their conjunction.
    spectral_radius : sympy.Expr or None
        The largest root modulus, exactly: a closed form up to degree two
        (``Piecewise`` where the roots change from real to complex), above it a
        ``CRootOf`` for rational coefficients or a
        :class:`~symdyn.linear.root_modulus.LargestRootModulus` for symbolic ones;
        ``None`` only for irrational numeric coefficients of degree ≥ 3.
    marginal : sympy.Boolean or None
        Where every root is in the closed disc and one is on the circle
        (the boundary); ``None`` when a factor of degree ≥ 3 leaves it undecided.
        Worked out when first read: simplifying the weak conditions costs
        as much as the region itself, and maps and bounds never need it.
    derivation : Derivation
    """

    rule: UpdateRule | None
    point: Mapping
    jacobian: sp.ImmutableMatrix
    charpoly: sp.Poly
    factors: tuple
    conditions: tuple
    region: sp.Basic
    spectral_radius: sp.Basic | None
    derivation: Derivation = field(repr=False)
    # The unsimplified Schur conditions; None when a factor of degree ≥ 3 keeps the
    # closed disc from being their weak form.
    _raw: tuple | None = field(default=None, repr=False, compare=False)
    # The marginal set when the analysis already worked it out (a never-stable rule's).
    _known_marginal: sp.Basic | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        freeze_fields(self, "point")

    @functools.cached_property
    def marginal(self):
        if self._known_marginal is not None:
            return self._known_marginal
        return None if self._raw is None else marginal_set(self._raw)

    def is_stable(self, values: Mapping):
        """Whether the linearisation is asymptotically stable at the given parameter values.

        Values follow the exact-number policy (:mod:`symdyn.rules.values`): floats
        become the decimals they print as, so the answer is exact; a point on
        the boundary is not stable. Keys are Symbols, or their exact names.

        Raises
        ------
        ArgumentError
            For a key that names no symbol of the result, or a value that is not
            a finite real number or breaks its symbol's declared assumptions (the
            region was derived under them, so it says nothing outside them).
        UndecidedError
            If a condition still depends on a symbol without a value whose
            sign the assumptions do not fix.
        """
        name = self.rule.name if self.rule is not None else "matrix"
        exact = exact_values(values, self._symbols, where=f"is_stable ({name})")
        return _decide(self.conditions, exact, f"stability of {name}")

    @property
    def _symbols(self):
        """The symbols values may be given for: the linearisation's and the rule's own."""
        own = () if self.rule is None else self.rule.symbols
        return (*sorted(self.jacobian.free_symbols, key=sp.default_sort_key), *own)

    def _repr_latex_(self):
        return "$\\displaystyle " + safe_latex(self.region) + "$"


def _linearisation_point(rule, at):
    if at is not None:
        point = exact_values(
            at, rule.symbols, where=f"{rule.name}: stability(at=...)", expressions=True
        )
        missing = [s for s in rule.state if s not in point]
        if missing:
            raise RuleError(
                f"{rule.name}: the linearisation point at= gives no value for "
                f"{', '.join(map(str, missing))}; give every state variable"
            )
        return point, "at the given point"
    if rule.is_affine:
        points = rule.fixed_points()
        if len(points) == 1 and points[0]:
            return points[0], "at its fixed point (the map is affine, so this is exact)"
        return {}, "(the map is affine, so the Jacobian is constant)"
    return {s: 0 for s in rule.state}, "at the origin"


@bounded("stability")
def stability(rule, at=None):
    """Exact linear stability of ``rule``.

    Parameters
    ----------
    rule : UpdateRule or square sympy Matrix
        The rule (or directly its Jacobian).
    at : mapping, optional
        Where to linearise. Default: the fixed point when the map is affine
        (where linearisation is exact), otherwise the origin.
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

    Returns
    -------
    StabilityResult

    Raises
    ------
    UndecidedError
        For time-varying rules, or coefficients not known to be real.
    ShapeError
        For a non-square linearisation.
    RuleError
        For anything that is neither a rule nor a square matrix of finite expressions.
    BudgetExceededError
        When the analysis takes longer than ``timeout``.

    Examples
    --------
    >>> import sympy as sp
    >>> x, v = sp.symbols("x v", real=True)
    >>> eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
    >>> hb = UpdateRule([x, v], [(v, beta*v - eta*lam*x), (x, x + v)], [eta, beta])
    >>> res = stability(hb)
    >>> res.region
    (beta < 1) & (eta*lambda < 2*beta + 2)
    >>> res.is_stable({eta: 0.1, beta: 0.9, lam: 1.0})
    True

    References
    ----------
    Jury (1964); Liénard & Chipart (1914).
    """
    if not isinstance(rule, UpdateRule):
        rule = as_jacobian(rule)
    if isinstance(rule, UpdateRule) and at is None:
        return _stability_of_rule(rule, rule.free_inferred)
    return _stability(rule, at)


# Rules and results are immutable, so a rule analysed again (one map after another,
# a bound after a region) reuses its derivation instead of redoing the algebra.
@functools.lru_cache(maxsize=64)
def _stability_of_rule(rule, free_inferred):
    # free_inferred is not part of a rule's equality, but its derivation says it
    return _stability(rule, None)


def _stability(rule, at):
    if isinstance(rule, UpdateRule) and any(isinstance(s, sp.MatrixSymbol) for s in rule.state):
        # Quadratics of any dimension: one k×k system per eigenvalue (symdyn.linear.modes).
        reduction = per_mode_jacobian(rule)
        derivation = Derivation(f"Linear stability of {plain(rule.name)}") + reduction.derivation
        return _analyse(rule, {}, reduction.jacobian, derivation, reduction.requires)
    if isinstance(rule, UpdateRule):
        title = f"Linear stability of {plain(rule.name)}"
        phase("the fixed point to linearise at")
        point, where = _linearisation_point(rule, at)
        phase("the Jacobian")
        jac = rule.jacobian(at=point)
        if rule.counter is not None and rule.counter in jac.free_symbols:
            raise UndecidedError(
                f"{rule.name}: the Jacobian depends on the step counter {rule.counter}, so "
                "the eigenvalues of a frozen step do not decide stability; substitute a "
                f"value with rule.subs({{{rule.counter}: ...}}) to study one step"
            )
        phase("the derivation's opening steps")
        derivation = opening_steps(rule, title)
        derivation = derivation.then(
            f"Its Jacobian with respect to the state, {where}, is",
            TeX("J = " + safe_latex(jac)),
        )
    else:
        jac = sp.ImmutableMatrix(rule)
        if jac.rows != jac.cols:
            raise ShapeError(f"the linearisation is {jac.rows}×{jac.cols}, not square")
        point, rule = {}, None
        derivation = Derivation("Linear stability").then(
            "The linearisation is", TeX("J = " + safe_latex(jac))
        )
    return _analyse(rule, point, jac, derivation)


def _analyse(rule, point, jac, derivation, requires=()):
    """The result for ``jac``; ``requires``: where a time-varying rule's limit J_∞ exists,
    which the region is intersected with."""
    found = analyse(rule, jac, derivation)
    conditions, region = found.conditions, found.region
    if requires:
        conditions = (*conditions, *(c for c in requires if c not in conditions))
        region = sp.And(region, *requires)
    return StabilityResult(
        rule=rule,
        point=point,
        jacobian=sp.ImmutableMatrix(jac),
        charpoly=found.factored.poly,
        factors=found.factored.factors,
        conditions=conditions,
        region=region,
        spectral_radius=found.spectral_radius,
        derivation=found.derivation,
        _raw=found.schur.raw if found.schur.closed else None,
        _known_marginal=found.marginal,
    )
