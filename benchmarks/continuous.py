"""Time continuous_limit and modified_equation against sympy's own series expansion.

The baseline expands the same one-step residual with ``sympy.series``: for a
limit, X(t + τ) − Φ(X(t), X(t − τ)) with the shifted samples written as
functions of t; for a modified equation, the map itself in powers of h. Both
are measured in this run, with sympy's cache cleared before each timing, and
the ratio ours / baseline is printed. The issue's targets (modified equation to
order 3 under 5 s for a generic 1-D loss and under 20 s for a 3-D polynomial
loss) are timed at the end.
"""

import time

import sympy as sp
from sympy.core.cache import clear_cache

import symdyn as sd

x, y, z = sp.symbols("x y z", real=True)
eta, beta, gamma = sp.symbols("eta beta gamma", positive=True)
t, tau = sp.symbols("t tau", positive=True)
L = sp.Function("L")
X = sp.Function("X")


def _timed(work, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        clear_cache()
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def _gd_baseline(order):
    """series in τ of X(t + τ) − X(t) + τ L'(X(t))."""
    residual = X(t + tau) - X(t) + tau * sp.diff(L(x), x).subs(x, X(t))
    return sp.series(residual, tau, 0, order + 1).removeO()


def _heavy_ball_baseline(order):
    """series in τ of the two-step heavy-ball residual with β = 1 − γτ, η = τ²."""
    momentum = 1 - gamma * tau
    residual = (
        X(t + tau)
        - X(t)
        - momentum * (X(t) - X(t - tau))
        + tau**2 * sp.diff(L(x), x).subs(x, X(t))
    )
    return sp.series(residual, tau, 0, order + 1).removeO()


def _map_baseline(rule, order):
    return [sp.series(e, eta, 0, order + 1).removeO() for e in rule.next_state]


def _row(name, ours, baseline):
    print(f"  {name:48s} {ours * 1e3:9.1f} ms  {baseline * 1e3:9.1f} ms  {ours / baseline:7.2f}")


def main():
    gd = sd.optimizers.gd(L(x), [x], lr=eta)
    heavy_ball = sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=beta)
    scaling = {beta: 1 - gamma * sp.sqrt(eta)}
    print("continuous: best of 3, sympy cache cleared before each run")
    print(f"  {'task':48s} {'symdyn':>12s} {'baseline':>12s} {'ratio':>7s}")
    _row(
        "continuous_limit(GD) vs series to τ^4",
        _timed(lambda: sd.continuous_limit(gd, h=eta)),
        _timed(lambda: _gd_baseline(4)),
    )
    _row(
        "continuous_limit(HB, β=1−γ√η) vs series to τ^4",
        _timed(
            lambda: sd.continuous_limit(heavy_ball, h=eta, scaling=scaling, time_step=sp.sqrt(eta))
        ),
        _timed(lambda: _heavy_ball_baseline(4)),
    )
    for order in (2, 3):
        _row(
            f"modified_equation(GD, order={order}) vs map series",
            _timed(lambda order=order: sd.modified_equation(gd, h=eta, order=order)),
            _timed(lambda order=order: _map_baseline(gd, order)),
        )
    print("targets (issue 8)")
    cubic = x**4 + x**2 * y * z + y**2 * z**2 + x * z**3
    for name, rule, limit in (
        ("order 3, generic 1-D loss L(x)", gd, 5.0),
        ("order 3, 3-D polynomial loss", sd.optimizers.gd(cubic, [x, y, z], lr=eta), 20.0),
    ):
        seconds = _timed(lambda rule=rule: sd.modified_equation(rule, h=eta, order=3), 1)
        verdict = "ok" if seconds < limit else "SLOW"
        print(f"  {name:48s} {seconds:9.2f} s   (target < {limit:.0f} s: {verdict})")


if __name__ == "__main__":
    main()
