"""The names ``sympy.lambdify`` prints, mapped to functions that accept tracers.

``sympy.lambdify(args, expr, modules=[namespace])`` prints each function by
its sympy name (``exp``, ``Abs``, ``Max``, ``Heaviside``, ...) and looks the
name up here, so the generated code runs on plain arrays and on traced values.
Powers, products and quotients print as Python operators, which tracers support.
"""

import functools
import math
from types import MappingProxyType

from . import functions as fn
from . import primitives as p


def _fold(binary):
    @functools.wraps(binary)
    def variadic(*args):
        return functools.reduce(binary, args)

    return variadic


def _matrix(rows):
    return fn.array(rows)


namespace = MappingProxyType(
    {
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
        "where": p.where,
        "ImmutableDenseMatrix": _matrix,
        "MutableDenseMatrix": _matrix,
        "pi": math.pi,
        "E": math.e,
        "e": math.e,
    }
)
"""Read-only mapping for ``sympy.lambdify(..., modules=[namespace])``.

Examples
--------
>>> import sympy as sp
>>> import symdyn.autodiff as ad
>>> x = sp.Symbol("x")
>>> f = sp.lambdify(x, sp.exp(-x**2) + sp.Abs(x), modules=[dict(ad.namespace)])
>>> float(ad.grad(f)(1.0))
0.26424111765711533
"""
