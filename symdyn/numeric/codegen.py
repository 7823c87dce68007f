"""Fast numeric evaluation of rules: ``lambdify`` and the code it generates.

Every symbolic object becomes vectorised NumPy code through
``sympy.lambdify`` (common subexpressions eliminated); nothing numeric here
decides a symbolic claim, it only checks and explores. Running the code
lives next door: :mod:`symdyn.numeric.simulation` (batched runs),
:mod:`symdyn.numeric.stability_maps` (stability maps), :mod:`symdyn.numeric.training`
(``as_optimizer``); :mod:`symdyn.numeric.numba_backend` compiles with numba.

Examples
--------
>>> import numpy as np
>>> import sympy as sp
>>> import symdyn as sd
>>> x = sp.Symbol("x", real=True)
>>> eta, beta, lam = sp.symbols("eta beta lambda", positive=True)
>>> rule = sd.optimizers.heavy_ball(lam * x**2 / 2, [x], lr=eta, momentum=beta)
>>> step = sd.lambdify(rule)
>>> step(1.0, 0.0, eta=0.1, beta=0.9, **{"lambda": 1.0})
(array(0.9), array(-0.1))
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.numpy import NumPyPrinter

from symdyn.errors import ArgumentError, ExpressionTypeError, ShapeError, UndecidedError
from symdyn.linear.stability import StabilityResult, stability
from symdyn.numeric._keys import resolved
from symdyn.rules.rule import UpdateRule

__all__ = ["ArgumentError", "NumericFunction", "lambdify"]

_WHAT = ("map", "jacobian", "region", "spectral_radius")
_BACKENDS = ("numpy", "autodiff", "numba")


def _names(symbols):
    return tuple(str(s) for s in symbols)


@dataclass(frozen=True, eq=False)
class NumericFunction:
    """A lambdified rule quantity: ``f(*state_arrays, **values)``.

    Values are keyed by Symbol inside; a name is resolved once, by exact
    name, when the function is called. Two symbols that share a name (``x``
    real and ``x`` positive) are both keywords: a name then is ambiguous and
    refused, and :meth:`evaluate` takes the Symbols themselves.

    Attributes
    ----------
    what : str
        ``"map"``, ``"jacobian"``, ``"region"`` or ``"spectral_radius"``.
    backend : str
    state : tuple of sympy.Symbol
        The positional arguments, in order (empty for quantities of a
        :class:`~symdyn.linear.stability.StabilityResult`).
    keywords : tuple of sympy.Symbol
        The symbols whose values must be passed (by name or, with
        :meth:`evaluate`, by Symbol).
    optional : tuple of sympy.Symbol
        Other symbols of the rule, accepted and ignored, so one dictionary
        of values serves every quantity of a rule.
    expressions : tuple of sympy.Expr
    """

    what: str
    backend: str
    state: tuple
    keywords: tuple
    optional: tuple
    expressions: tuple = field(repr=False)
    function: Callable = field(repr=False)

    def __call__(self, *state, **values):
        return self.evaluate(*state, values=values)

    def evaluate(self, *state, values):
        """``f(*state)`` with ``values`` keyed by Symbol (or exact name).

        Examples
        --------
        >>> import sympy as sp
        >>> y = sp.Symbol("y", real=True)
        >>> a, b = sp.Symbol("a", real=True), sp.Symbol("a", positive=True)
        >>> f = lambdify(UpdateRule([y], [(y, a * y + b)], [a, b]))
        >>> f.evaluate(1.0, values={a: 2.0, b: 0.5})
        (array(2.5),)
        """
        if len(state) != len(self.state):
            raise ArgumentError(
                f"{self.what}: expected {len(self.state)} positional state arrays "
                f"({', '.join(_names(self.state)) or 'none'}), got {len(state)}"
            )
        shape = np.broadcast_shapes(*(np.shape(v) for v in values.values()))
        return self.run(state, self.arguments(values), shape)

    def arguments(self, values):
        """The values of :attr:`keywords`, in order, from a mapping keyed by Symbol or name."""
        known = (*self.keywords, *self.optional)
        names = set(_names(known))
        unknown = [
            str(k) for k in values if (k not in names if isinstance(k, str) else k not in known)
        ]
        given = resolved(
            {k: v for k, v in values.items() if str(k) not in unknown}, known, self.what
        )
        missing = [str(s) for s in self.keywords if s not in given]
        if missing or unknown:
            raise ArgumentError(
                f"{self.what}: "
                + (f"missing values for {', '.join(missing)}; " if missing else "")
                + (f"no symbol called {', '.join(unknown)}; " if unknown else "")
                + f"pass {', '.join(_names(self.keywords)) or 'no keywords'} by name "
                "(lambda as **{'lambda': value})"
            )
        return tuple(given[s] for s in self.keywords)

    def run(self, state, arguments, shape=()):
        """The generated code on ``state`` and :attr:`keywords`' values in order (no checks),
        its outputs broadcast to ``shape`` as well (the shape of values it ignores)."""
        args = (*state, *arguments)
        if self.backend != "numpy":
            return self.function(*args)
        args = tuple(np.asarray(a) if isinstance(a, (list, tuple)) else a for a in args)
        shape = np.broadcast_shapes(shape, *(np.shape(a) for a in args))
        if self.what == "region":  # sympy prints And as logical_and.reduce((a, b)): same shapes
            args = tuple(np.broadcast_to(a, shape) for a in args)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            out = self.function(*args)
        if self.what == "map":
            return tuple(_full(o, shape) for o in out)
        if self.what == "jacobian":
            n = math.isqrt(len(self.expressions))
            return np.stack([_full(o, shape) for o in out], axis=-1).reshape(*shape, n, n)
        out = _full(out, shape)
        if self.what == "spectral_radius":
            out = self._complex_where_nan(out, args, shape)
        return out

    def _complex_where_nan(self, out, args, shape):
        """Re-evaluate in complex arithmetic where real arithmetic gave nan.

        Closed-form roots may pass through complex intermediates (the square
        root of a negative discriminant) whose modulus is real again.
        """
        lost = np.isnan(out)
        for a in args:
            lost &= np.isfinite(a)
        if not lost.any():
            return out
        subset = [np.broadcast_to(a, shape)[lost].astype(complex) for a in args]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            value = np.asarray(self.function(*subset))
        out = out.astype(float, copy=True)
        out[lost] = np.abs(value) if np.iscomplexobj(value) else value
        return out


def _full(value, shape):
    value = np.asarray(value)
    if value.shape != shape:
        value = np.broadcast_to(value, shape).copy()
    return value


def _split(rule_or_result):
    if isinstance(rule_or_result, StabilityResult):
        return rule_or_result.rule, rule_or_result
    if isinstance(rule_or_result, UpdateRule):
        return rule_or_result, None
    raise ExpressionTypeError(
        f"expected an UpdateRule or a StabilityResult, got {type(rule_or_result).__name__}"
    )


def _target(rule, result, what):
    """Positional symbols and expressions of one quantity."""
    if what == "map" or (what == "jacobian" and result is None):
        if rule is not None and any(isinstance(s, sp.MatrixSymbol) for s in rule.state):
            raise ShapeError(
                f"{rule.name}: the state holds matrix symbols; lambdify a scalar rule "
                "(one mode of a quadratic, or the rule on one coordinate)"
            )
        if rule is None:
            raise ExpressionTypeError(f"{what}: the StabilityResult has no rule (it was a matrix)")
        if what == "map":
            return rule.state, tuple(rule.next_state)
        return rule.state, tuple(rule.jacobian())
    result = result if result is not None else stability(rule)
    if what == "jacobian":
        return (), tuple(result.jacobian)
    if what == "region":
        return (), (result.region,)
    if result.spectral_radius is None:
        raise UndecidedError(
            "spectral_radius: no closed form (a factor of degree ≥ 3 has no explicit "
            "roots); use what='jacobian' and numpy.linalg.eigvals"
        )
    return (), (result.spectral_radius,)


def lambdify(rule_or_result, what="map", backend="numpy"):
    """Vectorised numeric code for a rule's map, Jacobian, region or spectral radius.

    Parameters
    ----------
    rule_or_result : UpdateRule or StabilityResult
    what : {"map", "jacobian", "region", "spectral_radius"}
        ``"map"`` returns a tuple of arrays in state order; ``"jacobian"``
        an array shaped ``batch + (n, n)`` (the rule's Jacobian takes the
        state; a result's, taken at its linearisation point, does not);
        ``"region"`` a boolean array; ``"spectral_radius"`` a float array.
        The last two are computed with :func:`~symdyn.linear.stability.stability`
        when a rule is given.
    backend : {"numpy", "autodiff", "numba"}
        ``"autodiff"`` emits code on :data:`symdyn.autodiff.namespace`, so
        the function runs on traced values (outputs are returned as
        generated, without broadcasting). ``"numba"`` (optional extra,
        ``what="map"`` only) compiles a scalar step and a parallel loop over
        the broadcast points.

    Returns
    -------
    NumericFunction
        Called as ``f(*state_arrays, **values)`` with a value for each
        name in ``f.keywords`` (parameters, free symbols and the counter of
        a time-varying rule); every argument broadcasts.

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> eta, lam = sp.symbols("eta lambda", positive=True)
    >>> step = lambdify(UpdateRule([x], [(x, x - eta * lam * x)], [eta]))
    >>> step.keywords
    (eta, lambda)
    >>> step([1.0, 2.0], eta=0.5, **{"lambda": 1.0})
    (array([0.5, 1. ]),)
    """
    if what not in _WHAT:
        raise ArgumentError(f"what={what!r}; use one of {', '.join(_WHAT)}")
    if backend not in _BACKENDS:
        raise ArgumentError(f"backend={backend!r}; use one of {', '.join(_BACKENDS)}")
    if backend == "autodiff" and what not in ("map", "spectral_radius"):
        raise ArgumentError("backend='autodiff' lambdifies what='map' or 'spectral_radius'")
    if backend == "numba" and what != "map":
        raise ArgumentError("backend='numba' lambdifies what='map'")
    rule, result = _split(rule_or_result)
    positional, expressions = _target(rule, result, what)
    _refuse_unprintable_functions(expressions)
    used = set()
    for expr in expressions:
        used |= expr.free_symbols
    used -= set(positional)
    order = []
    if rule is not None:
        order = [*rule.params, *rule.free] + ([rule.counter] if rule.counter is not None else [])
    order += sorted(used - set(order), key=sp.default_sort_key)
    keywords = tuple(s for s in order if s in used)
    optional = tuple(s for s in order if s not in used)
    single = what in ("region", "spectral_radius")
    function = _generate((*positional, *keywords), tuple(expressions), single, backend)
    return NumericFunction(
        what, backend, tuple(positional), keywords, optional, tuple(expressions), function
    )


def _refuse_unprintable_functions(expressions):
    """Generated code names undefined functions as they are called; a name that is not an
    identifier would be code in that source, so it is refused."""
    for expr in expressions:
        for call in expr.atoms(AppliedUndef):
            if not call.func.__name__.isidentifier():
                raise ExpressionTypeError(
                    f"the undefined function {call.func.__name__!r:.60} has no numeric "
                    "meaning (and its name is not an identifier); substitute it first"
                )


@functools.lru_cache(maxsize=64)
def _generate(args, expressions, single, backend):
    """Generated code for ``expressions`` (one, or a tuple) of ``args`` (pure, so cached)."""
    if backend == "numba":
        from symdyn.numeric.numba_backend import numba_map

        return numba_map(list(args), expressions)
    body = expressions[0] if single else expressions
    if backend == "autodiff":
        from symdyn.autodiff import namespace

        return sp.lambdify(list(args), body, modules=[dict(namespace)], cse=True, dummify=True)
    printer = _PositiveFirst(
        {"fully_qualified_modules": False, "inline": True, "allow_unknown_functions": True}
    )
    return sp.lambdify(list(args), body, "numpy", printer=printer, cse=True, dummify=True)


class _PositiveFirst(NumPyPrinter):
    """NumPy printer that writes ``b*v - e*x`` rather than ``-e*x + b*v``.

    Python reads a leading ``-e*x`` as ``(-e)*x``: one more pass over an array.
    """

    def _print_Add(self, expr, order=None):
        terms = sorted(expr.args, key=lambda term: term.could_extract_minus_sign())
        return super()._print_Add(sp.Add(*terms, evaluate=False), order="none")
