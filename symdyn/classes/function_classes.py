"""Classes of objective functions over which worst cases are taken.

* :class:`SmoothStronglyConvex` (μ, L): μ-strongly convex functions with L-Lipschitz
  gradients on ℝᵈ, any d; written S(μ, L) by Lessard, Recht & Packard (2016).
* :class:`SmoothConvex` (L): the case μ = 0, F(0, L).
* :class:`Quadratics` (μ, L): f(x) = xᵀHx/2 − bᵀx with spectrum(H) ⊂ [μ, L], the
  class :func:`symdyn.worst_case_rate` analyses through its spectrum.

The constants are exact positive rationals (floats are read as the decimal they print
as), so that every certificate built on a class can be checked in exact arithmetic.

Examples
--------
>>> SmoothStronglyConvex(mu=1, L=10)
SmoothStronglyConvex(mu=1, L=10)
>>> SmoothStronglyConvex(mu=1, L=10).condition_number
10
>>> SmoothConvex(L=0.5).mu
0
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from symdyn.errors import ArgumentError, FunctionClassError
from symdyn.rules.values import exact_number

__all__ = ["FunctionClass", "Quadratics", "SmoothConvex", "SmoothStronglyConvex"]


def _constant(value, name, cls, *, zero=False):
    try:
        number = exact_number(value, where=f"{cls}: {name}")
    except ArgumentError as error:
        raise FunctionClassError(error.message, symbol=name) from None
    if not number.is_Rational or number < 0 or (number == 0 and not zero):
        allowed = "a nonnegative" if zero else "a positive"
        raise FunctionClassError(
            f"{cls}: {name} = {number} must be {allowed} rational number "
            "(certificates are checked in exact rational arithmetic)",
            symbol=name,
        )
    return number


@dataclass(frozen=True)
class FunctionClass:
    """Functions whose gradient lies in the sector [μ, L]: the common part of the classes.

    Attributes
    ----------
    mu : sympy.Rational
        The strong-convexity constant (0 for :class:`SmoothConvex`).
    L : sympy.Rational
        The smoothness constant, ``L >= mu``, ``L > 0``.
    """

    mu: sp.Rational
    L: sp.Rational

    def __post_init__(self):
        name = type(self).__name__
        mu = _constant(self.mu, "mu", name, zero=True)
        big = _constant(self.L, "L", name)
        if mu > big:
            raise FunctionClassError(f"{name}: mu = {mu} exceeds L = {big}", symbol="mu")
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "L", big)

    @property
    def condition_number(self):
        """κ = L/μ (``oo`` when μ = 0)."""
        return sp.oo if self.mu == 0 else self.L / self.mu

    @property
    def quadratic_only(self):
        """Whether the class holds only quadratics (the spectrum route decides it exactly)."""
        return False

    def describe(self):
        """The class in words and LaTeX, for derivations."""
        mu, big = sp.latex(self.mu), sp.latex(self.L)
        return (
            f"$f$ is ${mu}$-strongly convex with ${big}$-Lipschitz gradient, "
            f"$f \\in \\mathcal{{S}}({mu}, {big})$"
        )


@dataclass(frozen=True, init=False)
class SmoothStronglyConvex(FunctionClass):
    """μ-strongly convex functions with L-Lipschitz gradient, S(μ, L), ``0 < mu <= L``."""

    def __init__(self, mu, L):
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "L", L)
        self.__post_init__()
        if self.mu == 0:
            raise FunctionClassError(
                "SmoothStronglyConvex: mu must be positive; use SmoothConvex(L) for mu = 0",
                symbol="mu",
            )


@dataclass(frozen=True, init=False, repr=False)
class SmoothConvex(FunctionClass):
    """Convex functions with L-Lipschitz gradient, F(0, L)."""

    def __init__(self, L):
        object.__setattr__(self, "mu", 0)
        object.__setattr__(self, "L", L)
        self.__post_init__()

    def __repr__(self):
        return f"SmoothConvex(L={self.L})"

    def describe(self):
        return f"$f$ is convex with ${sp.latex(self.L)}$-Lipschitz gradient"


@dataclass(frozen=True, init=False)
class Quadratics(FunctionClass):
    """Quadratics xᵀHx/2 − bᵀx with every eigenvalue of H in [μ, L], ``0 < mu <= L``."""

    def __init__(self, mu, L):
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "L", L)
        self.__post_init__()
        if self.mu == 0:
            raise FunctionClassError("Quadratics: mu must be positive", symbol="mu")

    @property
    def quadratic_only(self):
        return True

    def describe(self):
        mu, big = sp.latex(self.mu), sp.latex(self.L)
        return f"$f(x) = x^T H x / 2 - b^T x$ with every eigenvalue of $H$ in $[{mu}, {big}]$"
