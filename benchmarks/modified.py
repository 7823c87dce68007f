"""Time modified_equation against the route it took before issue 20, in the same run.

The old route is copied here (and only here): the field's terms from the exact flow
of the truncated field expanded as a whole in h, Jacobians by ``Matrix.jacobian``,
the slow manifold's composition expanded whole and each order solved by
``sp.solve``. Both routes are timed with sympy's cache cleared before each run, on
GD and heavy ball in 1-D and 3-D at order 3; the ratio old / new is printed, and
every pair of results is compared (they must be identical). The issue's target,
order 3 in 3-D under 5 s, is checked at the end on every 3-D case run. Polynomial rules
(the quartics) take the sparse-ring route of ``symdyn.limits._ring_series``.

Run: ``PYTHONPATH=. python benchmarks/modified.py`` (``--quick`` skips heavy ball in 3-D,
whose old route takes minutes).
"""

import itertools
import sys
import time

import sympy as sp
from sympy.core.cache import clear_cache

import symdyn as sd
from symdyn.limits._potential import _potential
from symdyn.limits._taylor import _is_zero, _taylor
from symdyn.limits.modified import _modified_derivation, _tidy
from symdyn.rules.state_roles import state_roles

x, y, z = sp.symbols("x y z", real=True)
eta, beta = sp.symbols("eta beta", positive=True)
L = sp.Function("L")
QUARTIC_3D = x**4 + x**2 * y * z + y**2 * z**2 + x * z**3


# -- the old route (symdyn before issue 20), kept for this comparison only --------------------


def _truncate(expr, h, degree):
    expr = sp.expand(expr)
    return sum((expr.coeff(h, m) * h**m for m in range(degree + 1)), sp.S.Zero)


def _old_shifted_series(expr, shift, h, degree):
    if expr == 0:
        return sp.S.Zero
    variables = list(shift)
    shifts = {v: _truncate(shift[v], h, degree) for v in variables}
    total = sp.S.Zero
    for size in range(degree + 1):
        for combo in itertools.combinations_with_replacement(variables, size):
            counts = {v: combo.count(v) for v in set(combo)}
            derivative = sp.diff(expr, *[(v, c) for v, c in counts.items()]) if combo else expr
            if derivative == 0:
                continue
            weight = sp.Mul(*[shifts[v] ** c / sp.factorial(c) for v, c in counts.items()])
            total += derivative * weight
    return _truncate(total, h, degree)


def _old_slow_manifold(rule, h, order):
    roles = state_roles(rule)
    auxiliaries = [a for a in rule.state if a not in roles.positions]
    nxt = dict(zip(rule.state, rule.next_state, strict=True))
    unknowns = [sp.Dummy(f"A_{a.name}") for a in auxiliaries]
    series = dict.fromkeys(auxiliaries, sp.S.Zero)
    for j in range(order + 1):
        trial = {a: series[a] + h**j * u for a, u in zip(auxiliaries, unknowns, strict=True)}
        reduced = {p: nxt[p].subs(trial, simultaneous=True) for p in roles.positions}
        shift = {p: sp.expand(reduced[p] - p) for p in roles.positions}
        composed = {a: _old_shifted_series(series[a], shift, h, j) for a in auxiliaries}
        equations = [
            _taylor(composed[a] + h**j * u - nxt[a].subs(trial, simultaneous=True), h, j)
            for a, u in zip(auxiliaries, unknowns, strict=True)
        ]
        solution = sp.solve(equations, unknowns, dict=True)
        for a, u in zip(auxiliaries, unknowns, strict=True):
            series[a] = series[a] + h**j * sp.expand(solution[0][u])
    step = sp.Matrix([nxt[p].subs(series, simultaneous=True) - p for p in roles.positions])
    return list(roles.positions), step, series


