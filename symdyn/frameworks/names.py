"""Framework optimizers by name for the command line: ``optax:adam``, ``torch:SGD``.

``symdyn analyze optax:adam --hyper b1=beta1 --hyper learning_rate=eta`` traces
``optax.adam(b1=β₁, learning_rate=η)`` on λx²/2. A ``--hyper`` value is a
symbol name (a positive symbol), an exact number (``0.9``, ``1e-3``, ``2/3``),
``true``/``false``, or a comma-separated list (``betas=beta1,0.999``). Nothing
is evaluated: a name is looked up as an attribute of ``optax`` or
``torch.optim`` only if it is a plain identifier. A rule with a second-moment
preconditioner (Adam, RMSprop, Adagrad) is analysed frozen, late in training
(:func:`~symdyn.frameworks.preconditioner.freeze_preconditioner`).
"""

from __future__ import annotations

import contextlib
import re
from fractions import Fraction

import sympy as sp

from symdyn.errors import FrameworkError, PreconditionerError

__all__ = ["framework_rule", "is_framework_name"]

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?(/\d{1,30})?")
_STEP = {"optax": "learning_rate", "torch": "lr"}


def is_framework_name(target):
    """Whether ``target`` names a framework optimizer (``optax:adam``)."""
    framework, sep, name = target.partition(":")
    return bool(sep) and framework in _STEP and bool(_IDENTIFIER.fullmatch(name))


def _value(text, where):
    text = text.strip()
    if "," in text:
        return tuple(_value(part, where) for part in text.split(","))
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if _IDENTIFIER.fullmatch(text):
        return sp.Symbol(text, positive=True)
    if _NUMBER.fullmatch(text) and len(text) <= 40:
        decimal, _, denominator = text.partition("/")
        value = sp.Rational(Fraction(decimal))
        return value / int(denominator) if denominator and int(denominator) else value
    raise FrameworkError(
        f"{where}: {text!r} is neither a symbol name, a number (0.9, 1e-3, 2/3), "
        "true/false nor a comma-separated list"
    )


def _hyperparameters(assignments, where):
    values = {}
    for assignment in assignments or ():
        name, sep, text = assignment.partition("=")
        name = name.strip()
        if not sep or not _IDENTIFIER.fullmatch(name):
            raise FrameworkError(f"{where}: --hyper {assignment!r}: write NAME=VALUE")
        if name in values:
            raise FrameworkError(f"{where}: --hyper {name} is given twice")
        values[name] = _value(text, f"{where}: --hyper {name}")
    return values


def _optimizer(framework, name, where):
    if framework == "optax":
        from symdyn.frameworks.optax import _frameworks

        _, module = _frameworks()
    else:
        from symdyn.frameworks.torch import _torch

        module = _torch().optim
    found = getattr(module, name, None) if not name.startswith("_") else None
    if found is None or not callable(found):
        raise FrameworkError(f"{where}: {framework} has no optimizer {name!r}")
    return found


def framework_rule(target, assignments):
    """The rule traced from ``target`` (``optax:NAME`` or ``torch:NAME``) and its step symbol.

    Returns
    -------
    (UpdateRule, sympy.Symbol or None)
        Frozen and late (bias corrections past) where the rule has a second-moment
        preconditioner; the step is the learning rate's symbol, if it is one.

    Examples
    --------
    >>> rule, step = framework_rule("torch:SGD", ["lr=eta", "momentum=mu"])
    >>> rule.state, step
    ((x, momentum_buffer), eta)
    """
    from symdyn.frameworks.optax import from_optax
    from symdyn.frameworks.preconditioner import freeze_preconditioner
    from symdyn.frameworks.torch import from_torch

    framework, _, name = target.partition(":")
    where = f"symdyn analyze {target}"
    values = _hyperparameters(assignments, where)
    optimizer = _optimizer(framework, name, where)
    trace = from_optax if framework == "optax" else from_torch
    rule = trace(optimizer, **values)
    with contextlib.suppress(PreconditionerError):  # no second moments: analysed as traced
        rule = freeze_preconditioner(rule, asymptotic=True).rule
    step = values.get(_STEP[framework])
    return rule, step if isinstance(step, sp.Symbol) else None
