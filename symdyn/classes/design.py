"""Tuning a method over a function class: the parameters whose certified rate is least.

For a family of methods (gradient descent's step; Nesterov's or the triple momentum
method's (α, β, γ)), :func:`tune_over_class` searches the parameters that minimise the
rate the IQC LMI of :mod:`symdyn.classes.iqc` certifies on the class, then certifies the
rate of the rounded parameters exactly (:func:`symdyn.best_certified_rate`). The search is
numeric and local (Nelder–Mead from the best of a grid of starts); the rate returned is
proved, its optimality is not.

Each point of the search asks, for a bisection of ρ, whether the LMI is feasible. The LMI
is built once with the tuned parameters as symbols and evaluated as floats per point; each
feasibility problem goes to Clarabel directly (no modelling layer), which makes a point
cost milliseconds.

References
----------
Lessard, Recht & Packard, "Analysis and design of optimization algorithms via integral
quadratic constraints", SIAM J. Optim. 26 (2016), §5. Van Scoy, Freeman & Lynch, "The
fastest known globally convergent first-order method for minimizing strongly convex
functions", IEEE Control Syst. Lett. 2 (2018).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import sympy as sp

from symdyn.budget import bounded, phase
from symdyn.classes.certificates import RateCertificate, best_certified_rate, certify_rate
from symdyn.classes.function_classes import FunctionClass
from symdyn.classes.iqc import lmi_of
from symdyn.classes.linear_system import symbolic_matrices
from symdyn.classes.sdp import POSITIVITY, solve_clarabel, svec, triangle
from symdyn.derivation import Derivation, Presented
from symdyn.errors import ArgumentError, FunctionClassError
from symdyn.escaping import plain
from symdyn.frozen import freeze_fields
from symdyn.linear.tuning import tune as tune_over_spectrum
from symdyn.rules.rule import UpdateRule

__all__ = ["ClassTuning", "tune", "tune_over_class"]

SEARCH_TOL = 1e-6
"""Bisection width of the numeric rate at each point of the search."""

SEARCH_POINTS = 300
"""Most points Nelder–Mead evaluates (the rate is not smooth in the parameters, and the
search would otherwise keep shrinking around a kink)."""

RESTARTS = 4
"""Most Nelder–Mead runs, each from the last one's point, while they still improve."""

SEEDS = (0.5, 0.9)
"""Start values tried for a tuned parameter besides the step-like 1/L and 2/(μ + L)."""


@dataclass(frozen=True)
class ClassTuning(Presented):
    """Parameters minimising the certified rate of a method on a function class.

    Attributes
    ----------
    rule : UpdateRule
    function_class : FunctionClass
    params : dict
        Tuned parameter → its value, an exact rational: the rounding of the search's point
        with the least certified rate.
    rate : sympy.Rational
        The rate certified at ``params``: ``certificate.rate``.
    certificate : RateCertificate
        :func:`symdyn.best_certified_rate` at ``params``; ``.verified`` says whether the
        rate is proved.
    search_rate : float
        The least rate the numeric search found (the LMI's bisection, in floats).
    optimality : str
        Always ``"local"``: a minimum found by Nelder–Mead from several starts, with no
        proof that no other parameters do better.
    derivation : Derivation
    """

    rule: UpdateRule
    function_class: FunctionClass
    params: dict
    rate: sp.Rational
    certificate: RateCertificate
    search_rate: float
    optimality: str
    derivation: Derivation = field(repr=False)

    def __post_init__(self):
        freeze_fields(self, "params")


