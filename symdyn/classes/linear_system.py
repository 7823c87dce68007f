"""A first-order method as a linear system in feedback with the gradient.

A rule whose gradient calls are ``grad(f(y), y)`` of one undefined sympy ``Function``
``f``, at points y linear in the state, is the system of Lessard, Recht & Packard
(2016, §2):

    ξ_{k+1} = A ξ_k + B u_k,    y_k = C ξ_k + D u_k,    u_k = ∇f(y_k),

with ξ the state, y the points where the gradient is called and u the gradients
there. Each state variable stands for a vector of ℝᵈ and every coefficient is a
number, so the matrices act as A ⊗ I_d: the analyses work with the scalar A, B, C, D.
Here D = 0, since a point that needs a gradient to be found (an implicit method)
is refused.

Examples
--------
>>> import sympy as sp
>>> import symdyn as sd
>>> x = sp.Symbol("x", real=True)
>>> eta = sp.Symbol("eta", positive=True)
>>> f = sp.Function("f")
>>> system = linear_system(sd.optimizers.gd(f(x), [x], lr=eta), {eta: sp.Rational(1, 4)})
>>> system.A, system.B, system.C
(Matrix([[1]]), Matrix([[-1/4]]), Matrix([[1]]))
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from symdyn.derivation import Derivation, Presented, TeX, latex
from symdyn.errors import GradientOracleError
from symdyn.escaping import plain
from symdyn.rules.rule import UpdateRule
from symdyn.rules.values import exact_values

__all__ = ["LinearSystem", "gradient_calls", "linear_system", "symbolic_matrices"]


@dataclass(frozen=True)
class LinearSystem(Presented):
    """The matrices of a method in feedback with ∇f, exact rationals.

    Attributes
    ----------
    rule : UpdateRule
    function : sympy.FunctionClass
        The undefined function f.
    state : tuple
        ξ, the rule's state.
    points : tuple
        The points y_j (expressions in the state) where ∇f is called, in order.
    A, B, C, D : sympy.ImmutableMatrix
    derivation : Derivation
    """

    rule: UpdateRule
    function: object
    state: tuple
    points: tuple
    A: sp.ImmutableMatrix
    B: sp.ImmutableMatrix
    C: sp.ImmutableMatrix
    D: sp.ImmutableMatrix
    fixed_direction: sp.ImmutableMatrix
    derivation: Derivation = field(repr=False)

    @property
    def gradients(self):
        """The symbols u_1, ..., u_p standing for ∇f at the points."""
        return tuple(_gradient_symbols(len(self.points)))


def _gradient_symbols(count):
    if count == 1:
        return [sp.Symbol("u", real=True)]
    return [sp.Symbol(f"u_{j}", real=True) for j in range(1, count + 1)]


def _call_of(node, rule):
    """(f, point) of one gradient call: ``Derivative(f(x), x)`` or its ``Subs`` at a point."""
    point_map = {}
    derivative = node
    if isinstance(node, sp.Subs):
        derivative = node.expr
        point_map = dict(zip(node.variables, node.point, strict=True))
    if not isinstance(derivative, sp.Derivative):
        raise GradientOracleError(
            f"{rule.name}: {node} substitutes into something other than a gradient"
        )
    inner = derivative.expr
    variables = derivative.variable_count
    if not (
        isinstance(inner, sp.core.function.AppliedUndef)
        and len(inner.args) == 1
        and len(variables) == 1
        and variables[0][1] == 1
        and variables[0][0] == inner.args[0]
        and isinstance(inner.args[0], sp.Symbol)
    ):
        raise GradientOracleError(
            f"{rule.name}: {derivative} is not a gradient grad(f(y), y) of an undefined "
            "function f of one argument; write the oracle as sd.grad(f(y), y)"
        )
    argument = inner.args[0]
    return inner.func, point_map.get(argument, argument)


def _outer_derivatives(expression):
    """Derivatives and substituted derivatives in ``expression``, not looking inside them."""
    pending = [expression]
    while pending:
        node = pending.pop()
        if isinstance(node, (sp.Subs, sp.Derivative)):
            yield node
        else:
            pending.extend(reversed(node.args))


def gradient_calls(rule):
    """The gradient calls of ``rule``'s map: ``{node: (f, point)}``, in the order met.

    Raises
    ------
    GradientOracleError
        For a derivative that is not grad(f(y), y) of one undefined function, two
        different functions, or a gradient call inside another's point.
    """
    calls = {}
    for value in rule.next_state:
        for node in _outer_derivatives(value):
            if node not in calls:
                function, point = _call_of(node, rule)
                if point.has(sp.Derivative, sp.Subs):
                    raise GradientOracleError(
                        f"{rule.name}: the gradient at {point} needs another gradient to find "
                        "its point (an implicit or extra-gradient step); only points linear "
                        "in the state are supported"
                    )
                calls[node] = (function, point)
    functions = {function for function, _ in calls.values()}
    if len(functions) > 1:
        raise GradientOracleError(
            f"{rule.name}: the gradient calls involve several functions "
            f"({', '.join(sorted(map(str, functions)))}); a function class describes one"
        )
    if not calls:
        raise GradientOracleError(
            f"{rule.name}: the rule calls no gradient sd.grad(f(y), y) of an undefined "
            "function f = sp.Function('f'); a function class has nothing to act on"
        )
    return calls


def _rational_matrix(rule, matrix, name):
    symbols = set().union(*(entry.free_symbols for entry in matrix)) if matrix else set()
    if symbols:
        names = ", ".join(sorted(map(str, symbols)))
        raise GradientOracleError(
            f"{rule.name}: {name} depends on {names}; pass numeric values, params={{...}}",
            symbol=sorted(symbols, key=str)[0],
        )
    irrational = [entry for entry in matrix if not entry.is_Rational]
    if irrational:
        raise GradientOracleError(
            f"{rule.name}: {name} has the irrational entry {irrational[0]}; certificates "
            "are checked over the rationals, so pass rational values of the parameters"
        )
    return sp.ImmutableMatrix(matrix)


def _linear_part(rule, expressions, variables, where):
    """The coefficient matrix of ``expressions``, linear without constant in ``variables``."""
    for expression in expressions:
        try:
            poly = sp.Poly(expression, *variables)
        except sp.PolynomialError:
            poly = None
        if poly is None or poly.total_degree() > 1 or poly.coeff_monomial(1) != 0:
            raise GradientOracleError(
                f"{rule.name}: {where} {expression} is not linear in "
                f"{', '.join(map(str, variables))} (no constant term); the analyses over "
                "function classes need a linear system in feedback with the gradient"
            )
    return sp.Matrix(expressions).jacobian(sp.Matrix(variables))


def _check_rule(rule):
    if not isinstance(rule, UpdateRule):
        raise GradientOracleError(f"expected an UpdateRule, got {type(rule).__name__}")
    if any(not isinstance(s, sp.Symbol) for s in rule.state):
        raise GradientOracleError(
            f"{rule.name}: write the state as scalar symbols (each stands for a vector of "
            "R^d); matrix-symbol states are not supported by the function-class analyses"
        )
    if rule.is_time_varying:
        raise GradientOracleError(
            f"{rule.name}: the map depends on the step counter {rule.counter}; the "
            "certificates are for time-invariant methods"
        )


def symbolic_matrices(rule, params=None):
    """(A, B, C) of ``rule`` with ``params`` substituted, the other symbols left free.

    The search of :func:`symdyn.classes.design.tune_over_class` evaluates these at many
    numeric points; every certificate is still made from :func:`linear_system`.
    """
    _check_rule(rule)
    values = exact_values(params, rule.symbols, where=f"{rule.name}: params", closure=True)
    return _matrices(rule, values)[2]


def _matrices(rule, values):
    """The gradient calls, the gradient points and (A, B, C) with ``values`` substituted;
    symbols without a value stay in the entries."""
    calls = gradient_calls(rule)
    points = list(dict.fromkeys(point for _, point in calls.values()))
    gradients = _gradient_symbols(len(points))
    by_point = dict(zip(points, gradients, strict=True))
    replaced = [
        value.xreplace({node: by_point[point] for node, (_, point) in calls.items()})
        for value in rule.next_state
    ]
    replaced = [sp.expand(v.xreplace(values)) for v in replaced]
    loose = set().union(*(v.atoms(sp.core.function.AppliedUndef) for v in replaced))
    if loose:
        raise GradientOracleError(
            f"{rule.name}: {sorted(map(str, loose))[0]} appears outside a gradient call; "
            "a method over a function class reads f only through sd.grad(f(y), y)"
        )
    points = [sp.expand(p.xreplace(values)) for p in points]
    state = list(rule.state)
    whole = _linear_part(rule, replaced, state + gradients, "the update")
    output = _linear_part(rule, points, state, "the gradient point")
    n = len(state)
    return calls, points, (whole[:, :n], whole[:, n:], output)


def linear_system(rule, params=None):
    """The system (A, B, C, D) of ``rule`` with ``params`` substituted.

    Parameters
    ----------
    rule : UpdateRule
        Its state symbols are the components ξ; its gradients are sd.grad(f(y), y).
    params : mapping, optional
        Exact values for every parameter (floats read as decimals).

    Returns
    -------
    LinearSystem

    Raises
    ------
    GradientOracleError
        When the rule is not such a system, or a matrix entry is not a rational number.
    """
    _check_rule(rule)
    values = exact_values(params, rule.symbols, where=f"{rule.name}: params", closure=True)
    calls, points, (A, B, C) = _matrices(rule, values)
    state, gradients = list(rule.state), _gradient_symbols(len(points))
    A = _rational_matrix(rule, A, "A")
    B = _rational_matrix(rule, B, "B")
    C = _rational_matrix(rule, C, "C")
    D = sp.ImmutableMatrix.zeros(len(points), len(points))
    function = next(iter(calls.values()))[0]
    direction = _fixed_direction(rule, A, C)
    derivation = _derivation(rule, function, state, gradients, points, (A, B, C), values)
    return LinearSystem(
        rule=rule,
        function=function,
        state=tuple(state),
        points=tuple(points),
        A=A,
        B=B,
        C=C,
        D=D,
        fixed_direction=direction,
        derivation=derivation,
    )


def _fixed_direction(rule, A, C):
    """e with (A − I)e = 0 and Ce = 1 (free coordinates set to 0), or an error."""
    n = A.rows
    system = sp.Matrix.vstack(A - sp.eye(n), C)
    target = sp.Matrix.vstack(sp.zeros(n, 1), sp.ones(C.rows, 1))
    try:
        solution, free = system.gauss_jordan_solve(target)
    except ValueError:
        raise GradientOracleError(
            f"{rule.name}: no fixed point has every gradient call at the minimiser "
            "(no e with Ae = e and Ce = 1), so the method does not find minimisers"
        ) from None
    return sp.ImmutableMatrix(solution.xreplace({t: 0 for t in free}))


def _derivation(rule, function, state, gradients, points, matrices, values):
    A, B, C = matrices
    xi = sp.Matrix(state)
    u = sp.Matrix(gradients)
    calls = ", ".join(
        f"{latex(g)} = \\nabla {latex(function)}({latex(p)})"
        for g, p in zip(gradients, points, strict=True)
    )
    derivation = Derivation(f"{plain(rule.name)} as a linear system")
    if values:
        derivation = derivation.then(
            "With the parameters", tuple(sp.Eq(k, v) for k, v in values.items())
        )
    return derivation.then(
        f"the gradient calls are ${calls}$; each state variable stands for a vector of "
        "$\\mathbb{R}^d$ and the coefficients are numbers, so the method is the system "
        "$\\xi_{k+1} = A\\xi_k + B u_k$, $y_k = C \\xi_k$, $u_k = \\nabla f(y_k)$ "
        "(each matrix acting as its Kronecker product with $I_d$), with",
        (
            TeX(f"\\xi = {latex(xi)}, \\quad u = {latex(u)}"),
            TeX(f"A = {latex(A)}, \\quad B = {latex(B)}, \\quad C = {latex(C)}"),
        ),
    )
