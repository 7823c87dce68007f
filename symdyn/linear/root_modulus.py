"""The largest root modulus of a polynomial of degree three or more, exactly."""

from __future__ import annotations

import sympy as sp

__all__ = ["largest_root_modulus"]


def largest_root_modulus(monic):
    """The largest root modulus of a rational polynomial of degree ≥ 3, exactly, or None.

    The products ``z_i z_j`` of its roots are the roots of
    ``w ↦ Res_z(p(z), z^n p(w/z))``. Each ``|z_i|² = z_i z̄_i`` is one of them, and
    every real one is at most ``max |z_i|²`` in size, so ``ρ² = max |z_i|²`` is the
    largest real root of that resultant, which sympy isolates exactly (``CRootOf``).
    With only real roots, ``ρ`` is the largest real root of ``p(z) p(-z)`` instead.

    Examples
    --------
    >>> import sympy as sp
    >>> z = sp.Symbol("z")
    >>> largest_root_modulus(sp.Poly(z**3 - 8, z))
    2
    """
    z = monic.gen
    if monic.free_symbols - {z}:
        return None  # Cardano's radicals in symbols: no modulus sympy could compare
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
