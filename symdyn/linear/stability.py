"""Exact linear stability of update rules: regions, spectral radii, step bounds.

The rule is linearised, its characteristic polynomial is split into
irreducible factors over the parameters, and each factor is tested with the
Schur–Cohn–Jury criterion (:mod:`symdyn.linear.criteria`). The conditions are
necessary and sufficient for every root to lie strictly inside the unit
circle, i.e. for the linearisation to contract.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from symdyn.budget import bounded, phase
from symdyn.derivation import Derivation, Presented, TeX
from symdyn.errors import RuleError, ShapeError, UndecidedError
from symdyn.escaping import plain, safe_latex
from symdyn.frozen import freeze_fields
from symdyn.linear.criteria import (
    Criterion,
    moebius_transform,
    schur_criterion,
    sign_of,
    simplify_condition,
)
from symdyn.linear.modes import modes
from symdyn.rules.factoring import factor, factor_list
from symdyn.rules.printing import opening
from symdyn.rules.rule import UpdateRule
from symdyn.rules.values import exact_number, exact_values

__all__ = ["StabilityResult", "charpoly", "stability"]

Z = sp.Symbol("z")
S = sp.Symbol("s")


def charpoly(matrix, z=Z):
    """Characteristic polynomial ``det(z I - J)`` of a square matrix, as a ``Poly`` in ``z``.

    Examples
    --------
    >>> import sympy as sp
    >>> a = sp.Symbol("a", real=True)
    >>> charpoly(sp.Matrix([[a, 1], [0, a]])).as_expr()
    a**2 - 2*a*z + z**2
    """
    matrix = _as_jacobian(matrix)
    if matrix.rows != matrix.cols:
        raise ShapeError(f"the linearisation is {matrix.rows}×{matrix.cols}, not square")
    expr = sp.factor_terms(sp.expand((z * sp.eye(matrix.rows) - matrix).det(method="berkowitz")))
    return sp.Poly(sp.cancel(expr), z)


def _exact(value):
    """Exact sympy number for a Python or NumPy number, by the exact-number policy."""
    return exact_number(value, where="StepBound.contains")


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


def _factor_radius(piece):
    """Exact spectral radius of one irreducible factor, or None if no closed form."""
    z = piece.gen
    monic = piece.monic()
    if monic.degree() == 1:
        return sp.Abs(monic.nth(0))
    if monic.degree() == 2:
        trace, det = -monic.nth(1), monic.nth(0)
        # (a − b)² − 4c rather than its expansion when it does not factor: shorter to
        # read, and a lambdified radius then computes a − b once.
        discriminant = min(
            factor(trace**2 - 4 * det),
            factor(trace) ** 2 - factor(4 * det),
            key=sp.count_ops,
        )
        real_roots = (sp.Abs(trace) + sp.sqrt(discriminant)) / 2
        complex_pair = sp.sqrt(det)
        sign = sign_of(discriminant)
        if sign == -1:
            return complex_pair
        if sign in (0, 1):
            return real_roots
        complex_roots = sp.Lt(factor(trace) ** 2, factor(4 * det))  # discriminant < 0
        return sp.Piecewise((complex_pair, complex_roots), (real_roots, True))
    if monic.free_symbols - {z}:
        return None  # Cardano's radicals in symbols: no modulus sympy could compare
    return _largest_modulus(monic)


def _largest_modulus(monic):
    """The largest root modulus of a rational polynomial of degree ≥ 3, exactly, or None.

    The products ``z_i z_j`` of its roots are the roots of
    ``w ↦ Res_z(p(z), z^n p(w/z))``. Each ``|z_i|² = z_i z̄_i`` is one of them, and
    every real one is at most ``max |z_i|²`` in size, so ``ρ² = max |z_i|²`` is the
    largest real root of that resultant, which sympy isolates exactly (``CRootOf``).
    With only real roots, ``ρ`` is the largest real root of ``p(z) p(-z)`` instead.
    """
    z = monic.gen
    try:
        poly = sp.Poly(monic.as_expr(), z, domain="QQ")
    except (sp.PolynomialError, sp.polys.polyerrors.CoercionFailed):
        return None  # irrational coefficients: sympy cannot isolate the roots exactly
    n = poly.degree()
    if poly.count_roots() == n:
        mirrored = sp.Poly(poly.as_expr() * poly.as_expr().subs(z, -z), z)
        return mirrored.real_roots()[-1]
    w = sp.Dummy("w")
    reversed_ = sp.Poly(sp.expand(z**n * poly.as_expr().subs(z, w / z)), z)
    products = sp.Poly(sp.resultant(poly, reversed_, z), w)
    return sp.sqrt(products.real_roots()[-1])


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
        The largest root modulus (``Piecewise`` where the roots change from
        real to complex); ``None`` when no factor of degree ≥ 3 has closed-form roots.
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
        return None if self._raw is None else _marginal(self._raw)

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


def _rule_steps(rule, title):
    derivation = opening(rule, title)
    plus = sp.Matrix([sp.Symbol(f"{safe_latex(s)}^{{+}}") for s in rule.state])
    return derivation.then(
        "Substituting temporaries and earlier assignments gives the update map",
        TeX(safe_latex(plus) + " = " + safe_latex(rule.map)),
    )


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
        rule = _as_jacobian(rule)
    if isinstance(rule, UpdateRule) and at is None:
        return _stability_of_rule(rule, rule.free_inferred)
    return _stability(rule, at)


def _as_jacobian(value):
    """A square matrix of finite sympy expressions, or a RuleError (nothing is parsed)."""
    if isinstance(value, sp.MatrixBase):
        matrix = value
    elif isinstance(value, (list, tuple)) and all(isinstance(row, (list, tuple)) for row in value):
        rows = [[_entry(v) for v in row] for row in value]
        matrix = sp.Matrix(rows) if rows else sp.Matrix()
    else:
        raise RuleError(
            "stability needs an UpdateRule or a square sympy Matrix (its Jacobian), got a "
            f"{type(value).__name__}"
        )
    for entry in matrix:
        _entry(entry)
    return sp.ImmutableMatrix(matrix)


def _entry(value):
    if isinstance(value, sp.Basic) and not isinstance(value, sp.MatrixBase):
        return value  # a non-finite entry is refused with its position by the analysis
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return exact_number(value, where="a Jacobian entry")
    raise RuleError(
        f"a Jacobian entry must be a sympy expression or a number, got {value!r:.60} "
        "(strings are never parsed)"
    )


# Rules and results are immutable, so a rule analysed again (one map after another,
# a bound after a region) reuses its derivation instead of redoing the algebra.
@functools.lru_cache(maxsize=64)
def _stability_of_rule(rule, free_inferred):
    # free_inferred is not part of a rule's equality, but its derivation says it
    return _stability(rule, None)


def _stability(rule, at):
    if isinstance(rule, UpdateRule) and any(isinstance(s, sp.MatrixSymbol) for s in rule.state):
        # Quadratics of any dimension: one k×k system per eigenvalue (symdyn.linear.modes).
        reduction = modes(rule)
        if rule.counter is not None and rule.counter in reduction.jacobian.free_symbols:
            raise UndecidedError(
                f"{rule.name}: the per-mode Jacobian depends on the step counter {rule.counter} "
                "and has no limit symdyn can take; substitute a value to study one step"
            )
        derivation = Derivation(f"Linear stability of {plain(rule.name)}") + reduction.derivation
        return _analyse(rule, {}, reduction.jacobian, derivation)
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
        derivation = _rule_steps(rule, title)
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


def _analyse(rule, point, jac, derivation):
    _require_finite(jac, rule)
    phase("the characteristic polynomial")
    poly = charpoly(jac)
    derivation = derivation.then(
        "Iterates of the linearisation contract exactly when every root of the "
        "characteristic polynomial lies strictly inside the unit circle:",
        _charpoly_statement(jac, poly),
    )
    phase("factoring the characteristic polynomial")
    _, factors_found = factor_list(poly)
    factors = tuple(sp.Poly(f, Z) for f, _ in factors_found if sp.Poly(f, Z).degree() > 0)
    if len(factors) > 1:
        derivation = derivation.then(
            "It splits into factors whose roots can be located separately:",
            tuple(f.as_expr() for f in factors),
        )
    derivation = derivation.then(
        "The Möbius map $z = (1+s)/(1-s)$ sends the open unit disc onto the open left "
        "half-plane; each factor of degree $n$ becomes a polynomial in $s$:",
        tuple(_moebius_identity(f) for f in factors),
        again="The Möbius map $z = (1+s)/(1-s)$ again gives polynomials in $s$:",
    )
    raw, reasons = [], []
    closure_known = True
    for piece in factors:
        phase(f"the Schur–Cohn–Jury conditions of a factor of degree {piece.degree()}")
        criterion = schur_criterion(piece)
        raw.extend(criterion.exprs)
        reasons.extend(criterion.reasons)
        closure_known &= piece.degree() <= 2
    derivation = derivation.then(
        "By the Schur–Cohn–Jury criterion in this bilinear form, with the Liénard–Chipart "
        "form of the Routh–Hurwitz test applied to the transformed polynomial, every root "
        "lies inside the circle if and only if each of the following is positive: "
        + "; ".join(f"({i}) {reason}" for i, reason in enumerate(reasons, 1))
        + ".",
        tuple(sp.Gt(factor(e), 0, evaluate=False) for e in raw),
        again="By the Schur–Cohn–Jury criterion, stated above, each of these must be positive:",
    )
    criterion = Criterion(tuple(raw), tuple(reasons))
    phase("simplifying the conditions under the assumptions")
    conditions = criterion.simplified()
    region = sp.And(*conditions)
    assumptions = _assumption_text(jac.free_symbols)
    derivation = derivation.then(
        f"Dividing out factors of known sign{assumptions} and dropping conditions that "
        "always hold leaves the stability region",
        region if region in (sp.true, sp.false) else tuple(conditions),
    )
    phase("the spectral radius")
    radii = [_factor_radius(f) for f in factors]
    radius = (
        None
        if any(r is None for r in radii)
        else (radii[0] if len(radii) == 1 else sp.Max(*radii))
    )
    if radius is not None:
        derivation = derivation.then(
            "The asymptotic rate of convergence is the spectral radius",
            TeX(r"\rho(J) = " + safe_latex(radius)),
        )
    # A never-stable rule's derivation says where it is marginal, so that is worked out
    # now (and kept); otherwise it waits until ``marginal`` is read.
    marginal = _marginal(raw) if region is sp.false and closure_known else None
    if marginal not in (None, sp.false):
        derivation = derivation.then(
            "No parameter values make the rule contract. Where the following holds every "
            "root stays in the closed disc with one on the circle: the rule is marginal",
            marginal,
        )
    return StabilityResult(
        rule=rule,
        point=point,
        jacobian=sp.ImmutableMatrix(jac),
        charpoly=poly,
        factors=factors,
        conditions=conditions,
        region=region,
        spectral_radius=radius,
        derivation=derivation,
        _raw=tuple(raw) if closure_known else None,
        _known_marginal=marginal,
    )


def _require_finite(jac, rule):
    """Refuse a Jacobian with an entry that is not finite: no claim can be made from it."""
    for i in range(jac.rows):
        for j in range(jac.cols):
            entry = jac[i, j]
            if not entry.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
                continue
            where, hint = "stability: the linearisation", ""
            if rule is not None:
                where = f"{rule.name}: the Jacobian at the linearisation point"
                hint = " (the map has a pole or 0/0 there); linearise elsewhere with at={...}"
            raise RuleError(
                f"{where} has the entry {entry} in row {i + 1}, column {j + 1}, "
                f"which is not finite{hint}"
            )


def _charpoly_statement(jac, poly):
    """``det(zI - J) = p(z)``: an identity for n ≥ 2; for n = 1 ``|zI - J|`` would read
    as an absolute value, so the statement is written out instead."""
    if jac.rows == 1:
        return TeX("p(z) = z - J = " + safe_latex(sp.collect(poly.as_expr(), Z)))
    return sp.Eq(
        sp.Determinant(Z * sp.eye(jac.rows) - jac), sp.collect(poly.as_expr(), Z), evaluate=False
    )


def _moebius_identity(piece):
    """``(1 - s)**n p((1 + s)/(1 - s)) = q(s)`` as a checkable equation."""
    n = piece.degree()
    p = piece.as_expr().subs(piece.gen, (1 + S) / (1 - S))
    q = moebius_transform(piece, S).as_expr()
    return sp.Eq((1 - S) ** n * p, sp.collect(q, S), evaluate=False)


def _marginal(raw):
    """Where every raw condition holds weakly and at least one with equality.

    For factors of degree at most two the conditions are linear in the
    coefficients, so their weak form is exactly the closed disc.
    """
    closure, touches = [], []
    for expr in raw:
        strict, weak = simplify_condition(expr), simplify_condition(expr, weak=True)
        closure.append(weak)
        if weak is sp.false or strict is sp.true:
            continue
        # A weak form that always holds (b**2 >= 0 is True to sympy) still has a
        # boundary: where the strict form fails, i.e. where the relation is an equality.
        edge = weak if weak.is_Relational else strict
        touches.append(sp.true if strict is sp.false else sp.Eq(edge.lhs, edge.rhs))
    if len(touches) == 1 and isinstance(touches[0], sp.Eq):
        # Equality already implies its own weak inequality.
        boundary = touches[0]
        closure = [
            c
            for c in closure
            if not (c.is_Relational and (c.lhs, c.rhs) == (boundary.lhs, boundary.rhs))
        ]
    return sp.And(*closure, sp.Or(*touches))


def _assumption_text(symbols):
    positive = sorted((s for s in symbols if s.is_positive), key=str)
    if not positive:
        return ""
    names = ", ".join(f"${safe_latex(s)}$" for s in positive)
    return f" (with {names} positive)"
