"""Time budgets for symbolic analyses: bounded work, on any thread, without signals.

Exact algebra can take arbitrarily long on inputs within every documented
limit (a degree-1000 polynomial, a 1200-digit coefficient to factor). Every
symbolic analysis therefore runs under a budget::

    with budget(timeout, "stability"):
        phase("the characteristic polynomial")
        ...
        phase("the Schur–Cohn–Jury conditions")
        ...

When the budget runs out, :class:`~symdyn.errors.BudgetExceededError` is
raised from inside the analysis, naming the analysis and the phase it was in.

How it stops the work
---------------------
A watchdog timer thread asks the interpreter to raise an exception in the
thread that runs the analysis (``PyThreadState_SetAsyncExc``), which Python
delivers between two bytecodes. That works on the main thread and in worker
threads alike, and needs no signal handler. SymPy is pure Python, so its long
loops are interrupted within milliseconds; a single long call into C (one
enormous integer product) finishes first, which is why the rule-file parser
also bounds what an expression can grow to. The exception is a
``BaseException`` so that a library's ``except Exception`` cannot swallow it,
and it is raised again every 50 ms while the frame that opened the budget is
still running. The watchdog looks at that thread's frames before each
interrupt, so a block left by any path (even an interrupt landing in the
budget's own exit) is never interrupted again.

An interrupted analysis leaves nothing behind: results are built only when
an analysis finishes, and SymPy's caches keep only finished computations.

The library-wide default is :data:`DEFAULT_TIMEOUT` seconds; change it with
:func:`set_default_timeout` (``None`` for no limit). ``timeout=`` on each
analysis overrides it, and a budget nested in another never outlives it.

Examples
--------
>>> import time
>>> with budget(0.2, "a demonstration"):
...     phase("waiting")
...     while True:
...         time.sleep(0.01)
Traceback (most recent call last):
...
symdyn.errors.BudgetExceededError: a demonstration: the time budget of 0.2 s ran out while ...
"""

from __future__ import annotations

import ctypes
import functools
import inspect
import math
import numbers
import sys
import threading
import time

from symdyn.errors import ArgumentError, BudgetExceededError

__all__ = [
    "DEFAULT_TIMEOUT",
    "bounded",
    "budget",
    "default_timeout",
    "phase",
    "set_default_timeout",
]

DEFAULT_TIMEOUT = 120.0
"""Seconds a symbolic analysis may take unless told otherwise (as the command line's default)."""

_REPEAT = 0.05  # seconds between repeated interrupts, should one be swallowed
_settings = {"timeout": DEFAULT_TIMEOUT}  # the library-wide default: the only global setting
_local = threading.local()  # per thread: the enclosing budgets and the current phase


class _Interrupt(BaseException):
    """Raised asynchronously in the analysing thread when its budget runs out."""


def set_default_timeout(seconds):
    """Set the budget, in seconds, of every analysis not given ``timeout=`` (None: no limit).

    Returns the previous default.

    Examples
    --------
    >>> previous = set_default_timeout(30)
    >>> default_timeout()
    30.0
    >>> _ = set_default_timeout(previous)
    """
    previous = _settings["timeout"]
    _settings["timeout"] = _checked(seconds, "set_default_timeout")
    return previous


def default_timeout():
    """The library-wide budget in seconds (None: no limit)."""
    return _settings["timeout"]


def _checked(seconds, where):
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real):
        raise ArgumentError(
            f"{where}: timeout must be a number of seconds or None, got {seconds!r}"
        )
    seconds = float(seconds)
    if math.isnan(seconds) or seconds <= 0:
        raise ArgumentError(
            f"{where}: timeout must be a positive number of seconds, got {seconds}"
        )
    return None if math.isinf(seconds) else seconds


def phase(name):
    """Record what the running analysis is doing now (named if its budget runs out)."""
    _local.phase = name


def _current_phase():
    return getattr(_local, "phase", None) or "starting"


class _Watchdog:
    """Interrupts one thread at a deadline, and every 50 ms after, while ``frame`` runs there."""

    def __init__(self, thread_id, frame):
        self.thread_id = thread_id
        self.frame = frame
        self.lock = threading.Lock()
        self.stopped = False
        self.fired = False
        self.timer = None

    def start(self, delay):
        with self.lock:
            self._schedule(max(delay, 0.0))

    def _schedule(self, delay):
        self.timer = threading.Timer(delay, self._fire)
        self.timer.daemon = True
        self.timer.start()

    def _fire(self):
        with self.lock:
            if self.stopped:
                return
            if not _running(self.thread_id, self.frame):
                self.stopped = True  # the block was left without stopping us
                return
            self.fired = True
            _raise_in(self.thread_id, _Interrupt)
            self._schedule(_REPEAT)

    def stop(self):
        with self.lock:
            self.stopped = True
            if self.timer is not None:
                self.timer.cancel()
        self.frame = None


def _running(thread_id, frame):
    """Whether ``frame`` is on the call stack of thread ``thread_id``."""
    current = sys._current_frames().get(thread_id)
    while current is not None:
        if current is frame:
            return True
        current = current.f_back
    return False