def _old_terms(increments, variables, h):
    state = sp.Matrix(variables)
    terms = []
    for j in range(1, len(increments) + 1):
        field_so_far = sp.zeros(len(state), 1)
        for i, f in enumerate(terms):
            field_so_far += h**i * f
        flow, power = sp.zeros(len(state), 1), field_so_far
        for m in range(1, j + 1):
            if m > 1:
                power = (power.jacobian(state) * field_so_far).applyfunc(
                    lambda e, d=j - m: _truncate(e, h, d)
                )
            flow += h**m / sp.factorial(m) * power
        known = flow.applyfunc(lambda e, j=j: sp.expand(e).coeff(h, j))
        terms.append(
            sp.ImmutableMatrix(
                (increments[j - 1] - known).applyfunc(lambda e: _tidy(e, variables))
            )
        )
    return terms


def _old_loss(terms, state, h):
    for f in terms:
        jac = f.jacobian(state)
        if any(not _is_zero(jac[a, b] - jac[b, a]) for a in range(len(state)) for b in range(a)):
            return None, "not a gradient"
    loss = sp.S.Zero
    for i, f in enumerate(terms):
        psi = _potential(list(-f), state)
        if psi is None:
            return None, "no closed-form potential"
        loss += h**i * psi
    return _tidy(sp.expand(loss), [*state, h]), "a gradient"


def old_modified_equation(rule, h, order):
    """(terms, modified loss, slow manifold) by the old route, with the same derivation
    (built by symdyn's own step, so that both routes do the same work)."""
    step = sp.Matrix(rule.next_state) - sp.Matrix(rule.state)
    manifold = None
    if all(_is_zero(e) for e in step.subs(h, 0)):
        variables = list(rule.state)
    else:
        variables, step, manifold = _old_slow_manifold(rule, h, order)
        manifold = {a: _tidy(v, [*variables, h]) for a, v in manifold.items()}
    increments = [
        sp.ImmutableMatrix(step.applyfunc(lambda e, j=j: _taylor(e, h, j)))
        for j in range(1, order + 1)
    ]
    terms = _old_terms(increments, variables, h)
    loss, reason = _old_loss(terms, variables, h)
    _modified_derivation(rule, h, increments, terms, loss, reason, manifold)
    return tuple(terms), loss, manifold


# -- the comparison ---------------------------------------------------------------------------


def _timed(work):
    clear_cache()
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def main():
    cases = [
        ("GD, generic L(x)", sd.optimizers.gd(L(x), [x], lr=eta)),
        ("GD, generic L(x, y, z)", sd.optimizers.gd(L(x, y, z), [x, y, z], lr=eta)),
        ("GD, 3-D quartic", sd.optimizers.gd(QUARTIC_3D, [x, y, z], lr=eta)),
        ("heavy ball, generic L(x)", sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=beta)),
    ]
    if "--quick" not in sys.argv:
        quartic_hb = sd.optimizers.heavy_ball(QUARTIC_3D, [x, y, z], lr=eta, momentum=beta)
        cases.append(("heavy ball, 3-D quartic", quartic_hb))
    warm_up = sd.optimizers.gd(L(x), [x], lr=eta)  # imports and first-call costs, for both
    sd.modified_equation(warm_up, h=eta, order=2)
    old_modified_equation(warm_up, eta, 2)
    print("modified_equation, order 3: one run each, sympy cache cleared before each")
    print(f"  {'rule':28s} {'new':>9s} {'old':>9s} {'old/new':>8s}  same")
    slowest_3d = 0.0
    for name, rule in cases:
        new, me = _timed(lambda rule=rule: sd.modified_equation(rule, h=eta, order=3, timeout=900))
        old, (terms, loss, manifold) = _timed(
            lambda rule=rule: old_modified_equation(rule, eta, 3)
        )
        ours = None if me.slow_manifold is None else dict(me.slow_manifold)
        same = me.terms == terms and me.modified_loss == loss and ours == manifold
        print(f"  {name:28s} {new:8.2f}s {old:8.2f}s {old / new:8.1f}  {same}")
        if len(me.variables) == 3:
            slowest_3d = max(slowest_3d, new)
    verdict = "ok" if slowest_3d < 5 else "SLOW"
    print(f"target (issue 20): order 3 in 3-D under 5 s: slowest {slowest_3d:.2f} s ({verdict})")


if __name__ == "__main__":
    main()
