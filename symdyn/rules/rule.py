"""Update rules: ordered assignments that define a discrete-time map.

An :class:`UpdateRule` is the method written as data: the state it carries,
the assignments it performs each step (read like code), and the
hyperparameters it depends on. From those it derives the update map
``F(state; params)``, its Jacobian and its fixed points. Everything that
analyses a rule (stability, continuous limits, ...) is a free function in
its own module.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import sympy as sp

from symdyn.derivation import latex
from symdyn.errors import (
    ArgumentError,
    AssignmentError,
    ExpressionTypeError,
    RuleError,
    ShapeError,
    UnknownSymbolError,
)
from symdyn.rules.differentiability import require_differentiable
from symdyn.rules.values import exact_number, exact_values, resolve_symbol

__all__ = ["UpdateRule", "as_expression", "as_matrix", "grad", "substitute"]


def substitute(expr, mapping):
    """Replace symbols simultaneously, keeping derivatives of undefined functions valid.

    ``xreplace`` is exact and works for matrix expressions, but it would turn
    ``Derivative(L(x), x)`` with ``x -> x + v`` into a derivative with respect
    to an expression; there ``subs`` is used, which gives ``Subs(...)``.

    Examples
    --------
    >>> import sympy as sp
    >>> x, v = sp.symbols("x v")
    >>> L = sp.Function("L")
    >>> substitute(sp.Derivative(L(x), x), {x: x + v})
    Subs(Derivative(L(x), x), x, v + x)
    """
    if not mapping:
        return expr
    variables = set()
    for derivative in expr.atoms(sp.Derivative):
        variables.update(derivative.variables)
    if variables & set(mapping):
        return expr.subs(mapping, simultaneous=True)
    return expr.xreplace(mapping)


def grad(loss, wrt):
    """Gradient of a scalar ``loss`` with respect to ``wrt``.

    Parameters
    ----------
    loss : sympy.Expr
        A scalar expression; undefined functions (``sp.Function("L")(x)``)
        are fine and give unevaluated derivatives.
    wrt : sympy.Symbol, sequence of sympy.Symbol, or sympy.MatrixSymbol
        A symbol gives a scalar, a sequence gives a column ``ImmutableMatrix``,
        a ``MatrixSymbol`` gives a matrix expression of its shape.

    Returns
    -------
    sympy.Expr or sympy.ImmutableMatrix or sympy.MatrixExpr

    Examples
    --------
    >>> import sympy as sp
    >>> x, y = sp.symbols("x y", real=True)
    >>> grad(x**2 * y, x)
    2*x*y
    >>> grad(x**2 * y, [x, y]).T
    Matrix([[2*x*y, x**2]])
    >>> L = sp.Function("L")
    >>> grad(L(x), x)
    Derivative(L(x), x)
    """
    loss = as_expression(loss, "the loss passed to grad")
    if getattr(loss, "is_Matrix", False) and loss.shape != (1, 1):
        raise ShapeError(f"grad needs a scalar loss, got a matrix of shape {loss.shape}")
    if isinstance(wrt, sp.MatrixSymbol):
        if isinstance(loss, sp.MatrixExpr):
            return sp.diff(loss, wrt)
        if isinstance(loss, sp.MatrixBase):
            loss = loss[0, 0]
        rows, cols = wrt.shape
        # A scalar written with entries theta[i, 0] differentiates entry by entry.
        return sp.ImmutableMatrix(rows, cols, lambda i, j: sp.diff(loss, wrt[i, j]))
    if isinstance(loss, sp.MatrixBase):
        loss = loss[0, 0]
    if isinstance(wrt, sp.Symbol):
        return sp.diff(loss, wrt)
    if isinstance(wrt, Iterable) and not isinstance(wrt, (str, sp.Basic)):
        variables = list(wrt)
        bad = [v for v in variables if not isinstance(v, sp.Symbol)]
        if bad or not variables:
            raise ExpressionTypeError(f"grad: variables must be sympy Symbols, got {wrt!r}")
        return sp.ImmutableMatrix([sp.diff(loss, v) for v in variables])
    raise ExpressionTypeError(
        f"grad: cannot differentiate with respect to {wrt!r}; "
        "give a Symbol, a list of Symbols or a MatrixSymbol"
    )


def as_expression(value, where):
    """A caller's value as a sympy expression: sympy objects and Python numbers only.

    Everything else is refused, strings above all (they are never parsed), and
    so are NaN and infinities. Floats, also inside an expression, become exact
    rationals by the exact-number policy (:mod:`symdyn.rules.values`), so that no
    rounded number ever decides a claim.

    Parameters
    ----------
    value : sympy.Basic, sympy Matrix or number
    where : str
        What the value is, named in the error (``"gd: the learning rate"``).

    Raises
    ------
    ExpressionTypeError

    Examples
    --------
    >>> import sympy as sp
    >>> as_expression(0.1 * sp.Symbol("eta"), "lr")
    eta/10
    >>> as_expression("eta", "lr")
    Traceback (most recent call last):
    ...
    symdyn.errors.ExpressionTypeError: lr is a str ('eta'), not a sympy expression; ...
    """
    if isinstance(value, sp.MatrixBase):
        return _exact_floats(sp.ImmutableMatrix(value), where)
    if isinstance(value, sp.Basic):
        if value.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
            raise ExpressionTypeError(f"{where} holds {_non_finite(value)}, not a finite value")
        return _exact_floats(value, where)
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        try:
            return exact_number(value)
        except ArgumentError as error:
            raise ExpressionTypeError(f"{where}: {error}") from None
    raise ExpressionTypeError(
        f"{where} is a {type(value).__name__} ({value!r:.60}), not a sympy expression; "
        "build it from sympy symbols (strings are never evaluated)"
    )


def as_matrix(value, where):
    """A caller's matrix (sympy Matrix or nested lists) with every entry checked by
    :func:`as_expression`; nothing is parsed.

    Examples
    --------
    >>> as_matrix([[1, 0.5], [0, 1]], "W")
    Matrix([
    [1, 1/2],
    [0,   1]])
    """
    if isinstance(value, sp.MatrixBase):
        rows = value.tolist()
    elif isinstance(value, (list, tuple)) and all(isinstance(r, (list, tuple)) for r in value):
        rows = [list(r) for r in value]
    elif isinstance(value, (list, tuple)):
        rows = [[v] for v in value]
    else:
        raise ExpressionTypeError(
            f"{where} must be a sympy Matrix or a list of rows, got a {type(value).__name__}"
        )
    if len({len(r) for r in rows}) > 1:
        raise ShapeError(f"{where}: the rows have different lengths")
    entries = [
        [as_expression(v, f"{where}[{i}, {j}]") for j, v in enumerate(r)]
        for i, r in enumerate(rows)
    ]
    return sp.ImmutableMatrix(entries) if entries else sp.ImmutableMatrix(0, 0, [])


def _non_finite(value):
    return next(str(c) for c in (sp.nan, sp.zoo, sp.oo, -sp.oo) if value.has(c))


def _exact_floats(expr, where):
    """``expr`` with every sympy Float replaced by the exact decimal it stands for."""
    floats = expr.atoms(sp.Float)
    if not floats:
        return expr
    return expr.xreplace({f: exact_number(f, where=where) for f in floats})


def _symbol_tuple(items, role):
    if isinstance(items, (sp.Basic, str)):
        raise RuleError(
            f"every {role} must be given in a list, e.g. [{items}], not as a bare "
            f"{type(items).__name__}"
        )
    try:
        items = tuple(items or ())
    except TypeError:
        raise RuleError(
            f"a {role} list must be a sequence of sympy Symbols, got {items!r:.60}"
        ) from None
    for item in items:
        if not isinstance(item, (sp.Symbol, sp.MatrixSymbol)):
            raise RuleError(
                f"every {role} must be a sympy Symbol or MatrixSymbol, got {item!r:.60}",
                symbol=item,
            )
    if len(set(items)) != len(items):
        raise RuleError(f"{role} lists a symbol twice: {items}")
    return items


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
        state = _symbol_tuple(self.state, "state variable")
        if not state:
            raise RuleError(f"{self.name}: the state is empty")
        params = _symbol_tuple(self.params, "parameter")
        strict = self.free is not None
        declared_free = _symbol_tuple(self.free, "free symbol") if strict else ()
        counter = self.counter
        if counter is not None and not (isinstance(counter, sp.Symbol) and counter.is_integer):
            raise RuleError(
                f"{self.name}: counter must be a sympy Symbol declared integer=True, "
                f"got {counter!r}"
            )
        clash = set(state) & set(params)
        if clash:
            raise RuleError(f"{self.name}: {sorted(map(str, clash))} is both state and parameter")

        updates = self._checked_updates(state, params, counter)
        next_state, temporaries = self._resolve(state, updates)
        known = set(state) | set(params) | set(declared_free) | set(temporaries)
        if counter is not None:
            known.add(counter)
        self._check_symbols(updates, known if strict else None, state, temporaries)
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

    def _checked_updates(self, state, params, counter):
        if isinstance(self.updates, (sp.Basic, str)):
            raise RuleError(f"{self.name}: updates must be a list of (target, value) pairs")
        try:
            pairs = list(self.updates)
        except TypeError:
            raise RuleError(
                f"{self.name}: updates must be a sequence of (target, value)"
            ) from None
        checked = []
        for number, pair in enumerate(pairs, start=1):
            try:
                checked.append(self._checked_update(number, pair, params, counter))
            except RuleError as error:
                error.update_index = error.update_index or number
                raise
        if not checked:
            raise RuleError(f"{self.name}: no updates")
        return tuple(checked)

    def _checked_update(self, number, pair, params, counter):
        """One (target, value) pair, checked; errors name the update by its number."""
        try:
            target, value = pair
        except (TypeError, ValueError):
            raise RuleError(
                f"{self.name}: update {number} must be a (target, value) pair, got {pair!r:.60}"
            ) from None
        where = f"{self.name}: update {number} ({target} ← ...)"
        if not isinstance(target, (sp.Symbol, sp.MatrixSymbol)):
            raise AssignmentError(f"{where}: the target must be a sympy Symbol, got {target!r}")
        if target in params:
            raise AssignmentError(
                f"{where}: {target} is a parameter and cannot be assigned; "
                "make it state if it changes from step to step",
                symbol=target,
            )
        if target == counter:
            raise AssignmentError(
                f"{where}: the step counter {target} advances by itself", symbol=target
            )
        value = as_expression(value, f"{where}: the right side")
        if isinstance(target, sp.Symbol) and getattr(value, "is_Matrix", False):
            if value.shape != (1, 1):
                raise ShapeError(f"{where}: a scalar target gets a matrix of shape {value.shape}")
            value = value[0, 0]
        if isinstance(target, sp.MatrixSymbol):
            shape = getattr(value, "shape", None)
            if shape is not None and tuple(shape) != tuple(target.shape):
                raise ShapeError(
                    f"{where}: {target} has shape {target.shape}, the right side {shape}"
                )
        return target, value

    def _resolve(self, state, updates):
        """Substitute assignments in order; return the next state and the temporaries."""
        current = {}  # symbol -> its value in terms of the old state
        temporaries = []
        for target, value in updates:
            if self.simultaneous:
                reads = {s: v for s, v in current.items() if s not in state}
            else:
                reads = current
            current[target] = substitute(value, reads) if reads else value
            if target not in state and target not in temporaries:
                temporaries.append(target)
        next_state = tuple(current.get(s, s) for s in state)
        return next_state, tuple(temporaries)

    def _check_symbols(self, updates, known, state, temporaries):
        """Refuse reads of undeclared symbols (when ``known`` is given) and of temporaries
        before their first assignment (always)."""
        assigned = set(state)
        for number, (target, value) in enumerate(updates, start=1):
            reads = symbols_of(value)
            unknown = (reads & set(temporaries)) - assigned
            if known is not None:
                unknown |= reads - known
            if unknown:
                names = ", ".join(sorted(map(str, unknown)))
                raise UnknownSymbolError(
                    f"{self.name}: update {number} ({target} ← {value}) reads {names}, "
                    "which is neither state, parameter, an earlier temporary nor declared free; "
                    "declare it in free=[...] or params=[...]",
                    update_index=number,
                    symbol=sorted(unknown, key=str)[0],
                )
            assigned.add(target)

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


def symbols_of(value):
    """Free symbols, including MatrixSymbols, of an expression.

    Examples
    --------
    >>> import sympy as sp
    >>> sorted(map(str, symbols_of(sp.MatrixSymbol("A", 2, 2) * sp.Symbol("t"))))
    ['A', 't']
    """
    symbols = set(value.free_symbols)
    if isinstance(value, sp.Basic):
        symbols |= set(value.atoms(sp.MatrixSymbol))
    return {s for s in symbols if isinstance(s, (sp.Symbol, sp.MatrixSymbol))}