class _FeasibilityOracle:
    """Whether the LMI at float parameters and rate ρ has a margin ≥ 0 (Clarabel).

    The problem is :class:`symdyn.classes.sdp.Proposer`'s (maximise t with P ⪰ εI,
    trace P = 1, M ⪯ −tW, t ≤ 1) in Clarabel's standard form Ax + s = b, s in the cones,
    over x = (svec P, multipliers, t). Its answers only steer the search.
    """

    def __init__(self, rule, function_class, over, params):
        A, B, C = symbolic_matrices(rule, params)
        free = set().union(*(m.free_symbols for m in (A, B, C)))
        missing = sorted(map(str, free - set(over)))
        if missing:
            raise ArgumentError(
                f"tune: {plain(rule.name)} still depends on {', '.join(missing)}; give its "
                "value in params={...} or tune it in over=[...]",
                symbol=missing[0],
            )
        # generic parameters reach every augmented state, so the whole-space LMI is posed
        lmi = lmi_of(SimpleNamespace(A=A, B=B, C=C), function_class, sp.Integer(1))
        pieces = [lmi.successor, lmi.current]
        for _, constant, scaled in lmi.forms:
            pieces += [constant, scaled]
        self._pieces = sp.lambdify(list(over), [sp.Matrix(p) for p in pieces], "numpy")
        self.size, self.count = lmi.size, len(lmi.forms)
        self._basis = _symmetric_basis(lmi.size)
        weights = np.ones(lmi.successor.cols)
        weights[lmi.size :] = 1.0 / float(lmi.smoothness) ** 2
        self._weights = svec(np.diag(weights))
        self._fixed_rows, self._fixed_bounds = self._rows_without_rate()

    def _rows_without_rate(self):
        """The rows of trace P = 1, multipliers ≥ 0, t ≤ 1 and P ⪰ POSITIVITY·I, which do not
        depend on the point or on ρ, with their right-hand sides."""
        entries, count = len(self._basis), self.count
        variables = entries + count + 1
        trace = np.concatenate([svec(np.eye(self.size)), np.zeros(count + 1)])
        multipliers = np.zeros((count, variables))
        multipliers[:, entries : entries + count] = -np.eye(count)
        ceiling = np.zeros((1, variables))
        ceiling[0, -1] = 1.0
        positive = np.zeros((entries, variables))
        positive[:, :entries] = -np.eye(entries)
        rows = np.vstack([trace, multipliers, ceiling, positive])
        bounds = np.concatenate(
            [[1.0], np.zeros(count), [1.0], -POSITIVITY * svec(np.eye(self.size))]
        )
        return rows, bounds

    def data(self, point):
        """The float matrices (Φ, Π, [(F⁰, F¹)]) at ``point``, or None where an entry is
        not finite (a pole of the parameters)."""
        with np.errstate(all="ignore"):
            pieces = [np.asarray(p, dtype=float) for p in self._pieces(*np.asarray(point, float))]
        if not all(np.all(np.isfinite(p)) for p in pieces):
            return None
        return pieces[0], pieces[1], list(zip(pieces[2::2], pieces[3::2], strict=True))

    def margin(self, data, rate):
        """The largest t with P ⪰ POSITIVITY·I, trace P = 1, M ⪯ −tW, t ≤ 1 (None: failed)."""
        successor, current, forms = data
        quadratic = np.einsum("ia,kij,jb->kab", successor, self._basis, successor)
        quadratic -= rate**2 * np.einsum("ia,kij,jb->kab", current, self._basis, current)
        lmi_columns = [
            *svec(quadratic),
            *(svec(constant + rate**2 * scaled) for constant, scaled in forms),
            self._weights,
        ]
        constraints = np.vstack([self._fixed_rows, np.column_stack(lmi_columns)])
        bounds = np.concatenate([self._fixed_bounds, np.zeros(len(self._weights))])
        cost = np.zeros(constraints.shape[1])
        cost[-1] = -1.0
        cones = [
            ("zero", 1),
            ("nonnegative", self.count + 1),
            ("psd", self.size),
            ("psd", successor.shape[1]),
        ]
        solution = solve_clarabel(cost, constraints, bounds, cones)
        return None if solution is None else float(solution[-1])

    def _feasible(self, data, rate):
        found = self.margin(data, rate)
        return found is not None and found >= 0

    def rate(self, point, tol, guess=None):
        """The least ρ in (0, 1] with a margin ≥ 0, to ``tol``; above 1 where ρ = 1 fails
        (by how much it fails, so that the search is led back)."""
        data = self.data(point)
        if data is None:
            return np.inf
        at_one = self.margin(data, 1.0)
        if at_one is None or at_one < 0:
            return 1.0 + (1.0 if at_one is None else -at_one)
        low, high = 0.0, 1.0
        if guess is not None:
            # a bracket around the search's current rate, when it holds, saves the halvings
            # from [0, 1] down to its width
            above, below = min(guess + 1e-2, 1.0), max(guess - 1e-2, 0.0)
            if self._feasible(data, above):
                high = above
                if not self._feasible(data, below):
                    low = below
        while high - low > tol:
            middle = (low + high) / 2
            if self._feasible(data, middle):
                high = middle
            else:
                low = middle
        return high


