"""The modified equation of a polynomial rule, computed in a sparse polynomial ring.

When one step of a rule is polynomial in its state and in h, with coefficients rational
in the other symbols (heavy ball on a polynomial loss, β symbolic), every quantity of
backward error analysis — the slow manifold, the step's Taylor coefficients and the
Lie-series recursion of :func:`symdyn.limits.modified._field_terms` — stays a
polynomial over the field ℚ(params). sympy's sparse ring ``xring`` does that arithmetic
without ever building, expanding and re-collecting expression trees (most of the time
the expression route spends). The results are converted back to expressions once.

:func:`polynomial_modified` returns None when the rule is not of that kind, and the
caller takes the expression route, which handles any differentiable rule.
"""

from __future__ import annotations

import sympy as sp
from sympy.polys.matrices import DomainMatrix
from sympy.polys.rings import xring

from symdyn.budget import phase
from symdyn.errors import RuleError
from symdyn.rules.state_roles import state_roles

__all__ = ["polynomial_modified"]


def _ring(rule, h, extra):
    """(ring, generators) over ℚ(the rule's other symbols) for rule.state + [h] + extra."""
    generators = [*rule.state, h, *extra]
    present = set().union(*(e.free_symbols for e in rule.next_state))
    others = sorted(present - set(generators), key=sp.default_sort_key)
    domain = sp.QQ.frac_field(*others) if others else sp.QQ
    ring, elements = xring(generators, domain)
    return ring, list(elements)


def _convert(ring, expr):
    try:
        return ring.from_expr(expr)
    except (ValueError, TypeError, sp.PolynomialError):
        return None


def _h_coefficient(poly, h_index, power):
    """The coefficient of h**power of ``poly`` (h dropped from the monomials)."""
    ring = poly.ring
    out = {
        (*monomial[:h_index], 0, *monomial[h_index + 1 :]): coefficient
        for monomial, coefficient in poly.terms()
        if monomial[h_index] == power
    }
    return ring.from_dict(out) if out else ring.zero


def _truncate(poly, h_index, degree):
    ring = poly.ring
    kept = {m: c for m, c in poly.terms() if m[h_index] <= degree}
    return ring.from_dict(kept) if kept else ring.zero


def _by_h(poly, h_index, degree):
    """[c_0, …, c_degree] with poly = Σ c_m h^m + O(h^(degree+1)), h dropped from each c_m,
    in one pass over the terms."""
    ring = poly.ring
    parts = [{} for _ in range(degree + 1)]
    for monomial, coefficient in poly.terms():
        if monomial[h_index] <= degree:
            parts[monomial[h_index]][(*monomial[:h_index], 0, *monomial[h_index + 1 :])] = (
                coefficient
            )
    return [ring.from_dict(part) if part else ring.zero for part in parts]


def _product(a, b, degree):
    """The product of two series held as h-coefficient lists, truncated at h**degree."""
    out = [a[0].ring.zero] * (degree + 1)
    for i, left in enumerate(a):
        if left:
            for k in range(degree + 1 - i):
                if b[k]:
                    out[i + k] += left * b[k]
    return out


def _shifted(poly, shift, h_index, degree):
    """poly(x + s) to O(h^(degree+1)) for shifts s = O(h): Σ_α ∂^α poly · s^α / α!, every
    product truncated as it is formed (the whole composition would hold every power of h)."""
    h = poly.ring.gens[h_index]
    shifts = [(x, _by_h(s, h_index, degree)) for x, s in shift]
    one = [poly.ring.one] + [poly.ring.zero] * degree
    total = [poly.ring.zero] * (degree + 1)

    def visit(start, run, derivative, weight, size):
        # α as a non-decreasing sequence of variable indices; ``run`` copies of ``start``
        # end it, so appending ``start`` once more divides by run + 1 (building 1/α!)
        nonlocal total
        if not derivative:
            return
        term = _product(_by_h(derivative, h_index, degree), weight, degree)
        total = [t + u for t, u in zip(total, term, strict=True)]
        if size == degree:
            return
        for index in range(start, len(shifts)):
            x, s = shifts[index]
            count = run + 1 if index == start else 1
            scaled = [c * sp.Rational(1, count) for c in s]
            visit(index, count, derivative.diff(x), _product(weight, scaled, degree), size + 1)

    visit(0, 0, poly, one, 0)
    return sum((c * h**m for m, c in enumerate(total)), poly.ring.zero)


def _linear_in(poly, unknowns):
    """(coefficients of each unknown, the rest) when ``poly`` is affine in ``unknowns``
    with constant coefficients, else None."""
    indices = [u.ring.gens.index(u) for u in unknowns]
    coefficients = [poly.ring.domain.zero] * len(unknowns)
    rest = {}
    for monomial, coefficient in poly.terms():
        degrees = [monomial[i] for i in indices]
        if sum(degrees) == 0:
            rest[monomial] = coefficient
        elif sum(degrees) == 1 and sum(monomial) == 1:
            coefficients[degrees.index(1)] = coefficient
        else:
            return None
    return coefficients, poly.ring.from_dict(rest) if rest else poly.ring.zero


