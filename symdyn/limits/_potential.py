"""Scalar potentials of vector fields: Ψ with ∇Ψ = f, found exactly or not at all.

Used for modified losses (the modified field is −∇L̃) and Hamiltonians. Fields
built from undefined functions (a generic loss L(x)) are matched with an
ansatz in products of their derivatives; other fields are integrated one
variable at a time. Every candidate is checked by differentiation.
"""

from __future__ import annotations

import itertools

import sympy as sp

from symdyn.limits._taylor import _is_zero


def _potential(field, state):
    """A scalar Ψ with ∇Ψ = field, or None: an ansatz in function atoms, then integrals."""
    psi = _potential_by_ansatz(field, state)
    if psi is None:
        psi = _potential_by_integration(field, state)
    if psi is None:
        return None
    check = [sp.expand(sp.diff(psi, s) - f) for s, f in zip(state, field, strict=True)]
    return psi if all(_is_zero(c) for c in check) else None


def _potential_by_integration(field, state):
    psi = sp.S.Zero
    for s, f in zip(state, field, strict=True):
        rest = sp.expand(f - sp.diff(psi, s))
        part = sp.integrate(rest, s)
        if part.has(sp.Integral):
            return None
        psi += part
    return sp.expand(psi)


def _atoms(expr):
    return {
        a
        for a in sp.expand(expr).atoms(sp.Derivative, sp.core.function.AppliedUndef)
        if not isinstance(a, sp.Subs)
    }


def _lowered(atom):
    """The atom and every derivative one order lower (down to the function itself)."""
    out = {atom}
    if isinstance(atom, sp.Derivative):
        counts = dict(atom.variable_count)
        for var in counts:
            reduced = dict(counts)
            reduced[var] -= 1
            pairs = [(v, c) for v, c in reduced.items() if c > 0]
            out.add(sp.Derivative(atom.expr, *pairs) if pairs else atom.expr)
    return out


def _weight(atom):
    return atom.derivative_count if isinstance(atom, sp.Derivative) else 0


def _potential_by_ansatz(field, state):
    """Ψ as a combination of products of derivatives of undefined functions."""
    atoms = set()
    for f in field:
        atoms |= _atoms(f)
    if not atoms:
        return None
    factors = set()
    for a in atoms:
        factors |= _lowered(a)
    factors = sorted(factors, key=sp.default_sort_key)
    shapes = set()
    for f in field:
        for term in sp.Add.make_args(sp.expand(f)):
            powers = term.as_powers_dict()
            degree = sum(int(p) for a, p in powers.items() if a in atoms)
            weight = sum(int(p) * _weight(a) for a, p in powers.items() if a in atoms)
            shapes.add((degree, weight - 1))
    candidates = []
    for degree, weight in shapes:
        for combo in itertools.combinations_with_replacement(factors, degree):
            if sum(_weight(a) for a in combo) == weight:
                candidates.append(sp.Mul(*combo))
    if not candidates or len(candidates) > 400:
        return None
    unknowns = sp.symbols(f"c0:{len(candidates)}")
    psi = sum(c * m for c, m in zip(unknowns, candidates, strict=True))
    residual = [sp.expand(sp.diff(psi, s) - f) for s, f in zip(state, field, strict=True)]
    generators = sorted(
        set().union(*(_atoms(r) for r in residual)) | set(state), key=sp.default_sort_key
    )
    equations = []
    for r in residual:
        try:
            poly = sp.Poly(r, *generators)
        except sp.PolynomialError:
            return None
        equations.extend(poly.coeffs())
    solution = sp.solve(equations, unknowns, dict=True)
    if not solution:
        return None
    return sp.expand(psi.subs(solution[0]).subs({c: 0 for c in unknowns}))
