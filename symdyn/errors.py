"""The exceptions symdyn raises.

Every error symdyn raises on bad input is a :class:`SymdynError`; the
subclasses say what kind of input was wrong, and the message names the
update, symbol or file line involved and what would have been valid.
This module imports nothing, so every part of symdyn (the NumPy-only
autodiff engine included) can use it.
"""


class SymdynError(Exception):
    """Base class of every error symdyn raises on purpose."""


class RuleError(SymdynError, ValueError):
    """An update rule is malformed."""


class UnknownSymbolError(RuleError):
    """An update reads a symbol that is neither state, parameter, temporary nor declared free."""


class AssignmentError(RuleError):
    """An update assigns to something that cannot be assigned (a parameter, a non-symbol)."""


class ExpressionTypeError(RuleError, TypeError):
    """A right-hand side (or loss) is not a sympy expression symdyn can use."""


class ShapeError(RuleError):
    """Shapes disagree: a non-square linearisation, a state of the wrong length, ..."""


class UndecidedError(SymdynError):
    """Exact algebra could not decide a claim; symdyn refuses to guess."""


class ParseError(SymdynError, ValueError):
    """A rule file or expression string is not in the accepted grammar.

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    source : str, optional
        The file name (or ``"<string>"``).
    line, column : int, optional
        1-based position of the offending text.
    """

    def __init__(self, message, source=None, line=None, column=None):
        self.message = message
        self.source = source
        self.line = line
        self.column = column
        where = ""
        if source is not None:
            where = str(source)
            if line is not None:
                where += f":{line}"
                if column is not None:
                    where += f":{column}"
            where += ": "
        super().__init__(where + message)


class AutodiffError(SymdynError, TypeError):
    """The autodiff engine was asked for something it cannot differentiate."""


class ArgumentError(SymdynError, TypeError):
    """A numeric function got a missing, unknown or misplaced argument."""
