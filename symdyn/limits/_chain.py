"""Jacobians of fields built from a generic loss, by the chain rule on its derivative atoms.

Modified equations differentiate long sums of products of ∂ᵅL; sympy builds and
canonicalises a new ``Derivative`` for every factor of every term. Here each atom
(L(x), ∂ᵅL) is differentiated once, the rest is differentiated as a polynomial in
stand-in symbols, and the atoms are put back:

    ∂e/∂v = ∂ẽ/∂v + Σ_a ∂ẽ/∂a · ∂a/∂v,   ẽ = e with each atom a replaced by a symbol.

The result is the same expression as ``sp.diff`` gives, after expansion.
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.core.function import AppliedUndef


def jacobian(column, variables):
    """The Jacobian of ``column`` (a column matrix) in ``variables``, as an ImmutableMatrix.

    Expressions with bound variables (``Subs``, integrals, sums) are left to sympy.

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y")
    >>> L = sp.Function("L")(x, y)
    >>> f = sp.Matrix([L.diff(x) ** 2, x * L.diff(y)])
    >>> jacobian(f, [x, y]) == f.jacobian([x, y])
    True
    """
    return _jacobian(sp.ImmutableMatrix(column), tuple(variables))


@functools.lru_cache(maxsize=256)
def _jacobian(column, variables):
    """:func:`jacobian` of immutable arguments; pure, so kept (the modified equation asks
    for the Jacobian of each term again when it looks for a modified loss)."""
    if column.has(sp.Subs, sp.Integral, sp.Sum, sp.Product):
        return sp.ImmutableMatrix(column.jacobian(variables))
    atoms = sorted(column.atoms(sp.Derivative, AppliedUndef), key=sp.default_sort_key)
    stand_in = {a: sp.Dummy() for a in atoms}
    back = {d: a for a, d in stand_in.items()}
    rates = {(a, v): sp.diff(a, v) for a in atoms for v in variables}
    rows = []
    for expr in column:
        plain = expr.xreplace(stand_in)
        row = []
        for v in variables:
            total = sp.diff(plain, v).xreplace(back)
            for a in atoms:
                if rates[a, v] != 0 and plain.has(stand_in[a]):
                    total += sp.diff(plain, stand_in[a]).xreplace(back) * rates[a, v]
            row.append(total)
        rows.append(row)
    return sp.ImmutableMatrix(rows)
