"""A 0-d torch tensor that carries a sympy expression through ``torch.optim`` code.

``SymbolicTensor.__torch_function__`` sees every torch call that involves
one. torch parses a method's arguments before it dispatches (``mul_`` refuses
a sympy symbol), so hyperparameters are symbolic tensors too, and a Python
number read from a tensor (``step.item()``) stays one. Each arithmetic
function has a one-line sympy meaning in :data:`MEANINGS` (in-place ones
update the tensor's expression and return it, as torch does). Calls that only
read metadata (``dim``, ``is_complex``, ``grad``) run as torch runs them; any
other call that would compute a tensor is refused, naming the function.
"""

from __future__ import annotations

import sympy as sp
import torch

from symdyn.errors import UndecidedError, UnsupportedPrimitiveError
from symdyn.rules.values import exact_number

__all__ = ["MEANINGS", "SymbolicTensor", "expression"]


def expression(value):
    """The sympy expression of a symbolic tensor, or a number, as sympy."""
    if isinstance(value, SymbolicTensor):
        return value.expr
    if isinstance(value, torch.Tensor):
        return exact_number(value.item(), where="a tensor in torch.optim's step")
    if isinstance(value, sp.Basic):
        return value
    return exact_number(value, where="a number in torch.optim's step")


def _binary(operation):
    return lambda a, b, alpha=1: operation(a, b if alpha == 1 else b * alpha)


def _rbinary(operation):
    return lambda a, b: operation(b, a)


MEANINGS = {
    "add": lambda a, b, alpha=1: a + alpha * b,
    "sub": lambda a, b, alpha=1: a - alpha * b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b, rounding_mode=None: a / b,
    "true_divide": lambda a, b: a / b,
    "pow": lambda a, b: a**b,
    "neg": lambda a: -a,
    "sqrt": sp.sqrt,
    "rsqrt": lambda a: 1 / sp.sqrt(a),
    "square": lambda a: a**2,
    "exp": sp.exp,
    "log": sp.log,
    "abs": sp.Abs,
    "reciprocal": lambda a: 1 / a,
    "maximum": sp.Max,
    "minimum": sp.Min,
    "lerp": lambda a, end, weight: a + weight * (end - a),
    "addcmul": lambda a, t1, t2, value=1: a + value * t1 * t2,
    "addcdiv": lambda a, t1, t2, value=1: a + value * t1 / t2,
    "clone": lambda a, memory_format=None: a,
    "detach": lambda a: a,
    "copy": lambda a, b, non_blocking=False: b,
    "zero": lambda a: sp.S.Zero,
    "fill": lambda a, value: value,
    "__add__": lambda a, b: a + b,
    "__radd__": lambda a, b: b + a,
    "__iadd__": lambda a, b: a + b,
    "__sub__": lambda a, b: a - b,
    "__rsub__": lambda a, b: b - a,
    "__isub__": lambda a, b: a - b,
    "__mul__": lambda a, b: a * b,
    "__rmul__": lambda a, b: b * a,
    "__imul__": lambda a, b: a * b,
    "__truediv__": lambda a, b: a / b,
    "__rtruediv__": lambda a, b: b / a,
    "__rdiv__": lambda a, b: b / a,
    "__itruediv__": lambda a, b: a / b,
    "__pow__": lambda a, b: a**b,
    "__rpow__": lambda a, b: b**a,
    "__neg__": lambda a: -a,
    "to": lambda a, *args, **kwargs: a,
    "full_like": lambda a, fill_value, **options: fill_value,
    "zeros_like": lambda a, **options: sp.S.Zero,
    "ones_like": lambda a, **options: sp.S.One,
    "__ne__": sp.Ne,
    "ne": sp.Ne,
    "__eq__": sp.Eq,
    "eq": sp.Eq,
    "__lt__": sp.Lt,
    "lt": sp.Lt,
    "__le__": sp.Le,
    "le": sp.Le,
    "__gt__": sp.Gt,
    "gt": sp.Gt,
    "__ge__": sp.Ge,
    "ge": sp.Ge,
}

