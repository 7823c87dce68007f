"""The names ``sympy.lambdify`` prints, mapped to functions that accept tracers.

``sympy.lambdify(args, expr, modules=[namespace])`` prints each function by
its sympy name (``exp``, ``Abs``, ``Max``, ``Heaviside``, ...) and looks the
name up here, so the generated code runs on plain arrays and on traced values.
Powers, products and quotients print as Python operators, which tracers support.
"""

import functools
import math

import numpy as np

from . import functions as fn
from . import primitives as p
from .core import value_of


def _fold(binary):
    def variadic(*args):
        return functools.reduce(binary, args)

    return variadic


def _matrix(rows):
    return fn.array(rows)


def _copysign(magnitude, sign_of):
    # sympy prints sign(x) as ``copysign(1, x)`` (guarded at zero)
    return p.multiply(p.abs(magnitude), np.where(np.signbit(value_of(sign_of)), -1.0, 1.0))


namespace = {
    "exp": p.exp,
    "log": p.log,
    "sqrt": p.sqrt,
    "sin": p.sin,
    "cos": p.cos,
    "tan": fn.tan,
    "tanh": p.tanh,
    "Abs": p.abs,
    "abs": p.abs,
    "Max": _fold(p.maximum),
    "Min": _fold(p.minimum),
    "Heaviside": fn.heaviside,
    "sign": fn.sign,
    "copysign": _copysign,
    "where": p.where,
    "ImmutableDenseMatrix": _matrix,
    "MutableDenseMatrix": _matrix,
    "pi": math.pi,
    "E": math.e,
    "e": math.e,
}
"""Mapping for ``sympy.lambdify(..., modules=[namespace])``.

Examples
--------
>>> import sympy as sp
>>> import symdyn.autodiff as ad
>>> x = sp.Symbol("x")
>>> f = sp.lambdify(x, sp.exp(-x**2) + sp.Abs(x), modules=[ad.namespace])
>>> float(ad.grad(f)(1.0))
0.26424111765711533
"""
