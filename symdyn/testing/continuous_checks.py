"""Checks for continuous-time claims: limit ODEs and Hamiltonian (symplectic) structure.

``check_continuous_limit`` runs the rule at several step sizes and solves the
claimed ODE with SciPy; the distance must shrink at the claimed order.
``check_hamiltonian`` takes the rule's Jacobian by autodiff, moves it to the
claimed canonical coordinates, and tests JᵀΩJ = cΩ and det J.
"""

from __future__ import annotations

import numpy as np
import sympy as sp
from hypothesis import assume
from hypothesis import strategies as st

from symdyn import autodiff as ad
from symdyn.errors import SymdynError
from symdyn.testing.checks import _numeric, _parameter_strategy, _run, _show
from symdyn.testing.oracle import numeric_rule

__all__ = ["check_continuous_limit", "check_hamiltonian"]


def check_continuous_limit(
    limit,
    steps=None,
    t_end=1.0,
    params=None,
    examples=None,
    tolerance=0.3,
    scale=1.5,
):
    """Iterates approach the claimed limit ODE at its claimed order as the step shrinks.

    For each drawn parameter point and initial position the rule runs for
    ``t_end`` in time at each step ``h`` in ``steps`` (default: the ``h``
    whose time step τ is 0.02, 0.01 and 0.005, since the claimed order is in
    τ; for ``τ = √h`` that is h = 4e-4, 1e-4, 2.5e-5); the distance to SciPy's
    solution of ``limit.ode`` must decrease with a fitted order within
    ``tolerance`` of ``limit.error_order`` (or at least 1 when unknown).
    Parameters are drawn where the steps tried are in the asymptotic range:
    the fast modes of the step at ``h = 0`` (eigenvalues of its autodiff
    Jacobian other than the slow 1s) have modulus at most ``FAST_RADIUS``
    (where they decay slowly, β near 1 for heavy ball at fixed momentum,
    the error constant grows like 1/(1 − |root|)), and the largest time step
    times the spectral radius of the ODE's Jacobian at the start is at most
    ``STIFFNESS``. ``limit.requires`` is tested from both sides: it must hold
    at those draws, and fail where a fast mode has modulus at least
    ``LEAVES_RADIUS``, where the iterates must not approach the ODE.

    Examples
    --------
    >>> import sympy as sp, symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> limit = sd.continuous_limit(sd.optimizers.gd(x**4 / 4 + x**2, [x], eta), h=eta)
    >>> check_continuous_limit(limit, examples=3).passed
    True
    """
    from symdyn.limits.integration import convergence

    rule = limit.rule
    others = sorted(
        (rule.free_symbols - {limit.h} - set(limit.scaling)) | _scaling_symbols(limit),
        key=sp.default_sort_key,
    )
    others = [s for s in others if s != limit.h and s != rule.counter]
    # X(0) for every position and, for a limit of order m, X'(0) … X^(m−1)(0) as well.
    starts, _, _ = limit.first_order_system()
    start = st.lists(
        st.floats(-scale, scale).filter(lambda v: abs(v) > 0.1),
        min_size=len(starts),
        max_size=len(starts),
    )
    strategy = st.tuples(_parameter_strategy(others, params, 2.0), start)
    predicted = limit.error_order or 1
    fast_radius = _fast_radius(limit)
    holds = None if limit.requires is None else _numeric(sp.And(*limit.requires), others)
    steps_at = _steps(limit, steps, others)
    stiffness = _stiffness(limit, others)

    def body(case):
        values, init = case
        radius = fast_radius(values)
        follows = radius <= FAST_RADIUS
        assume(follows or (holds is not None and radius >= LEAVES_RADIUS))
        if holds is not None:
            assert bool(holds(values)) == follows, (
                f"at {_show(values)} a fast mode of the step at {limit.h} = 0 has modulus "
                f"{radius:.3g}, yet the claimed requires {limit.requires} "
                + ("fail" if follows else "hold")
            )
        hs = steps_at(values)
        with np.errstate(all="ignore"):
            assume(stiffness(values, init, max(hs)) <= STIFFNESS)
        try:
            measured = convergence(
                limit, dict(zip(starts, init, strict=True)), t_end, hs, values=values
            )
        except (ArithmeticError, ValueError):
            assume(False)
        errors = np.asarray(measured.errors)
        if not follows:
            assert not (np.all(np.isfinite(errors)) and measured.order > 0), (
                f"at {_show(values)}, where a fast mode grows (modulus {radius:.3g}), the "
                f"iterates still approach {list(limit.ode)} (errors "
                f"{[f'{e:.3g}' for e in errors]})"
            )
            return
        # Errors near the ODE solver's tolerance (rtol 1e-10) say nothing about the order.
        assume(np.all(np.isfinite(errors)) and errors.min() > 1e-8)
        assert measured.order > predicted - tolerance, (
            f"at {_show(values)} from {init} the iterates approach the claimed ODE "
            f"{list(limit.ode)} at order {measured.order:.3g}, not {predicted} "
            f"(errors {[f'{e:.3g}' for e in errors]})"
        )

    return _run(f"check_continuous_limit({rule.name})", strategy, body, examples)


