"""Progress bars (tqdm) for long simulations and maps: on when stderr is a terminal.

``progress=None`` (the default of :func:`~symdyn.numeric.simulation.simulate` and
:func:`~symdyn.numeric.stability_maps.stability_map`) shows a bar only when the stream it
would write to is a terminal, so logs, notebooks' captured output and CI
stay clean; ``True`` or ``False`` decide explicitly. ``progress_file``
is tqdm's ``file=``: the stream to write to (default ``sys.stderr``).

Examples
--------
>>> import io
>>> stream = io.StringIO()
>>> with progress_bar(True, 3, "demo", "step", stream) as bar:
...     bar.update(3)
>>> "3/3" in stream.getvalue()
True
>>> with progress_bar(None, 3, "demo", "step", io.StringIO()) as bar:  # not a terminal
...     bar.disable
True
"""

from __future__ import annotations

import sys
import threading

from symdyn.errors import ArgumentError

__all__ = ["BlockProgress", "progress_bar", "wanted"]


def wanted(progress, file=None):
    """Whether to draw a bar: ``progress`` if given, else whether the stream is a terminal.

    Parameters
    ----------
    progress : bool or None
    file : text stream, optional
        Where the bar would go; default ``sys.stderr``.
    """
    if progress is not None and not isinstance(progress, bool):
        raise ArgumentError(
            f"progress={progress!r}; use None (a bar only on a terminal), True or False, "
            "and pass a stream as progress_file="
        )
    if progress is not None:
        return progress
    stream = file if file is not None else sys.stderr
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def progress_bar(progress, total, desc, unit, file=None):
    """A tqdm bar of ``total`` units, disabled (prints nothing) unless :func:`wanted`.

    Returns
    -------
    tqdm.tqdm
        Use as a context manager and call ``.update()``.
    """
    from tqdm import tqdm  # loaded when a bar is made, not with symdyn

    on = wanted(progress, file)
    stream = file if file is not None else sys.stderr
    return tqdm(total=total, desc=desc, unit=unit, file=stream, disable=not on, dynamic_ncols=True)


class BlockProgress:
    """Counts the finished blocks of a lazy (dask) map on a bar.

    Dask runs the blocks when the map is computed, after
    :func:`~symdyn.numeric.stability_maps.stability_map` returned, and may compute it more
    than once (``values`` and ``stable`` separately): each full pass gets
    its own bar, opened at its first block and closed at its last. Blocks
    may finish on several threads at once, hence the lock. A copy sent to
    another process (dask.distributed workers, the processes scheduler) is
    silent: the bar belongs to this process's terminal.

    Parameters
    ----------
    total : int
        Blocks in one pass.
    desc : str
    file : text stream, optional
        ``None`` for ``sys.stderr``; ``False`` for a silent counter.
    """

    def __init__(self, total, desc, file=None):
        self.total = total
        self.desc = desc
        self.file = file
        self._lock = threading.Lock()
        self._bar = None

    def __call__(self):
        """Record one finished block."""
        if self.file is False:
            return
        with self._lock:
            if self._bar is None:
                self._bar = progress_bar(True, self.total, self.desc, "block", self.file)
            self._bar.update()
            if self._bar.n >= self.total:
                self._bar.close()
                self._bar = None

    def __reduce__(self):
        return (BlockProgress, (self.total, self.desc, False))
