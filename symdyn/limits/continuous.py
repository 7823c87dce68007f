"""Continuous-time limits of update rules: the ODE the iterates sample as the step → 0.

Iterates are treated as values X(t_k) of smooth curves at t_k = k·τ, buffers and
lagged copies are eliminated in favour of the positions (:mod:`symdyn.rules.state_roles`),
and the one-step recurrence is Taylor-expanded in τ (:mod:`symdyn.limits._taylor`). The
stability of a limit is in :mod:`symdyn.limits.routh_hurwitz`, its numerical solution
in :mod:`symdyn.limits.integration`.

References
----------
Su, Boyd & Candès, *A differential equation for modeling Nesterov's
accelerated gradient method* (JMLR 2016); Kovachki & Stuart, *Continuous time
analysis of momentum methods* (JMLR 2021).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from symdyn.budget import bounded, phase
from symdyn.derivation import Derivation, Presented
from symdyn.errors import ArgumentError, NoContinuousLimitError
from symdyn.frozen import freeze_fields
from symdyn.limits._leading import (
    expand_to_leading_order,
    find_error_order,
    slave_fast_variables,
    solve_for_highest,
)
from symdyn.limits._paper import paper_equation
from symdyn.limits._sampling import T, read_arguments, sample_on_curves
from symdyn.linear.zero_stability import with_root_condition, zero_stability
from symdyn.rules.rule import UpdateRule
from symdyn.rules.values import exact_value, exact_values

__all__ = ["ContinuousLimit", "NoContinuousLimitError", "continuous_limit"]


@dataclass(frozen=True)
class ContinuousLimit(Presented):
    """The ODE a rule's iterates follow as the time step goes to zero.

    Attributes
    ----------
    rule : UpdateRule
    ode : tuple of sympy.Eq
        One equation per position, solved for its highest derivative, in
        functions of ``t``.
    functions : dict
        State symbol → its continuous counterpart: X(t) for a position,
        X(t − τ) for a lagged copy, the exact expression for a buffer.
    order : int
        The highest time derivative in ``ode``.
    error_order : int or None
        The first neglected term of the expansion is O(τ^error_order) relative
        to the kept one (so the iterates follow the ODE to O(τ^error_order) on
        bounded time intervals), in powers of the time step τ (so for τ = √η,
        O(τ²) is O(η)). None when it is undecided, with the reason in
        ``error_reason``; :meth:`error_text` states either for a reader.
    time_step : sympy.Expr
        τ, the time between iterates.
    h : sympy.Symbol
        The step parameter.
    scaling : dict
        The parameters written in terms of ``h``.
    derivation : Derivation
    requires : tuple of sympy relations or None
        Where the iterates follow the limit at all: every root of the step's
        linearisation at ``h = 0`` other than the slow ones (1, once per
        order per position) strictly inside the unit circle, so that the
        fast modes die out (Dahlquist's root condition; ``beta < 1`` for
        heavy ball at fixed momentum). ``()`` when nothing is needed, None
        when that linearisation depends on the state or its roots at 1
        depend on the step counter (Su–Boyd–Candès momentum).
    error_reason : str
        Why ``error_order`` is None (fast variables were slaved, whose relaxation
        sets the correction; or no non-vanishing correction below τ⁵); "" when it
        is an integer.
    """

    rule: UpdateRule
    ode: tuple
    functions: dict
    order: int
    error_order: int | None
    time_step: sp.Expr
    h: sp.Symbol
    scaling: dict
    derivation: Derivation = field(repr=False)
    requires: tuple | None = ()
    error_reason: str = ""

    def __post_init__(self):
        freeze_fields(self, "functions", "scaling")

    @property
    def t(self):
        return T

    def ode_text(self):
        """The limit ODE as a paper writes it, one equation per line: highest derivative
        first, curves without ``(t)``, ``X'' + gamma*X' + L'(X) = 0``.

        Examples
        --------
        >>> import sympy as sp, symdyn as sd
        >>> x = sp.Symbol("x", real=True)
        >>> eta, beta, gamma = sp.symbols("eta beta gamma", positive=True)
        >>> L = sp.Function("L")
        >>> hb = sd.optimizers.heavy_ball(L(x), [x], lr=eta, momentum=beta)
        >>> limit = sd.continuous_limit(
        ...     hb, h=eta, scaling={beta: 1 - gamma * sp.sqrt(eta)}, time_step=sp.sqrt(eta)
        ... )
        >>> print(limit.ode_text())
        X'' + gamma*X' + L'(X) = 0
        """
        return "\n".join(paper_equation(eq, latex=False) for eq in self.ode)

    def ode_latex(self):
        """:meth:`ode_text` in LaTeX (math mode, equations joined by ``\\\\``).

        Examples
        --------
        >>> import sympy as sp, symdyn as sd
        >>> x = sp.Symbol("x", real=True)
        >>> eta, lam = sp.symbols("eta lambda", positive=True)
        >>> limit = sd.continuous_limit(sd.optimizers.gd(lam * x**2 / 2, [x], eta), h=eta)
        >>> print(limit.ode_latex())
        X' + \\lambda\\,X = 0
        """
        return " \\\\ ".join(paper_equation(eq, latex=True) for eq in self.ode)

    def error_text(self):
        """The order of the error in the time step, or why it is undecided, for a reader:
        ``O(τ^2) in the time step τ = sqrt(eta)``.

        Examples
        --------
        >>> import sympy as sp, symdyn as sd
        >>> x = sp.Symbol("x", real=True)
        >>> eta = sp.Symbol("eta", positive=True)
        >>> sd.continuous_limit(sd.optimizers.gd(x**2 / 2, [x], eta), h=eta).error_text()
        'O(τ^1) in the time step τ = eta'
        """
        if self.error_order is None:
            return f"undecided: {self.error_reason}"
        return f"O(τ^{self.error_order}) in the time step τ = {sp.sstr(self.time_step)}"

    def first_order_system(self):
        """The limit as a first-order system: (phase variables X, X', …; real dummies
        standing for them; their rates in those dummies).

        Examples
        --------
        >>> import sympy as sp, symdyn as sd
        >>> x = sp.Symbol("x", real=True)
        >>> eta = sp.Symbol("eta", positive=True)
        >>> limit = sd.continuous_limit(sd.optimizers.gd(x**2 / 2, [x], eta), h=eta)
        >>> phase, dummies, rates = limit.first_order_system()
        >>> phase, rates
        ([X(t)], [-_y0])
        """
        phase, fields = [], []
        for eq in self.ode:
            function, order = eq.lhs.expr, eq.lhs.derivative_count
            states = [function] + [sp.Derivative(function, (T, m)) for m in range(1, order)]
            phase.extend(states)
            fields.extend([*states[1:], eq.rhs])
        dummies = [sp.Dummy(f"y{i}", real=True) for i in range(len(phase))]
        # derivatives are replaced before the functions they contain
        replace = dict(zip(reversed(phase), reversed(dummies), strict=True))
        return phase, dummies, [f.subs(replace) for f in fields]

    def values(self, mapping, where, *, functions=False):
        """``mapping`` with checked keys and exact values (:mod:`symdyn.rules.values`).

        Keys are the rule's symbols or their exact names (never parsed); with
        ``functions``, a state symbol stands for its curve (``x`` for X(t)) and
        the curves themselves are accepted too.
        """
        if mapping is None:
            return {}
        if not isinstance(mapping, Mapping):
            raise ArgumentError(
                f"{where}: expected a mapping {{symbol: value}}, got {type(mapping).__name__}"
            )
        curves = {f for f in self.functions.values() if isinstance(f, AppliedUndef)}

        def is_curve(key):
            derived = isinstance(key, sp.Derivative) and key.expr in curves
            return functions and (key in curves or derived)

        plain = {k: v for k, v in mapping.items() if not is_curve(k)}
        out = exact_values(plain, self.rule.symbols, where=where, expressions=True)
        if functions:
            out = {self.functions.get(k, k): v for k, v in out.items()}
        for key in set(mapping) - set(plain):
            out[key] = exact_value(mapping[key], where=where)
        return out


@bounded("continuous_limit")
def continuous_limit(rule, h, scaling=None, time_step=None):
    """Continuous-time limit of ``rule`` as the step ``h`` goes to zero.

    The k-th iterate of each position x is read as X(t_k), t_k = kτ with τ =
    ``time_step`` (default ``h``). Lagged copies (``x_prev ← x``) become
    X(t − τ); a buffer a with x⁺ − x = C·a⁺ becomes (X(t) − X(t − τ))/C. The
    resulting recurrence X(t + τ) = Φ(X(t), X(t − τ), …) is expanded in τ and
    its lowest non-vanishing order is kept.

    Parameters
    ----------
    rule : UpdateRule
    h : sympy.Symbol
        The step parameter that goes to zero.
    scaling : mapping, optional
        Parameters written in terms of ``h`` (e.g. ``{beta: 1 - gamma*sqrt(h)}``).
    time_step : sympy.Expr, optional
        τ as a function of ``h`` (e.g. ``sqrt(h)``). The step counter k of a
        time-varying rule becomes t/τ.
    timeout : float, optional
        Seconds the analysis may take (default :func:`symdyn.budget.default_timeout`).

    Returns
    -------
    ContinuousLimit

    Raises
    ------
    NoContinuousLimitError
        If a term diverges as h → 0, or the expansion has no time derivative.

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x = sp.Symbol("x", real=True)
    >>> eta = sp.Symbol("eta", positive=True)
    >>> sd.continuous_limit(sd.optimizers.gd(x**4 / 4, [x], lr=eta), h=eta).ode
    (Eq(Derivative(X(t), t), -X(t)**3),)

    References
    ----------
    Su, Boyd & Candès (2016) for Nesterov's limit; Polyak (1964) for heavy ball.
    """
    setup, derivation = read_arguments(rule, h, scaling, time_step)
    phase("reading the state's roles (positions, buffers, lagged copies)")
    sampling, derivation = sample_on_curves(setup, derivation)
    leading, derivation = expand_to_leading_order(setup, sampling, derivation)
    reduction, derivation = slave_fast_variables(setup, sampling, leading, derivation)
    phase("solving the leading equations for the highest derivatives")
    solution, derivation = solve_for_highest(setup, sampling, reduction, derivation)
    phase("finding the order of the first neglected term")
    order, reason, derivation = find_error_order(
        sampling, leading, reduction, solution, derivation
    )
    phase("the root condition of the step at h = 0")
    roots = zero_stability(rule, setup.h, dict(setup.scaling), sum(reduction.highest.values()))
    functions = dict(sampling.samples)
    functions.update({x: sampling.as_functions(v) for x, v in reduction.slaved.items()})
    return ContinuousLimit(
        rule=rule,
        ode=solution.ode,
        functions=functions,
        order=max(reduction.highest.values()),
        error_order=order,
        time_step=setup.step,
        h=setup.h,
        scaling=setup.scaling,
        derivation=with_root_condition(derivation, roots, setup.h),
        requires=roots.conditions if roots.applies else None,
        error_reason=reason,
    )
