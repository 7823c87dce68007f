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

from math import isqrt

import numpy as np
import sympy as sp

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

    Rational coefficients give ``|r|`` for a ``CRootOf`` ``r``: the isolating
    intervals of the roots (one of each conjugate pair) are refined until one
    modulus is provably above the others. Where moduli tie (``z**3 = 2``) the
    refinement cannot separate them, and the largest real root of
    ``Res_z(p(z), z^n p(w/z))``, whose roots are the products ``z_i z_j``, gives
    ``ρ²`` instead. Symbolic coefficients give a :class:`LargestRootModulus`.
    Irrational numeric coefficients give None (no exact isolation in sympy).

    Examples
    --------
    >>> import sympy as sp
    >>> z = sp.Symbol("z")
    >>> largest_root_modulus(sp.Poly(z**3 - 8, z))
    2
    >>> largest_root_modulus(sp.Poly(z**3 - z/2 + sp.Rational(1, 5), z))
    -CRootOf(10*x**3 - 5*x + 2, 0)
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
    return _separated(poly) or _by_resultant(poly)


_FINEST = sp.Rational(1, 10**60)


def _separated(poly):
    """``|r|`` for the root whose modulus is provably the largest, or None on a tie."""
    roots = [r for r in poly.all_roots(radicals=False) if r.is_real or sp.im(r).is_positive]
    tolerance = sp.Rational(1, 10**8)
    while tolerance >= _FINEST:
        bounds = [_modulus_bounds(r, tolerance) for r in roots]
        best = max(range(len(roots)), key=lambda i: bounds[i][0])
        if all(bounds[j][1] < bounds[best][0] for j in range(len(roots)) if j != best):
            return sp.Abs(roots[best])
        tolerance = tolerance**2
    return None


def _modulus_bounds(root, tolerance):
    """Rational ``(low, high)`` with ``low <= |root| <= high``, from an approximation of
    the real and imaginary parts within ``tolerance`` (rigorous: interval bisection)."""
    if root.is_Rational:
        return abs(root), abs(root)
    scale, root = root.as_coeff_Mul()  # sympy writes roots of z**n p(c z) as c*CRootOf(p)
    if scale != 1:
        low, high = _modulus_bounds(root, tolerance / abs(scale))
        return low * abs(scale), high * abs(scale)
    approximation = root.eval_rational(tolerance, tolerance)
    re, im = approximation.as_real_imag()
    squared = sp.Rational(re) ** 2 + sp.Rational(im) ** 2
    scale = tolerance.q
    floor = isqrt(int(squared * scale**2))  # floor(sqrt(squared) * scale)
    error = 2 * tolerance  # |(re, im) − root| ≤ √2·tolerance
    low = sp.Rational(floor, scale) - error
    return max(low, sp.S.Zero), sp.Rational(floor + 1, scale) + error


def _by_resultant(poly):
    z = poly.gen
    n = poly.degree()
    if poly.count_roots() == n:
        mirrored = sp.Poly(poly.as_expr() * poly.as_expr().subs(z, -z), z)
        return mirrored.real_roots()[-1]
    w = sp.Dummy("w")
    reversed_ = sp.Poly(sp.expand(z**n * poly.as_expr().subs(z, w / z)), z)
    products = sp.Poly(sp.resultant(poly, reversed_, z), w)
    return sp.sqrt(products.real_roots()[-1])
