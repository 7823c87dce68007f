"""Progress on a terminal: one line on stderr saying what is running.

Shown only when the stream is a terminal (and never under ``--json``), so piped or
captured output is exactly the report. A phase is announced only once it has run for
``delay`` seconds: quick analyses print nothing extra.
"""

from __future__ import annotations

import contextlib
import threading
import time

__all__ = ["Status"]


class Status:
    """A status line on ``stream``, or nothing when ``enabled`` is false.

    Examples
    --------
    >>> import io
    >>> class Terminal(io.StringIO):
    ...     def isatty(self):
    ...         return True
    >>> screen = Terminal()
    >>> status = Status(screen)
    >>> status.show("check 1/2: jacobian")
    >>> status.clear()
    >>> "check 1/2: jacobian" in screen.getvalue()
    True
    >>> Status(io.StringIO()).enabled  # not a terminal: silent
    False
    """

    def __init__(self, stream, enabled: bool = True, delay: float = 2.0):
        self.stream = stream
        self.enabled = bool(enabled and getattr(stream, "isatty", lambda: False)())
        self.delay = delay
        self._lock = threading.Lock()
        self._shown = False

    def show(self, text: str) -> None:
        """Replace the status line with ``text`` at once."""
        if not self.enabled:
            return
        with self._lock:
            self.stream.write("\r\x1b[K" + text)
            self.stream.flush()
            self._shown = True

    def clear(self) -> None:
        """Remove the status line (before the report is printed)."""
        if not self.enabled or not self._shown:
            return
        with self._lock:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False

    @contextlib.contextmanager
    def phase(self, text: str):
        """Say ``text`` if the block below is still running after ``delay`` seconds."""
        if not self.enabled:
            yield
            return
        timer = threading.Timer(self.delay, self.show, args=(text + " …",))
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            self.clear()

    @contextlib.contextmanager
    def ticking(self, text: str, every: float = 1.0):
        """Show ``text`` now, then again each ``every`` seconds with the time it has run."""
        if not self.enabled:
            yield
            return
        stop, start = threading.Event(), time.monotonic()

        def tick():
            while not stop.wait(every):
                self.show(f"{text}, {time.monotonic() - start:.0f} s")

        self.show(text)
        ticker = threading.Thread(target=tick, daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join()
