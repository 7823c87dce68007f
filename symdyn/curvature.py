"""Exact curvature of a loss: critical points, the Gauss–Newton split, response Jacobians.

Three questions about the second derivatives of a training loss, answered
with exact algebra and a derivation each:

- where are the critical points of L and what are they (:func:`critical_points`);
- how does the Hessian of L(z(θ)) split into the always-usable Gauss–Newton
  term JᵀH_L J and the residual term (:func:`gauss_newton`);
- how does a minimiser θ*(φ) move with a hyperparameter φ
  (:func:`response_jacobian`, the implicit function theorem).

A claim that algebra cannot settle is reported as such ("undecided",
"degenerate"), never guessed.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sympy as sp

from symdyn.derivation import Derivation
from symdyn.errors import ExpressionTypeError, ShapeError, UndecidedError

__all__ = [
    "CriticalPoint",
    "GaussNewton",
    "ResponseJacobian",
    "critical_points",
    "gauss_newton",
    "response_jacobian",
]

KINDS = ("minimum", "maximum", "saddle", "degenerate", "undecided")

# Highest order tried by the higher-order test along a null direction.
_MAX_ORDER = 12


def _scalar(loss, where):
    if isinstance(loss, sp.MatrixBase):
        if loss.shape != (1, 1):
            raise ShapeError(f"{where}: the loss must be a scalar, got a matrix {loss.shape}")
        loss = loss[0, 0]
    try:
        loss = sp.sympify(loss, strict=True)
    except sp.SympifyError as err:
        raise ExpressionTypeError(f"{where}: the loss {loss!r} is not a sympy expression") from err
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
class CriticalPoint:
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
        f"Along the null direction $v = {sp.latex(v.T)}^T$ the first nonzero derivative "
        f"of $g(t) = L(p + t v)$ is of order {order}: "
        f"$g^{{({order})}}(0) = {sp.latex(coefficient)}$."
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
        if any(sp.sympify(value).is_real is False for value in solution.values()):
            continue
        real.append({x: solution.get(x, x) for x in variables})
    return real, polynomial or len(variables) == 1


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
        Derivation(f"Critical points of ${sp.latex(loss)}$")
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


# --------------------------------------------------------------------------- Gauss–Newton


@dataclass(frozen=True)
class GaussNewton:
    """The Hessian of L(z(θ)) split as Jᵀ H_L J + Σᵢ (∂L/∂zᵢ) ∇²zᵢ.

    Attributes
    ----------
    jacobian : sympy.ImmutableMatrix
        J = ∂z/∂θ, one row per output.
    output_hessian : sympy.ImmutableMatrix
        H_L = ∂²L/∂z², in the output symbols.
    gauss_newton : sympy.ImmutableMatrix
        Jᵀ H_L J as a function of θ.
    residual : sympy.ImmutableMatrix
        Σᵢ (∂L/∂zᵢ)(z(θ)) ∇²_θ zᵢ.
    hessian : sympy.ImmutableMatrix
        ∇²_θ L(z(θ)), computed directly; equals ``gauss_newton + residual``.
    psd_condition : sympy.Boolean
        H_L is positive semidefinite (every principal minor ≥ 0), which
        makes the Gauss–Newton term positive semidefinite for every J.
    derivation : Derivation
    """

    jacobian: sp.ImmutableMatrix
    output_hessian: sp.ImmutableMatrix
    gauss_newton: sp.ImmutableMatrix
    residual: sp.ImmutableMatrix
    hessian: sp.ImmutableMatrix
    psd_condition: sp.Basic
    derivation: Derivation = field(compare=False)


def _outputs(model, where):
    if isinstance(model, Mapping):
        pairs = list(model.items())
    else:
        try:
            pairs = [tuple(pair) for pair in model]
        except TypeError as err:
            raise ExpressionTypeError(
                f"{where}: the model must map output symbols to expressions "
                "(a dict or a list of (z, expression) pairs)"
            ) from err
    if not pairs or any(len(p) != 2 or not isinstance(p[0], sp.Symbol) for p in pairs):
        raise ExpressionTypeError(
            f"{where}: the model must map output symbols to expressions, got {model!r}"
        )
    return [z for z, _ in pairs], [sp.sympify(e) for _, e in pairs]


def _psd_condition(matrix):
    n = matrix.shape[0]
    conditions = []
    for size in range(1, n + 1):
        for rows in itertools.combinations(range(n), size):
            minor = sp.simplify(matrix.extract(list(rows), list(rows)).det())
            conditions.append(sp.Ge(minor, 0))
    return sp.And(*conditions)


def gauss_newton(loss, model, params) -> GaussNewton:
    """Split ∇²_θ L(z(θ)) into the Gauss–Newton term and the residual term.

    With J = ∂z/∂θ and H_L = ∂²L/∂z²,

        ∇²_θ L = Jᵀ H_L J + Σᵢ (∂L/∂zᵢ) ∇²_θ zᵢ.

    The first term is positive semidefinite whenever H_L is (convex losses:
    squared error, cross-entropy on logits); the second vanishes where the
    model interpolates (∂L/∂z = 0) or is linear in θ.

    Parameters
    ----------
    loss : sympy.Expr
        L as a function of the output symbols.
    model : dict or sequence of (Symbol, Expr)
        Each output symbol zᵢ and its expression in ``params``.
    params : sequence of sympy.Symbol

    Returns
    -------
    GaussNewton

    Examples
    --------
    >>> import sympy as sp
    >>> z, a, b, y = sp.symbols("z a b y", real=True)
    >>> gn = gauss_newton((z - y) ** 2 / 2, {z: a * b}, [a, b])
    >>> gn.gauss_newton
    Matrix([
    [b**2,  a*b],
    [ a*b, a**2]])
    >>> gn.residual
    Matrix([
    [       0, a*b - y],
    [a*b - y,       0]])
    >>> gn.psd_condition
    True
    """
    loss = _scalar(loss, "gauss_newton")
    theta = _symbols(params, "params", "gauss_newton")
    outputs, expressions = _outputs(model, "gauss_newton")
    clash = set(outputs) & set(theta)
    if clash:
        raise ExpressionTypeError(
            f"gauss_newton: {sorted(clash, key=str)} are both outputs and params"
        )
    at_model = dict(zip(outputs, expressions, strict=True))
    jac = sp.ImmutableMatrix(sp.Matrix(expressions).jacobian(theta))
    h_out = sp.ImmutableMatrix(sp.hessian(loss, outputs))
    h_out_at = h_out.subs(at_model, simultaneous=True)
    gn = sp.ImmutableMatrix(jac.T * h_out_at * jac)
    residual = sp.zeros(len(theta), len(theta))
    for z, e in zip(outputs, expressions, strict=True):
        weight = sp.diff(loss, z).subs(at_model, simultaneous=True)
        residual += weight * sp.hessian(e, theta)
    residual = sp.ImmutableMatrix(residual)
    composed = loss.subs(at_model, simultaneous=True)
    hessian = sp.ImmutableMatrix(sp.hessian(composed, theta))
    condition = _psd_condition(h_out)
    n, m = len(theta), len(outputs)
    J, H = sp.MatrixSymbol("J", m, n), sp.MatrixSymbol("H_L", m, m)
    R = sp.MatrixSymbol("R", n, n)
    derivation = (
        Derivation("Gauss–Newton split of the Hessian")
        .then(
            "By the chain rule twice, the Hessian $H$ of $L(z(\\theta))$ is a Gauss–Newton "
            "term $G = J^T H_L J$ plus a residual term $R$ weighted by "
            "$\\partial L / \\partial z$:",
            sp.Eq(sp.MatrixSymbol("H", n, n), J.T * H * J + R, evaluate=False),
        )
        .then("The model's Jacobian:", _named("J", jac))
        .then("The loss's Hessian in the outputs:", _named("H_L", h_out))
        .then("The Gauss–Newton term:", _named("G", gn))
        .then("The residual term:", _named("R", residual))
        .then(
            "$J^T H_L J$ is positive semidefinite for every $J$ when $H_L$ is, i.e. when "
            "every principal minor of $H_L$ is nonnegative:",
            condition,
        )
    )
    return GaussNewton(jac, h_out, gn, residual, hessian, condition, derivation)


# --------------------------------------------------------------------------- response Jacobian


@dataclass(frozen=True)
class ResponseJacobian:
    """How a minimiser moves with hyperparameters: dθ*/dφ.

    Attributes
    ----------
    matrix : sympy.ImmutableMatrix
        −(∂²L/∂θ²)⁻¹ ∂²L/∂θ∂φ, one row per parameter, one column per
        hyperparameter; a function of θ and φ to be read at θ = θ*(φ)
        (substituted already when ``at`` was given).
    condition : sympy.Boolean
        det ∂²L/∂θ² ≠ 0: where it holds, the implicit function theorem gives
        a differentiable θ*(φ) near the point.
    derivation : Derivation
    """

    matrix: sp.ImmutableMatrix
    condition: sp.Basic
    derivation: Derivation = field(compare=False)


def response_jacobian(loss, params, hyper, at: Mapping | None = None) -> ResponseJacobian:
    """dθ*/dφ at a minimiser by the implicit function theorem.

    Differentiating ∇_θ L(θ*(φ), φ) = 0 in φ gives
    ∂²L/∂θ² · dθ*/dφ + ∂²L/∂θ∂φ = 0, so

        dθ*/dφ = −(∂²L/∂θ²)⁻¹ ∂²L/∂θ∂φ   where det ∂²L/∂θ² ≠ 0.

    Parameters
    ----------
    loss : sympy.Expr
    params : sequence of sympy.Symbol
        θ, the variables minimised over.
    hyper : sequence of sympy.Symbol
        φ, the hyperparameters.
    at : dict, optional
        θ*(φ) (or any point); substituted into the result and the condition.

    Returns
    -------
    ResponseJacobian

    Examples
    --------
    >>> import sympy as sp
    >>> w, a = sp.symbols("w a", real=True)
    >>> c = sp.Symbol("c", positive=True)
    >>> loss = (w - a) ** 2 / 2 + c * w**2 / 2       # ridge: w* = a / (1 + c)
    >>> r = response_jacobian(loss, [w], [c], at={w: a / (1 + c)})
    >>> r.matrix
    Matrix([[-a/(c + 1)**2]])
    >>> r.condition
    True
    """
    loss = _scalar(loss, "response_jacobian")
    theta = _symbols(params, "params", "response_jacobian")
    phi = _symbols(hyper, "hyper", "response_jacobian")
    clash = set(theta) & set(phi)
    if clash:
        raise ExpressionTypeError(
            f"response_jacobian: {sorted(clash, key=str)} are both params and hyper"
        )
    gradient = sp.Matrix([sp.diff(loss, x) for x in theta])
    h_tt = sp.Matrix(sp.hessian(loss, theta))
    h_tp = gradient.jacobian(phi)
    if at:
        h_tt = h_tt.subs(at, simultaneous=True)
        h_tp = h_tp.subs(at, simultaneous=True)
    det = sp.factor(sp.simplify(h_tt.det()))
    condition = sp.simplify(sp.Ne(det, 0))
    if condition is sp.false:
        raise UndecidedError(
            "response_jacobian: ∂²L/∂θ² is singular everywhere "
            "(det = 0); θ*(φ) is not determined by the implicit function theorem"
        )
    matrix = sp.ImmutableMatrix(sp.simplify(-h_tt.adjugate() * h_tp / det))
    derivation = (
        Derivation("Response of the minimiser to the hyperparameters")
        .then(
            "At a minimiser the gradient vanishes for every $\\phi$:",
            sp.Eq(gradient, sp.zeros(len(theta), 1), evaluate=False),
        )
        .then(
            "Differentiating in $\\phi$ gives $H_{\\theta\\theta} D + H_{\\theta\\phi} = 0$ "
            "with $D = d\\theta^*/d\\phi$ and",
            (_named("H_{\\theta\\theta}", h_tt), _named("H_{\\theta\\phi}", h_tp)),
        )
        .then("The implicit function theorem applies where", condition)
        .then("and there", _named("D", matrix))
    )
    return ResponseJacobian(matrix, condition, derivation)
