"""The largest root modulus of a polynomial, exactly, without radicals.

Above degree two the spectral radius of a factor is not written with Cardano's
or Ferrari's radicals. It is

* for rational coefficients, ``|r|`` for one root ``r`` given as a ``CRootOf``
  (an algebraic number with an isolating interval), chosen by refining the
  intervals until its modulus provably exceeds every other's;
* for symbolic coefficients, the expression :class:`LargestRootModulus`, which
  stands for ``max{|z| : p(z) = 0}`` the way ``Abs`` stands for ``|x|``: it
  substitutes, evaluates to any precision, lambdifies to NumPy and mpmath, and
  prints in LaTeX as a paper would write it.
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp
from sympy.polys.matrices import DomainMatrix

__all__ = [
    "LargestRootModulus",
    "largest_root_modulus",
    "mpmath_largest_modulus",
    "numpy_largest_modulus",
]

_Z = sp.Symbol("z")


class LargestRootModulus(sp.Function):
    r"""``max{|z| : z**n + a[0] z**(n-1) + ... + a[n-1] = 0}``, the largest root modulus
    of the monic polynomial with coefficients ``a`` (leading one left out).

    With rational coefficients it evaluates exactly (:func:`largest_root_modulus`);
    with Floats or under ``evalf`` numerically (mpmath's ``polyroots``).

    Examples
    --------
    >>> import sympy as sp
    >>> b = sp.Symbol("b", real=True)
    >>> rho = LargestRootModulus(0, 0, -b)
    >>> rho.polynomial().as_expr()
    -b + z**3
    >>> rho.subs(b, 8)
    2
    >>> print(sp.latex(rho))
    \max \left\{ |z| : z^{3} - b = 0 \right\}
    >>> round(float(rho.subs(b, 2.0)), 12) == round(2 ** (1 / 3), 12)
    True
    """

    is_extended_real = True
    is_extended_nonnegative = True
    is_finite = True

    @classmethod
    def eval(cls, *coefficients):
        if not coefficients:
            return sp.S.Zero
        if all(c.is_Rational for c in coefficients):
            return largest_root_modulus(_monic(coefficients))
        return None

    def polynomial(self, z=_Z):
        """The monic polynomial ``p`` as a ``Poly`` in ``z``."""
        return _monic(self.args, z)

    def _eval_evalf(self, prec):
        values = [c.evalf(prec) for c in self.args]
        if not all(v.is_number and v.is_extended_real for v in values):
            return None
        import mpmath

        with mpmath.workprec(prec + 20):
            radius = mpmath_largest_modulus(*(mpmath.mpf(str(v)) for v in values))
        return sp.Float(radius, precision=prec)

    def _latex(self, printer):
        return r"\max \left\{ |z| : " + _descending(self.polynomial(), printer) + r" = 0 \right\}"

    def _sympystr(self, printer):
        terms = [
            printer._print(c * self.polynomial().gen ** k) for (k,), c in self.polynomial().terms()
        ]
        text = " + ".join(terms).replace("+ -", "- ")
        return f"max|roots of {text}|"

    def _numpycode(self, printer):
        name = printer._module_format("symdyn.linear.root_modulus.numpy_largest_modulus")
        return f"{name}({', '.join(map(printer._print, self.args))})"

    def _mpmathcode(self, printer):
        name = printer._module_format("symdyn.linear.root_modulus.mpmath_largest_modulus")
        return f"{name}({', '.join(map(printer._print, self.args))})"

    _pythoncode = _mpmathcode


def _descending(poly, printer):
    """``poly`` in LaTeX with its terms by falling degree, coefficients first, as a paper
    writes it: ``z^{3} + \\left(a - 1\\right) z^{2} - b z + 2 a b``."""
    text = ""
    for (k,), c in poly.terms():
        power = printer._print(poly.gen**k)
        negative = c.could_extract_minus_sign()
        magnitude = -c if negative else c
        if k == 0:
            term = printer._print(magnitude)
        elif magnitude == 1:
            term = power
        elif magnitude.is_Add:
            term = r"\left(" + printer._print(magnitude) + r"\right) " + power
        else:
            term = printer._print(magnitude) + " " + power
        sign = "-" if negative else "+"
        text = (("- " if negative else "") + term) if not text else f"{text} {sign} {term}"
    return text


def _monic(coefficients, z=_Z):
    return sp.Poly([sp.S.One, *coefficients], z)


def numpy_largest_modulus(*coefficients):
    """``max |z|`` over the roots of ``z**n + c[0] z**(n-1) + ... + c[n-1]``, elementwise over
    broadcast NumPy arrays of coefficients: the companion matrices' eigenvalues.

    Examples
    --------
    >>> round(float(numpy_largest_modulus(0.0, 0.0, -8.0)), 12)
    2.0
    """
    arrays = np.broadcast_arrays(*(np.asarray(c, dtype=float) for c in coefficients))
    n = len(arrays)
    shape = arrays[0].shape
    companion = np.zeros((*shape, n, n))
    companion[..., 0, :] = -np.stack(arrays, axis=-1)
    companion[..., np.arange(1, n), np.arange(n - 1)] = 1.0
    moduli = np.abs(np.linalg.eigvals(companion)).max(axis=-1)
    return moduli if shape else moduli[()]


def mpmath_largest_modulus(*coefficients):
    """``max |z|`` over the roots, at mpmath's working precision (``mpmath.polyroots``)."""
    import mpmath

    roots = mpmath.polyroots([1, *coefficients], maxsteps=200, extraprec=2 * mpmath.mp.prec)
    return max(abs(r) for r in roots)


def largest_root_modulus(monic):
    """The largest root modulus of a monic polynomial of degree ≥ 3, exactly.

    Rational coefficients give a ``CRootOf`` (an algebraic number with an isolating
    interval, refined as far as it is evaluated). With only real roots ``ρ`` is the
    largest real root of ``p(z) p(-z)``. Otherwise the products ``z_i z_j`` (i < j)
    of the roots are the eigenvalues of the second compound of the companion
    matrix; each complex pair's ``|z|² = z z̄`` is one, and every real one is at
    most ``ρ²``, so ``ρ² = max(r², s)`` for ``r`` the real root of largest modulus
    and ``s`` the largest real eigenvalue; where ``r²`` is itself one of them the
    two tie and ``s`` is taken. (Refining the complex roots' own intervals until
    one modulus is provably the largest costs seconds at degree 8, and so does
    the resultant ``Res_z(p(z), z^n p(w/z))`` of degree n²; this takes 0.1 s.)
    Symbolic coefficients give a :class:`LargestRootModulus`. Irrational numeric
    coefficients give None (no exact isolation in sympy).

    Examples
    --------
    >>> import sympy as sp
    >>> z = sp.Symbol("z")
    >>> largest_root_modulus(sp.Poly(z**3 - 8, z))
    2
    >>> largest_root_modulus(sp.Poly(z**3 - z + sp.Rational(1, 5), z))
    CRootOf(5*x**3 - 5*x - 1, 2)
    """
    z = monic.gen
    coefficients = monic.all_coeffs()[1:]
    if monic.free_symbols - {z}:
        return LargestRootModulus(*coefficients)
    try:
        poly = sp.Poly(monic.as_expr(), z, domain="QQ")
    except (sp.PolynomialError, sp.polys.polyerrors.CoercionFailed):
        return None  # irrational coefficients: sympy cannot isolate the roots exactly
    if poly.degree() < 1:
        return sp.S.Zero
    return _exact_modulus(poly)


def _exact_modulus(poly):
    z = poly.gen
    n = poly.degree()
    mirrored = sp.Poly(poly.as_expr() * poly.as_expr().subs(z, -z), z)
    real = mirrored.real_roots()
    widest = real[-1] if real else None  # the largest |r| over the real roots r, exactly
    if poly.count_roots() == n:
        return widest
    pairs = _second_compound_charpoly(poly)
    products = pairs.real_roots() if pairs.degree() > 0 else []
    if not products:
        return widest
    largest = products[-1]
    if widest is None or _squares_into(widest, pairs):
        return sp.sqrt(largest)  # a complex pair's |z|^2 = z*conj(z) is largest, or ties
    return widest if widest**2 > largest else sp.sqrt(largest)


def _second_compound_charpoly(poly):
    """The polynomial whose roots are the products ``z_i z_j`` (i < j) of the roots of
    ``poly``: the characteristic polynomial of the second compound of its companion
    matrix (2×2 minors), computed over QQ with ``DomainMatrix``."""
    n = poly.degree()
    lead, *rest = poly.all_coeffs()
    companion = sp.zeros(n, n)
    for j, c in enumerate(rest):
        companion[0, j] = -c / lead
    for i in range(1, n):
        companion[i, i - 1] = 1
    pairs = list(itertools.combinations(range(n), 2))

    def minor(a, b):
        (i, j), (k, m) = pairs[a], pairs[b]
        return companion[i, k] * companion[j, m] - companion[i, m] * companion[j, k]

    compound = DomainMatrix.from_Matrix(sp.Matrix(len(pairs), len(pairs), minor))
    compound = compound.convert_to(sp.QQ)
    return sp.Poly([sp.QQ.to_sympy(c) for c in compound.charpoly()], sp.Dummy("w"))


def _squares_into(root, pairs):
    """Whether ``root**2`` is a root of ``pairs``: exactly, as the minimal polynomial of
    ``root`` dividing ``pairs(z**2)``."""
    if root.is_Rational:
        return pairs(root**2) == 0
    minimal = sp.minimal_polynomial(root, _Z, polys=True)
    squared = sp.Poly(pairs.as_expr().subs(pairs.gen, _Z**2), _Z)
    return squared.rem(minimal).is_zero
