"""Update rules: ordered assignments that define a discrete-time map.

An :class:`UpdateRule` is the method written as data: the state it carries,
the assignments it performs each step (read like code), and the
hyperparameters it depends on. From those it derives the update map
``F(state; params)``, its Jacobian and its fixed points. Everything that
analyses a rule (stability, continuous limits, ...) is a free function in
its own module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import sympy as sp

from symdyn.derivation import latex
from symdyn.errors import (
    ArgumentError,
    AssignmentError,
    RuleError,
    ShapeError,
)
from symdyn.rules.assignments import check_symbols, checked_updates, resolve, symbol_tuple
from symdyn.rules.differentiability import require_differentiable
from symdyn.rules.expressions import (
    _exact_floats,
    as_expression,
    as_matrix,
    grad,
    substitute,
    symbols_of,
)
from symdyn.rules.values import exact_values, resolve_symbol

# The expression inputs are re-exported: a rule and what it is built from are
# imported together by the catalogue and the analyses.
__all__ = ["UpdateRule", "as_expression", "as_matrix", "grad", "substitute", "symbols_of"]


def _latex_assignment(target, value):
    return rf"{latex(target)} &\leftarrow {latex(value)}"


@dataclass(frozen=True, repr=False)
class UpdateRule:
    """A learning algorithm's update, written as ordered assignments.

    Parameters
    ----------
    state : sequence of sympy.Symbol
        What the method carries from one step to the next, in order.
    updates : sequence of (target, expression)
        Assignments performed in order. By default they run like code: a
        right side sees the values assigned above it. Targets that are not
        state are temporaries and are substituted away.
    params : sequence of sympy.Symbol
        Hyperparameters (step size, momentum, ...). They cannot be assigned.
    name : str
        Shown in reprs and derivations.
    simultaneous : bool
        If true, every right side reads the state as it was at the start
        of the step (temporaries are still substituted in order).
    counter : sympy.Symbol, optional
        An integer step counter ``k`` for time-varying rules.
    free : sequence of sympy.Symbol, optional
        Other symbols the updates may read (a curvature, a data point).
        When omitted, every symbol that is not state, parameter, temporary
        or counter is taken as free; when given, any other symbol is an
        error (:class:`~symdyn.errors.UnknownSymbolError`).

    Examples
    --------
    >>> import sympy as sp
    >>> x, v, g = sp.symbols("x v g", real=True)
    >>> eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
    >>> rule = UpdateRule(
    ...     state=[x, v],
    ...     updates=[(g, lam * x), (v, beta * v - eta * g), (x, x + v)],
    ...     params=[eta, beta],
    ...     name="heavy ball",
    ... )
    >>> rule.map.T
    Matrix([[beta*v - eta*lambda*x + x, beta*v - eta*lambda*x]])
    >>> rule.free
    (lambda,)
    """

    state: tuple
    updates: tuple
    params: tuple = ()
    name: str = "update rule"
    simultaneous: bool = False
    counter: sp.Symbol | None = None
    free: tuple | None = None
    next_state: tuple = field(init=False, compare=False)
    free_inferred: bool = field(init=False, compare=False, default=False)

    def __post_init__(self):
        state = symbol_tuple(self.state, "state variable")
        if not state:
            raise RuleError(f"{self.name}: the state is empty")
        params = symbol_tuple(self.params, "parameter")
        strict = self.free is not None
        declared_free = symbol_tuple(self.free, "free symbol") if strict else ()
        counter = self.counter
        if counter is not None and not (isinstance(counter, sp.Symbol) and counter.is_integer):
            raise RuleError(
                f"{self.name}: counter must be a sympy Symbol declared integer=True, "
                f"got {counter!r}"
            )
        clash = set(state) & set(params)
        if clash:
            raise RuleError(f"{self.name}: {sorted(map(str, clash))} is both state and parameter")

        updates = checked_updates(self.name, self.updates, params, counter)
        next_state, temporaries = resolve(state, updates, self.simultaneous)
        known = set(state) | set(params) | set(declared_free) | set(temporaries)
        if counter is not None:
            known.add(counter)
        check_symbols(self.name, updates, known if strict else None, state, temporaries)
        inferred = set()
        for value in next_state:
            inferred |= symbols_of(value)
        free = declared_free
        if not strict:
            others = inferred - set(state) - set(params) - {counter}
            free = tuple(sorted(others, key=sp.default_sort_key))

        object.__setattr__(self, "state", state)
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "updates", updates)
        object.__setattr__(self, "free", free)
        object.__setattr__(self, "next_state", next_state)
        object.__setattr__(self, "free_inferred", not strict and bool(free))

    # -- derived objects ------------------------------------------------------

    @property
    def temporaries(self):
        """Assigned symbols that are not state, in order of first assignment."""
        seen = []
        for target, _ in self.updates:
            if target not in self.state and target not in seen:
                seen.append(target)
        return tuple(seen)

    @property
    def map(self):
        """The update map: the next state as a column of expressions in the current state.

        Raises
        ------
        ShapeError
            If the state holds matrix symbols; use :attr:`next_state` then.
        """
        if any(isinstance(s, sp.MatrixSymbol) for s in self.state):
            raise ShapeError(
                f"{self.name}: the state holds matrix symbols; "
                "use rule.next_state, or symdyn's modal reduction for quadratics"
            )
        return sp.ImmutableMatrix(self.next_state)

    def jacobian(self, at: Mapping | None = None):
        """Jacobian of the update map with respect to the state.

        Parameters
        ----------
        at : mapping, optional
            Values substituted after differentiating (state, parameters, ...).

        Raises
        ------
        NonDifferentiableError
            When ``at`` puts the state on a kink or jump of ``Abs``, ``sign``,
            ``Heaviside``, ``Max``, ``Min`` or ``Piecewise`` in an update
            (:mod:`symdyn.rules.differentiability`).

        Examples
        --------
        >>> import sympy as sp
        >>> x = sp.Symbol("x", real=True)
        >>> eta = sp.Symbol("eta", positive=True)
        >>> UpdateRule([x], [(x, x - eta * x**3)], [eta]).jacobian(at={x: 1})
        Matrix([[1 - 3*eta]])
        """
        point = self._values(at, "jacobian(at=...)")
        jac = self.map.jacobian(sp.Matrix(self.state))
        if point:
            require_differentiable(self, point)
            jac = jac.subs(point)
        return sp.ImmutableMatrix(jac)

    def fixed_points(self):
        """Solutions of ``F(s) = s``, as a list of dicts from state symbols to values.

        Examples
        --------
        >>> import sympy as sp
        >>> x = sp.Symbol("x", real=True)
        >>> eta = sp.Symbol("eta", positive=True)
        >>> UpdateRule([x], [(x, x - eta * (x**2 - 1))], [eta]).fixed_points()
        [{x: -1}, {x: 1}]
        """
        equations = [sp.Eq(new, old) for new, old in zip(self.next_state, self.state, strict=True)]
        equations = [e for e in equations if e is not sp.true]
        if not equations:
            return [{}]
        solutions = sp.solve(equations, list(self.state), dict=True)
        return sorted(solutions, key=lambda sol: sp.default_sort_key(tuple(sol.items())))

    @property
    def is_affine(self):
        """Whether the map is affine in the state (so linearisation is exact)."""
        try:
            return all(
                sp.Poly(value, *self.state).total_degree() <= 1 for value in self.next_state
            )
        except sp.PolynomialError:
            return False

    @property
    def is_time_varying(self):
        """Whether the step counter appears in the map."""
        return self.counter is not None and any(
            self.counter in symbols_of(v) for v in self.next_state
        )

    @property
    def free_symbols(self):
        """Every symbol the map depends on other than the state, as a frozenset."""
        symbols = set()
        for value in self.next_state:
            symbols |= symbols_of(value)
        return frozenset(symbols - set(self.state))

    def subs(self, mapping: Mapping, name: str | None = None):
        """A new rule with parameters or free symbols replaced.

        Replaced parameters leave ``params``; symbols introduced by the new
        values join ``params`` (when they replace a parameter) or ``free``.

        Examples
        --------
        >>> import sympy as sp
        >>> x, v = sp.symbols("x v", real=True)
        >>> eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
        >>> rule = UpdateRule([x, v], [(v, beta * v - eta * lam * x), (x, x + v)], [eta, beta])
        >>> rule.subs({beta: 0}).params
        (eta,)
        """
        mapping = self._values(mapping, "subs")
        states = [k for k in mapping if k in self.state]
        if states:
            raise AssignmentError(
                f"{self.name}: subs cannot replace state variables {states}; "
                "evaluate the map instead",
                symbol=states[0],
            )
        new_params = [p for p in self.params if p not in mapping]
        new_free = [f for f in self.free if f not in mapping]
        for old, new in mapping.items():
            extra = sorted(symbols_of(new) - set(self.state), key=sp.default_sort_key)
            bucket = new_params if old in self.params else new_free
            bucket.extend(s for s in extra if s not in new_params and s not in new_free)
        updates = [(t, v.subs(mapping)) for t, v in self.updates]
        return UpdateRule(
            state=self.state,
            updates=updates,
            params=new_params,
            name=name or self.name,
            simultaneous=self.simultaneous,
            counter=self.counter,
            free=None if self.free_inferred else new_free,
        )

    @property
    def symbols(self):
        """Every symbol of the rule: state, parameters, free symbols, counter, temporaries."""
        counter = () if self.counter is None else (self.counter,)
        return (*self.state, *self.params, *self.free, *counter, *self.temporaries)

    def _values(self, mapping, where):
        """``mapping`` with keys resolved among the rule's symbols (strings by exact name,
        never parsed) and values checked by the exact-number policy and the keys'
        assumptions, boundaries included (``beta: 0`` for a positive ``beta`` makes the
        rule without momentum); sympy expressions and matrices are accepted as values."""
        if mapping is None:
            return {}
        where = f"{self.name}: {where}"
        if not isinstance(mapping, Mapping):
            raise ArgumentError(
                f"{where}: expected a mapping {{symbol: value}}, got a {type(mapping).__name__}"
            )
        matrices = {
            k: v for k, v in mapping.items() if isinstance(v, (sp.MatrixBase, sp.MatrixExpr))
        }
        values = exact_values(
            {k: v for k, v in mapping.items() if k not in matrices},
            self.symbols,
            where=where,
            expressions=True,
            closure=True,
        )
        for key, value in matrices.items():
            values[resolve_symbol(key, self.symbols, where=where)] = value
        return {k: _exact_floats(v, where) for k, v in values.items()}

    # -- display ----------------------------------------------------------------

    def __repr__(self):
        mode = "simultaneous" if self.simultaneous else "sequential"
        lines = [f"UpdateRule {self.name!r} ({mode})"]
        lines.append("  state:  " + ", ".join(map(str, self.state)))
        if self.params:
            lines.append("  params: " + ", ".join(map(str, self.params)))
        if self.free:
            inferred = " (inferred: not declared with free=)" if self.free_inferred else ""
            lines.append("  free:   " + ", ".join(map(str, self.free)) + inferred)
        if self.counter is not None:
            lines.append(f"  counter: {self.counter}")
        lines.extend(f"  {t} ← {v}" for t, v in self.updates)
        return "\n".join(lines)

    def to_latex(self):
        """The assignments as a LaTeX ``aligned`` block (no surrounding ``$``)."""
        rows = r" \\ ".join(_latex_assignment(t, v) for t, v in self.updates)
        return r"\begin{aligned} " + rows + r" \end{aligned}"

    def _repr_latex_(self):
        return "$\\displaystyle " + self.to_latex() + "$"
