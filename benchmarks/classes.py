"""Cost of the function-class analyses, against baselines measured in the same run.

Rows (targets from issue 17):

- ``certify_rate`` for a 2-state method (Nesterov on S(1, 10)), including the exact
  LDLᵀ check, against the bare Clarabel solve of the same LMI (target: < 1 s);
- ``pep`` at N = 10 (GD, step 1/L, F(0, 1), f(x_N) − f*) against the same problem
  written by hand in PEPit and solved with the same solver (target: ≤ 1.5×), without
  and with the exact bound (which adds the certifying dual, solved by Clarabel directly,
  and its exact check);
- time-varying ``worst_case_rate`` at N = 50 (Nesterov's k/(k+3) momentum) against a
  vectorised brute force over 10⁶ eigenvalues (target: < 1 s);
- ``tune`` over S(1, 25) of x⁺ = (1 + β)x − βx_p − α∇f((1 + γ)x − γx_p): one point of the
  search (the LMI's rate bisected to 10⁻⁶, SDP to Clarabel directly) against the same
  bisection through cvxpy (``Proposer``, compiled once per point), and the whole tuning of
  (β, γ) and of (α, β, γ) against one ``best_certified_rate`` at triple momentum.

Each time is the best of a few repeats, run alternately. Run: ``python benchmarks/classes.py``.
"""

import math
import time

import numpy as np
import sympy as sp

import symdyn as sd

x = sp.Symbol("x", real=True)
eta, beta = sp.symbols("eta beta", positive=True)
f = sp.Function("f")


def best_times(functions, repeats=5):
    best = [math.inf] * len(functions)
    for _ in range(repeats):
        for k, g in enumerate(functions):
            start = time.perf_counter()
            g()
            best[k] = min(best[k], time.perf_counter() - start)
    return best


def certify_row():
    from symdyn.classes.iqc import lmi_of
    from symdyn.classes.linear_system import linear_system
    from symdyn.classes.sdp import Proposer

    rule = sd.optimizers.nesterov(f(x), [x], lr=eta, momentum=beta)
    params = {eta: sp.Rational(1, 10), beta: sp.Rational(1, 2)}
    cls = sd.function_classes.SmoothStronglyConvex(1, 10)
    rate = sp.Rational(19, 20)

    def ours():
        assert sd.certify_rate(rule, cls, rate=rate, params=params).verified

    def bare():
        Proposer(lmi_of(linear_system(rule, params), cls, rate))(rate)

    ours()
    mine, baseline = best_times([ours, bare])
    print(
        f"certify_rate (Nesterov, 2 states, exact check): {mine * 1e3:8.1f} ms   "
        f"bare SDP {baseline * 1e3:8.1f} ms   ratio {mine / baseline:5.2f}   "
        f"target < 1 s: {'yes' if mine < 1 else 'NO'}"
    )


def by_hand(steps):
    from PEPit import PEP
    from PEPit.functions import SmoothConvexFunction

    problem = PEP()
    func = problem.declare_function(SmoothConvexFunction, L=1.0)
    xs = func.stationary_point()
    fs = func(xs)
    x0 = problem.set_initial_point()
    problem.set_initial_condition((x0 - xs) ** 2 <= 1)
    point = x0
    for _ in range(steps):
        point = point - 1.0 * func.gradient(point)
    problem.set_performance_metric(func(point) - fs)
    return problem.solve(verbose=0, solver="CLARABEL")


def pep_row(steps=10):
    rule = sd.optimizers.gd(f(x), [x], lr=eta)
    cls = sd.function_classes.SmoothConvex(L=1)

    def ours():
        return sd.pep(rule, cls, steps=steps, params={eta: 1}, certify=False)

    def certified():
        assert sd.pep(rule, cls, steps=steps, params={eta: 1}).verified

    ours()
    mine, with_bound, hand = best_times([ours, certified, lambda: by_hand(steps)], repeats=3)
    print(
        f"pep N={steps} (value only):   {mine * 1e3:8.1f} ms   PEPit by hand {hand * 1e3:8.1f} ms"
        f"   ratio {mine / hand:5.2f}   target <= 1.5x: {'yes' if mine <= 1.5 * hand else 'NO'}"
    )
    print(
        f"pep N={steps} (exact bound):  {with_bound * 1e3:8.1f} ms   PEPit by hand "
        f"{hand * 1e3:8.1f} ms   ratio {with_bound / hand:5.2f}   target <= 1.5x: "
        f"{'yes' if with_bound <= 1.5 * hand else 'NO'}   (+ certifying dual, exact check)"
    )