def _slow_manifold(ring, elements, rule, positions, auxiliaries, nxt, order):
    """Buffers a = Σ h^j A_j(x) with A(Ψ(x)) = F_a(x, A(x)), solved order by order (each
    order is a linear system with constant matrix), or None if it is not of that form."""
    gens = dict(zip(rule.state, elements, strict=False))
    h = elements[len(rule.state)]
    h_index = len(rule.state)
    unknowns = elements[len(rule.state) + 1 :]
    series = {a: ring.zero for a in auxiliaries}
    phase("eliminating the fast variables (slow manifold)")
    for j in range(order + 1):
        trial = [
            (gens[a], series[a] + h**j * z) for a, z in zip(auxiliaries, unknowns, strict=True)
        ]
        shift = [
            (gens[x], _truncate(nxt[x].compose(trial) - gens[x], h_index, j)) for x in positions
        ]
        equations = []
        for a, z in zip(auxiliaries, unknowns, strict=True):
            composed = _shifted(series[a], shift, h_index, j)
            residual = composed + h**j * z - nxt[a].compose(trial)
            equations.append(_h_coefficient(residual, h_index, j))
        linear = [_linear_in(e, unknowns) for e in equations]
        if any(item is None for item in linear):
            return None
        matrix = DomainMatrix([row for row, _ in linear], (len(linear),) * 2, ring.domain)
        if matrix.det() == 0:
            return None
        inverse = matrix.inv()
        for i, a in enumerate(auxiliaries):
            value = ring.zero
            for k, (_, rest) in enumerate(linear):
                value -= inverse[i, k].element * rest
            series[a] = series[a] + h**j * value
    substitution = [(gens[a], series[a]) for a in auxiliaries]
    step = [nxt[x].compose(substitution) - gens[x] for x in positions]
    return step, series


def _field_terms(increments, positions_gens, h):
    """f_1 … f_order by the Lie-series recursion, as in the expression route."""
    terms, lie = [], {}

    def lie_coefficient(m, r):
        if m == 1:
            return terms[r]
        if (m, r) not in lie:
            total = [p.ring.zero for p in increments[0]]
            for a in range(r + 1):
                previous, field_r = lie_coefficient(m - 1, a), terms[r - a]
                for i, component in enumerate(previous):
                    for x, f in zip(positions_gens, field_r, strict=True):
                        total[i] += component.diff(x) * f
            lie[m, r] = total
        return lie[m, r]

    for j, increment in enumerate(increments, start=1):
        phase(f"the correction of order {j - 1} in {h}")
        known = list(increment)
        for m in range(2, j + 1):
            scale = sp.Rational(1, sp.factorial(m))
            for i, value in enumerate(lie_coefficient(m, j - m)):
                known[i] -= value * scale
        terms.append(known)
    return terms


def polynomial_modified(rule, h, order):
    """(variables, increments, terms, manifold) as expressions, or None.

    ``increments`` are the step's Taylor coefficients d_1 … d_order, ``terms`` the
    modified field's f_1 … f_order, ``manifold`` the buffers' series (None when the rule
    is near the identity). None when a step is not polynomial in the state and h, or when
    its slow manifold is not found by constant linear systems; the caller then takes the
    expression route.
    """
    try:
        positions = list(state_roles(rule).positions)
    except RuleError:  # the expression route reports it where it matters
        return None
    auxiliaries = [a for a in rule.state if a not in positions]
    unknowns = [sp.Dummy(f"A_{a.name}") for a in auxiliaries]
    ring, elements = _ring(rule, h, unknowns)
    nxt = {}
    for s, value in zip(rule.state, rule.next_state, strict=True):
        converted = _convert(ring, value)
        if converted is None:
            return None
        nxt[s] = converted
    gens = dict(zip(rule.state, elements, strict=False))
    h_index = len(rule.state)
    if all(_h_coefficient(nxt[s] - gens[s], h_index, 0) == 0 for s in rule.state):
        positions, manifold = list(rule.state), None
        step = [nxt[x] - gens[x] for x in positions]
    else:
        if not auxiliaries:
            return None
        reduced = _slow_manifold(ring, elements, rule, positions, auxiliaries, nxt, order)
        if reduced is None:
            return None
        step, series = reduced
        if any(_h_coefficient(e, h_index, 0) != 0 for e in step):
            return None
        manifold = {a: series[a].as_expr() for a in auxiliaries}
    phase("Taylor coefficients of the step")
    increments = [[_h_coefficient(e, h_index, j) for e in step] for j in range(1, order + 1)]
    terms = _field_terms(increments, [gens[x] for x in positions], h)

    def matrix(values):
        return sp.ImmutableMatrix([v.as_expr() for v in values])

    return positions, [matrix(i) for i in increments], [matrix(t) for t in terms], manifold
