"""Random linear rules for fuzzing exact stability against numeric spectral radii.

Shared by ``tests/test_stability_fuzz.py`` (a hypothesis property) and
``benchmarks/fuzz_stability.py`` (counts over many rules). A case is a
2–4-state simultaneous linear rule ``x ← J x`` whose Jacobian entries are
small rationals plus small rational multiples of one or two parameters, each
declared positive or only real, with a few parameter values to try. Dense
draws give irreducible characteristic factors of degree up to 4.

The numbers that decide are NumPy's: the spectral radius ρ is the largest
modulus of ``numpy.linalg.eigvals`` of ``J`` at floating-point values, and
nothing is claimed where ``|ρ − 1| < 1e-6``. :func:`examine` checks

- ``is_stable`` at each drawn point, and just inside and outside each place
  where ρ crosses 1 along the step (found by bisection on ρ − 1);
- the closed-form ``spectral_radius`` at each drawn point;
- ``step_bound``: on a scan of the step, at its finite end points (which must
  be where a bisection on ρ − 1 puts the boundary) and through
  ``StepBound.contains`` just inside and outside them, with the other
  parameter at the drawn values and at values that satisfy ``requires``.

It returns one :class:`Outcome`:

- ``exact``: every claim checked agrees with the numbers;
- ``undecided``: symdyn declined with ``UndecidedError`` or ran out of budget
  (``BudgetExceededError``);
- ``wrong``: a claim disagrees with the numbers, or a valid rule was refused
  with another ``SymdynError``;
- ``raw error``: an exception that is not a ``SymdynError``.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy as sp
from hypothesis import strategies as st

import symdyn as sd
from symdyn.budget import budget
from symdyn.errors import BudgetExceededError, UndecidedError

__all__ = ["FuzzCase", "Outcome", "examine", "linear_cases"]

TOLERANCE = 1e-6  # |ρ − 1| below this is too close to the boundary to decide numerically
GAP = 1e-4  # relative distance of the points just inside and outside a boundary
STATE = sp.symbols("x1:5", real=True)
NAMES = ("a", "b")
OTHER_VALUES = tuple(sp.Rational(n, 8) for n in (-12, -4, -1, 1, 4, 12))  # tried for requires


@dataclass(frozen=True)
class FuzzCase:
    """A linear rule ``x ← J x`` and parameter values to check it at; the step is
    the first parameter."""

    jacobian: sp.ImmutableMatrix
    params: tuple
    samples: tuple  # of {param: exact value}

    @property
    def rule(self):
        state = STATE[: self.jacobian.rows]
        updates = [
            (s, sum(self.jacobian[i, j] * state[j] for j in range(len(state))))
            for i, s in enumerate(state)
        ]
        return sd.UpdateRule(state, updates, self.params, name="fuzz", simultaneous=True)

    @property
    def step(self):
        return self.params[0]

    def code(self):
        """Python that rebuilds and examines the case, for a bug report."""
        declarations = "\n".join(
            f"{p} = sp.Symbol({p.name!r}, {'positive' if p.is_positive else 'real'}=True)"
            for p in self.params
        )
        rows = ",\n    ".join(
            "[" + ", ".join(map(_source, self.jacobian.row(i))) + "]"
            for i in range(self.jacobian.rows)
        )
        samples = ", ".join(
            "{" + ", ".join(f"{p}: {_source(v)}" for p, v in s.items()) + "}" for s in self.samples
        )
        return (
            "import sympy as sp\nfrom tests.stability_fuzzing import FuzzCase, examine\n"
            f"R = sp.Rational\n{declarations}\nJ = sp.ImmutableMatrix([\n    {rows},\n])\n"
            f"examine(FuzzCase(J, ({', '.join(map(str, self.params))},), ({samples},)))"
        )


def _source(expr):
    """Python for a rational-linear expression, e.g. ``R(3, 4)*a + R(5, 2)``."""
    terms = sorted(expr.as_coefficients_dict().items(), key=lambda t: str(t[0]))
    written = [f"R({c.p}, {c.q})" + ("" if m == 1 else f"*{m}") for m, c in terms if c]
    return " + ".join(written) or "0"


@dataclass(frozen=True)
class Outcome:
    """What :func:`examine` found: ``kind`` is "exact", "undecided", "wrong" or "raw error";
    ``degree`` the largest degree of a characteristic factor (0 if not reached); ``bound``
    whether the step bound was "checked", "undecided" or not asked for ("")."""

    kind: str
    detail: str = ""
    degree: int = 0
    bound: str = ""


def _value(positive):
    numerator = st.integers(1, 24) if positive else st.integers(-24, 24)
    return st.builds(sp.Rational, numerator, st.sampled_from([1, 4, 8]))


_COEFFICIENT = st.one_of(
    st.just(sp.S.Zero),
    st.builds(sp.Rational, st.integers(-3, 3), st.sampled_from([1, 2, 4])),
)


_NONZERO = st.builds(
    sp.Rational, st.sampled_from([-3, -2, -1, 1, 2, 3]), st.sampled_from([1, 2, 4])
)


@st.composite
def linear_cases(draw, max_states=4):
    """Hypothesis strategy of :class:`FuzzCase`: a general ``J``, or ``I`` plus one
    (the shape of a gradient step ``x ← x − η A x``); every parameter appears in ``J``."""
    n = draw(st.integers(2, max_states), label="states")
    count = draw(st.integers(1, 2), label="parameters")
    params = tuple(
        sp.Symbol(name, **{"positive" if draw(st.booleans(), label=name) else "real": True})
        for name in NAMES[:count]
    )
    density = draw(st.sampled_from([0.5, 0.8, 1.0]), label="density")
    identity = draw(st.booleans(), label="identity plus")
    entries = []
    for i in range(n * n):
        diagonal = identity and i % (n + 1) == 0
        kept = diagonal or draw(st.floats(0, 1), label="entry kept") <= density
        terms = [draw(_COEFFICIENT), *(draw(_COEFFICIENT) * p for p in params)] if kept else []
        entries.append(sp.Integer(diagonal) + sum(terms))
    for p in params:
        if not any(e.has(p) for e in entries):
            i = draw(st.integers(0, n * n - 1), label=f"entry with {p}")
            entries[i] += draw(_NONZERO) * p
    samples = draw(
        st.lists(
            st.fixed_dictionaries({p: _value(p.is_positive) for p in params}),
            min_size=2,
            max_size=4,
        ),
        label="samples",
    )
    return FuzzCase(sp.ImmutableMatrix(n, n, entries), params, tuple(samples))


def examine(case, seconds=10.0):
    """Analyse ``case`` under a budget of ``seconds`` and check every claim numerically."""
    try:
        with budget(seconds, "fuzz"):
            return _Examination(case).run()
    except (UndecidedError, BudgetExceededError) as error:
        return Outcome("undecided", f"{type(error).__name__}: {error}")
    except sd.SymdynError as error:
        return Outcome("wrong", f"a valid rule was refused: {type(error).__name__}: {error}")
    except Exception as error:  # the fuzzer's finding: anything that is not a SymdynError
        return Outcome("raw error", "".join(traceback.format_exception(error)))


def _exact(t):
    """A short exact rational near the float ``t`` (the values symdyn is asked about)."""
    fraction = Fraction(t).limit_denominator(10**7)
    return sp.Rational(fraction.numerator, fraction.denominator)


class _Mismatch(Exception):
    """A claim that disagrees with the numbers."""


class _Examination:
    """The checks of one case; each raises :class:`_Mismatch` with what disagrees."""

    def __init__(self, case):
        self.case, self.step = case, case.step
        self.numeric = sp.lambdify(case.params, case.jacobian, "numpy")

    def radius(self, values):
        args = (float(values[p]) for p in self.case.params)
        return float(max(abs(np.linalg.eigvals(np.array(self.numeric(*args), dtype=float)))))

    def run(self):
        self.result = sd.stability(self.case.rule)
        degree = max(f.degree() for f in self.result.factors)
        try:
            self.check_region()
            bound = self.check_bound()
        except _Mismatch as mismatch:
            return Outcome("wrong", str(mismatch), degree)
        return Outcome("exact", degree=degree, bound=bound)

    def line(self):
        """Steps to scan, in increasing order: a grid, and a few far out."""
        far = np.array([16.0, 64.0, 1e3])
        line = np.sort(np.concatenate([np.linspace(-8.0, 8.0, 161), far, -far]))
        return line[line > 0] if self.step.is_positive else line

    def crossings(self, others):
        """Steps near which ρ crosses 1 along the scan at ``others``, by bisection."""
        line = self.line()
        stable = [self.radius({**others, self.step: t}) < 1 for t in line]
        return [
            self.bisect(others, line[i], line[i + 1], stable[i])
            for i in range(len(line) - 1)
            if stable[i] != stable[i + 1]
        ]

    def bisect(self, others, inside, outside, inside_stable=True):
        """Where ρ − 1 changes sign between ``inside`` and ``outside``."""
        for _ in range(60):
            middle = (inside + outside) / 2
            if (self.radius({**others, self.step: middle}) < 1) == inside_stable:
                inside = middle
            else:
                outside = middle
        return (inside + outside) / 2

    def check_region(self):
        result = self.result
        for values in self.case.samples:
            others = {p: v for p, v in values.items() if p != self.step}
            near = [t + s * GAP * (1 + abs(t)) for t in self.crossings(others) for s in (-1, 1)]
            points = [values, *({**others, self.step: _exact(t)} for t in near[:8])]
            for point in points:
                radius = self.radius(point)
                if abs(radius - 1) > TOLERANCE and result.is_stable(point) != (radius < 1):
                    raise _Mismatch(f"is_stable is {radius >= 1} at {point}, radius {radius}")
            if result.spectral_radius is not None:
                claimed = complex(sp.N(result.spectral_radius.subs(values), 30))
                radius = self.radius(values)
                if abs(claimed.imag) > 1e-12 or not np.isclose(claimed.real, radius, 1e-7, 1e-9):
                    raise _Mismatch(f"spectral radius {claimed} at {values}, numeric {radius}")

    def check_bound(self):
        if self.step not in self.result.jacobian.free_symbols or self.result.region is sp.false:
            return ""
        try:
            bound = sd.step_bound(self.result, self.step)
        except UndecidedError:
            return "undecided"
        for others in self.other_values(bound):
            try:
                self.check_interval(bound, others)
            except UndecidedError as error:
                raise _Mismatch(f"contains is undecided with every value given: {error}") from None
        return "checked"

    def other_values(self, bound):
        """The drawn values of the other parameters, and up to two that satisfy ``requires``."""
        drawn = [{p: v for p, v in s.items() if p != self.step} for s in self.case.samples]
        if len(self.case.params) == 1:
            return drawn[:1]
        other = self.case.params[1]
        candidates = [{other: v} for v in OTHER_VALUES if v > 0 or not other.is_positive]
        satisfying = [c for c in candidates if all(r.subs(c) is sp.true for r in bound.requires)]
        return drawn + satisfying[:2]

    def check_interval(self, bound, others):
        """Raise if ``bound`` disagrees with ρ along the step at ``others``."""
        holds = sp.And(*(r.subs(others) for r in bound.requires))
        if holds is sp.false:
            # Outside its requirements the bound claims no stable step; its end points
            # need not exist there (b/(b - 2) at b = 2).
            lower = upper = sp.nan
        else:
            lower, upper = (e.subs(others) for e in (bound.lower, bound.upper))
        if holds is not sp.false and (
            holds is not sp.true or not (lower.is_extended_real and upper.is_extended_real)
        ):
            raise _Mismatch(f"the bound is not decided at {others}: {holds}, {lower}, {upper}")
        nonempty = bool(holds) and bool(lower < upper)
        ends = [float(e) for e in (lower, upper) if e.is_finite] if nonempty else []
        claim = f"step_bound claims {lower} < {self.step} < {upper} (requires {holds}) at {others}"
        for t in self.line():
            radius = self.radius({**others, self.step: t})
            if abs(radius - 1) <= TOLERANCE or any(abs(t - e) < GAP * (1 + abs(e)) for e in ends):
                continue
            if (nonempty and float(lower) < t < float(upper)) != (radius < 1):
                raise _Mismatch(
                    f"{claim}, but at {self.step} = {t:.9g} the radius is {radius:.9g}"
                )
        if nonempty:
            self.check_ends(bound, others, lower, upper, claim)

    def check_ends(self, bound, others, lower, upper, claim):
        """Each finite end is where a bisection on ρ − 1 from inside puts the boundary."""
        inside = _inside(lower, upper)
        if self.radius({**others, self.step: inside}) >= 1 - TOLERANCE:
            raise _Mismatch(
                f"{claim}, but the radius at {self.step} = {inside:.9g} is not below 1"
            )
        for end, direction in ((lower, -1), (upper, 1)):
            if not end.is_finite or (end == 0 and self.step.is_positive):
                continue  # a positive step's lower end 0 is its assumption, not a boundary
            gap = GAP * (1 + abs(float(end)))
            near = [(float(end) - direction * gap, True), (float(end) + direction * gap, False)]
            for t, stable in near:
                radius = self.radius({**others, self.step: t})
                if abs(radius - 1) <= TOLERANCE or (self.step.is_positive and t <= 0):
                    break
                if (radius < 1) != stable:
                    raise _Mismatch(
                        f"{claim}, but at {self.step} = {t:.12g} the radius is {radius}"
                    )
                if bound.contains(_exact(t), others) != stable:
                    raise _Mismatch(f"{claim}, but contains({_exact(t)}) is {not stable}")
            else:
                found = self.bisect(others, inside, near[1][0])
                if abs(found - float(end)) > gap:
                    raise _Mismatch(f"{claim}, but a bisection on the radius puts it at {found}")


def _inside(lower, upper):
    """A step strictly inside the nonempty interval ``(lower, upper)``."""
    if lower.is_finite and upper.is_finite:
        return (float(lower) + float(upper)) / 2
    if lower.is_finite:
        return float(lower) + 1.0
    if upper.is_finite:
        return float(upper) - 1.0
    return 0.5
