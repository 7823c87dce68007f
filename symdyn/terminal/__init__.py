"""What the ``symdyn`` command prints: reports of results, and progress on a terminal.

:mod:`symdyn.cli` reads the arguments and runs the analyses; the modules here turn
what they found into text for a person (:mod:`~symdyn.terminal.report`), show which
phase of a long run is under way (:mod:`~symdyn.terminal.status`), and run the
numeric checks of ``symdyn check`` (:mod:`~symdyn.terminal.checks`).
"""