# Calls that read a tensor's metadata or attach a gradient; they run as torch runs them.
_METADATA = {
    "__get__",
    "__set__",
    "dim",
    "numel",
    "size",
    "is_complex",
    "is_floating_point",
    "is_sparse",
    "is_leaf",
    "requires_grad",
    "requires_grad_",
    "dtype",
    "device",
    "__len__",
    "is_contiguous",
    "data_ptr",
    "untyped_storage",
    "__bool__",
    "__format__",
    "__repr__",
    "_is_view",
    "__hash__",
}

# Refused on purpose, with the reason.
_REFUSED = {
    "sign": "a jump at 0: the rule has no Jacobian there",
    "sgn": "a jump at 0: the rule has no Jacobian there",
}


class SymbolicTensor(torch.Tensor):
    """A float64 0-d tensor standing for the sympy expression ``expr``.

    Examples
    --------
    >>> a, b = sp.symbols("a b")
    >>> t = SymbolicTensor(a)
    >>> t.mul_(SymbolicTensor(b)).add_(SymbolicTensor(a), alpha=2).expr
    a*b + 2*a
    >>> (t.sqrt() / 2).expr
    sqrt(a*b + 2*a)/2
    """

    expr: sp.Expr

    @staticmethod
    def __new__(cls, expr, requires_grad=False):
        tensor = torch.Tensor._make_subclass(
            cls, torch.zeros((), dtype=torch.float64), requires_grad
        )
        tensor.expr = expr
        return tensor

    def _sympy_(self):
        # sympy's own operators (``expr / tensor``) read the tensor as its expression.
        return self.expr

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", str(func))
        if name in ("item", "_local_scalar_dense"):
            # A Python number in torch's code (the step count): it stays a symbolic
            # tensor, so what torch computes from it can be handed back to torch.
            return SymbolicTensor(args[0].expr)
        if name == "__bool__":
            return _decide(args[0].expr)
        if name in _METADATA:
            return super().__torch_function__(func, types, args, kwargs)
        if name in _REFUSED:
            raise UnsupportedPrimitiveError(
                f"torch.optim calls torch {name} ({_REFUSED[name]}); symdyn cannot turn "
                "it into an exact update rule",
                primitive=name,
            )
        in_place = name.endswith("_") and not name.startswith("__")
        meaning = MEANINGS.get(name[:-1] if in_place else name)
        if meaning is None:
            raise UnsupportedPrimitiveError(
                f"torch.optim calls torch {name}, which has no sympy meaning in "
                "symdyn.frameworks.tensors",
                primitive=name,
            )
        out = kwargs.pop("out", None)
        values = [expression(a) if _is_value(a) else a for a in args]
        options = {k: expression(v) if _is_value(v) else v for k, v in kwargs.items()}
        try:
            result = meaning(*values, **options)
        except TypeError:
            raise UnsupportedPrimitiveError(
                f"torch.optim calls torch {name} with arguments symdyn does not read "
                f"({', '.join(sorted(kwargs)) or 'positional only'})",
                primitive=name,
            ) from None
        if out is not None:
            out.expr = result
            return out
        if in_place or name.startswith("__i"):
            args[0].expr = result
            return args[0]
        return SymbolicTensor(result)


def _decide(condition):
    """The branch torch takes on ``condition`` (``momentum != 0``), decided from the
    symbols' assumptions, or an error naming the condition."""
    if condition in (sp.true, sp.false) or isinstance(condition, bool):
        return bool(condition)
    if isinstance(condition, sp.Expr) and condition.is_zero is not None:
        return not condition.is_zero
    raise UndecidedError(
        f"torch.optim branches on {condition}, which the symbols' assumptions do not "
        "decide; declare their signs (positive=True) or give numbers",
        symbol=condition,
    )


def _is_value(value):
    return isinstance(value, (torch.Tensor, sp.Basic, int, float)) and not isinstance(value, bool)
