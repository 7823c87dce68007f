"""The exceptions symdyn raises.

Every error symdyn raises on bad input is a :class:`SymdynError`; the
subclasses say what kind of input was wrong, and the message names the
update, symbol or file line involved and what would have been valid. The
same facts are kept as fields (``symbol``, ``update_index``, ``line``,
``column``, ``source``) so that callers, such as the rule-file reader that
maps an update to its line, never have to read them back out of the message.
This module imports nothing, so every part of symdyn (the NumPy-only
autodiff engine included) can use it.
"""


class SymdynError(Exception):
    """Base class of every error symdyn raises on purpose.

    Parameters
    ----------
    message : str
        What is wrong and what would be valid.
    symbol : object, optional
        The symbol (or argument name) the error is about.
    update_index : int, optional
        The 1-based number of the update the error is about.
    source : str, optional
        The file (or ``"<string>"``) the input came from.
    line, column : int, optional
        1-based position in ``source``.
    """

    def __init__(
        self, message="", *, symbol=None, update_index=None, source=None, line=None, column=None
    ):
        self.message = message
        self.symbol = symbol
        self.update_index = update_index
        self.source = source
        self.line = line
        self.column = column
        super().__init__(message)


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


class NonDifferentiableError(RuleError):
    """The update map is not differentiable where it is linearised (``sign``, ``Abs``, a kink)."""


class UndecidedError(SymdynError):
    """Exact algebra could not decide a claim; symdyn refuses to guess."""


class BudgetExceededError(SymdynError):
    """A symbolic analysis ran past its time budget (``timeout=``).

    Attributes
    ----------
    analysis : str
        The analysis that was stopped (``"stability"``, ``"step_bound"``, ...).
    phase : str
        What it was doing when the budget ran out.
    timeout : float
        The budget, in seconds.
    """

    def __init__(self, message, *, analysis=None, phase=None, timeout=None, **fields):
        self.analysis = analysis
        self.phase = phase
        self.timeout = timeout
        super().__init__(message, **fields)


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

    def __init__(self, message, source=None, line=None, column=None, **fields):
        where = ""
        if source is not None:
            where = str(source)
            if line is not None:
                where += f":{line}"
                if column is not None:
                    where += f":{column}"
            where += ": "
        super().__init__(message, source=source, line=line, column=column, **fields)
        # str(error) leads with the position; .message stays the bare text.
        self.args = (where + message,)

    def __str__(self):
        return self.args[0]


class AutodiffError(SymdynError, TypeError):
    """The autodiff engine was asked for something it cannot differentiate."""


class ArgumentError(SymdynError, TypeError):
    """An argument is missing, unknown, misplaced, or a value that breaks its symbol's meaning."""


class UsageError(SymdynError):
    """A command-line argument is malformed."""


class NoContinuousLimitError(SymdynError, ValueError):
    """The expansion of a rule in its step has no consistent leading order."""


class OperatorError(SymdynError, ValueError):
    """An operator or spectrum was asked for something it cannot give."""


class NoParametersError(OperatorError):
    """A parameter operator (NTK, Φ, K) was asked for on a model with no parameters."""


class SpectrumSizeError(OperatorError):
    """More eigen- or singular values were asked for than the operator has."""


class LatexError(SymdynError):
    """pdflatex is missing or failed on a derivation."""


class NonCommutingError(RuleError):
    """The Jacobian's blocks are not functions of one matrix, and n is symbolic."""


class SpectrumError(SymdynError, ValueError):
    """A spectrum interval is malformed (μ ≤ 0, μ > L) or cannot be matched to the rule."""


class NoStationaryStateError(SymdynError, ValueError):
    """The rule is not stable at the given values, so no stationary covariance exists."""


class UnknownRuleError(SymdynError, KeyError):
    """No catalogue rule has that name."""

    def __str__(self):
        return str(self.args[0])


class PreconditionerError(RuleError):
    """The preconditioner is not a fixed positive diagonal."""


class FrameworkError(SymdynError, ValueError):
    """A framework optimizer cannot be turned into an update rule (bad factory or arguments)."""


class UnsupportedPrimitiveError(FrameworkError):
    """A traced framework operation has no exact sympy meaning symdyn accepts.

    ``primitive`` is the operation (a jaxpr primitive such as ``sign``, or a torch
    function such as ``Tensor.sign``) and ``call`` the framework call traced.
    """

    def __init__(self, message="", *, primitive=None, call=None, **fields):
        self.primitive = primitive
        self.call = call
        super().__init__(message, symbol=primitive, **fields)


class FrameworkNotInstalledError(SymdynError, ImportError):
    """An optional framework (jax/optax, torch) is not installed; ``extra`` names the
    ``pip install symdyn[extra]`` that brings it."""

    def __init__(self, message="", *, extra=None, **fields):
        self.extra = extra
        super().__init__(message, **fields)


class FunctionClassError(SymdynError, ValueError):
    """A function class is malformed: a constant that is not a positive rational, mu > L."""


class GradientOracleError(RuleError):
    """A rule's gradient calls are not ``grad(f(y), y)`` of one undefined function ``f`` at
    points linear in the state, so it is not a linear system in feedback with ``grad f``."""
