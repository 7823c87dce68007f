"""Exact curvature of a loss: its critical points and what kind each one is.

Where are the critical points of L and what are they (:func:`critical_points`):
∇L = 0 is solved with exact algebra (every solution, for a polynomial system),
and each point is classified from the signs of the Hessian's eigenvalues
(counted by Descartes' rule of signs when they have no closed form), with a
higher-order test along a one-dimensional null direction.

A claim that algebra cannot settle is reported as such ("undecided",
"degenerate"), never guessed. The Gauss–Newton split of a composed loss and
the response of a minimiser to hyperparameters are in :mod:`symdyn.curvature.chain_rule`,
which shares this module's checks of its inputs.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

import sympy as sp

from symdyn.budget import bounded
from symdyn.derivation import Derivation, Presented
from symdyn.errors import ExpressionTypeError, ShapeError, UndecidedError
from symdyn.escaping import safe_latex
from symdyn.frozen import freeze_fields
from symdyn.rules.rule import as_expression
from symdyn.rules.values import as_basic

__all__ = ["CriticalPoint", "critical_points"]


KINDS = ("minimum", "maximum", "saddle", "degenerate", "undecided")

# Highest order tried by the higher-order test along a null direction.
_MAX_ORDER = 12


def _scalar(loss, where):
    if isinstance(loss, sp.MatrixBase):
        if loss.shape != (1, 1):
            raise ShapeError(f"{where}: the loss must be a scalar, got a matrix {loss.shape}")
        loss = loss[0, 0]
    loss = as_expression(loss, f"{where}: the loss")
    if not isinstance(loss, sp.Expr):
        raise ExpressionTypeError(f"{where}: the loss {loss!r} is not a scalar expression")
    return loss


def _named(name, matrix):
    """The equation ``name = matrix`` (unevaluated, so it is shown, not decided)."""
    symbol = sp.MatrixSymbol(name, *matrix.shape)
    return sp.Eq(symbol, sp.ImmutableMatrix(matrix), evaluate=False)


def _symbols(items, role, where):
    if isinstance(items, sp.Symbol):
        items = [items]
    if not isinstance(items, Iterable) or isinstance(items, (str, sp.Basic)):
        raise ExpressionTypeError(
            f"{where}: {role} must be a list of sympy Symbols, got {items!r}"
        )
    items = list(items)
    bad = [v for v in items if not isinstance(v, sp.Symbol)]
    if bad or not items:
        raise ExpressionTypeError(
            f"{where}: {role} must be a non-empty list of sympy Symbols, got {items!r}"
        )
    if len(set(items)) != len(items):
        raise ExpressionTypeError(f"{where}: {role} repeat a symbol: {items!r}")
    return items


# --------------------------------------------------------------------------- critical points


@dataclass(frozen=True)
class CriticalPoint(Presented):
    """A solution of ∇L = 0 and what kind of point it is.

    Attributes
    ----------
    point : dict
        Symbol → exact value. A variable left free (a curve of critical
        points) maps to itself.
    kind : str
        ``"minimum"``, ``"maximum"`` (local, strict), ``"saddle"`` (neither a
        local minimum nor a local maximum), ``"degenerate"`` (the Hessian is
        singular and no test here decides), or ``"undecided"`` (the signs of
        the Hessian's eigenvalues, or of the higher derivative that would decide,
        depend on free symbols).
    hessian : sympy.ImmutableMatrix
        ∇²L at the point.
    eigenvalues : dict
        Eigenvalue → multiplicity of ``hessian``.
    derivation : Derivation
    """

    point: dict = field(hash=False)
    kind: str
    hessian: sp.ImmutableMatrix
    eigenvalues: dict = field(hash=False)
    derivation: Derivation = field(hash=False, compare=False)

    def __post_init__(self):
        freeze_fields(self, "point", "eigenvalues")


def _signs(eigenvalues):
    """Counts of (positive, negative, zero, unknown) eigenvalues, with multiplicity."""
    pos = neg = zero = unknown = 0
    for value, mult in eigenvalues.items():
        value = sp.simplify(value)
        if value.is_zero:
            zero += mult
        elif value.is_positive:
            pos += mult
        elif value.is_negative:
            neg += mult
        else:
            unknown += mult
    return pos, neg, zero, unknown


def _along_null(loss, variables, point, hessian, sign):
    """Higher-order test when ∇²L has a one-dimensional null space.

    ``sign`` is +1 if the other eigenvalues are positive, -1 if negative, 0
    if there are none. Writes x = p + t v + Σ wᵢ rᵢ (v spans the null space,
    the rᵢ the range) and looks at g(t) = L(p + t v) − L(p). If the first
    nonzero derivative of g at 0 has odd order, or even order with sign
    opposite to ``sign``, L decreases along one line and increases along
    another: a saddle. If it has even order and the same sign, the point is
    a strict extremum provided L separates into g(t) + r(w), i.e. every
    mixed derivative ∂²L/∂t∂wᵢ vanishes identically; without that, Peano's
    surface (y − x²)(y − 2x²) shows the line test can mislead.

    Returns (kind or None, sentence).
    """
    (v,) = hessian.nullspace()
    ranges = hessian.columnspace()
    t = sp.Dummy("t")
    ws = [sp.Dummy(f"w{i}") for i in range(len(ranges))]
    shift = v * t
    for w, r in zip(ws, ranges, strict=True):
        shift += r * w
    moved = loss.subs({x: point[x] + shift[i] for i, x in enumerate(variables)}, simultaneous=True)
    line = moved.subs(dict.fromkeys(ws, 0))
    order, coefficient = None, None
    derivative = line
    for n in range(1, _MAX_ORDER + 1):
        derivative = sp.diff(derivative, t)
        value = sp.simplify(derivative.subs(t, 0))
        if value.is_zero:
            continue
        if value.is_zero is None or value.is_positive is None:
            return (
                "undecided",
                f"The sign of the order-{n} derivative along the null direction "
                "depends on free symbols.",
            )
        order, coefficient = n, value
        break
    if order is None:
        return None, (
            f"Along the null direction the first {_MAX_ORDER} derivatives vanish; "
            "the test does not decide."
        )
    step = (
        f"Along the null direction $v = {safe_latex(v.T)}^T$ the first nonzero derivative "
        f"of $g(t) = L(p + t v)$ is of order {order}: "
        f"$g^{{({order})}}(0) = {safe_latex(coefficient)}$."
    )
    line_sign = 1 if coefficient.is_positive else -1
    if order % 2 == 1 or (sign != 0 and line_sign != sign):
        return "saddle", step + " L rises along one direction and falls along another: a saddle."
    separable = all(sp.simplify(sp.diff(moved, t, w)) == 0 for w in ws)
    if not separable:
        return None, step + (
            " L does not separate into a function of t plus a function of the other "
            "coordinates, so the line test does not decide."
        )
    kind = "minimum" if line_sign > 0 else "maximum"
    return kind, step + f" L separates along the null direction, so the point is a strict {kind}."


def _descartes(hessian):
    """Sign counts from the characteristic polynomial, when the eigenvalues have no closed form.

    A symmetric matrix's characteristic polynomial has only real roots, so
    Descartes' rule of signs counts its positive roots exactly (and, on
    p(−λ), its negative ones); zero roots are the trailing zero coefficients.
    """
    lam = sp.Dummy("lambda")
    coeffs = [sp.simplify(c) for c in hessian.charpoly(lam).all_coeffs()]
    zero = 0
    while coeffs and coeffs[-1].is_zero:
        coeffs.pop()
        zero += 1
    signs = []
    for c in coeffs:
        if c.is_zero:
            continue
        if c.is_positive is None and c.is_negative is None:
            return 0, 0, 0, hessian.shape[0]
        signs.append(1 if c.is_positive else -1)
    degree = len(coeffs) - 1
    flipped = [
        (1 if c.is_positive else -1) * (-1) ** (degree - i)
        for i, c in enumerate(coeffs)
        if not c.is_zero
    ]
    changes = sum(a != b for a, b in itertools.pairwise(signs))
    changes_neg = sum(a != b for a, b in itertools.pairwise(flipped))
    return changes, changes_neg, zero, 0


def _classify(loss, variables, point, hessian):
    try:
        eigenvalues = hessian.eigenvals()
        pos, neg, zero, unknown = _signs(eigenvalues)
    except (sp.MatrixError, NotImplementedError):
        eigenvalues = {}
        pos, neg, zero, unknown = _descartes(hessian)
    if unknown:
        return "undecided", eigenvalues, "The signs of some eigenvalues depend on free symbols."
    if pos and neg:
        return "saddle", eigenvalues, "The Hessian has eigenvalues of both signs: a saddle."
    if not zero:
        kind = "minimum" if pos else "maximum"
        word = "positive" if pos else "negative"
        return kind, eigenvalues, f"Every eigenvalue is {word}: a strict local {kind}."
    if zero == 1:
        sign = 1 if pos else (-1 if neg else 0)
        kind, sentence = _along_null(loss, variables, point, hessian, sign)
        return kind or "degenerate", eigenvalues, "The Hessian is singular. " + sentence
    return (
        "degenerate",
        eigenvalues,
        (
            f"The Hessian has a {zero}-dimensional null space; "
            "the second-order test does not decide."
        ),
    )


def _solve_gradient(gradient, variables):
    polynomial = all(g.is_polynomial(*variables) for g in gradient)
    try:
        solutions = sp.solve(list(gradient), variables, dict=True)
    except NotImplementedError as err:
        raise UndecidedError(f"critical_points: sympy cannot solve ∇L = 0 ({err})") from err
    if not polynomial and len(variables) == 1:
        found = sp.solveset(gradient[0], variables[0], domain=sp.S.Reals)
        if not isinstance(found, sp.FiniteSet):
            raise UndecidedError(
                f"critical_points: the solutions of {gradient[0]} = 0 are {found}, "
                "not a finite list"
            )
        solutions = [{variables[0]: value} for value in found]
    real = []
    for solution in solutions:
        if any(as_basic(value).is_real is False for value in solution.values()):
            continue
        real.append({x: solution.get(x, x) for x in variables})
    return real, polynomial or len(variables) == 1


@bounded("critical_points")
def critical_points(loss, vars) -> list[CriticalPoint]:
    """Solve ∇L = 0 exactly and classify each solution by its Hessian.

    Eigenvalues all positive: strict minimum; all negative: strict maximum;
    both signs: saddle. When the Hessian is singular with a one-dimensional
    null space, the first nonzero derivative along that direction decides
    (odd order or the wrong sign: saddle; even order with the sign of the
    other eigenvalues, and L separable along it: strict extremum).
    Otherwise the point is ``"degenerate"``.

    Parameters
    ----------
    loss : sympy.Expr
        A scalar; other symbols than ``vars`` are parameters.
    vars : sequence of sympy.Symbol
        The variables to solve for (declare them ``real=True`` to skip complex roots).
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

    Returns
    -------
    list of CriticalPoint
        In the order sympy's ``solve`` returns them. Solutions with a
        non-real coordinate are dropped.

    Raises
    ------
    UndecidedError
        sympy cannot solve ∇L = 0, or (one variable) the solution set is infinite.

    Notes
    -----
    For polynomial gradients (and any single variable) the list is
    complete; for other systems of several variables it is what
    ``sympy.solve`` finds, and each derivation says so.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> [(cp.point[x], cp.kind) for cp in critical_points(x**4 - 2 * x**2, [x])]
    [(-1, 'minimum'), (0, 'maximum'), (1, 'minimum')]
    >>> critical_points(x**4 + y**2, [x, y])[0].kind
    'minimum'
    """
    loss = _scalar(loss, "critical_points")
    variables = _symbols(vars, "vars", "critical_points")
    gradient = sp.Matrix([sp.diff(loss, x) for x in variables])
    hessian = sp.hessian(loss, variables)
    points, complete = _solve_gradient(gradient, variables)
    base = (
        Derivation(f"Critical points of ${safe_latex(loss)}$")
        .then(
            "Set the gradient to zero:",
            sp.Eq(gradient, sp.zeros(len(variables), 1), evaluate=False),
        )
        .then(
            "The solutions found are "
            + (
                "all of them (a polynomial system, solved by Gröbner bases)."
                if complete
                else "those sympy's solve finds; the system is not polynomial, "
                "so the list may be incomplete."
            )
        )
        .then("The Hessian:", _named("H", hessian))
    )
    results = []
    for point in points:
        at = sp.ImmutableMatrix(sp.simplify(hessian.subs(point, simultaneous=True)))
        kind, eigenvalues, sentence = _classify(loss, variables, point, at)
        derivation = (
            base.then(
                "At the point",
                tuple(sp.Eq(x, point[x]) for x in variables if point[x] != x),
            )
            .then("the Hessian and its eigenvalues are", (at, sp.FiniteSet(*eigenvalues)))
            .then(sentence)
        )
        results.append(CriticalPoint(point, kind, at, eigenvalues, derivation))
    return results