def _symmetric_basis(size):
    """B_k with P = Σ p_k B_k for p = svec(P), in Clarabel's order (:func:`svec`)."""
    rows, columns, scale = triangle(size)
    basis = np.zeros((len(rows), size, size))
    entries = np.arange(len(rows))
    basis[entries, rows, columns] = basis[entries, columns, rows] = 1.0 / scale
    return basis


def _starts(over, function_class):
    mu, big = float(function_class.mu), float(function_class.L)
    steps = (1 / big, 2 / (mu + big))
    seeds = [steps + SEEDS if s.is_positive else SEEDS for s in over]
    return [list(combo) for combo in itertools.product(*seeds)]


DENOMINATOR_LADDER = tuple(round(10 ** (k / 2)) for k in range(2, 13))
"""Largest denominators of the roundings certified, in half decades from 10 to 10⁶."""


def _roundings(point):
    """The distinct roundings of ``point`` with denominators up to each rung of the ladder.

    A method's best parameters are often simple rationals (triple momentum's at κ = 25 are
    9/125, 8/15, 8/27), and there the states reached can form a proper subspace, which the
    exact certificate uses and the numeric search cannot see.
    """
    found = []
    for denominator in DENOMINATOR_LADDER:
        fractions = [Fraction(float(v)).limit_denominator(denominator) for v in point]
        # a rounding to 0, or across 0, would break the parameter's sign: not a candidate
        if any(q * v <= 0 for q, v in zip(fractions, point, strict=True) if v):
            continue
        rounded = tuple(sp.Rational(q.numerator, q.denominator) for q in fractions)
        if rounded not in found:
            found.append(rounded)
    return found or [tuple(sp.Rational(*Fraction(float(v)).as_integer_ratio()) for v in point)]


def _best_rounding(rule, function_class, params, candidates, tol):
    """The candidate with the least certified rate, and its certificate.

    The finest rounding is certified by bisection; a coarser one is bisected only when a
    single certificate shows it beats that rate by 2·tol, so most cost one SDP.
    """

    def certified(values):
        return best_certified_rate(rule, function_class, {**(params or {}), **values}, tol)

    solution, certificate = candidates[-1], certified(candidates[-1])
    for values in candidates[:-1]:
        if not certificate.verified:
            break
        target = certificate.rate - 2 * sp.Rational(Fraction(tol))
        if target <= 0:
            break
        trial = certify_rate(rule, function_class, target, {**(params or {}), **values})
        if trial.verified:
            solution, certificate = values, certified(values)
    return solution, certificate


