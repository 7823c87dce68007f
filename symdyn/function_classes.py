"""The public path of the function classes, defined in :mod:`symdyn.classes.function_classes`."""

from symdyn.classes.function_classes import (
    FunctionClass,
    Quadratics,
    SmoothConvex,
    SmoothStronglyConvex,
)

__all__ = ["FunctionClass", "Quadratics", "SmoothConvex", "SmoothStronglyConvex"]
