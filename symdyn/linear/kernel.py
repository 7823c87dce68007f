"""The linear kernel: what every linear analysis of a rule shares, written once.

- :func:`characteristic_polynomial` and :func:`determinant`, fraction-free in a
  polynomial or fraction domain (sympy's ``DomainMatrix``).
- :func:`factor_radius`, the exact spectral radius of one irreducible factor: a
  closed form up to degree two (:func:`quadratic_radius`), the largest root
  modulus above it (:mod:`symdyn.linear.root_modulus`).
- :func:`per_mode_jacobian`, the Jacobian one mode of a linear rule evolves by.
- :func:`as_jacobian`, a caller's matrix under the exact-number policy of
  :mod:`symdyn.rules.values` (floats become the decimals they print as).
- :func:`opening_steps`, the derivation's opening: the rule
  (:func:`symdyn.rules.printing.opening`) and its update map.

:mod:`symdyn.linear.stability`, :mod:`symdyn.linear.spectrum`,
:mod:`symdyn.linear.zero_stability` and the limits' Routh–Hurwitz, Hamiltonian
and SDE analyses all go through it.
"""

from __future__ import annotations

import numbers

import sympy as sp
from sympy.polys.matrices import DomainMatrix

from symdyn.derivation import TeX
from symdyn.errors import RuleError, ShapeError, UndecidedError
from symdyn.escaping import safe_latex
from symdyn.linear.modes import ModalReduction, modes
from symdyn.linear.root_modulus import largest_root_modulus
from symdyn.rules.factoring import factor
from symdyn.rules.printing import opening
from symdyn.rules.signs import sign_of
from symdyn.rules.values import exact_number

__all__ = [
    "Z",
    "as_jacobian",
    "characteristic_polynomial",
    "determinant",
    "exact_number",
    "factor_radius",
    "opening",
    "opening_steps",
    "per_mode_jacobian",
    "quadratic_radius",
]

Z = sp.Symbol("z")


def _domain_matrix(matrix):
    matrix = sp.Matrix(matrix)
    if matrix.rows != matrix.cols:
        raise ShapeError(f"the linearisation is {matrix.rows}×{matrix.cols}, not square")
    return DomainMatrix.from_Matrix(matrix)


def characteristic_polynomial(matrix, z=Z):
    """``det(z I - J)`` as a ``Poly`` in ``z``.

    Computed without division in the smallest polynomial or fraction domain of
    the entries (sympy's ``DomainMatrix.charpoly``, Berkowitz's algorithm), so no
    expression is expanded or simplified along the way.

    Examples
    --------
    >>> import sympy as sp
    >>> a = sp.Symbol("a", real=True)
    >>> characteristic_polynomial(sp.Matrix([[a, 1], [0, a]])).as_expr()
    a**2 - 2*a*z + z**2
    """
    dm = _domain_matrix(matrix)
    if dm.shape == (0, 0):
        return sp.Poly(1, z)
    coefficients = [dm.domain.to_sympy(c) for c in dm.charpoly()]
    return sp.Poly(coefficients, z)


def determinant(matrix):
    """``det(J)``, fraction-free in the entries' domain (``DomainMatrix.det``).

    Examples
    --------
    >>> import sympy as sp
    >>> a, b = sp.symbols("a b")
    >>> determinant(sp.Matrix([[a, b], [b, a]]))
    a**2 - b**2
    """
    dm = _domain_matrix(matrix)
    return dm.domain.to_sympy(dm.det())


def quadratic_radius(trace, det):
    """The largest root modulus of ``z**2 - trace*z + det`` (real coefficients), exactly.

    A complex pair has modulus ``√det``; real roots ``(|T| + √(T² − 4D))/2``;
    ``Piecewise`` between the two where the discriminant's sign is not fixed.

    Examples
    --------
    >>> import sympy as sp
    >>> quadratic_radius(sp.Integer(1), sp.Rational(1, 2))
    sqrt(2)/2
    """
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


def factor_radius(piece):
    """The spectral radius of one factor of a characteristic polynomial, exactly.

    Degree one: ``|a|``; degree two: :func:`quadratic_radius`; degree three and
    more: the largest root modulus (:func:`symdyn.linear.root_modulus.largest_root_modulus`),
    never Cardano's or Ferrari's radicals.

    Examples
    --------
    >>> import sympy as sp
    >>> z = sp.Symbol("z")
    >>> factor_radius(sp.Poly(2*z + 1, z))
    1/2
    """
    monic = piece.monic()
    if monic.degree() == 1:
        return sp.Abs(monic.nth(0))
    if monic.degree() == 2:
        return quadratic_radius(-monic.nth(1), monic.nth(0))
    return largest_root_modulus(monic)


def per_mode_jacobian(rule) -> ModalReduction:
    """The Jacobian one mode of a matrix-state linear rule evolves by (:func:`modes`),
    refused when it still depends on the step counter (no limit symdyn can take).

    Examples
    --------
    >>> import sympy as sp, symdyn as sd
    >>> eta = sp.Symbol("eta", positive=True)
    >>> q = sd.quadratic("theta", n=sp.Symbol("n"))
    >>> per_mode_jacobian(sd.optimizers.gd(q.loss, [q.theta], lr=eta)).jacobian
    Matrix([[-eta*lambda + 1]])
    """
    reduction = modes(rule)
    if rule.counter is not None and rule.counter in reduction.jacobian.free_symbols:
        raise UndecidedError(
            f"{rule.name}: the per-mode Jacobian depends on the step counter {rule.counter} "
            "and has no limit symdyn can take; substitute a value to study one step, or use "
            "symdyn.linear.time_varying.periodic_stability for a periodic schedule such as (-1)**k"
        )
    return reduction


def as_jacobian(value):
    """A square matrix of finite sympy expressions, or a RuleError (nothing is parsed).

    Python and NumPy numbers follow the exact-number policy (:func:`exact_number`).

    Examples
    --------
    >>> as_jacobian([[0.5, 1], [0, 2]])
    Matrix([
    [1/2, 1],
    [  0, 2]])
    """
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


def opening_steps(rule, title):
    """The derivation's opening (:func:`symdyn.rules.printing.opening`), then the update map
    with temporaries and earlier assignments substituted.

    Examples
    --------
    >>> import sympy as sp, symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> d = opening_steps(sd.optimizers.gd(x**2 / 2, [x], sp.Symbol("eta")), "GD")
    >>> d.steps[-1].text
    'Substituting temporaries and earlier assignments gives the update map'
    """
    derivation = opening(rule, title)
    plus = sp.Matrix([sp.Symbol(f"{safe_latex(s)}^{{+}}") for s in rule.state])
    return derivation.then(
        "Substituting temporaries and earlier assignments gives the update map",
        TeX(safe_latex(plus) + " = " + safe_latex(rule.map)),
    )