# Draws are kept where the steps tried are asymptotic: fast modes at h = 0 of modulus at
# most FAST_RADIUS, and τ times the ODE's fastest rate at most STIFFNESS; or, to test
# the claimed requires from the other side, where a fast mode clearly grows (modulus at
# least LEAVES_RADIUS). The default steps are those whose τ is in TIME_STEPS.
FAST_RADIUS = 0.5
LEAVES_RADIUS = 1.2
STIFFNESS = 0.25
TIME_STEPS = (0.02, 0.01, 0.005)


def _fast_radius(limit):
    """The largest modulus of a fast mode of the step at h = 0, from autodiff eigenvalues.

    The roots nearest 1, one per order of the limit in each position, are the slow
    modes; independent of :mod:`symdyn.linear.zero_stability`, which derives ``requires``.
    """
    if limit.requires is None:  # the linearisation at h = 0 depends on the state
        return lambda values: 0.0
    slow = sum(eq.lhs.derivative_count for eq in limit.ode)
    oracle = numeric_rule(limit.rule.subs(limit.scaling) if limit.scaling else limit.rule)
    origin = np.zeros(len(limit.rule.state))

    def radius(values):
        jacobian = oracle.jacobian(origin, {**values, limit.h: 0.0})
        roots = sorted(np.linalg.eigvals(jacobian), key=lambda r: abs(r - 1))[slow:]
        return max((abs(r) for r in roots), default=0.0)

    return radius


def _steps(limit, steps, symbols):
    """The values of h to run at, as a function of the parameter values."""
    if steps is not None:
        return lambda values: [float(h) for h in steps]
    tau = sp.Dummy("tau", positive=True)
    inverse = sp.solve(sp.Eq(limit.time_step, tau), limit.h)
    if len(inverse) != 1:
        raise SymdynError(
            f"{limit.rule.name}: cannot solve τ = {limit.time_step} for {limit.h}; "
            "give steps= (values of the step) explicitly"
        )
    h_of = _numeric([inverse[0].subs(tau, t) for t in TIME_STEPS], symbols)
    return lambda values: [float(h) for h in h_of(values)]


def _stiffness(limit, symbols):
    """τ at a step ``h`` times the spectral radius of the ODE's Jacobian at the start.

    ``init`` lists the start in the order of the first-order system's variables.
    """
    _, dummies, fields = limit.first_order_system()
    jacobian = sp.Matrix(fields).jacobian(dummies)
    at = sp.lambdify([*dummies, *symbols], jacobian, "numpy")
    tau = sp.lambdify([limit.h, *symbols], limit.time_step, "numpy")

    def stiffness(values, init, h):
        numbers = [float(values[s]) for s in symbols]
        matrix = np.asarray(at(*init, *numbers), dtype=float)
        return float(tau(h, *numbers)) * max(abs(np.linalg.eigvals(matrix)))

    return stiffness


