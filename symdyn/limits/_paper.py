"""A limit ODE as a paper writes it: X'' + γX' + ∇L(X) = 0, highest derivative first.

Curves lose their ``(t)`` (X for X(t), X' and X'' for its derivatives), derivatives of a
generic loss evaluated on the curves read L'(X) or ∂ₓL(X, Y) instead of ``Subs(...)``,
and the terms are ordered by the derivative they multiply, then the rest.
"""

from __future__ import annotations

import sympy as sp

from symdyn.escaping import safe_latex
from symdyn.limits._sampling import T


def paper_equation(eq, latex):
    """``eq`` (X⁽ⁿ⁾ = rhs) as ``X⁽ⁿ⁾ + … = 0`` text, or LaTeX when ``latex``."""
    function, order = eq.lhs.expr, eq.lhs.derivative_count
    name = function.func.__name__
    primes = {m: sp.Symbol(name + "'" * m) for m in range(1, order + 1)}
    expr = sp.expand(eq.lhs - eq.rhs)
    expr = expr.xreplace({sp.Derivative(function, (T, m)): primes[m] for m in primes})
    names = {}
    pieces = []
    for m in range(order, 0, -1):
        coefficient = expr.coeff(primes[m])
        if coefficient != 0 and not coefficient.has(*primes.values()):
            pieces.append((_readable(_fewer_signs(coefficient), names), primes[m]))
            expr = sp.expand(expr - coefficient * primes[m])
    if expr != 0:
        pieces.extend(_split(_readable(expr, names)))
    render = _latex if latex else _text
    text = ""
    for coefficient, prime in pieces:
        shown = _term(coefficient, prime, render, "\\," if latex else "*")
        if not text:
            text = shown
        elif shown.startswith("-"):
            text += " - " + shown[1:].lstrip()
        else:
            text += " + " + shown
    for placeholder, (plain, tex) in names.items():
        text = text.replace(f"\\operatorname{{{placeholder}}}", tex).replace(placeholder, plain)
    return text + " = 0"


def _fewer_signs(coefficient):
    """``-λ/(β - 1)`` as ``λ/(1 - β)``: a denominator that can shed its minus sign does."""
    numerator, denominator = sp.fraction(sp.together(coefficient))
    if numerator.could_extract_minus_sign() and isinstance(denominator, sp.Add):
        return (-numerator) / (-denominator)
    return coefficient


def _term(coefficient, part, render, times):
    """``coefficient·part`` as one signed term, the coefficient first."""
    shown_part = part.name if isinstance(part, sp.Symbol) else render(part)
    if part == 1:
        return render(coefficient)
    if coefficient == 1:
        return shown_part
    if coefficient == -1:
        return "-" + shown_part
    shown = render(coefficient)
    if isinstance(coefficient, sp.Add):
        shown = f"\\left({shown}\\right)" if times != "*" else f"({shown})"
    return f"{shown}{times}{shown_part}"


def _readable(expr, names):
    """Curves without (t), and derivatives of a generic function at the curves (as
    ``Subs`` or as ``Derivative(L(X(t)), X(t))``) as L'(X) or ∂_x L(X, Y): placeholder
    functions whose text and LaTeX are recorded in ``names``."""

    def evaluated(subs):
        inner, variables, points = subs.args
        if not (isinstance(inner, sp.Derivative) and _is_generic(inner.expr)):
            return subs
        at = dict(zip(variables, points, strict=True))
        return _named_derivative(inner, [at.get(a, a) for a in inner.expr.args], names)

    expr = expr.replace(lambda e: isinstance(e, sp.Subs), evaluated)
    expr = expr.replace(
        lambda e: isinstance(e, sp.Derivative) and _is_generic(e.expr),
        lambda e: _named_derivative(e, list(e.expr.args), names),
    )
    curves = {f for f in expr.atoms(sp.core.function.AppliedUndef) if f.args == (T,)}
    return expr.xreplace({f: sp.Symbol(f.func.__name__) for f in curves})


def _is_generic(expr):
    return isinstance(expr, sp.core.function.AppliedUndef) and expr.args != (T,)


def _named_derivative(derivative, arguments, names):
    """L'(X) for one argument, ∂_xy L(X, Y) for several, as a placeholder function."""
    loss = derivative.expr.func.__name__
    if len(derivative.expr.args) == 1:
        primes = "'" * derivative.derivative_count
        shown = (loss + primes, loss + primes)
    else:
        subscript = "".join(_name(v) for v in derivative.variables)
        shown = (f"∂_{subscript} {loss}", f"\\partial_{{{subscript}}} {loss}")
    placeholder = f"Placeholder{len(names)}x"
    for known, value in names.items():
        if value == shown:
            placeholder = known
    names[placeholder] = shown
    return sp.Function(placeholder)(*arguments)


def _name(variable):
    if isinstance(variable, sp.core.function.AppliedUndef):
        return variable.func.__name__
    return str(variable)


def _split(expr):
    """The terms of ``expr`` as (coefficient, part in the curves) pairs, one per part, each
    coefficient factored."""
    curves = [s for s in expr.free_symbols if s.name[:1].isupper()]
    functions = list(expr.atoms(sp.core.function.AppliedUndef))
    grouped = {}
    for term in sp.Add.make_args(expr):
        coefficient, part = term.as_independent(*curves, *functions, as_Add=False)
        grouped[part] = grouped.get(part, sp.S.Zero) + coefficient
    return [(_fewer_signs(sp.factor(c)), part) for part, c in grouped.items() if c != 0]


def _text(expr):
    return sp.sstr(expr).replace("**", "^")


def _latex(expr):
    return safe_latex(expr)