@bounded("tune")
def tune_over_class(rule, function_class, over, params=None, tol=1e-6):
    """The parameters in ``over`` minimising the certified rate on ``function_class``.

    The search minimises ρ̂(θ), the least ρ at which the LMI of Lessard, Recht & Packard
    (2016) is numerically feasible for the parameters θ, by Nelder–Mead (positive
    parameters on a log scale) from the best of a grid of starts, restarted while it
    improves. The point found is
    rounded to rationals with denominators up to 10, 32, 100, ..., 10⁶ (simple values
    can reach a proper subspace of states, which the exact certificate uses), and the
    rounding with the least rate :func:`symdyn.best_certified_rate` verifies is returned.

    Parameters
    ----------
    rule : UpdateRule
        As for :func:`symdyn.certify_rate`.
    function_class : SmoothStronglyConvex
        On SmoothConvex(L) no method has a linear rate, and the call is refused.
    over : sequence of sympy.Symbol
        The parameters to tune.
    params : mapping, optional
        Exact values of the rule's other parameters.
    tol : float
        The final certificate's bracket (:func:`symdyn.best_certified_rate`).
    timeout : float, optional

    Returns
    -------
    ClassTuning
        With ``optimality == "local"``.

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> x, eta = sp.Symbol("x", real=True), sp.Symbol("eta", positive=True)
    >>> gd = sd.optimizers.gd(sp.Function("f")(x), [x], lr=eta)
    >>> tuned = sd.tune(gd, sd.function_classes.SmoothStronglyConvex(1, 9), over=[eta])
    >>> tuned.params[eta], tuned.certificate.verified
    (1/5, True)
    >>> abs(tuned.rate - sp.Rational(4, 5)) < 1e-6  # (κ − 1)/(κ + 1) at η = 2/(μ + L)
    True
    """
    if not isinstance(function_class, FunctionClass) or function_class.quadratic_only:
        raise FunctionClassError(
            "tune over a class needs SmoothStronglyConvex(mu, L); on "
            "Quadratics(mu, L) sd.tune tunes over the spectrum [mu, L] of a rule written "
            "with its eigenvalue"
        )
    if function_class.mu == 0:
        raise FunctionClassError(
            f"tune: on {function_class!r} no method has a linear rate to minimise "
            "(the certified rate is 1); tune a finite horizon with sd.pep instead"
        )
    over = tuple(over or ())
    if not over:
        raise ArgumentError("tune over a function class: name the parameters in over=[...]")
    from scipy.optimize import minimize

    phase("the symbolic LMI")
    oracle = _FeasibilityOracle(rule, function_class, over, params)
    positive = [bool(s.is_positive) for s in over]

    def unpack(u):
        return [np.exp(v) if p else v for v, p in zip(u, positive, strict=True)]

    def pack(point):
        return [np.log(v) if p else v for v, p in zip(point, positive, strict=True)]

    phase("the numeric search")
    starts = _starts(over, function_class)
    coarse = [oracle.rate(s, 1e-2) for s in starts]
    start, guess = starts[int(np.argmin(coarse))], [min(coarse)]

    def objective(u):
        rate = oracle.rate(unpack(u), SEARCH_TOL, guess[0])
        guess[0] = min(guess[0], rate)
        return rate

    def search(u):
        options = {"xatol": 1e-7, "fatol": SEARCH_TOL, "maxfev": SEARCH_POINTS}
        return minimize(objective, u, method="Nelder-Mead", options=options)

    best = search(pack(start))
    for _ in range(RESTARTS - 1):
        # a restart builds a fresh simplex at the point found: at a kink of the rate the
        # old one has collapsed along the wrong directions
        found = search(best.x)
        improved = found.fun < best.fun - SEARCH_TOL
        best = found if found.fun < best.fun else best
        if not improved:
            break
    phase("the exact certificates")
    candidates = [dict(zip(over, c, strict=True)) for c in _roundings(unpack(best.x))]
    solution, certificate = _best_rounding(rule, function_class, params, candidates, tol)
    derivation = (
        Derivation(f"Tuning {plain(rule.name)} over a function class")
        .then(
            f"The class: {function_class.describe()}. The parameters are chosen to minimise the "
            "least rate at which the LMI of Lessard, Recht and Packard (2016) is numerically "
            "feasible, by Nelder–Mead from "
            f"the best of {len(starts)} starting points. Of the point found rounded to "
            f"denominators up to 10, 32, 100, ..., 10^6 ({len(candidates)} distinct "
            "roundings), the one with the least certified rate is",
            tuple(sp.Eq(k, v) for k, v in solution.items()),
        )
        .then(
            f"The search's least rate was {best.fun:.10g}. This is a local minimum: nothing "
            "here proves that no other parameters do better. The rate of these parameters "
            "is certified exactly, as follows."
        )
        + certificate.derivation
    )
    return ClassTuning(
        rule=rule,
        function_class=function_class,
        params=solution,
        rate=certificate.rate,
        certificate=certificate,
        search_rate=float(best.fun),
        optimality="local",
        derivation=derivation,
    )


def tune(rule, spectrum, over=None, params=None, **options):
    """Tune ``rule`` over a spectrum [μ, L] of quadratics, or over a function class.

    With ``spectrum`` a pair (μ, L) or ``{lam: (μ, L)}`` this is
    :func:`symdyn.linear.tuning.tune` (closed forms for the gradient-descent, heavy-ball
    and Nesterov families, returning a ``Tuning``); with
    ``SmoothStronglyConvex(mu, L)`` it is :func:`tune_over_class`
    (returning a :class:`ClassTuning`). Keyword options (``timeout``, ``tol``) go to the
    one called.

    Examples
    --------
    >>> import sympy as sp
    >>> import symdyn as sd
    >>> eta, lam = sp.symbols("eta lambda", positive=True)
    >>> x = sp.Symbol("x", real=True)
    >>> sd.tune(sd.optimizers.gd(lam * x**2 / 2, [x], lr=eta), (1, 9)).params
    {eta: 1/5}
    """
    if isinstance(spectrum, FunctionClass) and not spectrum.quadratic_only:
        return tune_over_class(rule, spectrum, over, params, **options)
    if isinstance(spectrum, FunctionClass):
        spectrum = (spectrum.mu, spectrum.L)
    return tune_over_spectrum(rule, spectrum, over, params, **options)