def _scaling_symbols(limit):
    symbols = set()
    for value in limit.scaling.values():
        symbols |= value.free_symbols
    return symbols


def check_hamiltonian(form, params=None, examples=None, scale=1.5, rtol=1e-8):
    """The claimed canonical coordinates make the rule conformal symplectic with factor c.

    At drawn states and parameters the autodiff Jacobian of the map is
    carried to (q, p) coordinates, J' = T(F(x)) J T(x)⁻¹, and J'ᵀΩJ' = cΩ and
    det J = ``form.det_jacobian`` are tested numerically.

    Examples
    --------
    >>> import sympy as sp, symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta, beta = sp.symbols("eta beta", positive=True)
    >>> form = sd.hamiltonian_form(sd.optimizers.heavy_ball(x**4 / 4, [x], eta, beta))
    >>> check_hamiltonian(form, examples=5).passed
    True
    """
    rule = form.rule
    if not form.is_conformal_symplectic or form.contraction is None:
        raise SymdynError(f"{rule.name}: the form claims no constant contraction to check")
    n = len(form.q)
    if len(rule.state) != 2 * n:
        raise SymdynError(f"{rule.name}: the state is not (q, p) pairs ({len(rule.state)} vars)")
    oracle = numeric_rule(rule)
    symbols = oracle.symbols
    canonical = [*form.q, *(form.coordinates[p] for p in form.p)]
    to_canonical = sp.lambdify([*rule.state, *symbols], canonical, modules=[ad.namespace, "numpy"])
    claims = sp.lambdify(list(symbols), [form.contraction, form.det_jacobian], "numpy")
    omega = np.block([[np.zeros((n, n)), np.eye(n)], [-np.eye(n), np.zeros((n, n))]])
    strategy = st.tuples(
        st.lists(st.floats(-scale, scale), min_size=2 * n, max_size=2 * n),
        _parameter_strategy(symbols, params, 2.0),
    )

    def coordinate_jacobian(state, values):
        def traced(s):
            out = to_canonical(*(s[i] for i in range(2 * n)), *values)
            return ad.stack([s[0] * 0 + v for v in out])

        return np.asarray(ad.jacobian(traced)(np.asarray(state, dtype=float)))

    def body(case):
        state, params_ = case
        values = oracle.values(params_)
        with np.errstate(all="ignore"):
            contraction, determinant = (float(v) for v in claims(*values))
            jac = oracle.jacobian(state, params_)
            image = oracle.step(np.asarray(state), params_)
            before, after = coordinate_jacobian(state, values), coordinate_jacobian(image, values)
            invertible = abs(np.linalg.det(before)) > 1e-9
        assume(np.all(np.isfinite(jac)) and invertible)
        with np.errstate(all="ignore"):
            canonical_jac = after @ jac @ np.linalg.inv(before)
            form_error = canonical_jac.T @ omega @ canonical_jac - contraction * omega
            numeric_det = np.linalg.det(jac)
        assume(np.all(np.isfinite(form_error)) and np.isfinite(numeric_det))
        assert np.allclose(form_error, 0, atol=rtol * (1 + abs(contraction))), (
            f"at state {state} and {_show(params_)} JᵀΩJ ≠ {contraction:.6g}·Ω "
            f"(largest deviation {abs(form_error).max():.3g})"
        )
        assert np.isclose(numeric_det, determinant, rtol=1e-7, atol=1e-10), (
            f"at state {state} and {_show(params_)} det J is {numeric_det:.9g}, "
            f"the form claims {determinant:.9g}"
        )

    return _run(f"check_hamiltonian({rule.name})", strategy, body, examples)