def time_varying_row(steps=50):
    k = sp.Symbol("k", integer=True, nonnegative=True)
    v, lam = sp.Symbol("v", real=True), sp.Symbol("lambda", positive=True)
    rule = sd.UpdateRule([x, v], [(v, k / (k + 3) * v - lam * x), (x, x + v)], counter=k)

    def ours():
        return sd.worst_case_rate(rule, {lam: (sp.Rational(1, 100), 1)}, steps=steps)

    def brute():
        lams = np.linspace(0.01, 1.0, 10**6)
        xs, vs = np.ones_like(lams), np.zeros_like(lams)
        for i in range(steps):
            vs = i / (i + 3) * vs - lams * xs
            xs = xs + vs
        return np.abs(xs).max()

    exact = ours().rate
    mine, baseline = best_times([ours, brute])
    print(
        f"worst_case_rate N={steps} (counter): {mine * 1e3:8.1f} ms   brute force 10^6 "
        f"{baseline * 1e3:8.1f} ms   ratio {mine / baseline:5.2f}   target < 1 s: "
        f"{'yes' if mine < 1 else 'NO'}   (exact {exact:.12g} vs grid {brute():.12g})"
    )


def three_parameter_family():
    xp, y, u = sp.symbols("x_p y u", real=True)
    alpha, momentum, gamma = sp.symbols("alpha beta gamma", positive=True)
    updates = [
        (y, (1 + gamma) * x - gamma * xp),
        (u, sd.grad(f(y), y)),
        (x, (1 + momentum) * x - momentum * xp - alpha * u),
        (xp, x),
    ]
    rule = sd.UpdateRule([x, xp], updates, simultaneous=True, name="three-parameter family")
    return rule, (alpha, momentum, gamma)


def tuning_row():
    from symdyn.classes.design import SEARCH_TOL, _FeasibilityOracle
    from symdyn.classes.iqc import lmi_of
    from symdyn.classes.linear_system import linear_system
    from symdyn.classes.sdp import Proposer

    rule, (alpha, momentum, gamma) = three_parameter_family()
    cls = sd.function_classes.SmoothStronglyConvex(1, 25)
    point = {alpha: sp.Rational(9, 125), momentum: sp.Rational(8, 15), gamma: sp.Rational(8, 27)}
    oracle = _FeasibilityOracle(rule, cls, tuple(point), None)

    def ours():
        return oracle.rate([float(v) for v in point.values()], SEARCH_TOL)

    def through_cvxpy():
        system = linear_system(rule, point)
        propose = Proposer(lmi_of(system, cls, sp.Integer(1)))
        low, high = 0.0, 1.0
        while high - low > SEARCH_TOL:
            middle = (low + high) / 2
            low, high = (low, middle) if propose(middle) is not None else (middle, high)
        return high

    mine, baseline = best_times([ours, through_cvxpy], repeats=3)
    print(
        f"tune search, one point (rate to 1e-6): {mine * 1e3:8.1f} ms   through cvxpy "
        f"{baseline * 1e3:8.1f} ms   ratio {mine / baseline:5.2f}"
    )
    (certificate,) = best_times(
        [lambda: sd.best_certified_rate(rule, cls, params=point, tol=1e-6)], repeats=1
    )
    cases = (((momentum, gamma), {alpha: point[alpha]}), ((alpha, momentum, gamma), {}))
    for over, fixed in cases:
        start = time.perf_counter()
        tuned = sd.tune(rule, cls, over=list(over), params=fixed)
        took = time.perf_counter() - start
        print(
            f"tune over S(1, 25), {len(over)} parameters: {took:6.2f} s   one "
            f"best_certified_rate {certificate:5.2f} s   ratio {took / certificate:6.1f}   "
            f"rate {float(tuned.rate):.6f} (1 - 1/sqrt(25) = 0.8), verified "
            f"{tuned.certificate.verified}"
        )


if __name__ == "__main__":
    certify_row()
    pep_row()
    time_varying_row()
    tuning_row()