def _raise_in(thread_id, exception):
    # Never called with NULL to cancel: CPython 3.11 then leaves the eval breaker
    # set for good, and every later bytecode takes the slow path (hypothesis's
    # tracer then crawls). A pending interrupt is delivered by _checkpoint instead.
    ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread_id), ctypes.py_object(exception)
    )


def _checkpoint():
    """A Python call: an interrupt still pending for this thread is delivered here."""


class budget:
    """Run a block under a time budget of ``timeout`` seconds (None: the default).

    Parameters
    ----------
    timeout : float or None
        Seconds; ``None`` takes :func:`default_timeout`, ``math.inf`` means no limit.
    analysis : str
        The analysis's name, for the error message.

    Raises
    ------
    BudgetExceededError
        From inside the block, when the budget runs out.
    """

    def __init__(self, timeout, analysis):
        self.analysis = analysis
        self.timeout = _checked(timeout, analysis) if timeout is not None else default_timeout()
        self.watchdog = None

    def __enter__(self):
        stack = _local.__dict__.setdefault("stack", [])
        live = sys._getframe(1)
        while stack and not _running(threading.get_ident(), stack[-1].frame):
            stack.pop()  # a budget whose block was left by an interrupt in its exit
        self.frame = live
        self.outer = stack[-1] if stack else None
        deadline = math.inf if self.timeout is None else time.monotonic() + self.timeout
        self.owner, self.where = None, None
        if self.outer is not None and self.outer.deadline <= deadline:
            deadline = self.outer.deadline  # the enclosing budget's watchdog covers this one
            self.timeout = self.outer.timeout
            self.owner = self.outer if self.outer.watchdog is not None else self.outer.owner
        elif deadline < math.inf:
            self.watchdog = _Watchdog(threading.get_ident(), live)
        self.deadline = deadline
        self.saved_phase = getattr(_local, "phase", None)
        _local.phase = None
        stack.append(self)
        if self.watchdog is not None:
            try:  # last: a tiny budget may run out before the block even starts
                self.watchdog.start(deadline - time.monotonic())
            except _Interrupt:
                self.__exit__(_Interrupt, None, None)
        return self

    def __exit__(self, kind, error, traceback):
        where, late = None, False
        while True:  # an interrupt may still land here, after the block has finished
            try:
                where = where or _current_phase()
                self._leave()
                break
            except _Interrupt:
                late = True
        if kind is not None and issubclass(kind, _Interrupt):
            if self.watchdog is None and self.owner is not None:
                # The enclosing budget ran out: it reports, naming where this one was.
                self.owner.where = self.owner.where or f"{where} (in {self.analysis})"
                return False
            raise self.exceeded(self.where or where) from None
        if late and self.outer is not None and time.monotonic() >= self.outer.deadline:
            raise _Interrupt  # the enclosing budget ran out meanwhile: it reports it
        return False

    def exceeded(self, where):
        """The error this budget reports, having run out while ``where``."""
        return BudgetExceededError(
            f"{self.analysis}: the time budget of {self.timeout:g} s ran out while {where}; "
            "pass a larger timeout= (seconds), or set the default with "
            "symdyn.budget.set_default_timeout",
            analysis=self.analysis,
            phase=where,
            timeout=self.timeout,
        )

    def _leave(self):
        """Stop the watchdog and pop this budget (and anything above it); idempotent."""
        if self.watchdog is not None:
            self.watchdog.stop()
            if self.watchdog.fired:
                _checkpoint()  # inside __exit__'s try, which catches it
        stack = _local.stack
        if self in stack:
            del stack[stack.index(self) :]
        _local.phase = self.saved_phase
        self.frame = None


def bounded(analysis):
    """Decorate a symbolic analysis so that it takes ``timeout=`` and runs under a budget.

    The decorated function gains a keyword-only ``timeout`` (seconds; None takes
    :func:`default_timeout`) and raises :class:`~symdyn.errors.BudgetExceededError`
    past it, naming ``analysis`` and the last :func:`phase` it recorded.

    Examples
    --------
    >>> @bounded("counting")
    ... def count(n):
    ...     phase("adding")
    ...     return sum(range(n))
    >>> count(10, timeout=5)
    45
    >>> "timeout" in str(inspect.signature(count))
    True
    """

    def decorate(function):
        @functools.wraps(function)
        def run(*args, timeout=None, **kwargs):
            guard = budget(timeout, analysis)
            try:
                with guard:
                    return function(*args, **kwargs)
            except _Interrupt:
                if guard.owner is not None:
                    raise  # the enclosing budget reports it
                # An interrupt that landed in the budget's exit, before it could report.
                raise guard.exceeded(guard.where or "finishing") from None

        signature = inspect.signature(function)
        extra = inspect.Parameter("timeout", inspect.Parameter.KEYWORD_ONLY, default=None)
        run.__signature__ = signature.replace(parameters=[*signature.parameters.values(), extra])
        return run

    return decorate
