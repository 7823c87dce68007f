"""symdyn: the dynamics of learning algorithms, derived exactly."""

from symdyn.errors import (
    AssignmentError,
    ExpressionTypeError,
    ParseError,
    RuleError,
    ShapeError,
    SymdynError,
    UndecidedError,
    UnknownSymbolError,
)

__version__ = "0.1.0"

__all__ = [
    "AssignmentError",
    "ExpressionTypeError",
    "ParseError",
    "RuleError",
    "ShapeError",
    "SymdynError",
    "UndecidedError",
    "UnknownSymbolError",
]
